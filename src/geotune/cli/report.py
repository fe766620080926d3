"""`geotune report` commands (not built yet)."""


def register(sub) -> None:
    return None
