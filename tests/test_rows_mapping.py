"""A contiguous HDF5 dataset read in place: mapped, chunks as views, pages released."""

import io

import h5py
import numpy as np
import pytest

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    MiniBatchLogisticRegression,
)
from sklearn_gdlogreg._rows import hdf5
from sklearn_gdlogreg._rows.mapping import MappedDataset, mapped


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
        mapping = mapped(file["X"], np.dtype(np.float32))
        assert mapping is not None
        np.testing.assert_array_equal(mapping.array, X)
        np.testing.assert_array_equal(mapping.rows(10, 20), X[10:20])
        assert mapping.rows(0, 5).flags.writeable  # as a buffer: one kernel variant


def test_a_user_block_before_the_data_is_mapped_to_the_values(tmp_path):
    X, _ = data()
    path = write(tmp_path / "a.h5", X, file={"userblock_size": 4096})
    with h5py.File(path, "r") as file:
        mapping = mapped(file["X"], np.dtype(np.float64))
        assert mapping is not None  # HDF5's offset counts the user block
        np.testing.assert_array_equal(mapping.array, X)


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
        assert mapped(file["X"], np.dtype(dtype)) is None, why


def test_a_file_in_memory_is_not_mapped():
    X, _ = data()
    with h5py.File(io.BytesIO(), "w") as file:
        file["X"] = X
        assert mapped(file["X"], np.dtype(np.float64)) is None


@pytest.fixture
def releases(monkeypatch):
    """The ``(start, stop)`` of each release of a mapping's rows, and the
    rows held (fetched, not yet released) at most at any time."""
    log = {"released": [], "held": set(), "most": 0}
    rows, release = MappedDataset.rows, MappedDataset.release

    def fetched(self, start, stop):
        log["held"].add((start, stop))
        log["most"] = max(log["most"], len(log["held"]))
        return rows(self, start, stop)

    def released(self, start, stop):
        log["held"].discard((start, stop))
        log["released"].append((start, stop))
        return release(self, start, stop)

    monkeypatch.setattr(MappedDataset, "rows", fetched)
    monkeypatch.setattr(MappedDataset, "release", released)
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
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 4000)
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
