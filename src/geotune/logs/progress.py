"""Kept so that ``geotune.logs.progress`` goes on working: the helper is ``geotune.progress`` (base layer)."""

from ..progress import command_line, enable, enabled, finish, stage  # noqa: F401
