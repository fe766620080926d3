"""Prospectivity runs: the map (remade from the run's evidence layers) and the success-rate curves."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from ...errors import GeotuneError
from .markup import esc, figure_png, img, pyplot

TITLE = "Prospectivity"


def applies(run) -> bool:
    return run.kind == "prospect" and run.model_dir is not None


def render(run) -> list[tuple[str, str]]:
    parts = []
    curves_file = run.model_dir / "curves.json"
    if curves_file.is_file():
        try:
            parts.append(img(curves_png(json.loads(curves_file.read_text(encoding="utf-8"))), "success-rate curves"))
        except (ValueError, KeyError, TypeError) as exc:
            parts.append(f"<p class='note'>{esc(curves_file)} could not be drawn ({esc(exc)})</p>")
    parts.append(_map(run))
    parts.append(_wofe_notes(run.metrics.get("wofe_notes") or []))
    return [(TITLE, "".join(parts))]


def _wofe_notes(notes: list) -> str:
    """What weights of evidence decided per layer (classes without deposits, layers left without weight)."""
    if not notes:
        return ""
    items = "".join(f"<li>{esc(note)}</li>" for note in notes)
    return f"<p>Weights of evidence, per layer:</p><ul>{items}</ul>"


def _map(run) -> str:
    from ...prospect.run import map_run

    with tempfile.TemporaryDirectory(prefix="geotune-report-") as tmp:
        try:
            paths = map_run(run.run_dir, Path(tmp) / "prospectivity.tif")
        except GeotuneError as exc:
            return (f"<p class='note'>The map could not be remade from the evidence layers ({esc(exc)}); "
                    "pictures written by <code>geotune prospect map</code> into the run folder follow below.</p>")
        return img(Path(paths["map"]).read_bytes(), "prospectivity map")


def curves_png(curves: dict) -> bytes:
    """Each curve: fraction of deposits captured against fraction of area, ranked by prospectivity."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="random")
    for name, curve in curves.items():
        if isinstance(curve, dict) and "area_fraction" in curve:
            captured = next(v for k, v in curve.items() if k != "area_fraction" and isinstance(v, list))
            ax.plot(curve["area_fraction"], captured, label=name.replace("_", " "))
    ax.set_xlabel("fraction of area (most prospective first)")
    ax.set_ylabel("fraction of deposits")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return figure_png(fig)
