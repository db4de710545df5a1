"""Dense C-ordered rows in memory: one read of X per evaluation, compiled.

Each row's raw predictions, loss, residual and gradient share are computed
while the row is in cache, by the numba kernel of ``_kernels`` (imported when
first used). :class:`FusedPass` is that evaluation over any chunks of rows:
the streamed file's rows (``hdf5``) use it too.

The kernel is compiled on its first call on a machine (about 3 s, then
cached on disk), where reading X twice for a short fit costs milliseconds. So
the rows ``make_rows`` chooses by itself (:class:`DeferredFusedRows`) leave a
descent's first :data:`NUMPY_FIRST_BYTES` of reading to NumPy's two passes: a
short fit never compiles (nor imports numba), a longer one reads the rest
with the kernel. The switch depends only on X's size and the number of
evaluations, never on whether the kernel is compiled, so that a fit's result
is the same in every process.
"""

import contextlib

import numpy as np

from ._base import InMemoryRows
from .numpy import NumpyRows

#: How much of X a descent reads by NumPy's two passes before the fused kernel
#: takes over (kernel "auto"). Measured on 2 cores: the kernel's compilation
#: costs about 3 s, once per machine and dtype; a GB read by NumPy's passes
#: 0.18-0.24 s, by the kernel 0.06-0.10 s. So a fit that reads less than a GB
#: (40,000 x 30 float64: about 110 evaluations) never compiles, and a longer
#: one, once the kernel is cached, loses at most 0.2 s.
NUMPY_FIRST_BYTES = 1 << 30


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
        # Closed at once if the kernel raises: a streamed file's read in
        # flight is waited for.
        blocks = self.fused_chunks(sums.rows_per_block)
        with contextlib.closing(blocks) as chunks:
            for start, rows in chunks:
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

    Attributes
    ----------
    numpy_bytes : int
        How much of X the evaluations of rows bound once read by NumPy's two
        passes (:class:`~sklearn_gdlogreg._rows.numpy.NumpyRows`) before the
        fused kernel: none here (``kernel="fused"``).
    """

    kernels = ("auto", "fused")
    numpy_bytes = 0

    def __init__(self, X):
        super().__init__(X)
        self.dense = X

    def fused_chunks(self, multiple):
        yield 0, self.X

    def _bound(self):
        super()._bound()
        self._numpy_left = self.numpy_bytes // max(1, self.X.nbytes)
        if self._numpy_left:
            self._numpy = NumpyRows(self.X).bind(
                self.loss, self.target, self.sample_weight, self.fit_intercept,
                self.weight_sum, self.share,
            )  # fmt: skip

    def loss_gradient(self, params):
        if self._numpy_left:
            self._numpy_left -= 1
            return self._numpy.loss_gradient(params)
        return super().loss_gradient(params)

    def value(self, params):
        """The values of :meth:`loss_gradient`; while NumPy's evaluations are
        left, by its value alone (``X @ coef.T``, then the loss: one pass, not
        counted down), not its two passes."""
        if self._numpy_left:
            return self._numpy.value(params)
        return super().value(params)


class DeferredFusedRows(FusedRows):
    """:class:`FusedRows` as ``kernel="auto"`` chooses them: a descent's first
    :data:`NUMPY_FIRST_BYTES` of reading by NumPy's two passes, then the fused
    kernel (so that a short fit never waits for the kernel's compilation).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        C-ordered, float32 or float64, finite.
    """

    numpy_bytes = NUMPY_FIRST_BYTES
