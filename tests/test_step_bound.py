"""The step bound over the chunks any rows hand it: exact Gram, power iteration
or the Frobenius bound, without asking what kind of rows they are."""

import h5py
import numpy as np
import pytest
from scipy import sparse

from sklearn_gdlogreg._rows import hdf5, make_rows
from sklearn_gdlogreg._step_bound import (
    column_squares,
    squared_frobenius_norm,
    squared_spectral_norm,
)


def dense_reference(X, weight, fit_intercept):
    X1 = np.hstack([X, np.ones((X.shape[0], 1))]) if fit_intercept else X
    return np.linalg.norm(np.sqrt(weight)[:, None] * X1, 2) ** 2


def _data(shape, seed=1):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal(shape) + 0.5
    X[rng.uniform(size=shape) < 0.5] = 0
    return X, rng.uniform(0, 2, size=shape[0])


@pytest.mark.parametrize("shape", [(300, 20), (20, 300), (600, 400), (400, 600)])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_squared_spectral_norm(shape, fit_intercept, as_sparse):
    # (600, 400) and (400, 600) exceed the exact-Gram size: power iteration.
    X, weight = _data(shape)
    expected = dense_reference(X, weight, fit_intercept)
    got = squared_spectral_norm(
        make_rows(sparse.csr_array(X) if as_sparse else X), weight, fit_intercept
    )
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("shape", [(300, 20), (20, 200), (50, 600)])
def test_streamed_chunks_give_the_in_memory_bound(shape, tmp_path, monkeypatch):
    """A file read in several chunks of a reused buffer: (20, 200) stacks the
    chunks for the samples' Gram matrix, (50, 600) takes power iteration."""
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 8 * shape[1] * 7)  # 7 rows a chunk
    X, weight = _data(shape)
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file["X"] = X
        rows = make_rows(file["X"])
        assert len(list(rows.row_chunks(8192))) > 1
        for norm in (squared_spectral_norm, squared_frobenius_norm):
            got = norm(rows, weight, True)
            assert got == pytest.approx(norm(make_rows(X), weight, True), rel=1e-6)
    assert squared_spectral_norm(make_rows(X), weight, True) == pytest.approx(
        dense_reference(X, weight, True), rel=1e-6
    )


@pytest.mark.parametrize("as_sparse", [False, True])
def test_frobenius_norm_is_an_upper_bound_in_one_pass(as_sparse):
    X, weight = _data((200, 30))
    rows = make_rows(sparse.csr_array(X) if as_sparse else X)
    X1 = np.hstack([X, np.ones((200, 1))]) * np.sqrt(weight)[:, None]
    got = squared_frobenius_norm(rows, weight, True)
    assert got == pytest.approx(np.sum(X1**2), rel=1e-12)
    assert got >= squared_spectral_norm(rows, weight, True)


class _Chunks:
    """Rows of nothing but the members the step bound uses (no known kind)."""

    def __init__(self, X):
        self.X, self.shape, self.dtype = X, X.shape, X.dtype
        self.xp, self.device = make_rows(X).xp, None
        self.in_memory = True

    def row_chunks(self, size):
        for start in range(0, self.shape[0], 3):
            yield start, self.X[start : start + 3]


@pytest.mark.parametrize("shape", [(300, 20), (20, 300), (600, 400), (400, 600)])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_a_column_scale_bounds_the_scaled_columns(shape, as_sparse):
    # The preconditioner's bound: the norm of W^(1/2) X1 diag(s), from the
    # features' Gram matrix, the samples', or power iteration.
    X, weight = _data(shape)
    scale = np.logspace(-2, 2, shape[1] + 1)
    X1 = np.hstack([X, np.ones((shape[0], 1))]) * scale
    expected = dense_reference(X1, weight, False)
    rows = make_rows(sparse.csr_array(X) if as_sparse else X)
    got = squared_spectral_norm(rows, weight, True, column_scale=scale)
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("as_sparse", [False, True])
def test_column_squares_are_the_gram_matrix_s_diagonal(as_sparse):
    X, weight = _data((50, 7))
    rows = _Chunks(sparse.csr_array(X) if as_sparse else X)
    X1 = np.hstack([X, np.ones((50, 1))])
    expected = np.diag(X1.T @ (weight[:, None] * X1))
    np.testing.assert_allclose(column_squares(rows, weight, True), expected)
    np.testing.assert_allclose(column_squares(rows, weight, False), expected[:-1])


@pytest.mark.parametrize("shape", [(300, 20), (20, 300), (400, 600)])
def test_the_bound_needs_only_the_rows_protocol(shape):
    X, weight = _data(shape)
    got = squared_spectral_norm(_Chunks(X), weight, True)
    assert got == pytest.approx(dense_reference(X, weight, True), rel=1e-5)


def test_an_overflowing_gram_matrix_says_infinity():
    X = np.full((10, 3), 1e200)
    with np.errstate(over="ignore", invalid="ignore"):
        assert squared_spectral_norm(make_rows(X), np.ones(10), True) == np.inf


@pytest.mark.parametrize("as_sparse", [False, True])
def test_float32_squares_are_summed_in_float64(as_sparse):
    # 1e20 squared is beyond float32 (3.4e38): the one-pass bounds square and
    # sum in float64, without a float64 copy of the rows.
    X, weight = _data((40, 5))
    X32 = (X * 1e20).astype(np.float32)
    rows = make_rows(sparse.csr_array(X32) if as_sparse else X32)
    X1 = np.hstack([X32.astype(np.float64), np.ones((40, 1))])
    expected = np.diag(X1.T @ (weight[:, None] * X1))
    np.testing.assert_allclose(column_squares(rows, weight, True), expected)
    assert squared_frobenius_norm(rows, weight, True) == pytest.approx(expected.sum())
