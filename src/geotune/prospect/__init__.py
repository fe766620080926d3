"""geotune.prospect"""
