"""Fusion of seismic patches and well logs on synthetic wells: does fusion beat each modality alone?

    .venv/bin/python benchmarks/fusion_synthetic.py [--wells 12] [--samples 150] [--seeds 0,1,2]

Data: each well has a facies column (geotune.logs.synthetic); its logs come from a rock-physics table;
around the well a small seismic section is made from the impedance those rocks imply (layered facies
are laterally continuous, channel sands and mass-transport shales are chaotic), converted to
reflectivity and convolved with a Ricker wavelet (geotune.data.synthetic.ricker), plus noise. For each
depth sample the model sees the 17 x 15 seismic patch around it (embedded once by a frozen conv net,
geotune.models.fusion.frozen_patch_embedder) and that sample's logs. Logs cannot tell channel sand from
sheet sand or mass-transport shale from shale (same rocks); seismic sees geometry but not lithology
well. Wells are split: 2/3 train, 1/3 test. Writes benchmarks/results/fusion_synthetic.json and .md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# facies -> (lithology in the rock-physics table, chaotic seismic character)
FACIES = {
    "channel sand": ("sandstone", True),
    "sheet sand": ("sandstone", False),
    "shale": ("shale", False),
    "mass-transport shale": ("shale", True),
    "siltstone": ("siltstone", False),
    "limestone": ("limestone", False),
}
HALF_HEIGHT, WIDTH = 8, 15


def seismic_section(rng, facies: np.ndarray, log_means: np.ndarray, width: int = WIDTH, noise: float = 0.3):
    """(n, width) amplitudes around a well at the centre trace."""
    from scipy.ndimage import gaussian_filter

    try:
        from geotune.data.synthetic import ricker
    except ImportError:  # the shared generator is absent: the same zero-phase Ricker, written out
        def ricker(f, dt=0.004, length=0.128):
            t = np.arange(-length / 2, length / 2 + dt / 2, dt)
            return (1 - 2 * (np.pi * f * t) ** 2) * np.exp(-(np.pi * f * t) ** 2)
    n = len(facies)
    names = list(FACIES)
    impedance_log = np.log(log_means[:, 3] * 1e6 / log_means[:, 4])  # RHOB * velocity (1/DT)
    dip = rng.uniform(-0.3, 0.3)
    x = np.arange(width) - width // 2
    z = np.arange(n)[:, None] + dip * x[None, :]
    imp = np.interp(z, np.arange(n), impedance_log)
    fz = np.clip(np.round(z).astype(int), 0, n - 1)
    chaotic = np.array([FACIES[names[f]][1] for f in range(len(names))])[facies[fz]]
    field = gaussian_filter(rng.normal(size=(n, width)), sigma=(1.0, 0.6)) * 0.6
    imp = imp + np.where(chaotic, field, 0.0)
    reflectivity = np.diff(imp, axis=0, prepend=imp[:1])
    from scipy.signal import fftconvolve

    trace = fftconvolve(reflectivity, ricker(35.0, dt=0.002)[:, None], mode="same", axes=0)
    trace = trace / (trace.std() + 1e-9)
    return trace + rng.normal(0, noise, trace.shape)


def make_data(n_wells: int, n_samples: int, seed: int):
    from geotune.logs.synthetic import ROCK_PHYSICS, facies_column, log_values

    rng = np.random.default_rng(seed)
    names = list(FACIES)
    table = {name: ROCK_PHYSICS[lith] for name, (lith, _) in FACIES.items()}
    patches, logs, labels, wells = [], [], [], []
    for w in range(n_wells):
        facies = facies_column(rng, n_samples, names, thickness=(6, 20))
        values = log_values(rng, facies, names, table, noise_scale=1.0)
        means = np.array([table[names[f]] for f in facies])
        section = seismic_section(rng, facies, means)
        padded = np.pad(section, ((HALF_HEIGHT, HALF_HEIGHT), (0, 0)), mode="edge")
        for i in range(n_samples):
            patches.append(padded[i:i + 2 * HALF_HEIGHT + 1])
        values[:, 1] = np.log10(values[:, 1])
        logs.append(values)
        labels.append(facies)
        wells += [w] * n_samples
    return (np.stack(patches).astype(np.float32), np.concatenate(logs).astype(np.float32),
            np.concatenate(labels), np.asarray(wells))


def run(n_wells: int, n_samples: int, seed: int) -> dict:
    from sklearn.metrics import f1_score

    from geotune.models.fusion import frozen_patch_embedder
    from geotune.training.fusion_classifier import FusionClassifier

    patches, logs, y, wells = make_data(n_wells, n_samples, seed)
    embed = frozen_patch_embedder(n_filters=16, seed=seed)
    seismic = embed(patches)  # cached once, as a backbone's features would be
    test = np.isin(wells, np.random.default_rng(seed).permutation(n_wells)[: n_wells // 3])
    setups = {
        "logs only": ({"logs": logs}, "late"),
        "seismic only": ({"seismic": seismic}, "late"),
        "early fusion (concatenated inputs)": ({"logs": logs, "seismic": seismic}, "early"),
        "late fusion (per-modality encoders)": ({"logs": logs, "seismic": seismic}, "late"),
    }
    scores = {}
    for name, (blocks, mode) in setups.items():
        model = FusionClassifier(mode=mode, seed=seed, epochs=60)
        model.fit({k: v[~test] for k, v in blocks.items()}, y[~test], n_classes=len(FACIES))
        predicted = model.predict({k: v[test] for k, v in blocks.items()})
        scores[name] = {"accuracy": float((predicted == y[test]).mean()),
                        "macro_f1": float(f1_score(y[test], predicted, average="macro"))}
    return scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--wells", type=int, default=12)
    parser.add_argument("--samples", type=int, default=150)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    import torch

    torch.set_num_threads(2)
    start = time.time()
    per_seed = {int(s): run(args.wells, args.samples, int(s)) for s in args.seeds.split(",")}
    names = list(next(iter(per_seed.values())))
    summary = {name: {metric: {"mean": float(np.mean([r[name][metric] for r in per_seed.values()])),
                               "std": float(np.std([r[name][metric] for r in per_seed.values()]))}
                      for metric in ("accuracy", "macro_f1")} for name in names}
    result = {"command": f".venv/bin/python benchmarks/fusion_synthetic.py --wells {args.wells} "
                         f"--samples {args.samples} --seeds {args.seeds}",
              "classes": list(FACIES), "test": "held-out wells (1/3)", "summary": summary, "per_seed": per_seed,
              "seconds": round(time.time() - start, 1)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fusion_synthetic.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# Fusion on synthetic wells ({args.wells} wells x {args.samples} samples, 6 facies, "
             f"held-out wells, seeds {args.seeds})", "",
             "| model | accuracy | macro F1 |", "|---|---|---|"]
    for name, s in summary.items():
        lines.append(f"| {name} | {s['accuracy']['mean']:.3f} ± {s['accuracy']['std']:.3f} | "
                     f"{s['macro_f1']['mean']:.3f} ± {s['macro_f1']['std']:.3f} |")
    lines += ["", f"Command: `{result['command']}` ({result['seconds']} s)."]
    (out / "fusion_synthetic.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
