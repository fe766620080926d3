"""geotune.explore"""
