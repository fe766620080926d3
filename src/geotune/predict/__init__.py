"""geotune.predict"""
