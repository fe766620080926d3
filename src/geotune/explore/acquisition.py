"""Where the next hole goes: one scoring rule per strategy, over the cells still available.

Every value-aware rule works with the probability that a hole finds a *new* deposit,
``q = mean * novelty``: novelty falls near holes that already hit (or, while a batch is being
planned, near holes planned with their hit probability), by the share of the hole's search
disc that overlaps theirs. That is what keeps a batch from clustering on one deposit.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

STRATEGIES = ("voi", "ei", "ucb", "greedy", "grid", "random")


def overlap_fraction(d: np.ndarray, radius: float) -> np.ndarray:
    """Share of a disc of ``radius`` covered by an equal disc whose centre is ``d`` away."""
    d = np.minimum(np.asarray(d, float) / (2.0 * radius), 1.0)
    return (2.0 / np.pi) * (np.arccos(d) - d * np.sqrt(1.0 - d ** 2))


def greedy(c) -> tuple[np.ndarray, str]:
    return c.surrogate.mean.copy(), "highest probability"


def ucb(c, kappa: float) -> tuple[np.ndarray, str]:
    s = c.surrogate
    return c.novelty * np.clip(s.mean + kappa * s.std, 0, 1) - c.cost_units, f"upper bound (kappa {kappa:g})"


def expected_improvement(c, available: np.ndarray) -> tuple[np.ndarray, str]:
    s = c.surrogate
    best = np.max(s.mean[available])
    sd = np.maximum(s.std, 1e-9)
    z = (s.mean - best) / sd
    ei = sd * (z * norm.cdf(z) + norm.pdf(z))
    return c.novelty * ei - c.cost_units, f"improvement over best p {best:.3f}"


def value_of_information(c, available: np.ndarray, kappa: float, n_candidates: int, lookahead: int):
    """One-step look-ahead: a hole's expected new find plus the expected gain of the best
    ``lookahead`` holes that could follow it, over its two outcomes (knowledge-gradient style).

    Returns per-cell scores (-inf outside the candidates) and the information part for each.
    """
    s = c.surrogate
    idx = np.flatnonzero(available)
    pre = c.novelty[idx] * np.clip(s.mean[idx] + kappa * s.std[idx], 0, 1) - c.cost_units[idx]
    cand = idx[np.argsort(-pre, kind="stable")[:n_candidates]]
    m = cand.size
    mu = np.clip(s.mean[cand], 0.0, 1.0)
    nov = c.novelty[cand]
    cost = c.cost_units[cand]
    immediate = mu * nov - cost
    scores = np.full(s.mean.size, -np.inf)
    info = np.zeros(s.mean.size)
    k = min(lookahead, m - 1)
    if k <= 0:
        scores[cand] = immediate
        return scores, info
    S = s.cov(cand, cand)
    noise = np.maximum(mu * (1 - mu), 0.02)
    gain = S / (np.diag(S) + noise)[:, None]  # row j: change in means per unit surprise at j
    dx = s.x[cand, None] - s.x[None, cand]
    dy = s.y[cand, None] - s.y[None, cand]
    dist = np.hypot(dx, dy)
    blocked = dist < max(c.min_spacing, 1e-9)  # a follow-up hole cannot go within spacing of j (nor at j)
    np.fill_diagonal(blocked, True)
    hit_nov = nov[None, :] * (1.0 - overlap_fraction(dist, c.radius))

    def best_k(values: np.ndarray) -> np.ndarray:
        values = np.where(blocked, -np.inf, np.maximum(values, 0.0))
        top = -np.partition(-values, k - 1, axis=1)[:, :k]
        return np.where(np.isfinite(top), top, 0.0).sum(axis=1)

    now = best_k(np.broadcast_to(mu * nov - cost, (m, m)))
    after_hit = best_k(np.clip(mu[None, :] + gain * (1 - mu)[:, None], 0, 1) * hit_nov - cost)
    after_miss = best_k(np.clip(mu[None, :] - gain * mu[:, None], 0, 1) * nov[None, :] - cost)
    future = mu * after_hit + (1 - mu) * after_miss
    scores[cand] = immediate + future
    info[cand] = future - now
    return scores, info
