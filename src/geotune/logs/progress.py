"""Progress of long log work (reading wells, features, each fold, the final fit) on stderr.

One line per stage. The presentation layer decides whether lines appear: ``enable(False)`` silences them
(the Python API and tests stay quiet that way), and $GEOTUNE_PROGRESS=0 does the same from outside.
On a terminal, repeated steps of one stage (well 3/22, 4/22, ...) overwrite one line; elsewhere (a log
file, CI) only each stage's first and last step are printed, so a log gets one line per stage and its end.
"""

from __future__ import annotations

import os
import sys
import time

_state = {"enabled": None, "open": False, "started": time.monotonic()}


def enable(value: bool | None = True) -> None:
    """Turn progress lines on or off; None restores the default ($GEOTUNE_PROGRESS, on unless "0")."""
    _state["enabled"] = value


def enabled() -> bool:
    if _state["enabled"] is not None:
        return bool(_state["enabled"])
    return os.environ.get("GEOTUNE_PROGRESS", "1") != "0"


def stage(message: str, step: int | None = None, total: int | None = None) -> None:
    """Report ``message`` (with ``step``/``total`` when the stage repeats)."""
    if not enabled():
        return
    stream = sys.stderr
    tty = stream.isatty()
    elapsed = time.monotonic() - _state["started"]
    counter = f" {step}/{total}" if step is not None and total is not None else ""
    line = f"[{elapsed:6.0f} s] {message}{counter}"
    repeated = step is not None and total is not None
    if tty and repeated:
        end = "\n" if step >= total else ""
        stream.write(("\r" if _state["open"] else "") + line + "\033[K" + end)
        _state["open"] = step < total
    else:
        if repeated and 1 < step < total:
            return  # not a terminal: the first and last step of each stage are enough
        if _state["open"]:
            stream.write("\n")
            _state["open"] = False
        stream.write(line + "\n")
    stream.flush()
