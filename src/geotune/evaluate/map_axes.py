"""Map axes that stay readable: projected coordinates ticked in kilometres, labels that do not collide."""

from __future__ import annotations

METRES_FROM = 1e4  # coordinates this large are metres (UTM, MGA, ...), not degrees
STEPS = [1, 2, 2.5, 5, 10]


def kilometre_ticks(ax, crs=None) -> None:
    """Six-digit eastings overlap on a narrow panel: tick projected axes in km, as many as the axis has room for."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if crs is not None and getattr(crs, "is_geographic", False):
        return
    for axis, limits, name in ((ax.xaxis, ax.get_xlim(), "easting"), (ax.yaxis, ax.get_ylim(), "northing")):
        axis.set_major_locator(MaxNLocator(nbins="auto", steps=STEPS))  # "auto": from the axis length
        if max(abs(v) for v in limits) >= METRES_FROM:
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value / 1000:g}"))
            axis.set_label_text(f"{name} (km)", fontsize=8)


def thin_ticks(ax) -> None:
    """Once the figure is laid out: fewer ticks on any axis whose labels still touch (a long, thin map)."""
    from matplotlib.ticker import MaxNLocator

    fig = ax.figure
    for axis, view in ((ax.xaxis, 0), (ax.yaxis, 1)):
        for nbins in (6, 4, 3, 2, 1):
            fig.canvas.draw()
            renderer = fig.canvas.get_renderer()
            low, high = sorted(ax.get_xlim() if view == 0 else ax.get_ylim())
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels()
                     if t.get_text() and low <= t.get_position()[view] <= high]
            if not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:]):
                break
            axis.set_major_locator(MaxNLocator(nbins=nbins, steps=STEPS, min_n_ticks=1))


def place_labels(ax, points, texts, **style) -> int:
    """Write each text beside its point, trying eight positions in turn; skip it when all collide.

    Returns how many were skipped. Labels are placed in the given order (rank order: the best holes keep
    theirs) and never overlap one another or leave the axes.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    offsets = [(4, 4), (4, -10), (-12, 4), (-12, -10), (8, -3), (-16, -3), (-3, 8), (-3, -14)]
    placed, skipped = [], 0
    for (x, y), text in zip(points, texts):
        for dx, dy in offsets:
            label = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", **style)
            box = label.get_window_extent(renderer).expanded(1.1, 1.1)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            label.remove()
        else:
            skipped += 1
    return skipped
