"""Reading ahead: the next piece of a stream fetched in a thread while one is used.

A streamed file is read chunk by chunk, each chunk used (a pass of the fused
kernel, a chunk's mini-batches) before the next is needed. :func:`fetched_ahead`
overlaps the two: while the caller computes on chunk ``i``, a thread reads
chunk ``i + 1`` into the other of two reused buffers. h5py releases the GIL
while HDF5 reads (``H5Dread`` is called ``nogil`` since h5py 3.0), so the read
runs beside the computation, which releases it too (the kernel, NumPy).

The values are those of a sequential read, in the same order: results do not
change, only when the reads happen. Each fetch runs in a thread of its own,
joined before the next starts, so that at most one read is in flight, an
error in it is raised in the caller (at the chunk where a sequential read
would raise it), and no thread outlives its read: closing the generator (or
an exception in the caller, with ``contextlib.closing``) waits for the read
in flight, and a generator dropped without closing leaves a thread that ends
with its read.
"""

import threading

__all__ = ["fetched_ahead"]


def fetched_ahead(fetch, items, ahead=True):
    """Yield ``fetch(item, slot)`` for each of ``items``, the next one fetched
    in a thread while the current one is used.

    Parameters
    ----------
    fetch : callable
        ``fetch(item, slot)`` returns the value of ``item``; ``slot`` (0 or
        1, alternating) names the buffer it may fill. A value is used until
        the caller asks for the next one; its slot is then filled again for
        the item after that.
    items : sequence
    ahead : bool, default=True
        False: fetch each item when it is asked for, in the caller's thread
        (slot 0 always). With fewer than two items there is nothing to
        overlap, and no thread.

    Yields
    ------
    value
        ``fetch(item, slot)``, in the order of ``items``.
    """
    items = list(items)
    if not ahead or len(items) < 2:
        for item in items:
            yield fetch(item, 0)
        return
    value = fetch(items[0], 0)
    pending = None
    try:
        for index in range(len(items)):
            if pending is not None:
                value = pending.result()
                pending = None
            if index + 1 < len(items):
                pending = _Fetch(fetch, items[index + 1], (index + 1) % 2)
            yield value
    finally:
        if pending is not None:  # closed early: wait for the read in flight
            pending.join()


class _Fetch(threading.Thread):
    """One fetch in a thread of its own, started at once; :meth:`result`
    joins it and returns its value or raises its error."""

    def __init__(self, fetch, item, slot):
        super().__init__(name="sklearn_gdlogreg-read-ahead", daemon=True)
        self._call = (fetch, item, slot)
        self._value = self._error = None
        self.start()

    def run(self):
        fetch, item, slot = self._call
        try:
            self._value = fetch(item, slot)
        except BaseException as error:  # raised again in the caller
            self._error = error

    def result(self):
        self.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        return self._value
