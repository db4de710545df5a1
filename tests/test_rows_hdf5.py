"""Fitting and predicting from an h5py.Dataset, streamed in chunks."""

import tracemalloc

import h5py
import numpy as np
import pytest

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
    _rows,
)
from sklearn_gdlogreg._rows import hdf5
from sklearn_gdlogreg._rows.fused import DeferredFusedRows
from sklearn_gdlogreg.datasets import load_h5


@pytest.fixture
def small_chunks(monkeypatch):
    # Many chunks from a small file, and the fused pass for small arrays too,
    # so that the streamed and in-memory fits take the same path.
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 20_000)
    monkeypatch.setattr(_rows, "_FUSED_MIN_BYTES", 0)
    monkeypatch.setattr(DeferredFusedRows, "numpy_bytes", 0)


def write(tmp_path, X, name="X"):
    path = tmp_path / "data.h5"
    with h5py.File(path, "a") as file:
        file[name] = X
    return path


@pytest.mark.parametrize(
    ("n_classes", "dtype", "learning_rate"),
    [(2, np.float64, "auto"), (3, np.float32, 0.3), (2, np.float64, 0.5)],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_dataset_fit_equals_in_memory_fit(
    tmp_path, small_chunks, n_classes, dtype, learning_rate, weighted
):
    rng = np.random.RandomState(n_classes)
    X = rng.standard_normal((3000, 12)).astype(dtype)
    y = rng.randint(n_classes, size=3000)
    weight = rng.uniform(0.5, 2, 3000) if weighted else None
    model = GradientDescentLogisticRegression(
        learning_rate=learning_rate, max_iter=40, tol=0, C=10.0
    )
    expected = model.fit(X, y, sample_weight=weight)
    expected_coef, expected_proba = expected.coef_, expected.predict_proba(X)
    with h5py.File(write(tmp_path, X), "r") as file:
        streamed = GradientDescentLogisticRegression(**model.get_params())
        streamed.fit(file["X"], y, sample_weight=weight)
        proba = streamed.predict_proba(file["X"])
        assert streamed.score(file["X"], y) == pytest.approx(expected.score(X, y))
    assert streamed.n_features_in_ == 12 and streamed.coef_.dtype == dtype
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(streamed.coef_, expected_coef, rtol=rtol)
    np.testing.assert_allclose(streamed.intercept_, expected.intercept_, rtol=rtol)
    np.testing.assert_allclose(streamed.loss_curve_, expected.loss_curve_, rtol=rtol)
    np.testing.assert_allclose(proba, expected_proba, rtol=rtol, atol=1e-7)


def test_streamed_fit_holds_one_chunk_not_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 200_000)
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40_000, 50))  # 16 MB
    y = (X[:, 0] > 0).astype(int)
    with h5py.File(write(tmp_path, X), "r") as file:
        del X
        tracemalloc.start()
        try:
            GradientDescentLogisticRegression(max_iter=3, tol=0).fit(file["X"], y)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 4e6  # a few chunks and buffers, far from the file's 16 MB


def test_dataset_errors_name_the_problem(tmp_path):
    path = write(tmp_path, np.zeros((4, 3, 2)), "images")
    bad = np.ones((50, 3))
    bad[37, 1] = np.nan
    with h5py.File(path, "a") as file:
        file["bad"] = bad
    y = np.arange(50) % 2
    with h5py.File(path, "r") as file:
        model = GradientDescentLogisticRegression(max_iter=5)
        with pytest.raises(ValueError, match="needs 2 dimensions"):
            model.fit(file["images"], y[:4])
        with pytest.raises(ValueError, match="NaN or infinity.*row 37"):
            model.fit(file["bad"], y)
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            model.fit(file["bad"], y[:10])
        with pytest.raises(ValueError, match="needs X in memory"):
            GradientDescentLogisticRegressionCV().fit(file["bad"], y)
        fitted = model.fit(np.ones((50, 2)), y)
        with pytest.raises(ValueError, match="features"):
            fitted.predict(file["bad"])


def test_load_h5_hands_out_the_open_dataset(tmp_path):
    path = write(tmp_path, np.arange(20.0).reshape(10, 2), "train_set_x")
    with h5py.File(path, "a") as file:
        file["train_set_y"] = np.arange(10) % 2
    data = load_h5(path, in_memory=False)
    assert isinstance(data.images, h5py.Dataset) and data.images.shape == (10, 2)
    model = GradientDescentLogisticRegression(max_iter=5, tol=0)
    assert model.fit(data.images, data.target).predict(data.images).shape == (10,)
    data.images.file.close()


def test_streamed_predictions_hold_one_chunk_not_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 200_000)
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40_000, 50))  # 16 MB
    y = (X[:, 0] > 0).astype(int)
    model = GradientDescentLogisticRegression(max_iter=3, tol=0).fit(X[:500], y[:500])
    expected = model.predict_proba(X)
    with h5py.File(write(tmp_path, X), "r") as file:
        del X
        tracemalloc.start()
        try:
            proba = model.predict_proba(file["X"])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # Chunk by chunk as in memory, to the last bit with NumPy 2 (NumPy 1.24's
    # products of a chunk and of the whole differ by an ulp).
    np.testing.assert_allclose(proba, expected, rtol=1e-14, atol=1e-16)
    assert peak < 2e6  # the result (640 kB) and a chunk or two, not 16 MB


def test_streamed_rows_cannot_be_subset_for_cross_validation(tmp_path):
    with h5py.File(write(tmp_path, np.ones((10, 2))), "r") as file:
        rows = _rows.make_rows(file["X"])
        with pytest.raises(ValueError, match="needs X in memory.*dataset\\[\\(\\)\\]"):
            rows.take(np.arange(5))
