"""Dense rows in memory read once per evaluation by the fused kernel.

The kernel's sums against the NumPy reference are in ``test_kernels.py``; here,
what the rows class adds around it.
"""

import numba
import numpy as np
from threadpoolctl import threadpool_info

from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._rows import make_rows
from sklearn_gdlogreg._rows.fused import FusedRows


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
    before = numba.get_num_threads()
    with rows.one_thread():
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_a_subset_is_chosen_again_for_its_size():
    X = np.zeros((2000, 100))  # 1.6 MB
    rows = make_rows(X)
    assert type(rows) is FusedRows
    assert type(make_rows(rows.take(np.arange(1000)))).__name__ == "NumpyRows"
