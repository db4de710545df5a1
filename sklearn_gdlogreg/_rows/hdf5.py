"""Rows streamed from a 2-D HDF5 dataset, in chunks, never loaded whole.

An ``h5py.Dataset`` is read in chunks of about 64 MB into one reused buffer, so
that fitting and predicting need about one chunk of memory beyond the model,
whatever the file's size. Training reads it with the fused kernel.
"""

import numpy as np

from .._namespace import namespace_of
from ._base import Rows, computed_dtype
from .fused import FusedPass

_CHUNK_BYTES = 64 << 20


class HDF5Rows(FusedPass, Rows):
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

    kernels = ("auto", "fused")
    kernel_error = "Data streamed from a file needs the fused kernel."
    take_error = (
        "Cross-validation needs X in memory (its folds are row subsets); pass "
        "dataset[()] instead of the h5py.Dataset, or fit "
        "GradientDescentLogisticRegression, which streams it."
    )

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
        self.X = self.dataset = dataset
        self.shape = dataset.shape
        self.n_features = dataset.shape[1]
        self.dtype = computed_dtype(dataset.dtype)
        self.xp, self.device = namespace_of(dataset)  # NumPy's
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

    def row_chunks(self, size):
        """The file's chunks (of the buffer's size, whatever ``size``)."""
        return self.chunks()

    def fused_chunks(self, multiple):
        return self.chunks(multiple)

    def map_raw(self, function, coef, intercept, n_columns, dtype=None):
        """``function`` on the raw predictions of each chunk, into one NumPy
        array (the file is never loaded whole)."""
        n_samples = self.shape[0]
        shape = (n_samples,) if n_columns is None else (n_samples, n_columns)
        results = np.empty(shape, self.raw_dtype(coef) if dtype is None else dtype)
        for start, rows in self.chunks():
            raw = self.raw_block(rows, coef, intercept)
            results[start : start + len(rows)] = function(raw, self.xp)
        return results


def _check_finite(rows, start, name):
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        row = start + int(np.argmin(finite))
        raise ValueError(
            f"The HDF5 dataset {name!r} contains NaN or infinity (first at row "
            f"{row}). Remove or impute those values first."
        )
