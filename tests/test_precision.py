"""bf16 is refused where the CPU would emulate it (several times slower than fp32), allowed where native."""

import pytest

from geotune.errors import ConfigError, GeotuneWarning
from geotune.training.precision import check_precision, choose_precision, cpu_has_native_bf16


def test_bf16_on_a_cpu_without_native_bf16_is_refused_with_the_reason():
    with pytest.raises(ConfigError, match="no native bf16 instructions"):
        check_precision("bf16-mixed", "cpu", frozenset({"avx2", "avx512f"}))


def test_bf16_on_a_cpu_with_native_bf16_is_kept():
    assert check_precision("bf16-mixed", "cpu", frozenset({"avx512f", "avx512_bf16"})) == "bf16-mixed"
    assert cpu_has_native_bf16(frozenset({"amx_bf16"}))


def test_fp32_and_gpu_precisions_pass():
    assert check_precision("32-true", "cpu", frozenset()) == "32-true"
    assert check_precision("bf16-mixed", "gpu", frozenset()) == "bf16-mixed"
    with pytest.raises(ConfigError, match="float16 training runs on GPUs"):
        check_precision("16-mixed", "cpu", frozenset())


# ---- the precision a fine-tuning run settles on (choose_precision): the CPU flags are mocked, the probe is a
# stand-in returning seconds per step, so the choice is checked on any machine

NATIVE = frozenset({"avx512f", "amx_bf16"})
EMULATED = frozenset({"avx2", "avx512f"})


def _probe(fp32: float, bf16: float, calls: list | None = None):
    def probe():
        if calls is not None:
            calls.append(1)
        return {"32-true": fp32, "bf16-mixed": bf16}
    return probe


def test_default_never_probes_or_picks_bf16_on_a_cpu_without_native_bf16():
    calls = []
    assert choose_precision("32-true", False, "cpu", _probe(9.0, 1.0, calls), EMULATED) == "32-true"
    assert calls == []  # bf16 is known slow there: nothing is timed


def test_default_picks_bf16_only_where_native_and_clearly_faster():
    assert choose_precision("32-true", False, "cpu", _probe(2.0, 1.0), NATIVE) == "bf16-mixed"
    assert choose_precision("32-true", False, "cpu", _probe(1.0, 2.0), NATIVE) == "32-true"  # native but slower
    assert choose_precision("32-true", False, "cpu", _probe(1.05, 1.0), NATIVE) == "32-true"  # within noise


def test_forced_bf16_measured_slower_is_warned_with_the_timings():
    with pytest.warns(GeotuneWarning, match=r"measured slower than 32-true.*bf16-mixed 2\.00 s/step"):
        assert choose_precision("bf16-mixed", True, "cpu", _probe(1.0, 2.0), NATIVE) == "bf16-mixed"


def test_forced_bf16_without_native_support_is_refused_before_any_probe():
    calls = []
    with pytest.raises(ConfigError, match="no native bf16"):
        choose_precision("bf16-mixed", True, "cpu", _probe(2.0, 1.0, calls), EMULATED)
    assert calls == []


def test_an_explicit_fp32_or_a_gpu_run_is_kept_without_probing():
    calls = []
    assert choose_precision("32-true", True, "cpu", _probe(9.0, 1.0, calls), NATIVE) == "32-true"
    assert choose_precision("32-true", False, "gpu", _probe(9.0, 1.0, calls), NATIVE) == "32-true"
    assert calls == []
