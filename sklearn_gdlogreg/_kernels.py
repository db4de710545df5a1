"""The fused pass: loss and gradient of linear log-loss models in one read of X.

The NumPy path of :class:`~sklearn_gdlogreg._evaluators.NumpyRows` reads ``X``
twice per evaluation (``X @ w``, then ``X.T @ r``). Here each row's raw
predictions, its loss and residual, and its share of the gradient are computed
while the row is still in cache, compiled with numba (the tool skglm and
pynndescent use for the same job) and run in parallel over blocks of rows.

Results do not depend on the number of threads, nor on how the rows arrive (all
at once, or in chunks from a file): rows are cut into blocks whose size depends
only on the row's size in bytes, each block's sums are kept apart, and the blocks
are added in row order, in float64.

The maths is the same as ``_loss.BinaryLogLoss`` and ``_loss.MultinomialLogLoss``
(which stay the reference the tests compare against), written per row.
"""

import math
import threading
from contextlib import contextmanager

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# Reassociation lets sums be vectorised, contraction gives fused multiply-adds.
# No "nnan"/"ninf": a diverging step must still produce inf and NaN to be seen.
_FASTMATH = {"reassoc", "contract", "nsz"}
# Bytes of X per block: its partial sums are written once per block, so blocks
# must be large next to one row of partial sums, and many enough for all cores.
_BLOCK_BYTES = 1 << 20
_MIN_BLOCK_ROWS = 16
# How far ahead (in bytes) the next rows are prefetched.
_PREFETCH_BYTES = 4096


# numba's "workqueue" threading layer (where neither OpenMP nor TBB is found)
# aborts the process when two threads run parallel code at once: parallel
# passes are then taken one at a time. Which layer runs is known only after a
# first parallel call, which is therefore guarded too.
_PARALLEL_LOCK = threading.Lock()
_layer = None


@contextmanager
def _parallel_guard():
    """Serialise parallel passes where the threading layer is not thread-safe."""
    global _layer
    if _layer is not None and _layer != "workqueue":
        yield
        return
    with _PARALLEL_LOCK:
        yield
        if _layer is None:
            _layer = numba.threading_layer()


@contextmanager
def one_thread():
    """Run the fused pass on the calling thread only, for the enclosed calls.

    For work that is already parallel outside the kernel (Dask runs one block
    per worker thread): more threads would only contend for the same cores
    (OpenMP threads spin while they wait).
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def block_rows(n_features, itemsize):
    """Rows per block for rows of ``n_features`` values of ``itemsize`` bytes."""
    row_bytes = max(1, n_features * itemsize)
    return max(_MIN_BLOCK_ROWS, -(-_BLOCK_BYTES // row_bytes))


@intrinsic
def _prefetch(typingctx, array, index):
    """Ask the CPU to bring ``array[index]``'s cache line into L2 (no fault)."""

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        i8p, i32 = ir.PointerType(ir.IntType(8)), ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0i8",
        )
        address = builder.bitcast(builder.gep(data, [args[1]]), i8p)
        # read, locality 2 (L2), data cache
        builder.call(function, [address] + [ir.Constant(i32, v) for v in (0, 2, 1)])
        return context.get_dummy_value()

    return types.void(array, index), codegen


@njit(fastmath=_FASTMATH, inline="always")
def _binary_loss_residual(raw, y):
    """Log-loss ``log(1 + exp(raw)) - y raw`` and its derivative ``sigmoid - y``."""
    small = math.exp(-abs(raw))
    inverse = 1.0 / (1.0 + small)
    sigmoid = inverse if raw >= 0 else small * inverse
    return math.log1p(small) + max(raw, 0.0) - y * raw, sigmoid - y


@njit(fastmath=_FASTMATH, inline="always")
def _row_residuals(raw, y, share, n_outputs, residual, loss_parts):
    """One row's residuals (times its share) and losses, added to ``loss_parts``.

    ``raw`` holds the row's raw predictions of all models; ``residual`` gets the
    derivatives of the loss wrt them.
    """
    m = raw.shape[0]
    if n_outputs == 1:
        for c in range(m):
            loss, derivative = _binary_loss_residual(raw[c], y)
            residual[c] = share * derivative
            loss_parts[c] += share * loss
    else:
        label = int(y)
        for model in range(m // n_outputs):
            first = model * n_outputs
            top = raw[first]
            for c in range(first + 1, first + n_outputs):
                top = max(top, raw[c])
            sum_exp = 0.0
            for c in range(first, first + n_outputs):
                sum_exp += math.exp(raw[c] - top)
            for c in range(first, first + n_outputs):
                probability = math.exp(raw[c] - top) / sum_exp
                residual[c] = share * (probability - (c == first + label))
            loss = math.log(sum_exp) - (raw[first + label] - top)
            loss_parts[model] += share * loss


@njit(parallel=True, fastmath=_FASTMATH, nogil=True, cache=True)
def _block_sums(
    X,
    coef,
    intercept,
    target,
    weight,
    n_outputs,
    rows_per_block,
    prefetch_rows,
    zero,
    grad_parts,
    intercept_parts,
    loss_parts,
):
    """Per block of rows: gradient, intercept gradient and loss sums.

    ``m = coef.shape[0]`` outputs are ``m // n_outputs`` models of ``n_outputs``
    outputs each (sigmoid for one, softmax for more). ``target`` holds 0/1 (one
    output) or class indices, as floats; ``weight`` the samples' shares (or one
    share for all, shape (1,)). Rows go four at a time, so that each load of the
    coefficients and each update of the gradient serves four rows.
    """
    n, p = X.shape
    m = coef.shape[0]
    flat = X.reshape(-1)
    last = n * p - 1
    same_weight = weight.shape[0] == 1
    n_blocks = (n + rows_per_block - 1) // rows_per_block
    for block in prange(n_blocks):
        start = block * rows_per_block
        stop = min(n, start + rows_per_block)
        grad = grad_parts[block]
        grad[:] = zero
        intercept_parts[block, :] = 0.0
        loss_parts[block, :] = 0.0
        raw = np.empty((4, m))
        # In X's dtype, so that float32 rows are scaled and added in float32.
        residual = np.empty((4, m), coef.dtype)
        for i in range(start, stop, 4):
            rows = min(4, stop - i)
            ahead = (i + 4 + prefetch_rows) * p
            for j in range(0, 4 * p, 8):
                _prefetch(flat, min(ahead + j, last))
            for c in range(m):
                if rows == 4:
                    s0, s1, s2, s3 = zero, zero, zero, zero
                    for j in range(p):
                        w = coef[c, j]
                        s0 += X[i, j] * w
                        s1 += X[i + 1, j] * w
                        s2 += X[i + 2, j] * w
                        s3 += X[i + 3, j] * w
                    raw[0, c], raw[1, c] = s0 + intercept[c], s1 + intercept[c]
                    raw[2, c], raw[3, c] = s2 + intercept[c], s3 + intercept[c]
                else:
                    for r in range(rows):
                        total = zero
                        for j in range(p):
                            total += X[i + r, j] * coef[c, j]
                        raw[r, c] = total + intercept[c]
            for r in range(rows):
                share = weight[0] if same_weight else weight[i + r]
                _row_residuals(
                    raw[r], target[i + r], share, n_outputs, residual[r],
                    loss_parts[block],
                )  # fmt: skip
            for c in range(m):
                for r in range(rows):
                    intercept_parts[block, c] += residual[r, c]
                if rows == 4:
                    r0, r1 = residual[0, c], residual[1, c]
                    r2, r3 = residual[2, c], residual[3, c]
                    for j in range(p):
                        grad[c, j] += (
                            r0 * X[i, j] + r1 * X[i + 1, j]
                            + r2 * X[i + 2, j] + r3 * X[i + 3, j]
                        )  # fmt: skip
                else:
                    for r in range(rows):
                        scale = residual[r, c]
                        for j in range(p):
                            grad[c, j] += scale * X[i + r, j]


@njit(parallel=True, cache=True)
def _add_blocks(grad_parts, intercept_parts, loss_parts, grad, intercept_grad, loss):
    """Add the blocks' sums into the totals, in block order, in float64."""
    n_blocks, m, p = grad_parts.shape
    for c in range(m):
        for b in range(n_blocks):
            intercept_grad[c] += intercept_parts[b, c]
    for model in range(loss.shape[0]):
        for b in range(n_blocks):
            loss[model] += loss_parts[b, model]
    for j in prange(p):
        for c in range(m):
            total = grad[c, j]
            for b in range(n_blocks):
                total += grad_parts[b, c, j]
            grad[c, j] = total


class FusedSums:
    """Accumulates the fused pass over rows given all at once or in chunks.

    Parameters
    ----------
    n_features : int
    dtype : numpy dtype
        X's dtype (float32 or float64); sums are added in float64.
    coef : ndarray of shape (m, n_features), X's dtype
    intercept : ndarray of shape (m,), X's dtype
    n_outputs : int
        Outputs per model (1: sigmoid; more: softmax).
    """

    def __init__(self, n_features, dtype, coef, intercept, n_outputs):
        row_bytes = max(1, n_features * dtype.itemsize)
        self.rows_per_block = block_rows(n_features, dtype.itemsize)
        self.prefetch_rows = max(1, _PREFETCH_BYTES // row_bytes)
        self.coef = np.ascontiguousarray(coef, dtype=dtype)
        self.intercept = np.ascontiguousarray(intercept, dtype=dtype)
        self.n_outputs = n_outputs
        m = len(coef)
        self.grad = np.zeros((m, n_features))
        self.intercept_grad = np.zeros(m)
        self.loss = np.zeros(m // n_outputs)
        self._zero = dtype.type(0)

    def add(self, X, target, weight, workspace):
        """Add the sums over the rows of ``X`` (C-contiguous).

        Chunks after the first must start at a multiple of ``rows_per_block``
        rows for the result to equal a single pass over all rows.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
        target : ndarray of shape (n_rows,), float
        weight : ndarray of shape (n_rows,) or (1,)
        workspace : dict
            Holds the per-block buffers between calls.
        """
        n_blocks = -(-X.shape[0] // self.rows_per_block)
        m, p = self.coef.shape
        key = (n_blocks, m, p, X.dtype.str)
        if workspace.get("key") != key:
            workspace.clear()
            workspace.update(
                key=key,
                grad=np.empty((n_blocks, m, p), X.dtype),
                intercept=np.empty((n_blocks, m)),
                loss=np.empty((n_blocks, len(self.loss))),
            )
        parts = workspace["grad"], workspace["intercept"], workspace["loss"]
        with _parallel_guard():
            self._run(X, target, weight, parts)

    def _run(self, X, target, weight, parts):
        _block_sums(
            X,
            self.coef,
            self.intercept,
            target,
            weight,
            self.n_outputs,
            self.rows_per_block,
            self.prefetch_rows,
            self._zero,
            *parts,
        )
        _add_blocks(*parts, self.grad, self.intercept_grad, self.loss)
