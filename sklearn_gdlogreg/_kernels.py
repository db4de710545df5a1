"""The fused pass: loss and gradient of linear log-loss models in one read of X.

The NumPy path of :class:`~sklearn_gdlogreg._rows.numpy.NumpyRows` reads ``X``
twice per evaluation (``X @ w``, then ``X.T @ r``). Here rows go by small
groups that stay in cache while their raw predictions, their losses and
residuals (vectorised over the group, with ``_vecmath``'s exp and log) and their
share of the gradient are computed, compiled with numba (the tool skglm and
pynndescent use for the same job), and run in parallel over blocks of rows.

The compiled functions are serial and release the GIL; Python threads run them
over ranges of blocks. numba's ``parallel=True`` would do the same, but it
tripled the compilation (measured on 2 cores: 9-12 s, this serial code 3-5 s;
inlining the group's steps and fast-math cost nothing there). A variant (the
dtype, mostly) is compiled on its first call, once per machine (cached on
disk), and a line on stderr says so when it takes more than a second.

Results do not depend on the number of threads, nor on how the rows arrive (all
at once, or in chunks from a file): rows are cut into blocks whose size depends
only on the row's size in bytes and the machine's cache sizes, each block's sums
are kept apart, and the blocks are added in row order, in float64.

The maths is the same as ``_loss.BinaryLogLoss`` and ``_loss.MultinomialLogLoss``
(which stay the reference the tests compare against), written per group of rows.
"""

import hashlib
import os
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.caching import FunctionCache
from numba.extending import intrinsic

from . import _vecmath
from ._vecmath import exp_nonpositive, log1p_unit, log_normal

# Reassociation lets sums be vectorised, contraction gives fused multiply-adds.
# No "nnan"/"ninf": a diverging step must still produce inf and NaN to be seen.
_FASTMATH = {"reassoc", "contract", "nsz"}


def _cache_bytes(level, default, caches=Path("/sys/devices/system/cpu/cpu0/cache")):
    """A core's data (or unified) cache at ``level``, in bytes, as Linux's
    ``/sys`` describes it in ``caches``; ``default`` where it does not say."""
    try:
        for index in sorted(caches.glob("index*")):
            if (index / "level").read_text().strip() == str(level) and (
                index / "type"
            ).read_text().strip() in ("Data", "Unified"):
                size = (index / "size").read_text().strip().upper()
                scale = {"K": 1 << 10, "M": 1 << 20}.get(size[-1:], 1)
                return int(size.rstrip("KM")) * scale
    except (OSError, ValueError):
        pass
    return default


# Bytes of X per block, a core's L2: its partial sums are written once per
# block and added after the pass, so a block has many rows next to one row of
# partial sums (measured on rows of 98 KB: 16 rows per block cost 1.8x one
# X @ w, 128 rows 1.2x), and blocks are many enough for all cores.
_BLOCK_BYTES = _cache_bytes(2, 1 << 20)
_MIN_BLOCK_ROWS = 128
# Bytes of X per group of rows (at least 4 rows), a quarter of a core's L1: a
# group is read from memory, then read again for the gradient, so it must stay
# in L1 meanwhile beside the coefficients and the gradient. Measured on 1 GB of
# 256 features (L1 of 32 KB): 8 KB groups cost 1.05-1.12x one X @ w, 32 KB
# 1.13-1.33x; rows of 98 KB go 4 at a time (2 or 3: 1.35-1.65x).
_GROUP_BYTES = _cache_bytes(1, 32 << 10) // 4
# How much of the next group is prefetched before a group's gradient step.
_PREFETCH_ITEMS = 8192
_CACHE_LINE = 64
# Fewer additions of the blocks' gradients than this are made on one thread.
_THREADED_ADDS = 1 << 18


class _KernelCache(FunctionCache):
    """numba's disk cache of a kernel, keyed also on ``_vecmath``'s source.

    numba keys a cached function on its own bytecode and checks its own
    file's source; the ``_vecmath`` functions it inlines would go stale.
    """

    _VECMATH = hashlib.sha256(Path(_vecmath.__file__).read_bytes()).hexdigest()

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), self._VECMATH)


def _cached(cache=_KernelCache, **options):
    """``njit(**options)``, compiled once per machine: cached on disk.

    In the package's ``__pycache__``, else in the user's cache folder, else (a
    read-only install with a read-only home, as in many containers) in the
    system's temporary folder; where none is writable, compiled in each
    process rather than refused. ``cache``: a :class:`_KernelCache` keyed on
    every other file the kernel inlines functions from.
    """

    def decorate(function):
        dispatcher = njit(**options)(function)
        dispatcher._cache = _disk_cache(dispatcher.py_func, cache) or dispatcher._cache
        return dispatcher

    return decorate


def _disk_cache(py_func, cache=_KernelCache):
    """A ``cache`` (:class:`_KernelCache`) where a folder is writable, else None."""
    try:
        return cache(py_func)
    except RuntimeError:  # "no locator available": nothing writable numba knows
        pass
    previous = numba.config.CACHE_DIR
    numba.config.CACHE_DIR = os.path.join(tempfile.gettempdir(), "sklearn_gdlogreg")
    try:
        return cache(py_func)
    except RuntimeError:
        return None
    finally:
        numba.config.CACHE_DIR = previous


# Threads of the pass: numba's setting (NUMBA_NUM_THREADS, the usable cores),
# lowered per calling thread by limit_threads.
_MAX_THREADS = numba.config.NUMBA_NUM_THREADS
_local = threading.local()
_pool = None
_pool_lock = threading.Lock()


def threads():
    """The number of threads the calling thread's passes run on."""
    return getattr(_local, "threads", _MAX_THREADS)


@contextmanager
def limit_threads(limit):
    """Run the fused pass on at most ``limit`` threads, for the calling
    thread's enclosed calls (None: all, as numba's ``NUMBA_NUM_THREADS``)."""
    previous = threads()
    _local.threads = _MAX_THREADS if limit is None else max(1, min(limit, _MAX_THREADS))
    try:
        yield
    finally:
        _local.threads = previous


def one_thread():
    """Run the fused pass on the calling thread only, for the enclosed calls.

    For work that is already parallel outside the kernel (Dask runs one block
    per worker thread): more threads would only contend for the same cores.
    """
    return limit_threads(1)


def _executor():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max(1, _MAX_THREADS - 1), thread_name_prefix="sklearn_gdlogreg"
            )
        return _pool


def _after_fork_in_child():
    # A forked child has none of the parent's threads: a new pool, new locks.
    global _pool, _pool_lock, _ready_lock
    _pool, _pool_lock, _ready_lock = None, threading.Lock(), threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _in_threads(function, n_items, *args):
    """``function(*args, start, stop)`` over ``range(n_items)`` cut into one
    range per thread, the first on the calling thread.

    The ranges write to disjoint parts of the outputs, so the result is the
    same whatever the number of threads.
    """
    count = max(1, min(threads(), n_items))
    bounds = [n_items * t // count for t in range(count + 1)]
    futures = [
        _executor().submit(function, *args, bounds[t], bounds[t + 1])
        for t in range(1, count)
    ]
    try:
        function(*args, bounds[0], bounds[1])
    finally:
        for future in futures:
            future.result()


# The variants (dtype, and whether X, the targets and the weights are writable
# and aligned: numba compiles one function per type) this process has
# compiled or loaded: the first call of a variant compiles (or loads) it on
# the calling thread, alone.
_ready = set()
_ready_lock = threading.Lock()
# A first call that lasts longer than this is a compile, and is said on stderr.
_SAY_AFTER = 1.0


def _say_compiling(dtype, name="the fused kernel", kernel=None):
    kernel = _block_sums if kernel is None else kernel
    folder = getattr(kernel._cache, "_cache_path", None)
    once = (
        f"once for this machine (cached in {folder})"
        if folder
        else "in each process (no writable folder to cache it in)"
    )
    sys.stderr.write(
        f"sklearn_gdlogreg: compiling {name} for {dtype} data, a few seconds, {once}\n"
    )
    sys.stderr.flush()


@contextmanager
def _said_if_slow(dtype, *kernel):
    """A line on stderr if the enclosed code (a compile) outlasts ``_SAY_AFTER``.

    ``kernel``: its name and its dispatcher (default the fused kernel's).
    """
    timer = threading.Timer(_SAY_AFTER, _say_compiling, (dtype, *kernel))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _compile(function, args):
    """Compile (or load from the disk cache) ``function`` for ``args``' types."""
    function.compile(tuple(numba.typeof(arg) for arg in args))


def _variant(X, target, weight):
    """What decides the compiled functions' types (but for X's shape)."""
    return X.dtype.char, *(
        (a.flags.writeable, a.flags.aligned) for a in (X, target, weight)
    )


def _prepare(variant, block_args, add_args):
    """Compile (or load) both functions for these arguments, once a variant."""
    if variant in _ready:
        return
    with _ready_lock:
        if variant in _ready:
            return
        with _said_if_slow(block_args[0].dtype):
            _compile(_block_sums, (*block_args, 0, 0))
            _compile(_add_blocks, (*add_args, 0, 0))
        _ready.add(variant)


def block_rows(n_features, itemsize):
    """Rows per block for rows of ``n_features`` values of ``itemsize`` bytes."""
    row_bytes = max(1, n_features * itemsize)
    return max(_MIN_BLOCK_ROWS, -(-_BLOCK_BYTES // row_bytes))


def group_rows(n_features, itemsize):
    """Rows per group (a multiple of 4) for rows of ``n_features`` values."""
    row_bytes = max(1, n_features * itemsize)
    return max(4, _GROUP_BYTES // row_bytes // 4 * 4)


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


_STEP = njit(fastmath=_FASTMATH, error_model="numpy", inline="always")


@_STEP
def _raw_predictions(X, first, rows, coef, intercept, zero, raw):
    """``raw[c, g]``: output ``c`` of row ``first + g``, for ``g < rows``.

    Four rows at a time (then two, then one), so that each load of the
    coefficients serves four rows.
    """
    p = X.shape[1]
    m = coef.shape[0]
    for g in range(0, rows - 3, 4):
        i = first + g
        for c in range(m):
            s0, s1, s2, s3 = zero, zero, zero, zero
            for j in range(p):
                w = coef[c, j]
                s0 += X[i, j] * w
                s1 += X[i + 1, j] * w
                s2 += X[i + 2, j] * w
                s3 += X[i + 3, j] * w
            raw[c, g], raw[c, g + 1] = s0 + intercept[c], s1 + intercept[c]
            raw[c, g + 2], raw[c, g + 3] = s2 + intercept[c], s3 + intercept[c]
    g = rows - rows % 4
    if rows % 4 >= 2:
        i = first + g
        for c in range(m):
            s0, s1 = zero, zero
            for j in range(p):
                w = coef[c, j]
                s0 += X[i, j] * w
                s1 += X[i + 1, j] * w
            raw[c, g], raw[c, g + 1] = s0 + intercept[c], s1 + intercept[c]
        g += 2
    if rows % 2 == 1:
        for c in range(m):
            total = zero
            for j in range(p):
                total += X[first + g, j] * coef[c, j]
            raw[c, g] = total + intercept[c]


@_STEP
def _residuals(raw, target, share, rows, n_outputs, residual, losses, intercepts):
    """The group's residuals (times the rows' shares); their sums and losses added.

    ``raw`` (float64) has ``m`` rows of raw predictions and three scratch rows;
    the loops run over the group's rows, innermost, so that they vectorise.
    The maths is ``_loss``'s: ``log(1 + exp(-|raw|)) + max(raw, 0) - y raw`` and
    ``sigmoid - y``; for softmax ``log(sum exp(raw - top)) - (raw_y - top)`` and
    ``softmax - onehot(y)``.
    """
    m = residual.shape[0]
    if n_outputs == 1:
        for c in range(m):
            loss_sum = 0.0
            residual_sum = 0.0
            for g in range(rows):
                r = raw[c, g]
                y = target[g]
                small = exp_nonpositive(-abs(r))
                inverse = 1.0 / (1.0 + small)
                sigmoid = inverse if r >= 0 else small * inverse
                derivative = share[g] * (sigmoid - y)
                residual[c, g] = derivative
                residual_sum += derivative
                loss_sum += share[g] * (log1p_unit(small) + max(r, 0.0) - y * r)
            losses[c] += loss_sum
            intercepts[c] += residual_sum
        return
    top, total, picked = raw[m], raw[m + 1], raw[m + 2]
    for model in range(m // n_outputs):
        first = model * n_outputs
        for g in range(rows):
            top[g] = raw[first, g]
            total[g] = 0.0
            picked[g] = 0.0
        for c in range(first + 1, first + n_outputs):
            for g in range(rows):
                top[g] = max(top[g], raw[c, g])
        for c in range(first, first + n_outputs):
            for g in range(rows):
                shifted = raw[c, g] - top[g]
                picked[g] += (c - first == target[g]) * shifted
                raw[c, g] = exp_nonpositive(shifted)
                total[g] += raw[c, g]
        loss_sum = 0.0
        for g in range(rows):
            loss_sum += share[g] * (log_normal(total[g]) - picked[g])
        losses[model] += loss_sum
        for c in range(first, first + n_outputs):
            residual_sum = 0.0
            for g in range(rows):
                label = c - first == target[g]
                derivative = share[g] * (raw[c, g] / total[g] - label)
                residual[c, g] = derivative
                residual_sum += derivative
            intercepts[c] += residual_sum


@_STEP
def _add_gradient(X, first, rows, residual, grad):
    """``grad[c] += sum over the group of residual[c, g] * X[first + g]``."""
    p = X.shape[1]
    for c in range(grad.shape[0]):
        for g in range(0, rows - 3, 4):
            i = first + g
            r0, r1 = residual[c, g], residual[c, g + 1]
            r2, r3 = residual[c, g + 2], residual[c, g + 3]
            for j in range(p):
                grad[c, j] += (
                    r0 * X[i, j] + r1 * X[i + 1, j]
                    + r2 * X[i + 2, j] + r3 * X[i + 3, j]
                )  # fmt: skip
        g = rows - rows % 4
        if rows % 4 >= 2:
            i = first + g
            r0, r1 = residual[c, g], residual[c, g + 1]
            for j in range(p):
                grad[c, j] += r0 * X[i, j] + r1 * X[i + 1, j]
            g += 2
        if rows % 2 == 1:
            scale = residual[c, g]
            for j in range(p):
                grad[c, j] += scale * X[first + g, j]


@_cached(fastmath=_FASTMATH, error_model="numpy", nogil=True)
def _block_sums(
    X,
    coef,
    intercept,
    target,
    weight,
    n_outputs,
    rows_per_block,
    group_rows,
    prefetch_step,
    zero,
    grad_parts,
    intercept_parts,
    loss_parts,
    first_block,
    stop_block,
):
    """Per block of rows from ``first_block`` to ``stop_block``: gradient,
    intercept gradient and loss sums.

    ``m = coef.shape[0]`` outputs are ``m // n_outputs`` models of ``n_outputs``
    outputs each (sigmoid for one, softmax for more). ``target`` holds 0/1 (one
    output) or class indices, as floats; ``weight`` the samples' shares (or one
    share for all, shape (1,)).

    Rows go by groups small enough to stay in cache between the group's three
    steps: raw predictions (the one read of the rows from memory), residuals and
    losses (vectorised over the group), gradient (the rows again, from cache).
    Before the last step the next group is prefetched, so that memory keeps
    streaming while the cache serves the gradient.
    """
    n, p = X.shape
    m = coef.shape[0]
    flat = X.reshape(-1)
    last = n * p - 1
    same_weight = weight.shape[0] == 1
    for block in range(first_block, stop_block):
        start = block * rows_per_block
        stop = min(n, start + rows_per_block)
        grad = grad_parts[block]
        grad[:] = zero
        intercept_parts[block, :] = 0.0
        loss_parts[block, :] = 0.0
        raw = np.empty((m + 3, group_rows))
        # In X's dtype, so that float32 rows are scaled and added in float32.
        residual = np.empty((m, group_rows), coef.dtype)
        share = np.empty(group_rows)
        for first in range(start, stop, group_rows):
            rows = min(group_rows, stop - first)
            for g in range(rows):
                share[g] = weight[0] if same_weight else weight[first + g]
            _raw_predictions(X, first, rows, coef, intercept, zero, raw)
            _residuals(
                raw, target[first : first + rows], share, rows, n_outputs,
                residual, loss_parts[block], intercept_parts[block],
            )  # fmt: skip
            ahead = (first + rows) * p
            for j in range(0, min(rows * p, _PREFETCH_ITEMS), prefetch_step):
                _prefetch(flat, min(ahead + j, last))
            _add_gradient(X, first, rows, residual, grad)


@_cached(nogil=True)
def _add_blocks(
    grad_parts, intercept_parts, loss_parts, grad, intercept_grad, loss, first, stop
):
    """Add the blocks' sums into the totals, in block order, in float64: the
    gradient's features from ``first`` to ``stop`` (the intercepts and losses
    with the range that starts at 0)."""
    n_blocks, m, p = grad_parts.shape
    if first == 0:
        for c in range(m):
            for b in range(n_blocks):
                intercept_grad[c] += intercept_parts[b, c]
        for model in range(loss.shape[0]):
            for b in range(n_blocks):
                loss[model] += loss_parts[b, model]
    for j in range(first, stop):
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
        self.rows_per_block = block_rows(n_features, dtype.itemsize)
        self.group_rows = group_rows(n_features, dtype.itemsize)
        self.prefetch_step = max(1, _CACHE_LINE // dtype.itemsize)
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
        block_args = (
            X,
            self.coef,
            self.intercept,
            target,
            weight,
            self.n_outputs,
            self.rows_per_block,
            self.group_rows,
            self.prefetch_step,
            self._zero,
            *parts,
        )
        add_args = (*parts, self.grad, self.intercept_grad, self.loss)
        _prepare(_variant(X, target, weight), block_args, add_args)
        _in_threads(_block_sums, n_blocks, *block_args)
        if n_blocks * m * p < _THREADED_ADDS:
            _add_blocks(*add_args, 0, p)
        else:
            _in_threads(_add_blocks, p, *add_args)
