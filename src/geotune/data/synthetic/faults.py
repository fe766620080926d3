"""Fault geometry for the synthetic earth model: what a real fault does to the layers around it.

A fault is a surface (a plane or a listric, downward-flattening one, slightly rough) striking across the
lines. Its throw is largest at one point and dies out towards the tips (an elliptical displacement profile),
so the offset varies along the fault and a fault can end inside a section. Layers bend near the fault
(drag: part of the offset is taken up by bending rather than by the break), and a damage zone around it
dims and scrambles reflections. Everything works on (line, depth, trace) grids; a section is one line.
"""

from __future__ import annotations

import numpy as np

DIP_RANGE_DEG = (50.0, 85.0)


def draw_fault(rng: np.random.Generator, shape: tuple[int, int, int], throw_range: tuple[float, float] = (0.06, 0.15),
               dip_range_deg: tuple[float, float] = DIP_RANGE_DEG, direction: int | None = None,
               listric_probability: float = 0.5, strike_range_deg: float = 30.0) -> dict:
    """The parameters of one fault on a (lines, height, width) grid; throw as a fraction of the height."""
    lines, height, width = shape
    dip_top = float(rng.uniform(*dip_range_deg))
    listric = bool(rng.random() < listric_probability)
    return {
        "kind": str(rng.choice(["normal", "reverse"], p=[0.75, 0.25])),
        "direction": int(direction if direction is not None else rng.choice([-1, 1])),
        "x0": float(rng.uniform(0.15, 0.85) * width),
        "z_centre": float(rng.uniform(0.2, 0.8) * height),
        "line_centre": float(rng.uniform(0.2, 0.8) * max(lines - 1, 0)),
        "strike_deg": float(rng.uniform(-strike_range_deg, strike_range_deg)),
        "dip_top_deg": dip_top,
        "dip_bottom_deg": float(dip_top - rng.uniform(10.0, 35.0)) if listric else dip_top,
        "listric": listric,
        "throw_samples": float(rng.uniform(*throw_range) * height),
        "reach_depth": float(rng.uniform(0.5, 2.0) * height),  # half-length of the displacement ellipse
        "reach_lines": float(rng.uniform(0.8, 2.0) * max(lines, 8)),
        "drag": float(rng.uniform(-0.3, 0.6)),
        "drag_length": float(rng.uniform(2.0, 10.0)),
        "damage_width": float(rng.uniform(0.5, 3.0)),
        "damage_dimming": float(rng.uniform(0.2, 0.8)),
        "damage_jitter": float(rng.uniform(0.0, 2.0)),
        "roughness": float(rng.uniform(0.0, 1.5)),
        "roughness_wavelength": float(rng.uniform(15.0, 60.0)),
        "roughness_phase": float(rng.uniform(0, 2 * np.pi)),
    }


def fault_trace(fault: dict, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Per depth sample: the fault's trace position on the centre line and its slope (traces per sample).

    Listric faults steepen upwards: the dip changes linearly from top to bottom and the position is the
    integral of the slope, so the surface is smooth.
    """
    z = np.arange(height, dtype=float)
    dip = np.deg2rad(np.interp(z, [0, height - 1], [fault["dip_top_deg"], fault["dip_bottom_deg"]]))
    slope = fault["direction"] / np.tan(dip)
    position = np.cumsum(slope) - slope[0]
    position = position - np.interp(fault["z_centre"], z, position)
    rough = fault["roughness"] * np.sin(2 * np.pi * z / fault["roughness_wavelength"] + fault["roughness_phase"])
    return fault["x0"] + position + rough, slope


def apply_fault(fault: dict, grid: tuple[np.ndarray, np.ndarray, np.ndarray], rng: np.random.Generator,
                label_halfwidth: float = 1.0, min_label_throw: float = 1.0) -> dict:
    """What the fault does on the grid ``(line, depth, trace)`` index arrays.

    Returns ``depth_shift`` (subtract from the depth index: the layers each pixel shows move),
    ``amplitude_factor`` (damage-zone dimming), ``mask`` (pixels within ``label_halfwidth`` of the surface
    where the local throw is at least ``min_label_throw`` samples), ``distance`` (signed, perpendicular) and
    ``throw`` (the local throw at every pixel, zero beyond the tips).
    """
    from scipy.ndimage import gaussian_filter

    yy, zz, xx = grid
    height = zz.shape[1]
    position, slope = fault_trace(fault, height)
    along_strike = (yy - fault["line_centre"]) * np.tan(np.deg2rad(fault["strike_deg"]))
    horizontal = xx - position[None, :, None] - along_strike
    distance = horizontal / np.sqrt(1.0 + slope[None, :, None] ** 2)
    # elliptical displacement profile: full throw at the centre, zero at the tips
    reach = ((zz - fault["z_centre"]) / fault["reach_depth"]) ** 2 + ((yy - fault["line_centre"]) / fault["reach_lines"]) ** 2
    throw = fault["throw_samples"] * np.sqrt(np.clip(1.0 - reach, 0.0, None))
    side = np.where(horizontal * fault["direction"] > 0, 1.0, -1.0)  # +1: hanging wall (above the surface)
    drag = fault["drag"]
    share = (1.0 - drag) + drag * np.exp(-np.abs(distance) / fault["drag_length"])
    sense = 1.0 if fault["kind"] == "normal" else -1.0  # normal: the hanging wall moves down
    shift = sense * side * throw / 2.0 * share
    active = throw > 0
    envelope = np.exp(-(distance / fault["damage_width"]) ** 2) * active
    jitter = gaussian_filter(rng.normal(size=zz.shape), sigma=(0.0, 1.5, 0.7)) * fault["damage_jitter"] * 2.0
    return {
        "depth_shift": shift + envelope * jitter,
        "amplitude_factor": 1.0 - fault["damage_dimming"] * envelope,
        "mask": (np.abs(distance) < label_halfwidth) & (throw >= min_label_throw),
        "distance": distance,
        "throw": throw,
    }
