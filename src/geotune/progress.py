"""Progress of long steps (reading wells, each CV fold, each training epoch, writing a map) on stderr.

One line per stage. Who shows progress is the presentation layer's decision: the command line turns
lines on for the length of a command (``command_line()``); the Python API and tests stay quiet unless
they call ``enable(True)``. $GEOTUNE_PROGRESS=0 silences the command line too (1 turns the API on).
On a terminal, repeated steps of one stage (well 3/22, 4/22, ...) overwrite one line; elsewhere (a log
file, CI) each stage's first and last step are printed, and a step between them only when nothing was
printed for ``QUIET_S`` seconds, so a log gets one line per stage and its end, and never falls silent long.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Iterator

QUIET_S = 30.0  # off a terminal, the longest a repeated stage stays silent between its first and last step

_state = {"enabled": None, "default": False, "open": False, "started": time.monotonic(), "written": 0.0}


def enable(value: bool | None = True) -> None:
    """Turn progress lines on or off; None restores the default ($GEOTUNE_PROGRESS, else the caller's)."""
    _state["enabled"] = value


def enabled() -> bool:
    if _state["enabled"] is not None:
        return bool(_state["enabled"])
    setting = os.environ.get("GEOTUNE_PROGRESS")
    if setting is not None:
        return setting != "0"
    return bool(_state["default"])


@contextmanager
def command_line() -> Iterator[None]:
    """Progress on while a command runs (unless $GEOTUNE_PROGRESS=0); the clock starts at the command."""
    saved = _state["default"], _state["started"]
    _state["default"], _state["started"] = True, time.monotonic()
    try:
        yield
    finally:
        finish()
        _state["default"], _state["started"] = saved


def stage(message: str, step: int | None = None, total: int | None = None) -> None:
    """Report ``message`` (with ``step``/``total`` when the stage repeats)."""
    if not enabled():
        return
    stream = sys.stderr
    tty = stream.isatty()
    now = time.monotonic()
    elapsed = now - _state["started"]
    counter = f" {step}/{total}" if step is not None and total is not None else ""
    line = f"[{elapsed:6.0f} s] {message}{counter}"
    repeated = step is not None and total is not None
    if tty and repeated:
        end = "\n" if step >= total else ""
        stream.write(("\r" if _state["open"] else "") + line + "\033[K" + end)
        _state["open"] = step < total
    else:
        if repeated and 1 < step < total and now - _state["written"] < QUIET_S:
            return  # not a terminal: the first and last step of each stage are enough, unless it has been long
        if _state["open"]:
            stream.write("\n")
            _state["open"] = False
        stream.write(line + "\n")
    _state["written"] = now
    stream.flush()


def finish() -> None:
    """End an overwritten terminal line that a stage left open (an error must start on its own line)."""
    if _state["open"]:
        sys.stderr.write("\n")
        sys.stderr.flush()
        _state["open"] = False
