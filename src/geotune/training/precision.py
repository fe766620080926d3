"""Which numeric precisions pay on the machine at hand.

bf16 on a CPU without native bf16 instructions is emulated and runs several times slower than fp32 (measured:
3.1 vs 19.3 images/s on a 2-core machine of this project's kind), so geotune never uses it there unasked, and
refuses it when asked, with the reason. Where the CPU has native bf16, a short timed probe (a few training
steps of a copy of the model, each precision) decides: the default trains in bf16 only when the probe finds it
faster by a clear margin, and a ``--precision bf16-*`` that the probe finds slower than fp32 is warned about.
"""

from __future__ import annotations

import time
import warnings
from functools import lru_cache
from typing import Callable

from ..errors import ConfigError, GeotuneWarning

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
FP32 = "32-true"
BF16 = "bf16-mixed"
# bf16 must beat fp32 by this factor in the probe before the default uses it: timing noise on a shared
# machine is ~10%, and a precision change is not worth a gain that small.
BF16_MARGIN = 1.2


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_has_native_bf16(flags: frozenset[str] | None = None) -> bool:
    flags = cpu_flags() if flags is None else flags
    return any(flag in flags for flag in NATIVE_BF16_FLAGS)


def uses_cpu(accelerator: str) -> bool:
    if accelerator == "cpu":
        return True
    if accelerator != "auto":
        return False
    import torch

    return not torch.cuda.is_available()


def check_precision(precision: str, accelerator: str, flags: frozenset[str] | None = None) -> str:
    """``precision`` if it runs at least as fast as fp32 here; a ConfigError saying why not otherwise."""
    if str(precision).startswith("bf16") and uses_cpu(accelerator) and not cpu_has_native_bf16(flags):
        raise ConfigError(f"--precision {precision}: this CPU has no native bf16 instructions "
                          f"({' or '.join(NATIVE_BF16_FLAGS)}), so bf16 would run several times slower than "
                          "32-true; train with the default 32-true here, or bf16 on a GPU")
    if str(precision).startswith("16") and uses_cpu(accelerator):
        raise ConfigError(f"--precision {precision}: float16 training runs on GPUs; on a CPU use 32-true")
    return precision


def choose_precision(precision: str, explicit: bool, accelerator: str, probe: Callable[[], dict[str, float]],
                     flags: frozenset[str] | None = None) -> str:
    """The precision a CPU fine-tuning run uses.

    ``probe()`` returns seconds per training step for ``"32-true"`` and ``"bf16-mixed"``; it runs only where the
    CPU has native bf16 (elsewhere bf16 is known to be slow and never chosen). ``explicit``: the user gave
    ``--precision``; then it is kept (bf16 without native support is refused, bf16 measured slower than fp32 is
    warned about). The default becomes bf16-mixed only where the probe finds it ``BF16_MARGIN`` times faster.
    """
    if explicit or not uses_cpu(accelerator):
        check_precision(precision, accelerator, flags)
        if explicit and str(precision).startswith("bf16") and uses_cpu(accelerator):
            seconds = probe()
            if seconds[BF16] > seconds[FP32]:
                warnings.warn(f"--precision {precision} measured slower than 32-true on this CPU "
                              f"({_describe(seconds)}); training in {precision} as asked, but the default "
                              f"32-true would be faster here", GeotuneWarning, stacklevel=2)
        return precision
    if precision != FP32 or not cpu_has_native_bf16(flags):
        return check_precision(precision, accelerator, flags)
    seconds = probe()
    return BF16 if seconds[FP32] >= BF16_MARGIN * seconds[BF16] else FP32


def _describe(seconds: dict[str, float]) -> str:
    return ", ".join(f"{name} {value:.2f} s/step" for name, value in seconds.items())


def step_timer(model, batch, steps: int = 2) -> Callable[[], dict[str, float]]:
    """A probe for ``choose_precision``: best seconds of ``steps`` forward+backward passes of a copy of
    ``model`` (channels_last, train mode) on ``batch``, in fp32 and under bf16 autocast, after one warm-up
    each. The copy keeps the model's own BatchNorm statistics and gradients untouched."""
    def probe() -> dict[str, float]:
        import copy

        import torch

        trial = copy.deepcopy(model).train().to(memory_format=torch.channels_last)
        x = batch.float().contiguous(memory_format=torch.channels_last)
        seconds = {}
        for name, dtype in ((FP32, None), (BF16, torch.bfloat16)):
            times = []
            for _ in range(steps + 1):
                start = time.perf_counter()
                with torch.autocast("cpu", dtype=dtype or torch.float32, enabled=dtype is not None):
                    out = trial(x)
                out.float().sum().backward()
                times.append(time.perf_counter() - start)
            trial.zero_grad(set_to_none=True)
            seconds[name] = min(times[1:])
        return seconds

    return probe
