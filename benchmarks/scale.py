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
import json
import time
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, write_results  # noqa: E402

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
    name = "scale" + ("_quick" if args.quick else "")
    # parts run separately (hours apart) are kept side by side: each part records its own date, command and load
    previous = RESULTS / f"{name}.json"
    kept = json.loads(previous.read_text()) if previous.is_file() else {}
    payload = {"parts": kept.get("parts", {}), "notes": kept.get("notes", {})}
    for part in args.parts:
        module_name, keyword, small, large, quick_small, quick_large = SIZES[part]
        sizes = (quick_small, quick_large) if args.quick else (small, large)
        module = importlib.import_module(module_name)
        results, started, date = [], machine(), time.strftime("%Y-%m-%d %H:%M")
        with tempfile.TemporaryDirectory(prefix=f"geotune-scale-{part}-") as tmp:
            for size in sizes:
                results.append(module.run(size, Path(tmp) / str(size)))
                print(part, results[-1], flush=True)
        growth_data = sizes[1] / sizes[0] if part != "geotiff" else (sizes[1] / sizes[0]) ** 2
        growth_rss = peak_mb(results[1]) / peak_mb(results[0])
        payload["parts"][part] = {"keyword": keyword, "sizes": sizes, "results": results,
                                  "data_growth": round(growth_data, 2), "rss_growth": round(growth_rss, 3),
                                  "target_met": growth_rss < 1.25, "date": date,
                                  "command": " ".join(sys.argv),
                                  "load_average_at_start": started.get("load_average_at_start")}
        payload["notes"].pop(part, None)
    write_results(name, payload, table_rows(payload["parts"]) + [(part, "see note", "", "", "", note)
                                                                  for part, note in payload["notes"].items()],
                  ("part", "size", "peak memory MiB", "throughput", "seconds", "note"))


def table_rows(parts: dict) -> list[tuple]:
    rows = []
    for part, entry in parts.items():
        keyword = entry.get("keyword", next(iter(entry["results"][0])))
        for size, result in zip(entry["sizes"], entry["results"]):
            rate = next((f"{k} {v}" for k, v in result.items() if k.endswith("_per_s") or k.endswith("_per_second")),
                        "")
            note = f"allocated (anon) {result['peak_anon_mb']:.0f} MB" if "peak_anon_mb" in result else ""
            seconds = result.get("seconds", result.get("wall_s", result.get("fit_seconds")))
            rows.append((part, f"{keyword}={size}", round(peak_mb(result), 1), rate,
                         "" if seconds is None else round(float(seconds), 1), note))
        load = entry.get("load_average_at_start")
        when = f"run from {entry['date']}, load average {load[0]:.1f}" if entry.get("date") and load else ""
        rows.append((part, f"growth: data x{entry['data_growth']:.1f}", f"x{entry['rss_growth']:.3f}",
                     "target < x1.25: " + ("met" if entry["target_met"] else "NOT met"), "", when))
    return rows


if __name__ == "__main__":
    main()
