"""Part 5 of benchmarks/performance.py: training throughput of full fine-tuning at 224 px (run it from there:
``python benchmarks/performance.py --parts training``). Every variant starts from the same pretrained model and
trains on the same batches, one variant after another in this one process."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from _common import landmass_or_synthetic

CLASSES = 4


class PeakRss:
    """The process's peak resident memory while the block runs (sampled every 20 ms from /proc)."""

    def __enter__(self):
        self.peak, self._stop = _rss_mib(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mib())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _data(batch: int, steps: int, size: int):
    """A lazy geotune dataset of LANDMASS patches (or synthetic ones) resized to ``size``: enough samples
    for the warm-up step and the timed steps."""
    from geotune.data.samples import open_dataset

    per_class = -(-batch * (steps + 1) // CLASSES)
    x, labels, source = landmass_or_synthetic(per_class, seed=3)
    work = Path(tempfile.mkdtemp(prefix="geotune-train-speed-"))
    np.save(work / "d.npy", x)
    np.save(work / "l.npy", labels)
    samples = open_dataset(work / "d.npy", work / "l.npy", size)
    classes = sorted({str(v) for v in samples.labels})
    y = np.asarray([classes.index(str(v)) for v in samples.labels], dtype=np.int64)
    return samples, y, source, work


def _model(channels: int):
    from geotune.models.classifier import build_classifier

    config = {"backbone": "tf_efficientnet_lite0", "in_chans": channels, "classes": [str(c) for c in range(CLASSES)],
              "head": "linear"}
    model, source = build_classifier(config, pretrained=True)
    return model.train(), source


def _raw_loop(initial, batches, channels_last: bool, depthwise: bool, bf16: bool, compile_model: bool):
    """Plain optimizer steps (AdamW, cross-entropy) over ``batches``; the first is the warm-up (and, compiled,
    the compilation). Returns (first-step seconds, timed wall seconds, timed CPU seconds, peak RSS MiB)."""
    from geotune.training.depthwise import fast_depthwise_grad
    from geotune.training.modules import make_optimizer

    model = copy.deepcopy(initial)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer("adamw", model.parameters(), 1e-4, 1e-4)
    run = torch.compile(model) if compile_model else model

    def step(x, y):
        optimizer.zero_grad(set_to_none=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with fast_depthwise_grad(model) if depthwise else nullcontext(), \
                torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(run(x), y)
        loss.backward()
        optimizer.step()

    with PeakRss() as rss:
        start = time.perf_counter()
        step(*batches[0])
        first = time.perf_counter() - start
        wall, cpu = time.perf_counter(), time.process_time()
        for x, y in batches[1:]:
            step(x, y)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return first, wall, cpu, rss.peak


def _geotune_path(initial, samples, y, batch: int, steps: int):
    """What `geotune train --strategy full` runs per step: FineTuneModule in a Lightning Trainer, batches from
    the ClassificationDataModule over the lazy dataset (decoded and resized per item), augmentation on, the
    precision geotune settles on here. Timed from the end of the warm-up batch to the end of the last one, so
    data loading between batches counts."""
    import lightning.pytorch as pl

    from geotune.config import TrainConfig
    from geotune.data.classify_datamodule import ClassificationDataModule
    from geotune.training.classify import settle_precision
    from geotune.training.modules import FineTuneModule, GradualUnfreeze
    from geotune.training.trainer import quiet_lightning

    model = copy.deepcopy(initial)
    cfg = TrainConfig(strategy="full", batch_size=batch, accelerator="cpu")
    train_idx = np.arange(batch * (steps + 1))
    settle_precision(cfg, model, samples, train_idx)
    data = ClassificationDataModule.from_dataset(samples, y, np.ones(len(y), np.float32), train_idx, train_idx[:1],
                                                 batch, cfg.workers, cfg.seed)
    module = FineTuneModule(model, cfg.lr, cfg.optimizer, cfg.weight_decay, cfg.strategy, seed=cfg.seed)
    ends: list[tuple[float, float]] = []

    class Timer(pl.Callback):
        def on_train_batch_end(self, *args):
            ends.append((time.perf_counter(), time.process_time()))

    quiet_lightning()
    trainer = pl.Trainer(max_epochs=1, accelerator="cpu", devices=1, precision=cfg.precision, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, limit_val_batches=0, callbacks=[GradualUnfreeze(), Timer()])
    with PeakRss() as rss:
        trainer.fit(module, datamodule=data)
    wall, cpu = ends[-1][0] - ends[0][0], ends[-1][1] - ends[0][1]
    return wall, cpu, rss.peak, cfg.precision


def _flops_per_training_image(model, channels: int, size: int) -> float:
    """3x the forward pass (backward: one pass for input gradients, one for weight gradients). Counted from
    the forward alone: FlopCounterMode's convolution_backward rule ignores groups, so it counts a depthwise
    convolution's gradients as a dense one's (40x too many for EfficientNet-Lite0)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.rand(1, channels, size, size))
    return 3.0 * counter.get_total_flops()


def training(args, results, rows):
    from performance import matmul_ceiling

    from geotune.training.precision import check_precision, cpu_has_native_bf16

    size, steps = args.image_size, args.train_steps
    compiler = shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")
    ceiling, ceiling_how = matmul_ceiling(sizes=(1024, 2048))
    out = results["training"] = {"image_size": size, "timed_steps": steps, "matmul_ceiling_gflops": ceiling,
                                 "matmul_ceiling_measured_by": ceiling_how, "cxx_compiler": compiler,
                                 "native_bf16": cpu_has_native_bf16(), "batches": {}}
    batch_sizes = [int(b) for b in args.train_batches.split(",")]
    first_batch = batch_sizes[0]
    for batch in batch_sizes:
        samples, y, source, work = _data(batch, steps, size)
        initial, weights = _model(samples.channels)
        flops = _flops_per_training_image(initial, samples.channels, size)
        order = np.arange(batch * (steps + 1))
        batches = [(torch.stack([torch.as_tensor(samples[int(i)]) for i in order[s:s + batch]]).float(),
                    torch.from_numpy(y[order[s:s + batch]])) for s in range(0, len(order), batch)]
        variants = [("eager fp32 NCHW (baseline)", dict(channels_last=False, depthwise=False, bf16=False)),
                    ("channels_last fp32", dict(channels_last=True, depthwise=False, bf16=False)),
                    ("channels_last + depthwise fast path", dict(channels_last=True, depthwise=True, bf16=False))]
        runs = out["batches"][str(batch)] = {"data": source, "weights": weights,
                                             "training_gflops_per_image": flops / 1e9, "runs": {}}
        for name, options in variants:
            first, wall, cpu, peak = _raw_loop(initial, batches, compile_model=False, **options)
            runs["runs"][name] = {"images_per_s": batch * steps / wall, "cpu_s_per_image": cpu / (batch * steps),
                                  "first_step_s": first, "peak_rss_mib": peak}
        if args.skip_compile or compiler is None or batch != first_batch:
            why = ("no C++ compiler" if compiler is None else "--skip-compile" if args.skip_compile
                   else f"compiled at batch {first_batch} only (minutes of compile time per shape here)")
            runs["runs"]["channels_last + torch.compile"] = {"skipped": why}
        else:
            first, wall, cpu, peak = _raw_loop(initial, batches, channels_last=True, depthwise=False, bf16=False,
                                               compile_model=True)
            step_s = wall / steps
            runs["runs"]["channels_last + torch.compile"] = {
                "images_per_s": batch * steps / wall, "cpu_s_per_image": cpu / (batch * steps),
                "compile_s": first - step_s, "peak_rss_mib": peak}
        if cpu_has_native_bf16():
            first, wall, cpu, peak = _raw_loop(initial, batches, channels_last=True, depthwise=True, bf16=True,
                                               compile_model=False)
            runs["runs"]["channels_last + depthwise + bf16 autocast"] = {
                "images_per_s": batch * steps / wall, "cpu_s_per_image": cpu / (batch * steps), "peak_rss_mib": peak}
        else:
            try:
                check_precision("bf16-mixed", "cpu")
                reason = "refused"
            except Exception as exc:  # ConfigError: the message says why
                reason = str(exc)
            runs["runs"]["channels_last + depthwise + bf16 autocast"] = {"refused": reason}
        wall, cpu, peak, precision = _geotune_path(initial, samples, y, batch, steps)
        runs["runs"]["geotune train --strategy full (Lightning, data module)"] = {
            "images_per_s": batch * steps / wall, "cpu_s_per_image": cpu / (batch * steps), "peak_rss_mib": peak,
            "precision": precision}
        shutil.rmtree(work, ignore_errors=True)
        baseline = runs["runs"]["eager fp32 NCHW (baseline)"]["images_per_s"]
        for name, run in runs["runs"].items():
            if "images_per_s" not in run:
                note = run.get("skipped") or "not native here, refused: " + run["refused"].split(":", 1)[-1].strip()
                rows.append((f"batch {batch}: {name}", "", "", "", "", note))
                continue
            run["speedup_vs_eager"] = run["images_per_s"] / baseline
            run["achieved_gflops"] = flops * run["images_per_s"] / 1e9
            note = f"{run['achieved_gflops']:.1f} GFLOP/s ({100 * run['achieved_gflops'] / ceiling:.0f}% of mm)"
            if "compile_s" in run:
                note += f"; compile {run['compile_s']:.0f} s apart"
            if "precision" in run:
                note += f"; precision {run['precision']}"
            rows.append((f"batch {batch}: {name}", f"{run['images_per_s']:.2f}", f"{run['speedup_vs_eager']:.2f}x",
                         f"{run['cpu_s_per_image']:.3f}", f"{run['peak_rss_mib']:.0f} MiB", note))
    rows.append((f"fp32 matmul ceiling ({ceiling_how})", f"{ceiling:.1f} GFLOP/s", "", "", "",
                 f"training {flops / 1e9:.2f} GFLOP/image (3x the forward, FlopCounterMode)"))
