"""Rows streamed from a 2-D HDF5 dataset, in chunks read ahead, never loaded whole.

An ``h5py.Dataset`` is read in chunks of about 64 MB, each into one of two
reused buffers, the next chunk read in a thread while the current one is
computed (``reading.fetched_ahead``): fitting and predicting need about two
chunks of memory beyond the model, whatever the file's size. A dataset stored
whole and unfiltered (h5py's default) is read in place instead, its chunks
views of the mapped file (``mapping``): no copy from the page cache. Full
passes read the chunks in order, with the fused kernel; mini-batches visit
them in shuffled order, shuffling the rows within each (by the compiled epoch,
``_kernels_epoch``, or ``batches.block_batches``).
Early stopping holds out whole chunks: the rows of a part of the file's chunks
(:meth:`HDF5Rows.take`) are read as the file's, chunk by chunk.
"""

import bisect
import contextlib
import copy

import numpy as np

from .._namespace import namespace_of
from ._base import Rows, computed_dtype
from .batches import block_batches, visiting_order
from .fused import FusedPass
from .mapping import mapped_dataset
from .reading import fetched_ahead

_CHUNK_BYTES = 64 << 20


class HDF5Rows(FusedPass, Rows):
    """A 2-D HDF5 dataset of numbers, read in row chunks.

    float32 data is read as float32, anything else as float64. Each row is
    checked for NaN and infinity the first time it is read.

    Parameters
    ----------
    dataset : h5py.Dataset
        Two dimensions (samples, features), a numeric dtype; it must stay open
        while it is used.
    chunk_bytes : int, default=None
        About how many bytes one chunk holds; default 64 MB.
    read_ahead : bool, default=True
        Read the next chunk in a thread while the current one is computed
        (two buffers); False reads each when it is needed (one buffer). The
        results are the same.

    Attributes
    ----------
    segments : tuple of (int, int)
        The ``(start, stop)`` of the file's rows these rows are, in order: the
        whole file, or the runs of the chunks :meth:`take` kept. The rows are
        numbered from 0 along them (their targets, weights and predictions).
    """

    kernels = ("auto", "fused")
    kernel_error = "Data streamed from a file needs the fused kernel."
    take_error = (
        "Cross-validation needs X in memory (its folds are row subsets); pass "
        "dataset[()] instead of the h5py.Dataset, or fit "
        "GradientDescentLogisticRegression, which streams it."
    )
    blocks_fix = "pass dataset[()] (the rows in memory) if they fit."
    #: One model's rows (a file's are never weighted per model), read as
    #: C-ordered float chunks.
    compiled_epochs = True

    def __init__(self, dataset, chunk_bytes=None, read_ahead=True):
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
        self.read_ahead = read_ahead
        self.segments = ((0, self.shape[0]),)
        # Shared by the bound copies: each row is checked once.
        self._checked = _Spans()

    def spans(self, multiple=1):
        """The ``(start, stop)`` of each chunk, in order.

        Parameters
        ----------
        multiple : int, default=1
            Every chunk but the last of each segment has a multiple of this
            many rows (at least one multiple, whatever ``chunk_bytes``).
        """
        return [(start, stop) for start, stop, _ in self._pieces(multiple)]

    def _pieces(self, multiple):
        """``(start, stop, file_start)`` of each chunk: its rows here, and
        where they begin in the file. Each segment is cut from its start."""
        size = self._chunk_rows(multiple)
        pieces, start = [], 0
        for first, last in self.segments:
            for file_start in range(first, last, size):
                stop = start + min(last, file_start + size) - file_start
                pieces.append((start, stop, file_start))
                start = stop
        return pieces

    def _chunk_rows(self, multiple=1):
        """Rows per chunk: a multiple of ``multiple`` within ``chunk_bytes``
        (at least one multiple)."""
        row_bytes = self.n_features * self.dtype.itemsize
        return max(1, self.chunk_bytes // row_bytes // multiple) * multiple

    @property
    def blocks_name(self):
        size = self._chunk_rows()
        return (
            f"chunks of the file ({size:,} rows each, the {self.chunk_bytes:,} "
            "bytes it is read in at a time)"
        )

    def block_spans(self):
        """The file's chunks of :meth:`spans`: those early stopping holds out."""
        return self.spans()

    def take_blocks(self, blocks):
        """The rows of the chunks at index ``blocks``, still in the file: read
        as its chunks, the runs of adjacent chunks as one."""
        pieces, segments = self._pieces(1), []
        for start, stop, file_start in (pieces[index] for index in blocks):
            file_stop = file_start + stop - start
            if segments and segments[-1][1] == file_start:
                segments[-1] = (segments[-1][0], file_stop)
            else:
                segments.append((file_start, file_stop))
        taken = copy.copy(self)  # the rows checked are shared
        taken.segments = tuple(segments)
        taken.shape = (sum(stop - start for start, stop in segments), self.n_features)
        return taken

    def chunks(self, multiple=1, order=None):
        """Yield ``(start, rows)``; ``rows`` is a reused buffer: copy to keep.

        The next chunk is read in a thread while the caller computes on the
        current one (``read_ahead``); the values and their order are those of
        a sequential read. A dataset stored whole and unfiltered is read in
        place (``mapping``): its chunks are views of the mapped file, each
        released when the next-but-one is fetched. Close the generator
        (``contextlib.closing``) to stop early: the read in flight is waited
        for.

        Parameters
        ----------
        multiple : int, default=1
            Every chunk but the last has a multiple of this many rows.
        order : sequence of int, default=None
            The chunks' indices in :meth:`spans`, in the order to read them;
            default all, in order.
        """
        pieces = self._pieces(multiple)
        if order is not None:
            pieces = [pieces[index] for index in order]
        size = max(stop - start for start, stop, _ in pieces)
        reader = _Reader(self, size)
        try:
            yield from fetched_ahead(reader.read, pieces, self.read_ahead)
        finally:
            reader.release()

    def row_chunks(self, size):
        """The file's chunks (of the buffer's size, whatever ``size``)."""
        return self.chunks()

    def fused_chunks(self, multiple):
        return self.chunks(multiple)

    def mini_batches(self, batch_size, random_state=None):
        """The batches of one pass: chunks of a multiple of ``batch_size``
        rows in shuffled order, each chunk's rows shuffled and cut into
        batches (see :meth:`Rows.mini_batches`); with ``random_state`` None,
        the rows in order, batches as in memory."""
        chunks = self._shuffled_chunks(batch_size, random_state)
        with contextlib.closing(chunks):
            yield from block_batches(self, chunks, batch_size, random_state)

    def epoch_blocks(self, batch_size, random_state=None):
        """The chunks of :meth:`mini_batches`, each with its rows' order (see
        :meth:`Rows.epoch_blocks`)."""
        chunks = self._shuffled_chunks(batch_size, random_state)
        with contextlib.closing(chunks):
            for start, rows in chunks:
                yield start, rows, visiting_order(len(rows), random_state)

    def _shuffled_chunks(self, batch_size, random_state):
        """The chunks of one pass, in shuffled order (in order with None)."""
        order = visiting_order(len(self.spans(batch_size)), random_state)
        return self.chunks(batch_size, order)

    def map_raw(self, function, coef, intercept, n_columns, dtype=None):
        """``function`` on the raw predictions of each chunk, into one NumPy
        array (the file is never loaded whole)."""
        n_samples = self.shape[0]
        shape = (n_samples,) if n_columns is None else (n_samples, n_columns)
        results = np.empty(shape, self.raw_dtype(coef) if dtype is None else dtype)
        with contextlib.closing(self.chunks()) as chunks:
            for start, rows in chunks:
                raw = self.raw_block(rows, coef, intercept)
                results[start : start + len(rows)] = function(raw, self.xp)
        return results


class _Reader:
    """The reads of one :meth:`HDF5Rows.chunks`: into two reused buffers, or
    as mappings of the file (each released after use)."""

    def __init__(self, rows, size):
        self.rows, self.size = rows, size
        self.mapping = mapped_dataset(rows.dataset, rows.dtype)
        self.buffers, self.held = {}, {}

    def read(self, piece, slot):
        """The chunk ``piece`` (``(start, stop, file_start)``) into ``slot``,
        its rows checked the first time they are read."""
        start, stop, file_start = piece
        file_stop = file_start + stop - start
        rows = self._fetch(file_start, file_stop, slot)
        checked = self.rows._checked
        if not checked.cover(file_start, file_stop):
            _check_finite(rows, file_start, self.rows.dataset.name)
            checked.add(file_start, file_stop)
        return start, rows

    def _fetch(self, file_start, file_stop, slot):
        if self.mapping is not None:
            if slot in self.held:  # that chunk is used: its pages can go
                self.held.pop(slot).release()
            self.held[slot] = chunk = self.mapping.rows(file_start, file_stop)
            return chunk.array
        if slot not in self.buffers:
            self.buffers[slot] = np.empty(
                (self.size, self.rows.n_features), self.rows.dtype
            )
        rows = self.buffers[slot][: file_stop - file_start]
        self.rows.dataset.read_direct(
            rows, np.s_[file_start:file_stop], np.s_[0 : file_stop - file_start]
        )
        return rows

    def release(self):
        """The chunks of the mapped file still held, released."""
        for chunk in self.held.values():
            chunk.release()
        self.held.clear()


class _Spans:
    """A union of row ranges ``[start, stop)``: the rows checked so far."""

    def __init__(self):
        self.starts, self.stops = [], []

    def cover(self, start, stop):
        """Whether ``[start, stop)`` is within the union."""
        index = bisect.bisect_right(self.starts, start) - 1
        return index >= 0 and self.stops[index] >= stop

    def add(self, start, stop):
        """Add ``[start, stop)``, merging the ranges it touches."""
        first = bisect.bisect_left(self.stops, start)
        last = bisect.bisect_right(self.starts, stop)
        if first < last:
            start = min(start, self.starts[first])
            stop = max(stop, self.stops[last - 1])
        self.starts[first:last] = [start]
        self.stops[first:last] = [stop]


def _check_finite(rows, start, name):
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        row = start + int(np.argmin(finite))
        raise ValueError(
            f"The HDF5 dataset {name!r} contains NaN or infinity (first at row "
            f"{row}). Remove or impute those values first."
        )
