"""Learning from few and imperfect labels: few-shot heads, pseudo-labels from unlabelled data,
label-noise detection and active-learning suggestions, all on cached frozen-backbone features."""
