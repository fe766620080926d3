"""placeholder"""
TITLE = "plan"


def applies(run) -> bool:
    return False


def render(run):
    return []
