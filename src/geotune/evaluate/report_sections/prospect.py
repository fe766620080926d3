"""placeholder"""
TITLE = "prospect"


def applies(run) -> bool:
    return False


def render(run):
    return []
