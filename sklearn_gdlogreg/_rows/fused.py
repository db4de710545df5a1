"""Dense C-ordered rows in memory: one read of X per evaluation, compiled.

Each row's raw predictions, loss, residual and gradient share are computed
while the row is in cache, by the numba kernel of ``_kernels`` (imported when
first used). :class:`FusedPass` is that evaluation over any chunks of rows:
the streamed file's rows (``hdf5``) use it too.
"""

import numpy as np

from ._base import InMemoryRows


class FusedPass:
    """The fused kernel's evaluation over the chunks a kind of rows yields.

    A mixin for bound rows whose :meth:`fused_chunks` yields their rows.
    """

    def fused_chunks(self, multiple):
        """Yield ``(start, block)`` of dense C-ordered rows, every block but
        the last a multiple of ``multiple`` rows (the kernel's blocks)."""
        raise NotImplementedError

    def _bound(self):
        self._target = np.ascontiguousarray(self.target, self.dtype).reshape(-1)
        self._share = np.ascontiguousarray(self.share, self.dtype).reshape(-1)
        self._workspace = {}

    def running(self):
        """The context a descent over these rows runs in: BLAS on one thread.

        The kernel's threads are the parallel part; the loop's BLAS calls
        between its passes are small, and OpenBLAS threads that spin after
        each of them take the cores from the kernel (seen: a 200-iteration
        fit on the cats took 2.4 s with BLAS's default threads, 0.3 s so).
        """
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1, user_api="blas")

    def one_thread(self):
        """The kernel on the calling thread only (Dask runs one block per
        worker thread)."""
        from .._kernels import one_thread

        return one_thread()

    def loss_gradient(self, params):
        from .._kernels import FusedSums  # numba: imported only when used

        k, n_outputs, _ = params.shape
        p = self.n_features
        intercept = (
            params[..., p]
            if self.fit_intercept
            else np.zeros((k, n_outputs), params.dtype)
        )
        sums = FusedSums(
            p,
            self.dtype,
            params[..., :p].reshape(k * n_outputs, p),
            intercept.reshape(-1),
            n_outputs,
        )
        one_share = self._share.size == 1
        for start, rows in self.fused_chunks(sums.rows_per_block):
            stop = start + len(rows)
            share = self._share if one_share else self._share[start:stop]
            sums.add(rows, self._target[start:stop], share, self._workspace)
        gradient = np.empty_like(params)
        gradient[..., :p] = sums.grad.reshape(k, n_outputs, p)
        if self.fit_intercept:
            gradient[..., p] = sums.intercept_grad.reshape(k, n_outputs)
        return sums.loss, gradient


class FusedRows(FusedPass, InMemoryRows):
    """Dense C-ordered NumPy rows, read once per evaluation by the fused kernel.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        C-ordered, float32 or float64, finite.
    """

    kernels = ("auto", "fused")

    def __init__(self, X):
        super().__init__(X)
        self.dense = X

    def fused_chunks(self, multiple):
        return [(0, self.X)]
