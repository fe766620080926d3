"""Map figures stay readable with projected coordinates: tick labels and hole ranks never overlap."""

from __future__ import annotations

from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

X0, Y0, CELL = 500_000.0, 7_010_000.0, 100.0  # UTM-like eastings and northings in metres


def _grid(shape=(100, 150), cell=CELL):
    from affine import Affine
    from rasterio.crs import CRS

    from geotune.data.rasters import Raster

    values = np.random.default_rng(0).random(shape)
    return Raster(values, Affine(cell, 0, X0, 0, -cell, Y0), CRS.from_epsg(32754))


def _overlapping(texts, renderer) -> list[tuple[str, str]]:
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text()]
    return [(a, b) for (a, box_a), (b, box_b) in combinations(boxes, 2) if box_a.overlaps(box_b)]


def _tick_labels(ax):
    """The tick labels drawn: matplotlib also lists labels of ticks just outside the view, which it skips."""
    (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
    return ([t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1]
            + [t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1])


# rows, columns, cell size (m): maps whose six-digit metre ticks overlapped before (wide, tall, long and thin)
SHAPES = [(100, 150, 100.0), (300, 120, 100.0), (40, 400, 100.0), (400, 40, 37.5)]


@pytest.mark.parametrize("rows,cols,cell", SHAPES)
def test_prospectivity_map_ticks_are_kilometres_and_do_not_overlap(rows, cols, cell):
    import matplotlib.pyplot as plt

    from geotune.prospect.plots import map_figure

    grid = _grid((rows, cols), cell)
    deposits = (X0 + np.array([150.0, 900.0]), Y0 - np.array([100.0, 400.0]))
    _, fig = map_figure(grid.array, grid.array / 10, grid, deposits)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes[:2]:  # the two map panels
            labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
            assert labels and all(len(text.lstrip("−-").replace(".", "")) <= 5 for text in labels), labels
            assert ax.get_xlabel() == "easting (km)" and ax.get_ylabel() == "northing (km)"
            assert _overlapping(_tick_labels(ax), renderer) == []
    finally:
        plt.close(fig)


@pytest.mark.parametrize("rows,cols,cell", SHAPES)
def test_plan_ticks_do_not_overlap(rows, cols, cell):
    import matplotlib.pyplot as plt

    from geotune.explore.plots import plan_figure

    table = pd.DataFrame({"rank": [1], "x": [X0 + 2 * cell], "y": [Y0 - 2 * cell]})
    fig = plan_figure(_grid((rows, cols), cell), SimpleNamespace(table=table))
    try:
        fig.canvas.draw()
        assert _overlapping(_tick_labels(fig.axes[0]), fig.canvas.get_renderer()) == []
        assert fig.axes[0].get_xlabel() == "easting (km)"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("spacing", [40.0, 2500.0])
def test_plan_ranks_never_overlap_and_crowded_ones_are_said_to_be_left_out(spacing):
    import matplotlib.pyplot as plt

    from geotune.explore.plots import plan_figure

    grid = _grid()
    holes = np.arange(10)
    table = pd.DataFrame({"rank": holes + 1, "x": X0 + 2000 + spacing * (holes % 5),
                          "y": Y0 - 2000 - spacing * (holes // 5)})
    fig = plan_figure(grid, SimpleNamespace(table=table))
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        ranks = [t for t in ax.texts if t.get_text().isdigit()]
        assert _overlapping(ranks, renderer) == []
        assert _overlapping(_tick_labels(ax), renderer) == []
        legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
        if spacing > 1000:  # well apart: every hole keeps its number
            assert sorted(int(t.get_text()) for t in ranks) == list(range(1, 11))
            assert "left out" not in legend
        else:  # 40 m apart on a 14 km map: some numbers cannot fit, and the legend says how many
            assert "1" in [t.get_text() for t in ranks] and len(ranks) < 10
            assert f"{10 - len(ranks)} rank labels left out" in legend
    finally:
        plt.close(fig)
