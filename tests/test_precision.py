"""bf16 is refused where the CPU would emulate it (several times slower than fp32), allowed where native."""

import pytest

from geotune.errors import ConfigError
from geotune.training.precision import check_precision, cpu_has_native_bf16


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
