"""`geotune label PROJECT`: the labelling workbench (label, retrain in the background, see the model improve).

Modules: ``project`` (the folder, its settings and sources, safe paths), ``pool`` (patch items as pixels and
PNGs), ``store`` (labels.csv under a lock), ``volumes`` (inline/crossline/time slices read one at a time),
``masks`` (brushed masks), ``learner`` (cached features, the linear-probe head, suggestions, noise, curve),
``guard`` (token, host, body-size checks), ``app`` (the Starlette routes) and ``static/`` (the page).
"""
