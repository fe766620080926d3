"""A Gaussian-process surrogate of the hit probability on the planning grid, updated hole by hole.

Prior: mean = the prospectivity map, covariance ``s_i s_j k(d_ij)`` with ``s`` the per-cell
uncertainty and ``k`` a Matérn-3/2 correlation of length ``length_scale``. A hole's result
(1 hit, 0 miss) is taken as a noisy reading of the probability at its cell with variance
``mu (1 - mu)`` (the Bernoulli variance at the current mean; a linearised likelihood).

Each result is a rank-one update of a low-rank factor (O(cells x holes)), so the full
covariance matrix is never formed and memory stays at a few arrays of the grid's size.
"""

from __future__ import annotations

import contextlib

import numpy as np

NOISE_FLOOR = 0.02  # variance floor so a result at p ~ 0 or 1 still counts as evidence, not certainty


@contextlib.contextmanager
def small_blas():
    """One BLAS thread: the matrices here are small, and threads only fight over the cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def matern32(d: np.ndarray, length_scale: float) -> np.ndarray:
    r = np.sqrt(3.0) * np.asarray(d) / length_scale
    return (1.0 + r) * np.exp(-r)


class GPSurrogate:
    """Posterior mean and variance of the hit probability at ``n`` points."""

    def __init__(self, x: np.ndarray, y: np.ndarray, prior: np.ndarray, std: np.ndarray, length_scale: float):
        self.x, self.y = np.asarray(x, float), np.asarray(y, float)
        self.prior = np.asarray(prior, float)
        self.s = np.asarray(std, float)
        self.length_scale = float(length_scale)
        self.mean = self.prior.copy()
        self.var = self.s ** 2
        self._V = np.zeros((0, self.x.size))  # rows: L^-1 K_{obs,:}
        self._w = np.zeros(0)  # L^-1 (y_obs - prior_obs)
        self.observed: list[int] = []

    def copy(self) -> "GPSurrogate":
        new = object.__new__(GPSurrogate)
        new.__dict__.update(self.__dict__)
        new.mean, new.var, new._V, new._w = self.mean.copy(), self.var.copy(), self._V.copy(), self._w.copy()
        new.observed = list(self.observed)
        return new

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.maximum(self.var, 0.0))

    def prior_cov(self, idx: np.ndarray, jdx: np.ndarray | None = None) -> np.ndarray:
        """Prior covariance between points ``idx`` (rows) and ``jdx`` (columns; all points when None)."""
        idx = np.atleast_1d(idx)
        jdx = np.arange(self.x.size) if jdx is None else np.atleast_1d(jdx)
        d = np.hypot(self.x[idx, None] - self.x[None, jdx], self.y[idx, None] - self.y[None, jdx])
        return self.s[idx, None] * self.s[None, jdx] * matern32(d, self.length_scale)

    def cov(self, idx: np.ndarray, jdx: np.ndarray | None = None) -> np.ndarray:
        """Posterior covariance between points ``idx`` and ``jdx``."""
        idx = np.atleast_1d(idx)
        jdx = np.arange(self.x.size) if jdx is None else np.atleast_1d(jdx)
        return self.prior_cov(idx, jdx) - self._V[:, idx].T @ self._V[:, jdx]

    def noise(self, i: int) -> float:
        m = float(np.clip(self.mean[i], 0.0, 1.0))
        return max(m * (1.0 - m), NOISE_FLOOR)

    def update(self, i: int, value: float, noise: float | None = None) -> None:
        """Condition on reading ``value`` at point ``i`` (1 hit, 0 miss; the current mean = a fantasy)."""
        noise = self.noise(i) if noise is None else noise
        k = self.prior_cov(i)[0]
        l = self._V[:, i]
        d2 = k[i] + noise - l @ l
        d = np.sqrt(max(d2, 1e-12))
        v = (k - self._V.T @ l) / d
        w = (value - self.prior[i] - l @ self._w) / d
        self._V = np.vstack([self._V, v])
        self._w = np.append(self._w, w)
        self.mean = self.mean + v * w
        self.var = self.var - v ** 2
        self.observed.append(int(i))
