"""Fitting and predicting from an h5py.Dataset, streamed in chunks."""

import io
import threading
import tracemalloc

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
    MiniBatchLogisticRegression,
    _rows,
    logistic_objective,
)
from sklearn_gdlogreg._kernels import block_rows
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._rows import hdf5, reading
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


# -- reading ahead -----------------------------------------------------------

READER = "sklearn_gdlogreg-read-ahead"


def reader_threads():
    return [thread for thread in threading.enumerate() if thread.name == READER]


def read_sequentially(monkeypatch):
    """Streamed rows read each chunk when it is needed, in the caller's thread."""

    def read_when_needed(fetch, items, ahead=True):
        return reading.fetched_ahead(fetch, items, ahead=False)

    monkeypatch.setattr(hdf5, "fetched_ahead", read_when_needed)


def data(n_samples, n_features, n_classes=2, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y = rng.randint(n_classes, size=n_samples)
    return X, y


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_read_ahead_gives_the_sequential_sums_to_the_bit(tmp_path, n_classes, dtype):
    # The fused pass reads chunks of whole kernel blocks (1 MB): 2 to 4 here.
    X, y = data(100_000, 5, n_classes, dtype)
    weight = np.random.RandomState(1).uniform(0.5, 2, 100_000).astype(dtype)
    loss = loss_for_classes(n_classes)
    params = np.random.RandomState(2).standard_normal((2, loss.n_outputs, 6))
    with h5py.File(write(tmp_path, X), "r") as file:
        sums = {}
        for ahead in (False, True):
            rows = hdf5.HDF5Rows(file["X"], chunk_bytes=5000, read_ahead=ahead)
            assert len(rows.spans(block_rows(5, X.itemsize))) >= 2
            bound = rows.bind(loss, loss.encode_target(y, dtype), weight, True)
            values, gradient = bound.loss_gradient(params.astype(dtype))
            sums[ahead] = (values, gradient, bound.squared_norm(exact=False))
    for expected, got in zip(sums[False], sums[True], strict=True):
        np.testing.assert_array_equal(got, expected)


def test_read_ahead_fits_and_predictions_equal_sequential_ones(
    tmp_path, small_chunks, monkeypatch
):
    X, y = data(3000, 200, 3)  # kernel blocks of 655 rows: 5 chunks
    gd = dict(max_iter=15, tol=0, l1_ratio=0.3, C=5.0)
    mini = dict(max_iter=3, tol=None, batch_size=64, random_state=0, l1_ratio=0.3)
    with h5py.File(write(tmp_path, X), "r") as file:

        def fitted():
            full = GradientDescentLogisticRegression(**gd).fit(file["X"], y)
            batches = MiniBatchLogisticRegression(**mini).fit(file["X"], y)
            return full, batches, full.predict_proba(file["X"])

        full, batches, proba = fitted()
        assert not reader_threads()
        with monkeypatch.context() as patch:
            read_sequentially(patch)
            full_0, batches_0, proba_0 = fitted()
    for model, expected in ((full, full_0), (batches, batches_0)):
        np.testing.assert_array_equal(model.coef_, expected.coef_)
        np.testing.assert_array_equal(model.intercept_, expected.intercept_)
        np.testing.assert_array_equal(model.loss_curve_, expected.loss_curve_)
    np.testing.assert_array_equal(proba, proba_0)


def test_the_next_chunk_is_read_in_a_thread_one_at_a_time(tmp_path, monkeypatch):
    X, _ = data(1000, 5)
    calls = []
    fetch = hdf5._Reader._fetch

    def recorded(reader, *args):
        calls.append((threading.current_thread().name, len(reader_threads())))
        return fetch(reader, *args)

    monkeypatch.setattr(hdf5._Reader, "_fetch", recorded)
    with h5py.File(write(tmp_path, X), "r") as file:
        rows = hdf5.HDF5Rows(file["X"], chunk_bytes=8 * 5 * 100)  # 10 chunks
        seen = [(start, chunk.copy()) for start, chunk in rows.chunks()]
    np.testing.assert_array_equal(np.concatenate([c for _, c in seen]), X)
    assert [start for start, _ in seen] == list(range(0, 1000, 100))
    # The first chunk in the caller's thread, the next ones each in a reader
    # thread of its own, never two at a time; none is left.
    assert calls[0][0] == threading.current_thread().name
    assert [name for name, _ in calls[1:]] == [READER] * 9
    assert all(alive == 1 for _, alive in calls[1:])
    assert not reader_threads()


def test_a_bad_chunk_read_ahead_raises_in_the_caller_and_leaves_no_thread(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 4000)  # 125 rows
    X, y = data(2000, 4)
    X[1234, 2] = np.inf
    with h5py.File(write(tmp_path, X), "r") as file:
        for model in (
            GradientDescentLogisticRegression(max_iter=5),
            MiniBatchLogisticRegression(max_iter=2, shuffle=False),
        ):
            with pytest.raises(ValueError, match="NaN or infinity.*row 1234"):
                model.fit(file["X"], y)
            assert not reader_threads()


def test_an_error_of_the_caller_waits_for_the_read_in_flight(tmp_path, monkeypatch):
    # Each read ahead waits for a permit: the caller finds one in flight, and
    # stops; closing the pass returns once that read is done.
    fetch, permits, done = hdf5._Reader._fetch, threading.Semaphore(0), []

    def held(reader, *args):
        if threading.current_thread().name == READER:
            assert permits.acquire(timeout=30)
            rows = fetch(reader, *args)
            done.append(1)
            return rows
        return fetch(reader, *args)

    def stop_with_a_read_in_flight():
        assert len(reader_threads()) == 1
        reads = len(done)
        threading.Timer(0.1, permits.release).start()
        return reads + 1

    monkeypatch.setattr(hdf5._Reader, "_fetch", held)
    X, y = data(100_000, 4)  # kernel blocks of 32,768 rows: 4 chunks
    loss = loss_for_classes(2)
    with h5py.File(write(tmp_path, X), "r") as file:
        rows = hdf5.HDF5Rows(file["X"], chunk_bytes=4000)
        # Closed early, by the caller.
        chunks = rows.chunks()
        next(chunks)
        reads = stop_with_a_read_in_flight()
        chunks.close()
        assert len(done) == reads and not reader_threads()
        # The kernel raising in the middle of a pass, a read in flight.
        bound = rows.bind(loss, loss.encode_target(y, np.float64), None, True)
        from sklearn_gdlogreg import _kernels

        add, calls = _kernels.FusedSums.add, []

        def failing(self, *args):
            calls.append(1)
            if len(calls) == 2:
                failing.reads = stop_with_a_read_in_flight()
                raise RuntimeError("interrupted")
            permits.release()
            return add(self, *args)

        monkeypatch.setattr(_kernels.FusedSums, "add", failing)
        with pytest.raises(RuntimeError, match="interrupted"):
            bound.loss_gradient(np.zeros((1, 1, 5)))
        assert len(done) == failing.reads and not reader_threads()


def test_a_read_only_file_is_streamed(tmp_path, small_chunks):
    X, y = data(1500, 6, 3)
    path = write(tmp_path, X)
    path.chmod(0o444)
    gd = dict(max_iter=10, tol=0)
    mini = dict(max_iter=2, tol=None, batch_size=50, shuffle=False)
    try:
        with h5py.File(path, "r") as file:
            full = GradientDescentLogisticRegression(**gd).fit(file["X"], y)
            batches = MiniBatchLogisticRegression(**mini).fit(file["X"], y)
            proba = batches.predict_proba(file["X"])
    finally:
        path.chmod(0o644)
    np.testing.assert_allclose(
        full.coef_, GradientDescentLogisticRegression(**gd).fit(X, y).coef_, rtol=1e-10
    )
    in_memory = MiniBatchLogisticRegression(**mini).fit(X, y)
    np.testing.assert_array_equal(batches.coef_, in_memory.coef_)
    np.testing.assert_array_equal(proba, in_memory.predict_proba(X))


# -- mini-batches from a file ------------------------------------------------

MINI_CONFIGS = {
    "adam": dict(solver="adam"),
    "sgd-momentum-l1": dict(solver="sgd", learning_rate=0.1, l1_ratio=0.5, C=0.2),
    "rmsprop-class-weight": dict(solver="rmsprop", class_weight={0: 2.0, 1: 0.5}),
}


@pytest.mark.parametrize("config", MINI_CONFIGS)
@pytest.mark.parametrize(("n_classes", "dtype"), [(2, np.float64), (3, np.float32)])
@pytest.mark.parametrize("weighted", [False, True])
def test_unshuffled_minibatches_of_a_file_are_those_in_memory(
    tmp_path, monkeypatch, config, n_classes, dtype, weighted
):
    # Chunks of 4 batches: the batches, cut within chunks, are the same.
    X, y = data(1000, 6, n_classes, dtype)
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", X.itemsize * 6 * 100)
    weight = np.random.RandomState(3).uniform(0, 2, 1000) if weighted else None
    params = dict(batch_size=25, shuffle=False, max_iter=3, tol=None)
    params.update(MINI_CONFIGS[config])
    expected = MiniBatchLogisticRegression(**params).fit(X, y, sample_weight=weight)
    with h5py.File(write(tmp_path, X), "r") as file:
        assert len(hdf5.HDF5Rows(file["X"]).spans(25)) == 10
        model = MiniBatchLogisticRegression(**params)
        model.fit(file["X"], y, sample_weight=weight)
    assert model.coef_.dtype == dtype
    np.testing.assert_array_equal(model.coef_, expected.coef_)
    np.testing.assert_array_equal(model.intercept_, expected.intercept_)
    np.testing.assert_array_equal(model.loss_curve_, expected.loss_curve_)
    assert model.t_ == expected.t_ == 3 * 40


def file_order(spans, random_state):
    """The rows in the order a shuffled pass over a file's chunks visits them."""
    rng = np.random.RandomState(random_state)
    visited = [spans[index] for index in rng.permutation(len(spans))]
    return np.concatenate(
        [start + rng.permutation(stop - start) for start, stop in visited]
    )


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_shuffled_pass_visits_chunks_in_shuffled_order_rows_shuffled_within(
    tmp_path, monkeypatch, n_classes
):
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 8 * 5 * 120)  # 10 chunks
    X, y = data(1200, 5, n_classes)
    weight = np.random.RandomState(4).uniform(0.5, 2, 1200)
    params = dict(batch_size=30, max_iter=1, tol=None, l1_ratio=0.2)
    with h5py.File(write(tmp_path, X), "r") as file:
        model = MiniBatchLogisticRegression(random_state=7, **params)
        model.fit(file["X"], y, sample_weight=weight)
        order = file_order(hdf5.HDF5Rows(file["X"]).spans(30), 7)
    # The same batches in memory: the rows in that order, not shuffled again.
    assert sorted(order) == list(range(1200)) and not np.array_equal(
        order, np.arange(1200)
    )
    expected = MiniBatchLogisticRegression(shuffle=False, **params).fit(
        X[order], y[order], sample_weight=weight[order]
    )
    np.testing.assert_array_equal(model.coef_, expected.coef_)
    np.testing.assert_array_equal(model.loss_curve_, expected.loss_curve_)


def test_shuffled_fit_of_a_file_reaches_the_in_memory_minimum(tmp_path, monkeypatch):
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 8 * 30 * 64)  # 9 chunks
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(
        batch_size=32, max_iter=300, tol=None, schedule="invscaling",
        learning_rate=0.05, random_state=0,
    )  # fmt: skip
    in_memory = MiniBatchLogisticRegression(**params).fit(X, y)
    with h5py.File(write(tmp_path, X), "r") as file:
        streamed = MiniBatchLogisticRegression(**params).fit(file["X"], y)
    assert not np.array_equal(streamed.coef_, in_memory.coef_)  # other batches
    np.testing.assert_allclose(streamed.coef_, in_memory.coef_, atol=0.03)
    assert logistic_objective(streamed, X, y) == pytest.approx(
        logistic_objective(in_memory, X, y), rel=1e-3
    )


def test_minibatch_fits_of_a_file_are_deterministic_whatever_the_threads(
    tmp_path, monkeypatch
):
    from threadpoolctl import threadpool_limits

    from sklearn_gdlogreg._kernels import limit_threads

    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 64_000)  # 400 rows, 10 chunks
    X, y = data(4000, 20, 3)
    params = dict(batch_size=100, max_iter=2, tol=None, random_state=3)
    with h5py.File(write(tmp_path, X), "r") as file:

        def fit(**params_changed):
            model = MiniBatchLogisticRegression(**{**params, **params_changed})
            return model.fit(file["X"], y).coef_

        reference = fit()
        np.testing.assert_array_equal(fit(), reference)
        with threadpool_limits(1), limit_threads(1):
            np.testing.assert_array_equal(fit(), reference)
        with monkeypatch.context() as patch:
            read_sequentially(patch)
            np.testing.assert_array_equal(fit(), reference)
        assert not np.array_equal(fit(random_state=4), reference)


@pytest.mark.parametrize("n_samples", [10_000, 40_000])
def test_minibatch_memory_does_not_grow_with_the_file(tmp_path, monkeypatch, n_samples):
    # 100 features: the file is 8 MB or 32 MB, chunks of 200 rows (160 kB).
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 200_000)
    X, y = data(n_samples, 100)
    path = write(tmp_path, X)
    del X
    with h5py.File(path, "r") as file:
        model = MiniBatchLogisticRegression(batch_size=200, max_iter=2, tol=None)
        tracemalloc.start()
        try:
            model.fit(file["X"], y, sample_weight=np.ones(n_samples))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    # Two chunk buffers and a batch (0.5 MB), and the labels, targets and
    # weights, 8 bytes a row each (each at most 0.32 MB): not the file's 8 or
    # 32 MB, nor a part of it growing with the file.
    assert peak < 1e6 + 6 * 8 * n_samples


@settings(max_examples=40, deadline=None)
@given(
    n_samples=st.integers(1, 120),
    n_features=st.integers(1, 4),
    chunk_rows=st.integers(1, 50),
    batch_size=st.integers(1, 40),
    seed=st.one_of(st.none(), st.integers(0, 2**31 - 1)),
)
def test_a_pass_over_a_file_visits_every_row_once_in_batches_within_chunks(
    n_samples, n_features, chunk_rows, batch_size, seed
):
    X = np.arange(n_samples * n_features, dtype=np.float64).reshape(n_samples, -1)
    with h5py.File(io.BytesIO(), "w") as file:
        file["X"] = X
        rows = hdf5.HDF5Rows(file["X"], chunk_bytes=chunk_rows * n_features * 8)
        spans = rows.spans(batch_size)
        loss = loss_for_classes(2)
        # Targets that name their rows: each batch says which rows it holds.
        bound = rows.bind(loss, np.arange(n_samples, dtype=float), None, True)

        def visited():
            random_state = None if seed is None else np.random.RandomState(seed)
            return [
                (batch.host_target.astype(int), batch.X.copy(), batch.weight_sum)
                for batch in bound.mini_batches(batch_size, random_state)
            ]

        batches = visited()
        again = visited()
    indices = np.concatenate([index for index, _, _ in batches])
    assert sorted(indices) == list(range(n_samples))
    if seed is None:
        np.testing.assert_array_equal(indices, np.arange(n_samples))
    for index, rows_x, weight_sum in batches:
        np.testing.assert_array_equal(rows_x, X[index])  # the rows it names
        assert 1 <= len(index) <= batch_size
        assert weight_sum == pytest.approx(len(index))  # n / |B| times 1 / n
        chunk = [start <= index[0] < stop for start, stop in spans].index(True)
        assert spans[chunk][0] <= index.min() and index.max() < spans[chunk][1]
    for (index, _, _), (same, _, _) in zip(batches, again, strict=True):
        np.testing.assert_array_equal(index, same)  # the same seed, the same pass


# -- early stopping ------------------------------------------------------------


@pytest.fixture
def file_reads(monkeypatch):
    """The file rows ``(start, stop)`` each read asks for, and whether early
    stopping's validation score asked (the rows are still read)."""
    from sklearn_gdlogreg import _minibatch

    reads, scoring = [], []
    fetch = hdf5._Reader._fetch
    score = _minibatch._Validation.score

    def recorded(reader, start, stop, slot):
        reads.append((start, stop, bool(scoring)))
        return fetch(reader, start, stop, slot)

    def scored(self, params):
        scoring.append(True)
        try:
            return score(self, params)
        finally:
            scoring.pop()

    monkeypatch.setattr(hdf5._Reader, "_fetch", recorded)
    monkeypatch.setattr(_minibatch._Validation, "score", scored)
    return reads


def rows_read(reads, scoring):
    """The sorted file rows of the ``reads`` made (or not) by a score."""
    return np.unique(np.concatenate([
        np.arange(start, stop) for start, stop, by_score in reads
        if by_score == scoring
    ]))  # fmt: skip


def test_early_stopping_on_a_file_scores_whole_held_out_chunks_never_trained_on(
    tmp_path, monkeypatch, file_reads
):
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 8 * 5 * 100)  # 12 chunks of 100 rows
    X, y = make_classification(n_samples=1200, n_features=5, flip_y=0.3, random_state=1)
    weight = np.random.RandomState(0).uniform(0.5, 2, 1200)
    params = dict(solver="sgd", momentum=0.0, learning_rate=2.0, batch_size=20,
                  early_stopping=True, validation_fraction=0.25,
                  n_iter_no_change=5, C=np.inf, random_state=0)  # fmt: skip
    with h5py.File(write(tmp_path, X), "r") as file:
        model = MiniBatchLogisticRegression(**params)
        model.fit(file["X"], y, sample_weight=weight)
        first_reads = list(file_reads)
        again = MiniBatchLogisticRegression(**params)
        again.fit(file["X"], y, sample_weight=weight)
    held, trained = rows_read(first_reads, True), rows_read(first_reads, False)
    # 3 whole chunks of 12 held out; the epochs (and the step's pass) read
    # the 9 others only, the scores the 3 held out only.
    chunks = np.unique(held // 100)
    assert len(chunks) == 3
    assert np.array_equal(held, (chunks[:, None] * 100 + np.arange(100)).ravel())
    assert np.intersect1d(held, trained).size == 0
    assert np.array_equal(np.union1d(held, trained), np.arange(1200))
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_[0] == len(model.loss_curve_)
    assert model.best_validation_score_ == max(scores)
    assert scores[-1] < model.best_validation_score_  # the best kept, not the last
    # The kept model's weighted accuracy on the held-out rows, read anew.
    assert model.score(X[held], y[held], sample_weight=weight[held]) == pytest.approx(
        model.best_validation_score_, rel=1e-12
    )
    # The same random_state, the same held-out chunks and the same fit.
    assert np.array_equal(rows_read(file_reads[len(first_reads) :], True), held)
    assert again.validation_scores_ == scores
    np.testing.assert_array_equal(again.coef_, model.coef_)


def test_chunks_taken_are_read_as_the_file_s_numbered_from_zero(tmp_path):
    X = np.arange(47 * 3, dtype=np.float64).reshape(47, 3)
    with h5py.File(write(tmp_path, X), "r") as file:
        rows = hdf5.HDF5Rows(file["X"], chunk_bytes=8 * 3 * 10)  # 5 chunks
        indices = np.r_[0:10, 20:40]  # chunks 0, 2 and 3: read as two runs
        taken = rows.take(indices)
        assert taken.shape == (30, 3) and taken.segments == ((0, 10), (20, 40))
        assert taken.spans() == [(0, 10), (10, 20), (20, 30)]
        for multiple in (1, 4):
            read = np.concatenate([
                chunk.copy() for _, chunk in taken.chunks(multiple)
            ])  # fmt: skip
            np.testing.assert_array_equal(read, X[indices])
        # Chunks of the chunks taken can be taken again; half a chunk cannot.
        again = taken.take(np.arange(10, 30))
        assert again.segments == ((20, 40),)
        with pytest.raises(ValueError, match="needs X in memory"):
            rows.take(np.arange(5))
