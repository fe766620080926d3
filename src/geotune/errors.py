"""The errors geotune raises for problems a user can fix.

The command line turns each into one line on stderr and exit code 2; Python callers
catch them as ordinary exceptions. Every message names the file and what is wrong.
"""

from __future__ import annotations

import os


class GeotuneError(Exception):
    """Base class: a problem with the user's input, model or settings."""

    def __init__(self, message: str, path: str | os.PathLike | None = None):
        self.path = None if path is None else os.fspath(path)
        self.message = message
        super().__init__(f"{self.path}: {message}" if self.path else message)


class DataError(GeotuneError, ValueError):
    """Input data that cannot be read or is inconsistent."""


class ModelError(GeotuneError, ValueError):
    """A model directory that is missing, incomplete, edited or unsafe."""


class WeightsNotFoundError(GeotuneError, LookupError):
    """Pretrained weights that no source could provide."""


class ConfigError(GeotuneError, ValueError):
    """Options that contradict each other or a configuration file that is wrong."""


class GeotuneWarning(UserWarning):
    """Something in the input was repaired, guessed or left out; the message says what.

    The command line always shows these (one line each), while third-party warnings need -v.
    """
