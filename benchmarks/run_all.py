"""`make bench`: the benchmarks that run in minutes on 2 CPU cores, one after another.

    python benchmarks/run_all.py [--long]

--long adds the ones that take tens of minutes here (SEG 2016 leave-one-well-out, Cloncurry spatial CV
with gradient boosting, TGS salt with a 22-minute training budget, synthetic-to-F3 transfer, the
memory-at-scale runs of scale.py, about an hour on their own, and --strategy auto against the fixed
strategies). Each script writes its own results to benchmarks/results/; benchmarks needing
../shared/data say so and are skipped when it is absent.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK = [
    ["seed_recipe.py"],
    ["performance.py"],
    ["volume_inference.py"],
    ["plan_synthetic.py"],
    ["fusion_synthetic.py"],
    ["fewlabels_landmass.py"],
    ["fewlabels_f3.py"],
    ["plan_cloncurry.py"],
]
LONG = [
    ["prospect_cloncurry.py"],
    ["logs_seg2016.py", "--variants", "gbm"],
    ["seismic_tgs_salt.py", "--minutes", "22"],
    ["seismic_transfer.py", "--n", "2000"],
    ["seismic_transfer.py", "--part", "fewlabels", "--minutes", "10"],
    ["scale.py"],
    ["strategy_auto.py"],
]


def main() -> int:
    jobs = QUICK + (LONG if "--long" in sys.argv else [])
    failed = []
    for job in jobs:
        started = time.perf_counter()
        print(f"== {' '.join(job)}", flush=True)
        code = subprocess.call([sys.executable, str(HERE / job[0]), *job[1:]], cwd=HERE.parent)
        print(f"== {job[0]}: exit {code} in {time.perf_counter() - started:.0f} s", flush=True)
        if code:
            failed.append(job[0])
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
