"""How many CPU threads the log models use: ``value``, else $GEOTUNE_THREADS, else one.

Well-log tables are small (thousands of rows): a second thread saves little, and on a machine whose
cores are busy OpenMP threads spin-wait for each other. On the shared 2-core machine, two threads made
one SEG 2016 gradient-boosting fit 135 s instead of 9 s, and the leave-one-well-out benchmark 3260 s.
"""

from __future__ import annotations

import os


def threads(value: int | str | None = None) -> int:
    value = value if value is not None else os.environ.get("GEOTUNE_THREADS")
    return max(1, int(value)) if value else 1


def tree_jobs(n_threads: int | None = None) -> int:
    """Trees fitted at once: those asked for, else every core (at most 4). Unlike the boosting's OpenMP
    threads, joblib's tree threads never spin-wait for each other, and a seeded forest is the same whatever
    their number; the default forest is half the default model's fitting time on the FORCE 2020 wells. The
    boosting's bags (gbm.py) are fitted side by side the same way, each single-threaded."""
    if n_threads is not None or os.environ.get("GEOTUNE_THREADS"):
        return threads(n_threads)
    return max(1, min(4, os.cpu_count() or 1))
