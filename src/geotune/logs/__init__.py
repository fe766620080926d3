"""geotune.logs"""
