"""Peak memory and throughput as the data grows 8-10x, in one run (issue: real-sized data on one engine).

    python benchmarks/scale.py                       # the issue's sizes (about an hour on 2 cores)
    python benchmarks/scale.py --quick               # small sizes, minutes (a smoke run)

(a) classification from an image folder of generated 512 x 512 JPEGs: 2,000 vs 20,000 images;
(b) segmentation training from a SEG-Y volume written to a temporary folder: about 0.5 GB vs 4 GB;
(c) `geotune predict` of a segmentation model on a GeoTIFF: 6,500^2 vs 20,000^2 cells (9.5x).
Each size runs in a fresh process whose peak RSS the kernel reports. Target: peak RSS grows by less than
25 % while the data grows 8-10x. Results: benchmarks/results/scale.{json,md}.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

SIZES = {  # part: (module, keyword, small, large, quick small, quick large)
    "images": ("scale_images", "n_images", 2000, 20000, 100, 800),
    "segy": ("scale_segy", "size_gb", 0.5, 4.0, 0.02, 0.16),
    "geotiff": ("scale_geotiff", "side", 6500, 20000, 1000, 3000),
}


def peak_mb(result: dict) -> float:
    """Peak memory of a run: RSS of the process, or PSS of the process and its DataLoader workers (images:
    summing workers' RSS would count the pages they share with the parent several times)."""
    return float(result.get("peak_rss_mb") or result["peak_pss_mb"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--parts", nargs="+", default=list(SIZES), choices=list(SIZES))
    args = parser.parse_args()
    rows, payload = [], {"parts": {}}
    for part in args.parts:
        module_name, keyword, small, large, quick_small, quick_large = SIZES[part]
        sizes = (quick_small, quick_large) if args.quick else (small, large)
        module = importlib.import_module(module_name)
        results = []
        with tempfile.TemporaryDirectory(prefix=f"geotune-scale-{part}-") as tmp:
            for size in sizes:
                results.append(module.run(size, Path(tmp) / str(size)))
                print(part, results[-1], flush=True)
        growth_data = sizes[1] / sizes[0] if part != "geotiff" else (sizes[1] / sizes[0]) ** 2
        growth_rss = peak_mb(results[1]) / peak_mb(results[0])
        payload["parts"][part] = {"sizes": sizes, "results": results, "data_growth": round(growth_data, 2),
                                  "rss_growth": round(growth_rss, 3), "target_met": growth_rss < 1.25}
        for size, result in zip(sizes, results):
            rate = next((f"{k} {v}" for k, v in result.items() if k.endswith("_per_s")), "")
            rows.append((part, f"{keyword}={size}", peak_mb(result), rate,
                         result.get("seconds", result.get("wall_s", ""))))
        rows.append((part, f"growth: data x{growth_data:.1f}", f"RSS x{growth_rss:.2f}",
                     "target < x1.25: " + ("met" if growth_rss < 1.25 else "NOT met"), ""))
    write_results("scale" + ("_quick" if args.quick else ""), payload, rows,
                  ("part", "size", "peak memory MiB", "throughput", "seconds"))


if __name__ == "__main__":
    main()
