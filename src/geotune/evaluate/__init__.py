"""Metrics, calibration, plots and reports."""
