"""The vectorisable exp, log1p and log of the fused pass against NumPy's."""

import numpy as np
import pytest
from numba import njit

from sklearn_gdlogreg import _vecmath
from sklearn_gdlogreg._kernels import _FASTMATH


def _over_array(name):
    # Called as the kernel calls it: in a fast-math loop, vectorised.
    function = getattr(_vecmath, name)

    @njit(fastmath=_FASTMATH, error_model="numpy")
    def apply(values, out):
        for i in range(values.shape[0]):
            out[i] = function(values[i])

    def call(values):
        out = np.empty_like(values)
        apply(values, out)
        return out

    call.compiled = apply
    return call


def _samples(rng, name):
    if name == "exp_nonpositive":
        return -np.concatenate(
            [rng.exponential(30, 100_000), 10.0 ** rng.uniform(-300, 0, 10_000),
             rng.uniform(700, 745, 10_000), [0.0, 1e-300, 1.0, 708.4]]
        )  # fmt: skip
    if name == "log1p_unit":
        return np.concatenate(
            [rng.uniform(0, 1, 100_000), 10.0 ** rng.uniform(-320, 0, 10_000),
             [0.0, 5e-324, np.sqrt(2) - 1, np.nextafter(np.sqrt(2) - 1, 0), 1.0]]
        )  # fmt: skip
    return np.concatenate(
        [1 + rng.exponential(10, 100_000), 10.0 ** rng.uniform(-300, 300, 10_000),
         [1.0, 2.0, np.sqrt(2), np.nextafter(np.sqrt(2), 2), 1e-307, 1.7e308]]
    )  # fmt: skip


REFERENCES = {
    "exp_nonpositive": np.exp,
    "log1p_unit": np.log1p,
    "log_normal": np.log,
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_within_a_few_units_in_the_last_place_of_numpy(name):
    values = _samples(np.random.RandomState(0), name)
    got = _over_array(name)(values)
    expected = REFERENCES[name](values)
    normal = np.abs(expected) > np.finfo(np.float64).tiny
    ulps = np.abs(got - expected)[normal] / np.spacing(np.abs(expected[normal]))
    assert ulps.max() <= 4
    # Zero results and results below the normal range are within one subnormal
    # step of 2**-1060 (exp's result is built from two normal powers of two).
    np.testing.assert_allclose(got[~normal], expected[~normal], rtol=0, atol=1e-318)


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        (
            "exp_nonpositive",
            [np.nan, -np.inf, -746.0, -1e308, -0.0],
            [np.nan, 0, 0, 0, 1],
        ),
        ("log1p_unit", [np.nan, 0.0, 1.0], [np.nan, 0.0, np.log(2)]),
        ("log_normal", [np.nan, np.inf, 1.0], [np.nan, np.inf, 0.0]),
    ],
)
def test_nan_and_limits(name, values, expected):
    got = _over_array(name)(np.array(values))
    np.testing.assert_array_equal(got, np.array(expected, dtype=float))


def test_the_loops_are_vectorised():
    call = _over_array("exp_nonpositive")
    call(np.zeros(8))
    (signature,) = call.compiled.signatures
    llvm = call.compiled.inspect_llvm(signature)
    assert "x double>" in llvm  # vector instructions, not a scalar loop
