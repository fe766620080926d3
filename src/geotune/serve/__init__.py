"""geotune.serve"""
