"""Rows of X in chunks: from memory, or streamed from an HDF5 dataset.

A 2-D ``h5py.Dataset`` is never loaded whole: :class:`DatasetRows` reads it in
chunks of about 64 MB into one reused buffer, so that fitting and predicting need
about one chunk of memory beyond the model, whatever the file's size.
"""

import h5py
import numpy as np

_CHUNK_BYTES = 64 << 20


class DatasetRows:
    """A 2-D HDF5 dataset of numbers, read in row chunks.

    float32 data is read as float32, anything else as float64. Each chunk is
    checked for NaN and infinity the first time it is read.

    Parameters
    ----------
    dataset : h5py.Dataset
        Two dimensions (samples, features), a numeric dtype; it must stay open
        while it is used.
    chunk_bytes : int, default=None
        About how many bytes one chunk holds; default 64 MB.
    """

    def __init__(self, dataset, chunk_bytes=None):
        if dataset.ndim != 2:
            raise ValueError(
                f"The HDF5 dataset {dataset.name!r} has shape {dataset.shape}; it "
                "needs 2 dimensions (samples, features). Flatten it first, or load "
                "it into memory and use ImageFlattener."
            )
        if dataset.dtype.kind not in "fiub":
            raise ValueError(
                f"The HDF5 dataset {dataset.name!r} holds {dataset.dtype}; it "
                "needs numbers."
            )
        if 0 in dataset.shape:
            raise ValueError(
                f"The HDF5 dataset {dataset.name!r} has shape {dataset.shape}; it "
                "needs at least one sample and one feature."
            )
        self.dataset = dataset
        self.shape = dataset.shape
        self.dtype = computed_dtype(dataset.dtype)
        self.chunk_bytes = _CHUNK_BYTES if chunk_bytes is None else chunk_bytes
        self._checked_rows = 0

    def chunks(self, multiple=1):
        """Yield ``(start, rows)``; ``rows`` is a reused buffer: copy to keep.

        Parameters
        ----------
        multiple : int, default=1
            Every chunk but the last has a multiple of this many rows.
        """
        n_samples, n_features = self.shape
        row_bytes = n_features * self.dtype.itemsize
        size = max(1, self.chunk_bytes // row_bytes // multiple) * multiple
        buffer = np.empty((min(size, n_samples), n_features), self.dtype)
        for start in range(0, n_samples, size):
            stop = min(n_samples, start + size)
            rows = buffer[: stop - start]
            self.dataset.read_direct(rows, np.s_[start:stop], np.s_[0 : stop - start])
            if stop > self._checked_rows:
                _check_finite(rows, start, self.dataset.name)
                self._checked_rows = stop
            yield start, rows


def _check_finite(rows, start, name):
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        row = start + int(np.argmin(finite))
        raise ValueError(
            f"The HDF5 dataset {name!r} contains NaN or infinity (first at row "
            f"{row}). Remove or impute those values first."
        )


def computed_dtype(dtype):
    """The dtype data of ``dtype`` is computed in: float32 stays, else float64."""
    return np.dtype(np.float32 if dtype == np.float32 else np.float64)


def as_rows(X):
    """``X`` itself, or a :class:`DatasetRows` for an ``h5py.Dataset``."""
    return DatasetRows(X) if isinstance(X, h5py.Dataset) else X


def row_chunks(X, rows=8192):
    """Yield ``(start, chunk)`` of ``X`` (array, sparse matrix or DatasetRows)."""
    if isinstance(X, DatasetRows):
        yield from X.chunks()
        return
    n_samples = X.shape[0]
    for start in range(0, n_samples, rows):
        yield start, X[start : min(start + rows, n_samples), :]
