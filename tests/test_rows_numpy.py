"""NumPy and SciPy-sparse rows: two BLAS passes, lean, the reference."""

import numpy as np
import pytest
from scipy import sparse

from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._rows import make_rows
from sklearn_gdlogreg._rows.numpy import NumpyRows


def _bound(n_classes, X, weighted=False, fit_intercept=True):
    rng = np.random.RandomState(0)
    y = rng.randint(n_classes, size=X.shape[0])
    weight = rng.uniform(0.5, 2, X.shape[0]) if weighted else None
    loss = loss_for_classes(n_classes)
    target = loss.encode_target(y, X.dtype)
    return make_rows(X, kernel="numpy").bind(loss, target, weight, fit_intercept)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_binary_model_takes_the_short_path_to_the_same_numbers(weighted, dtype):
    X = np.random.RandomState(1).standard_normal((80, 5)).astype(dtype)
    rows = _bound(2, X, weighted)
    params = np.random.RandomState(2).standard_normal((2, 1, 6)).astype(dtype)
    values, gradient = rows.loss_gradient(params)
    one_values, one_gradient = rows.loss_gradient(params[:1])
    assert one_values.shape == (1,) and one_gradient.dtype == dtype
    rtol = 1e-13 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(one_values, values[:1], rtol=rtol)
    np.testing.assert_allclose(one_gradient, gradient[:1], rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(rows.value(params[:1]), one_values, rtol=rtol)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_loss_residual_is_the_gradient_before_the_product_with_X(n_classes):
    X = np.random.RandomState(3).standard_normal((60, 4))
    rows = _bound(n_classes, X, weighted=True)
    params = np.random.RandomState(4).standard_normal((3, rows.loss.n_outputs, 5))
    values, gradient = rows.loss_gradient(params)
    residual_values, residual = rows.loss_residual(params)
    np.testing.assert_array_equal(residual_values, values)
    flat = residual.reshape(3, rows.loss.n_outputs, 60)
    np.testing.assert_allclose(gradient[..., :4], flat @ X, rtol=1e-12)
    np.testing.assert_allclose(gradient[..., 4], flat.sum(axis=-1), rtol=1e-12)


def test_sparse_rows_stay_sparse_and_float32_stays_float32():
    X = sparse.random(70, 6, density=0.3, random_state=0, dtype=np.float32).tocsr()
    rows = _bound(3, X)
    assert type(rows) is NumpyRows and sparse.issparse(rows.X) and rows.dense is None
    params = np.zeros((1, 3, 7), np.float32)
    assert rows.raw(params).dtype == np.float32
    values, gradient = rows.loss_gradient(params)
    assert gradient.dtype == np.float32
    np.testing.assert_allclose(values, np.log(3), rtol=1e-6)


def test_subsets_and_chunks_are_slices_of_the_array():
    X = np.arange(40.0).reshape(10, 4)
    rows = make_rows(X)
    np.testing.assert_array_equal(rows.take([1, 3]).X, X[[1, 3]])
    chunks = list(rows.row_chunks(4))
    assert [start for start, _ in chunks] == [0, 4, 8]
    np.testing.assert_array_equal(np.vstack([c for _, c in chunks]), X)
    assert rows.running().__enter__() is None
