"""geotune.models"""
