"""Dense rows in memory read once per evaluation by the fused kernel.

The kernel's sums against the NumPy reference are in ``test_kernels.py``; here,
what the rows class adds around it.
"""

import numpy as np
from threadpoolctl import threadpool_info

from sklearn_gdlogreg import _kernels
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._rows import make_rows
from sklearn_gdlogreg._rows.fused import DeferredFusedRows, FusedRows
from sklearn_gdlogreg._rows.numpy import NumpyRows


def _bound(X):
    loss = loss_for_classes(2)
    target = loss.encode_target(np.arange(X.shape[0]) % 2, X.dtype)
    return make_rows(X, kernel="fused").bind(loss, target, None, True)


def test_fused_rows_are_dense_and_bound_targets_are_contiguous():
    X = np.random.RandomState(0).standard_normal((50, 3)).astype(np.float32)
    rows = _bound(X)
    assert type(rows) is FusedRows and rows.dense is X and rows.in_memory
    assert rows._target.dtype == np.float32 and rows._target.flags.c_contiguous
    values, gradient = rows.loss_gradient(np.zeros((1, 1, 4), np.float32))
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(values, np.log(2), rtol=1e-6)
    np.testing.assert_array_equal(rows.value(np.zeros((1, 1, 4), np.float32)), values)


def test_a_descent_runs_with_blas_on_one_thread():
    rows = _bound(np.zeros((8, 2)))
    with rows.running():
        blas = [info for info in threadpool_info() if info["user_api"] == "blas"]
        assert all(info["num_threads"] == 1 for info in blas)


def test_one_thread_runs_the_kernel_on_the_calling_thread():
    rows = _bound(np.zeros((8, 2)))
    before = _kernels.threads()
    with rows.one_thread():
        assert _kernels.threads() == 1
    assert _kernels.threads() == before


def test_a_subset_is_chosen_again_for_its_size():
    X = np.zeros((2000, 100))  # 1.6 MB
    rows = make_rows(X)
    assert type(rows) is DeferredFusedRows
    assert type(make_rows(rows.take(np.arange(1000)))).__name__ == "NumpyRows"


def test_auto_leaves_a_descent_s_first_bytes_to_numpy_then_the_kernel(monkeypatch):
    # The switch counts evaluations only: the same in every process, whether
    # the kernel is compiled or not.
    rng = np.random.RandomState(0)
    X = rng.standard_normal((3000, 50))  # 1.2 MB
    loss = loss_for_classes(2)
    target = loss.encode_target(rng.randint(2, size=3000), X.dtype)
    monkeypatch.setattr(DeferredFusedRows, "numpy_bytes", 3 * X.nbytes + 1)
    rows = make_rows(X).bind(loss, target, None, True)
    numpy = make_rows(X, kernel="numpy").bind(loss, target, None, True)
    fused = make_rows(X, kernel="fused").bind(loss, target, None, True)
    params = rng.standard_normal((1, 1, 51)) / 10
    for expected in (numpy, numpy, numpy, fused, fused):
        values, gradient = rows.loss_gradient(params)
        expected_values, expected_gradient = expected.loss_gradient(params)
        np.testing.assert_array_equal(values, expected_values)
        np.testing.assert_array_equal(gradient, expected_gradient)
    # Each binding is a descent of its own.
    again = make_rows(X).bind(loss, target, None, True)
    np.testing.assert_array_equal(
        again.loss_gradient(params)[1], numpy.loss_gradient(params)[1]
    )


def test_a_value_alone_is_numpy_s_one_pass_and_not_counted(monkeypatch):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((3000, 50))
    loss = loss_for_classes(2)
    target = loss.encode_target(rng.randint(2, size=3000), X.dtype)
    weight = rng.uniform(0.5, 2, size=3000)
    monkeypatch.setattr(DeferredFusedRows, "numpy_bytes", X.nbytes)
    rows = make_rows(X).bind(loss, target, weight, True)
    numpy = make_rows(X, kernel="numpy").bind(loss, target, weight, True)
    params = rng.standard_normal((1, 1, 51)) / 10
    reads = []
    monkeypatch.setattr(
        NumpyRows, "loss_gradient", lambda self, p: reads.append(p) or (None, None)
    )
    np.testing.assert_array_equal(rows.value(params), numpy.value(params))
    assert not reads and rows._numpy_left == 1
    raw = X @ params[0, 0, :50] + params[0, 0, 50]
    y = target.reshape(-1)
    expected = np.average(np.logaddexp(0, raw) - y * raw, weights=weight)
    np.testing.assert_allclose(rows.value(params), [expected], rtol=1e-12)


def test_the_kernel_alone_is_read_from_the_first_evaluation():
    assert FusedRows.numpy_bytes == 0
    assert DeferredFusedRows.numpy_bytes == 1 << 30


SHORT_FIT = """
import sys
import numpy as np
from sklearn.preprocessing import StandardScaler
from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._rows import make_rows
rng = np.random.default_rng(0)
X = StandardScaler().fit_transform(rng.standard_normal((40_000, 30)))  # 9.6 MB
assert type(make_rows(X)).__name__ == "DeferredFusedRows"
GradientDescentLogisticRegression().fit(X, X[:, 0] + rng.standard_normal(40_000) > 0)
print("numba" in sys.modules, "sklearn_gdlogreg._kernels" in sys.modules)
"""


def test_a_short_first_fit_on_megabytes_never_compiles_the_kernel(tmp_path):
    # The example: 40,000 x 30, the defaults, 17 iterations.
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-c", SHORT_FIT], env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split() == ["False", "False"]  # numba not even imported
    assert "compiling" not in run.stderr
    assert not list(tmp_path.iterdir())
