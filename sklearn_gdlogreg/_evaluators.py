"""Where the rows live: one evaluator per kind of data, behind one protocol.

An evaluator computes the data term of the objective of ``k`` linear models
that share ``X``: the weighted mean loss ``sum_i s_i loss(y_i, raw_i) / S``
and its gradient wrt the packed parameters, and the squared norm the step
bound needs. It knows nothing of penalties, steps or stopping (see
``_objective`` and ``_descent``). The protocol:

``loss_gradient(params) -> (values, gradient)``
    ``params`` of shape ``(k, n_outputs, n_features + fit_intercept)``, the
    intercept stored last; ``values`` of shape ``(k,)``, float64 on the host;
    ``gradient`` shaped as ``params``, in X's namespace.
``value(params) -> values``
    The same values, without the gradient (one pass over ``X`` at most).
``running() -> context manager``
    What a whole descent over these rows runs inside (thread settings).
``squared_norm(exact=True) -> float``
    ``||W^(1/2) [X, 1]||_2^2`` with ``W`` the samples' shares; with
    ``exact=False``, the cheaper upper bound of its Frobenius norm.

and the attributes ``xp``, ``device``, ``n_features``, ``dtype``. The kinds:

- :class:`NumpyRows`: NumPy or SciPy-sparse rows, two BLAS passes, lean (no
  array-API indirection): the reference the others are tested against;
- :class:`FusedRows`: dense rows in memory or streamed from an HDF5 file, one
  read of ``X`` per evaluation by the compiled kernel of ``_kernels``;
- :class:`NamespaceRows`: an array of another array-API namespace (PyTorch,
  CuPy), computed there, on its device;
- ``_dask.DaskBlocks``: the blocks of a Dask array, summed on the workers.

:func:`evaluator_for` picks one, once, when the objective is built: a new kind
of data is one new class and one line there.
"""

import contextlib

import numpy as np
from scipy.special import expit
from sklearn.utils._array_api import _matching_numpy_dtype

from ._namespace import is_numpy, model_sums, namespace_of, on_device
from ._rows import DatasetRows
from ._step_bound import squared_frobenius_norm, squared_spectral_norm

# Below this size the fused pass gains too little to be worth its compilation.
_FUSED_MIN_BYTES = 1 << 20
KERNELS = ("auto", "fused", "numpy")


def evaluator_for(loss, X, target, sample_weight, fit_intercept, *, kernel="auto",
                  weight_sum=None):  # fmt: skip
    """The evaluator for the kind of ``X``.

    Parameters
    ----------
    loss : BinaryLogLoss or MultinomialLogLoss
    X : {ndarray, sparse matrix, DatasetRows, DaskRows, array-API array}
    target : ndarray
        Encoded by ``loss.encode_target`` (NumPy).
    sample_weight : ndarray of shape (n_samples,) or None
        None means all ones.
    fit_intercept : bool
    kernel : {"auto", "fused", "numpy"}, default="auto"
        For dense in-memory NumPy data: "fused" (one pass), "numpy" (two BLAS
        passes) or "auto" (fused from 1 MB on). Streamed data is always fused.
    weight_sum : float, default=None
        The ``S`` the weights are divided by; default their sum.
    """
    from ._dask import DaskRows  # Dask is optional

    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    args = (loss, X, target, sample_weight, fit_intercept, weight_sum)
    if isinstance(X, DaskRows):
        from ._dask import DaskBlocks

        return DaskBlocks(*args)
    if isinstance(X, DatasetRows):
        if kernel == "numpy":
            raise ValueError("Data streamed from a file needs the fused kernel.")
        return FusedRows(*args)
    if not is_numpy(namespace_of(X)[0]):
        return NamespaceRows(*args)
    dense = isinstance(X, np.ndarray) and X.flags.c_contiguous
    if kernel == "fused" and not dense:
        raise ValueError("The fused kernel needs a C-ordered dense array.")
    if kernel == "fused" or (
        kernel == "auto" and dense and X.nbytes >= _FUSED_MIN_BYTES
    ):
        return FusedRows(*args)
    return NumpyRows(*args)


def weight_shares(sample_weight):
    """Each weight over the sum, and the sum, without overflow or underflow.

    Weights are divided by the largest first: weights of 1e308 sum to infinity,
    but their shares are exact (the sum, infinite, then makes the penalty's
    strength ``1 / (C S)`` zero, its limit).
    """
    weight = np.asarray(sample_weight, np.float64)
    top = float(weight.max()) if weight.size else 0.0
    if top == 0:  # a part of the rows may weigh nothing
        return np.zeros_like(weight), 0.0
    relative = weight / top
    total = float(relative.sum())
    with np.errstate(over="ignore"):
        return relative / total, top * total


class _Rows:
    """What every evaluator keeps: the data, targets and each sample's share."""

    def __init__(self, loss, X, target, sample_weight, fit_intercept, weight_sum):
        self.xp, self.device = namespace_of(X)
        self.loss = loss
        self.X = X
        dense = isinstance(X, np.ndarray) and X.flags.c_contiguous
        self.dense = X if dense else None
        self.n_features = X.shape[1]
        self.dtype = X.dtype
        self.fit_intercept = fit_intercept
        self.target = target
        self.sample_weight = sample_weight
        # Each sample's share of the mean (one value for all without weights),
        # prepared on the host in X's precision.
        dtype = X.dtype if isinstance(X.dtype, np.dtype) else _matching_numpy_dtype(X)
        if sample_weight is None:
            weight_sum = X.shape[0] if weight_sum is None else weight_sum
            share = 1 / weight_sum
        else:
            share, total = weight_shares(sample_weight)
            if weight_sum is None:
                weight_sum = total
            else:  # a part of the rows: shares of the whole data's sum
                share = share * (total / weight_sum)
        self.weight_sum = weight_sum
        self.share = self.host_share = np.asarray(share, dtype=dtype)

    def running(self):
        """The context a descent over these rows runs in (none needed)."""
        return contextlib.nullcontext()

    def squared_norm(self, exact=True):
        """``||W^(1/2) [X, 1]||_2^2``, W the samples' shares (for the step bound).

        With ``exact=False``, the Frobenius norm's square, an upper bound in
        one pass over ``X``.
        """
        weight = on_device(self.xp, np.reshape(self.host_share, -1), self.device)
        norm = squared_spectral_norm if exact else squared_frobenius_norm
        return norm(self.X, weight, self.fit_intercept)


class NumpyRows(_Rows):
    """NumPy or SciPy-sparse rows: ``X @ coef.T``, then ``residual @ X``.

    Written with NumPy's own functions and no array-API indirection, so that a
    small problem pays for arithmetic, not for Python calls: one model's raw
    predictions are one matrix-vector product.
    """

    def __init__(self, *args):
        super().__init__(*args)
        self.n_outputs = self.loss.n_outputs
        self._rows = np.arange(self.X.shape[0])
        if self.n_outputs == 1:
            self.target = np.reshape(self.target, -1)
            # float64 data sums in its own precision, without a copy.
            self._exact_sums = self.dtype == np.float64
            self._shared = self.share.ndim == 0

    def raw(self, params):
        """Raw predictions ``coef @ X.T + intercept``, shape (k, n_outputs, n)."""
        k, m, _ = params.shape
        p = self.n_features
        if k * m == 1:
            raw = self.X @ params[0, 0, :p]
        else:
            raw = params[..., :p].reshape(k * m, p) @ self.X.T
        if not isinstance(raw, np.ndarray):
            raw = np.asarray(raw)  # from a sparse product
        if self.fit_intercept:
            raw += params[..., p].reshape(-1, 1) if k * m > 1 else params[0, 0, p]
        return raw.reshape(k, m, -1)

    def value(self, params):
        raw = self.raw(params)
        if self.n_outputs == 1:
            return self._binary_mean(raw[:, 0, :], np.logaddexp(0, raw[:, 0, :]))
        return self._mean(self._multinomial(raw, gradient=False)[0])

    def loss_gradient(self, params):
        if self.n_outputs == 1 and params.shape[0] == 1:
            return self._one_binary(params)
        values, residual = self.loss_residual(params)
        k, m = params.shape[:2]
        p = self.n_features
        gradient = np.empty_like(params)
        if k * m == 1:
            flat = residual.reshape(-1)
            gradient[0, 0, :p] = flat @ self.X
            if self.fit_intercept:
                gradient[0, 0, p] = flat.sum()
            return values, gradient
        flat = residual.reshape(k * m, -1)
        product = flat @ self.X
        gradient[..., :p] = np.asarray(product).reshape(k, m, -1)
        if self.fit_intercept:
            gradient[..., p] = flat.sum(axis=1).reshape(k, m)
        return values, gradient

    def loss_residual(self, params):
        """The values and each sample's share of the gradient, ``s_i (p_i - y_i)
        / S``: shape (k, n) for two classes, (k, n_outputs, n) for more.

        The gradient is ``residual @ X`` (and its sum, for the intercept).
        """
        raw = self.raw(params)
        if self.n_outputs == 1:
            raw = raw[:, 0, :]
            values = self._binary_mean(raw, np.logaddexp(0, raw))
            residual = expit(raw)
            residual -= self.target
        else:
            per_sample, residual = self._multinomial(raw, gradient=True)
            values = self._mean(per_sample)
        residual *= self.share
        return values, residual

    def _one_binary(self, params):
        """:meth:`loss_gradient` of one binary model, in as few calls as can be."""
        p = self.n_features
        coef = params[0, 0]
        raw = np.asarray(self.X @ coef[:p])
        if self.fit_intercept:
            raw += coef[p]
        values = self._binary_mean(raw, np.logaddexp(0, raw))
        residual = expit(raw)
        residual -= self.target
        residual *= self.share
        gradient = np.empty_like(params)
        gradient[0, 0, :p] = residual @ self.X
        if self.fit_intercept:
            gradient[0, 0, p] = residual.sum()
        return np.array((values,)), gradient

    def _binary_mean(self, raw, softplus):
        """Weighted mean per model of ``softplus - target * raw``, float64.

        Per sample first: the sums of ``softplus`` and of ``target * raw`` are
        each far larger than their difference near a good fit, and would lose
        the digits a line search compares.
        """
        softplus -= self.target * raw
        if self._exact_sums:
            return (
                softplus.sum(axis=-1) * float(self.share)
                if self._shared
                else (softplus @ self.share)
            )
        return self._mean(softplus)

    def _mean(self, per_sample):
        """Weighted mean per model of (k, n) (or (n,)) per-sample losses, float64."""
        if self.share.ndim == 0:
            return np.sum(per_sample, axis=-1, dtype=np.float64) * float(self.share)
        return np.dot(per_sample.astype(np.float64, copy=False), self.share)

    def _multinomial(self, raw, gradient):
        """Per-sample loss (k, n) by log-sum-exp; softmax minus one-hot."""
        top = raw.max(axis=1, keepdims=True)
        raw -= top
        exp = np.exp(raw)
        sum_exp = exp.sum(axis=1, keepdims=True)
        per_sample = np.log(sum_exp[:, 0, :])
        per_sample -= raw[:, self.target, self._rows]
        if not gradient:
            return per_sample, None
        exp /= sum_exp
        exp[:, self.target, self._rows] -= 1
        return per_sample, exp


class NamespaceRows(_Rows):
    """An array of another array-API namespace, computed there, on its device.

    The same two passes as :class:`NumpyRows`, in the namespace's functions;
    only per-model values reach the host.
    """

    def __init__(self, *args):
        super().__init__(*args)
        xp, device = self.xp, self.device
        self.target = on_device(xp, self.target, device)
        self.share = on_device(xp, self.share, device)

    def raw(self, params):
        """Raw predictions ``coef @ X.T + intercept``, shape (k, n_outputs, n)."""
        xp = self.xp
        k, m, _ = params.shape
        p = self.n_features
        raw = xp.reshape(params[..., :p], (k * m, p)) @ self.X.T
        if self.fit_intercept:
            raw += xp.reshape(params[..., p], (-1, 1))
        return xp.reshape(raw, (k, m, -1))

    def value(self, params):
        per_sample = self.loss.loss(self.raw(params), self.target)
        return model_sums(self.xp, per_sample * self.share)

    def loss_gradient(self, params):
        xp = self.xp
        per_sample, residual = self.loss.loss_gradient(self.raw(params), self.target)
        residual *= self.share
        k, m, n = residual.shape
        flat = xp.reshape(residual, (k * m, n))
        gradient = xp.empty_like(params)
        gradient[..., : self.n_features] = xp.reshape(flat @ self.X, (k, m, -1))
        if self.fit_intercept:
            gradient[..., self.n_features] = xp.sum(residual, axis=2)
        return model_sums(xp, per_sample * self.share), gradient


class FusedRows(_Rows):
    """Dense rows in memory, or streamed from a file: one read per evaluation.

    Each row's raw predictions, loss, residual and gradient share are computed
    while the row is in cache (``_kernels``); a :class:`DatasetRows` is read
    chunk by chunk into one reused buffer.
    """

    def running(self):
        """The context a descent over these rows runs in: BLAS on one thread.

        The kernel's threads are the parallel part; the loop's BLAS calls
        between its passes are small, and OpenBLAS threads that spin after
        each of them take the cores from the kernel (seen: a 200-iteration
        fit on the cats took 2.4 s with BLAS's default threads, 0.3 s so).
        """
        from threadpoolctl import threadpool_limits

        return threadpool_limits(1, user_api="blas")

    def __init__(self, *args):
        super().__init__(*args)
        self._target = np.ascontiguousarray(self.target, self.dtype).reshape(-1)
        self._share = np.ascontiguousarray(self.share, self.dtype).reshape(-1)
        self._workspace = {}

    def value(self, params):
        return self.loss_gradient(params)[0]  # the same one read of X

    def loss_gradient(self, params):
        from ._kernels import FusedSums  # numba: imported only when used

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
        X = self.X
        chunks = (
            X.chunks(sums.rows_per_block) if isinstance(X, DatasetRows) else [(0, X)]
        )
        one_share = self._share.size == 1
        for start, rows in chunks:
            stop = start + len(rows)
            share = self._share if one_share else self._share[start:stop]
            sums.add(rows, self._target[start:stop], share, self._workspace)
        gradient = np.empty_like(params)
        gradient[..., :p] = sums.grad.reshape(k, n_outputs, p)
        if self.fit_intercept:
            gradient[..., p] = sums.intercept_grad.reshape(k, n_outputs)
        return sums.loss, gradient
