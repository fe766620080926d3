"""Readers and datasets, one file a modality."""
