"""How the command line shows warnings: geotune's own always, third-party ones only with -v.

geotune warns (with a ``GeotuneWarning``) when it repairs or drops part of the input: LAS fixes, rows left
out. A user must see those even when torch, Lightning, timm and scikit-learn are kept quiet. The category
decides, not the module a warning is attributed to: libraries point their own deprecation notes at the
geotune line that called them. Only this process is affected: PYTHONWARNINGS is left alone, so
subprocesses (DDP workers, tools a command starts) keep their own settings.
"""

from __future__ import annotations

import logging
import sys
import warnings

from ..errors import GeotuneWarning

NOISY_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning", "timm")


def configure(verbose: bool) -> None:
    """Install the filters; call inside ``warnings.catch_warnings()`` so that callers get theirs back."""
    if not verbose:
        warnings.simplefilter("ignore")
        for name in NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
    # Added last, so consulted first: geotune's warnings pass whatever the libraries' filters say.
    warnings.filterwarnings("default", category=GeotuneWarning)
    warnings.showwarning = show_warning


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """geotune's warnings as one plain line; anything else (shown only with -v) in Python's own format."""
    if issubclass(category, GeotuneWarning):
        text = "geotune: warning: " + " ".join(str(message).split()) + "\n"
    else:
        text = warnings.formatwarning(message, category, filename, lineno, line)
    try:
        (file or sys.stderr).write(text)
    except OSError:  # stderr closed (a pipe that went away): nothing left to tell
        pass
