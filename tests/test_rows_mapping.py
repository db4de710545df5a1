"""A contiguous HDF5 dataset read in place: chunks as mappings of the file, released."""

import io
import mmap

import h5py
import numpy as np
import pytest

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    MiniBatchLogisticRegression,
)
from sklearn_gdlogreg._rows import hdf5
from sklearn_gdlogreg._rows.mapping import MappedChunk, MappedDataset, mapped_dataset


def data(n_samples=600, n_features=6, dtype=np.float64, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    return X, (X[:, 0] + rng.logistic(size=n_samples) > 0).astype(int)


def write(path, X, **options):
    with h5py.File(path, "w", **options.pop("file", {})) as file:
        file.create_dataset("X", data=X, **options)
    return path


def test_a_contiguous_dataset_is_mapped_to_its_values(tmp_path):
    X, _ = data(dtype=np.float32)
    with h5py.File(write(tmp_path / "a.h5", X), "r") as file:
        mapping = mapped_dataset(file["X"], np.dtype(np.float32))
        assert mapping is not None
        np.testing.assert_array_equal(mapping.rows(0, len(X)).array, X)
        chunk = mapping.rows(10, 20)
        np.testing.assert_array_equal(chunk.array, X[10:20])
        assert chunk.array.flags.writeable  # as a buffer: one kernel variant
        # A mapping of the chunk's pages only, not of the file.
        assert len(chunk._whole) < 10 * 6 * 4 + mmap.ALLOCATIONGRANULARITY


def test_a_user_block_before_the_data_is_mapped_to_the_values(tmp_path):
    X, _ = data()
    path = write(tmp_path / "a.h5", X, file={"userblock_size": 4096})
    with h5py.File(path, "r") as file:
        mapping = mapped_dataset(file["X"], np.dtype(np.float64))
        assert mapping is not None  # HDF5's offset counts the user block
        np.testing.assert_array_equal(mapping.rows(0, len(X)).array, X)


@pytest.mark.parametrize(
    ("options", "dtype", "why"),
    [
        ({"chunks": (100, 6)}, np.float64, "chunked storage"),
        ({"compression": "gzip"}, np.float64, "compressed"),
        ({"dtype": ">f8"}, np.float64, "another byte order"),
        ({"dtype": np.int32}, np.float64, "another dtype than the rows'"),
        ({}, np.float32, "float64 rows computed as float32"),
    ],
)
def test_datasets_not_stored_as_the_rows_are_not_mapped(tmp_path, options, dtype, why):
    X, _ = data()
    with h5py.File(write(tmp_path / "a.h5", X, **options), "r") as file:
        assert mapped_dataset(file["X"], np.dtype(dtype)) is None, why


def test_a_file_in_memory_is_not_mapped():
    X, _ = data()
    with h5py.File(io.BytesIO(), "w") as file:
        file["X"] = X
        assert mapped_dataset(file["X"], np.dtype(np.float64)) is None


@pytest.fixture
def releases(monkeypatch):
    """The ``(start, stop)`` of each release of a chunk of a mapped file, and
    the chunks held (mapped, not yet released) at most at any time."""
    log = {"released": [], "held": {}, "most": 0}
    rows, release = MappedDataset.rows, MappedChunk.release

    def mapped_rows(self, start, stop):
        chunk = rows(self, start, stop)
        log["held"][id(chunk)] = (start, stop)
        log["most"] = max(log["most"], len(log["held"]))
        return chunk

    def released(self):
        log["released"].append(log["held"].pop(id(self)))
        return release(self)

    monkeypatch.setattr(MappedDataset, "rows", mapped_rows)
    monkeypatch.setattr(MappedChunk, "release", released)
    return log


def test_a_pass_holds_two_chunks_at_most_and_releases_every_one(tmp_path, releases):
    X, _ = data(1000, 5)
    with h5py.File(write(tmp_path / "a.h5", X), "r") as file:
        rows = hdf5.HDF5Rows(file["X"], chunk_bytes=8 * 5 * 100)  # 10 chunks
        seen = [(start, chunk.copy()) for start, chunk in rows.chunks()]
        np.testing.assert_array_equal(np.concatenate([c for _, c in seen]), X)
        assert releases["most"] == 2 and not releases["held"]
        assert sorted(releases["released"]) == rows.spans()
        # Stopped early: what was fetched is released too.
        chunks = rows.chunks()
        next(chunks)
        chunks.close()
        assert not releases["held"]


def test_a_view_kept_after_its_release_still_reads_the_file(tmp_path):
    X, _ = data(1000, 5)
    with h5py.File(write(tmp_path / "a.h5", X), "r") as file:
        rows = hdf5.HDF5Rows(file["X"], chunk_bytes=8 * 5 * 100)
        kept = [chunk for _, chunk in rows.chunks()]  # views, not copies
    np.testing.assert_array_equal(np.concatenate(kept), X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "make",
    [
        lambda: GradientDescentLogisticRegression(max_iter=20, tol=0),
        lambda: MiniBatchLogisticRegression(
            batch_size=32, max_iter=3, tol=None, random_state=0
        ),  # fmt: skip
    ],
    ids=["full batch", "mini-batch"],
)
def test_fits_of_a_mapped_dataset_equal_those_read_into_buffers(
    tmp_path, monkeypatch, releases, dtype, make
):
    from sklearn_gdlogreg._solvers import epochs

    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 4000)
    monkeypatch.setattr(epochs, "PYTHON_UPDATES", 0)  # the compiled epoch
    X, y = data(3000, 8, dtype)
    models = []
    for name, options in (("mapped", {}), ("buffered", {"chunks": (250, 8)})):
        with h5py.File(write(tmp_path / f"{name}.h5", X, **options), "r") as file:
            model = make().fit(file["X"], y)
            models.append((model, model.predict_proba(file["X"])))
    assert releases["released"]  # the first one was mapped
    (mapped_model, mapped_proba), (buffered, buffered_proba) = models
    np.testing.assert_array_equal(mapped_model.coef_, buffered.coef_)
    np.testing.assert_array_equal(mapped_model.intercept_, buffered.intercept_)
    np.testing.assert_array_equal(mapped_proba, buffered_proba)


def test_rows_written_into_an_open_file_are_mapped_as_written(tmp_path):
    # Rows written one at a time stay in HDF5's caches until the file is
    # flushed: a fit in the writing process reads them, not the file's bytes.
    X, y = data(2000, 5)
    expected = GradientDescentLogisticRegression(max_iter=5, tol=0).fit(X, y)
    with h5py.File(tmp_path / "a.h5", "w") as file:
        dataset = file.create_dataset("X", X.shape, dtype=np.float64)
        for index, row in enumerate(X):
            dataset[index] = row
        assert mapped_dataset(dataset, np.dtype(np.float64)) is not None
        model = GradientDescentLogisticRegression(max_iter=5, tol=0).fit(dataset, y)
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-10)


def test_a_dataset_never_written_is_not_mapped(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as file:
        dataset = file.create_dataset("X", (100, 3), dtype=np.float64)
        assert mapped_dataset(dataset, np.dtype(np.float64)) is None


def test_a_descent_diverging_mid_pass_stops_reading_and_releases_the_file(
    tmp_path, monkeypatch, releases
):
    # The compiled epoch over the file's chunks stops at the first batch whose
    # objective is not finite: the pass's chunks are closed and let go, and
    # the error names the epoch, as the Python epochs' does.
    from sklearn_gdlogreg._solvers import epochs

    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 8 * 5 * 200)  # 15 chunks
    X, y = data(3000, 5)
    params = dict(solver="sgd", momentum=0.0, learning_rate=1e300, batch_size=20,
                  max_iter=3, tol=None, random_state=0)  # fmt: skip
    with h5py.File(write(tmp_path / "a.h5", 1e5 * X), "r") as file:
        messages = []
        for updates in (10**9, 0):  # Python epochs, then compiled ones
            monkeypatch.setattr(epochs, "PYTHON_UPDATES", updates)
            released = len(releases["released"])
            with pytest.raises(ValueError, match="diverged") as error:
                MiniBatchLogisticRegression(**params).fit(file["X"], y)
            messages.append(str(error.value))
            assert not releases["held"]
            # The start's objective reads the 15 chunks; the pass, fewer.
            assert len(releases["released"]) - released < 2 * 15
    assert messages[0] == messages[1] and "in epoch 1" in messages[0]
