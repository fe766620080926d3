"""Which numeric precisions pay on the machine at hand.

bf16 on a CPU without native bf16 instructions is emulated and runs several times slower than fp32 (measured:
3.1 vs 19.3 images/s on a 2-core machine of this project's kind), so geotune never uses it there unasked, and
refuses it when asked, with the reason.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import ConfigError

NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


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
