"""Training: fine-tuning strategies on Lightning, cached features, calibration.

(Named ``training`` rather than ``finetune`` so that the public function ``geotune.finetune()`` is never
shadowed by a subpackage of the same name.)
"""
