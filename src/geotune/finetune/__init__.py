"""geotune.finetune"""
