"""`geotune plan` commands (not built yet)."""


def register(sub) -> None:
    return None
