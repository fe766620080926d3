"""geotune.explore: where to drill next under a budget.

``Planner(strategy="voi", budget=10).plan(prior, uncertainty, cost=..., exclude=..., drilled=...)``
ranks holes on a prospectivity map; ``simulate(prior, budget=20, runs=50, strategies=...)`` drills
synthetic worlds drawn from the map's prior to compare strategies.
"""

from .acquisition import STRATEGIES
from .grid import PlanGrid
from .io import read_drilled, read_exclusion, read_maps, write_plan, write_simulation
from .planner import Campaign, Planner, PlanResult
from .simulate import SimulationResult, draw_world, run_campaign, simulate
from .surrogate import GPSurrogate

__all__ = ["STRATEGIES", "Campaign", "GPSurrogate", "PlanGrid", "PlanResult", "Planner", "SimulationResult",
           "draw_world", "read_drilled", "read_exclusion", "read_maps", "run_campaign", "simulate", "write_plan",
           "write_simulation"]
