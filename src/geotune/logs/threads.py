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
