"""The report's sections, in page order. Each module has TITLE, ``applies(run)`` and ``render(run)``.

Generic sections (overview, curves, scores, pictures) work on any run folder; the others add the
panels a kind of run needs. ``pictures`` comes last and shows every PNG the others did not.
"""

from __future__ import annotations

from . import (candidates, classify_data, curves, explanations, logs, logs_shift, mistakes, overview, pictures, plan,
               prospect, scores, segment)

SECTIONS = (overview, classify_data, curves, scores, candidates, mistakes, explanations, segment, logs, logs_shift,
            prospect, plan, pictures)
