"""The compiled mini-batch epoch: a whole pass of updates in one call a block.

:func:`~sklearn_gdlogreg._solvers.epochs.run_epoch` makes a pass in Python,
which costs a tenth of a millisecond or more per update (the batch's rows
object, its objective, the update's array expressions): on 10^6 rows by 100
features, batches of 200 make 5,000 updates a pass, several seconds, where
one read of X costs 0.1 s. Here a pass over dense C-ordered rows is one call
of a numba function (nogil, cached on disk as ``_kernels``' are) for each
block the rows hand out (``epoch_blocks``): the whole array in memory, or
each chunk of a streamed file, in the pass's order. For each batch
of the given row order it gathers the batch's rows by small groups that stay
in cache (prefetching the rows a group ahead), and computes their raw predictions,
losses, residuals and gradient by the fused kernel's steps (``_kernels``,
with ``_vecmath``'s exp and log); then the penalty's gradient and value, the
update rule's step and the L1 part's proximal step, in the formulas and the
order of ``_penalty`` and ``_solvers.stochastic``, which stay the reference
the tests compare it with (to rounding: the sums go in another order).

The data term's steps are compiled with the fused kernel's fast-math (their
sums reassociated, as BLAS's are); the update, the penalty and the prox
without, so that they round as NumPy's array expressions do, in the
parameters' dtype. The rules are one function, the rule a number: one
variant per dtype (and per X's writeable and aligned flags), binary and
multinomial alike. An epoch's updates depend each on the last: the pass runs
on the calling thread, and its result does not depend on the number of
threads.
"""

import hashlib
import math
from pathlib import Path

import numpy as np
from numba import njit

from . import _kernels
from ._kernels import (
    _CACHE_LINE,
    _FASTMATH,
    _add_gradient,
    _cached,
    _KernelCache,
    _prefetch,
    _raw_predictions,
    _residuals,
    group_rows,
)

__all__ = ["CompiledEpochs"]

#: The update rules' numbers in the kernel, by the names their
#: ``compiled_state`` gives.
RULES = {"sgd": 0, "momentum": 1, "nesterov": 2, "rmsprop": 3, "adam": 4}
_SGD, _MOMENTUM, _NESTEROV, _RMSPROP, _ADAM = range(5)


class _EpochCache(_KernelCache):
    """The epoch kernel's disk cache, keyed also on ``_kernels``' source, whose
    steps it inlines (and, as every kernel's, on ``_vecmath``'s)."""

    _KERNELS = hashlib.sha256(Path(_kernels.__file__).read_bytes()).hexdigest()

    def _index_key(self, sig, codegen):
        return (*super()._index_key(sig, codegen), self._KERNELS)


_EXACT = njit(error_model="numpy")


@_EXACT
def _in_dtype(like, value):
    """The float64 ``value`` rounded to ``like``'s dtype, as NumPy rounds a
    Python float that meets an array of that dtype."""
    box = np.empty(1, like.dtype)
    box[0] = value
    return box[0]


@_EXACT
def _penalised(params, grad, intercepts, gradient, loss, l2, l1, n_features):
    """``gradient``: the data term's ``grad`` and ``intercepts`` plus the L2
    part's gradient; returns the objective, ``loss`` plus the penalty.

    As ``_penalty``'s ``add_smooth`` and ``nonsmooth``: one output adds ``l2 *
    coef`` in the parameters' dtype, more outputs in float64 (NumPy's
    strengths column); the squares and absolute values summed in float64; a
    part of strength 0 is not computed.
    """
    m, n_params = params.shape
    l2_dtype = _in_dtype(params, l2)
    squares = 0.0
    absolutes = 0.0
    for c in range(m):
        for j in range(n_features):
            w = params[c, j]
            squares += w * w
            absolutes += abs(w)
            if l2 == 0.0:
                gradient[c, j] = grad[c, j]
            elif m == 1:
                gradient[c, j] = grad[c, j] + l2_dtype * w
            else:
                gradient[c, j] = np.float64(grad[c, j]) + l2 * np.float64(w)
        if n_params > n_features:
            gradient[c, n_features] = intercepts[c]
    value = loss
    if l2 != 0.0:
        value = value + 0.5 * l2 * squares
    if l1 != 0.0:
        value = value + l1 * absolutes
    return value


@_EXACT
def _update(rule, params, gradient, first, second, constants, t, lr, l1, n_features):
    """One step of the update rule at its ``t``-th update, in place, then the
    L1 part's proximal step (``l1 > 0``) on the coefficients.

    ``first`` and ``second``: the rule's state (velocity or mean; squares);
    ``constants``: ``(momentum or beta_1, beta_2, epsilon)``. Each formula is
    the NumPy expression of ``_solvers.stochastic``, in the same order, its
    Python floats rounded to the parameters' dtype as NumPy rounds them.
    """
    m, n_params = params.shape
    rate = _in_dtype(params, lr)
    beta_1 = _in_dtype(params, constants[0])
    rest_1 = _in_dtype(params, 1 - constants[0])
    beta_2 = _in_dtype(params, constants[1])
    rest_2 = _in_dtype(params, 1 - constants[1])
    epsilon = _in_dtype(params, constants[2])
    # A float exponent: C's pow, as Python's math.pow (an integer one would
    # be multiplied out, rounded otherwise).
    exponent = np.float64(t)
    mean_correction = _in_dtype(params, 1 - math.pow(constants[0], exponent))
    squares_correction = _in_dtype(params, 1 - math.pow(constants[1], exponent))
    # The prox's threshold: the rate times l1 (one step for all), or each
    # coordinate's step times l1.
    threshold = _in_dtype(params, lr * l1)
    l1_dtype = _in_dtype(params, l1)
    for c in range(m):
        for j in range(n_params):
            g = gradient[c, j]
            w = params[c, j]
            if rule == _SGD:
                w = w - rate * g
            elif rule == _MOMENTUM or rule == _NESTEROV:
                v = first[c, j] * beta_1
                v = v + rest_1 * g
                first[c, j] = v
                if rule == _NESTEROV:
                    w = w - rate * (beta_1 * v + rest_1 * g)
                else:
                    w = w - rate * v
            elif rule == _RMSPROP:
                s = second[c, j] * beta_2
                s = s + rest_2 * g * g
                second[c, j] = s
                step = rate / (np.sqrt(s / squares_correction) + epsilon)
                w = w - step * g
                threshold = step * l1_dtype
            else:
                a = first[c, j] * beta_1
                a = a + rest_1 * g
                first[c, j] = a
                s = second[c, j] * beta_2
                s = s + rest_2 * g * g
                second[c, j] = s
                step = rate / (np.sqrt(s / squares_correction) + epsilon)
                w = w - step * (a / mean_correction)
                threshold = step * l1_dtype
            if l1 > 0.0 and j < n_features:
                # sign(w) max(|w| - threshold, 0); NaN stays NaN.
                shrunk = abs(w) - threshold
                if shrunk < 0:
                    shrunk = 0
                w = math.copysign(shrunk, w)
            params[c, j] = w


@_cached(cache=_EpochCache, fastmath=_FASTMATH, error_model="numpy", nogil=True)
def _epoch(
    X,
    target,
    share,
    weight_sum,
    n_samples,
    order,
    batch_size,
    n_outputs,
    group,
    prefetch_step,
    zero,
    params,
    first,
    second,
    rule,
    constants,
    t,
    lr,
    l2,
    l1,
):
    """Mini-batch updates over the rows of ``X`` in ``order``: one pass, or
    its part over one block of a pass over ``n_samples`` rows.

    Returns the batches' objectives at the parameters entering their updates,
    weighted by their rows over all ``n_samples`` rows, the number of
    updates, and the number of steps (one fewer where the pass ended at a
    batch whose objective is not finite, unstepped, as ``run_epoch`` ends it).

    ``target``: 0/1 or class indices of ``X``'s rows, as floats; ``share``:
    each one's share ``s_i / S`` of the whole data's mean (float64), or none
    (shape (0,)) for one share for all, ``1 / weight_sum``; ``params``,
    ``first`` and ``second``: of shape (n_outputs, n_params), C-ordered,
    updated in place (``first`` and ``second`` of shape (0, 0) where the rule
    keeps no such state); ``t``: the updates before these.
    """
    p = X.shape[1]
    m, n_params = params.shape
    n_rows = order.shape[0]
    flat = X.reshape(-1)
    weighted = share.shape[0] > 0
    coef = np.empty((m, p), X.dtype)
    intercept = np.zeros(m, X.dtype)
    rows_buffer = np.empty((group, p), X.dtype)
    raw = np.empty((m + 3, group))
    residual = np.empty((m, group), X.dtype)
    group_target = np.empty(group)
    # In the rows' dtype: a share is rounded to it, as the Python path's.
    group_share = np.empty(group, X.dtype)
    grad = np.empty((m, p), X.dtype)
    gradient = np.empty((m, n_params), X.dtype)
    losses = np.empty(1)
    intercepts = np.empty(m)
    mean = 0.0
    updates = steps = 0
    for start in range(0, n_rows, batch_size):
        stop = min(n_rows, start + batch_size)
        size = stop - start
        # The batch is an unbiased sample: each share times n / |B| (as
        # ``InMemoryRows.batch``'s), in the rows' dtype.
        scale = n_samples / size
        one_share = _in_dtype(X, 1.0 / (weight_sum * size / n_samples))
        for c in range(m):
            for j in range(p):
                coef[c, j] = params[c, j]
                grad[c, j] = zero
            if n_params > p:
                intercept[c] = params[c, p]
            intercepts[c] = 0.0
        losses[0] = 0.0
        for first_row in range(start, stop, group):
            rows = min(group, stop - first_row)
            for g in range(rows):
                position = first_row + g
                # The row a group ahead is asked from memory now: a
                # shuffled pass reads X at random, and waits on memory's
                # latency unless many rows are on their way at once.
                if position + group < n_rows:
                    row = order[position + group] * p
                    for j in range(0, p, prefetch_step):
                        _prefetch(flat, row + j)
                    _prefetch(flat, row + p - 1)
                i = order[position]
                for j in range(p):
                    rows_buffer[g, j] = X[i, j]
                group_target[g] = target[i]
                group_share[g] = share[i] * scale if weighted else one_share
            _raw_predictions(rows_buffer, 0, rows, coef, intercept, zero, raw)
            _residuals(
                raw, group_target, group_share, rows, n_outputs,
                residual, losses, intercepts,
            )  # fmt: skip
            _add_gradient(rows_buffer, 0, rows, residual, grad)
        value = _penalised(params, grad, intercepts, gradient, losses[0], l2, l1, p)
        mean += size / n_samples * value
        updates += 1
        if not np.isfinite(value):
            break
        steps += 1
        _update(rule, params, gradient, first, second, constants, t + steps,
                lr, l1, p)  # fmt: skip
    return mean, updates, steps


class CompiledEpochs:
    """The compiled epochs of one objective: its targets and shares prepared
    once, each pass one call of the kernel per block of rows.

    Parameters
    ----------
    objective : LinearObjective
        One model, over bound rows the compiled epoch reads (their
        ``compiled_epochs``), with an L2 or elastic-net penalty.
    batch_size : int
    """

    def __init__(self, objective, batch_size):
        data, penalty = objective.data, objective.penalty
        self.dtype, self.batch_size = data.dtype, batch_size
        self.n_samples = data.shape[0]
        self.n_outputs = data.loss.n_outputs
        self.target = np.ascontiguousarray(np.reshape(data.host_target, -1), self.dtype)
        self.share = (
            None
            if data.sample_weight is None
            else np.ascontiguousarray(np.reshape(data.host_share, -1), np.float64)
        )
        self.weight_sum = float(data.weight_sum)
        self.l2 = float(penalty.l2)
        self.l1 = float(penalty.l1) if penalty.has_prox else 0.0
        self.group = group_rows(data.n_features, self.dtype.itemsize)
        self.prefetch_step = max(1, _CACHE_LINE // self.dtype.itemsize)
        self._none = np.zeros((0, 0), self.dtype)

    def run(self, params, update_rule, lr, blocks):
        """One pass over the blocks: ``params`` updated in place.

        Parameters
        ----------
        params : ndarray of shape (1, n_outputs, n_params)
        update_rule : MomentumSGD, RMSprop or Adam
            Its state is updated, its ``t`` advanced.
        lr : float
        blocks : iterable of (int, ndarray, ndarray of int)
            ``(start, X, order)``, as the rows' ``epoch_blocks`` yields them:
            the C-ordered rows from ``start`` on, and the order to visit them
            in, cut into batches of ``batch_size``. The pass stops (and
            leaves the rest unread) at a batch whose objective is not finite.

        Returns
        -------
        mean : float
            As :func:`~sklearn_gdlogreg._solvers.epochs.run_epoch`'s.
        updates : int
        """
        name, constants, states = update_rule.compiled_state(params)
        work = np.ascontiguousarray(params[0])
        first, second = (
            self._none if state is None else np.ascontiguousarray(state[0])
            for state in states
        )
        rule = (work, first, second, RULES[name], np.asarray(constants, np.float64))
        mean, updates = 0.0, 0
        for start, X, order in blocks:
            stop = start + X.shape[0]
            args = (
                X,
                self.target[start:stop],
                np.zeros(0) if self.share is None else self.share[start:stop],
                self.weight_sum,
                int(self.n_samples),
                np.ascontiguousarray(order, np.intp),
                int(self.batch_size),
                int(self.n_outputs),
                int(self.group),
                int(self.prefetch_step),
                X.dtype.type(0),
                *rule,
                int(update_rule.t),
                float(lr),
                self.l2,
                self.l1,
            )
            _prepare(args)
            part, block_updates, steps = _epoch(*args)
            mean, updates = mean + part, updates + block_updates
            update_rule.t += steps
            if steps < block_updates:
                break
        # Written back where the kernel had contiguous copies.
        for array, state in ((work, params), (first, states[0]), (second, states[1])):
            if state is not None and not np.may_share_memory(array, state):
                state[0] = array
        if not np.all(np.isfinite(params)):
            mean = math.inf
        return float(mean), int(updates)


def _prepare(args):
    """Compile (or load) the kernel for these arguments, once a variant."""
    X = args[0]
    variant = ("epoch", X.dtype.char, X.flags.writeable, X.flags.aligned)
    if variant in _kernels._ready:
        return
    with _kernels._ready_lock:
        if variant in _kernels._ready:
            return
        with _kernels._said_if_slow(X.dtype, "the mini-batch epoch kernel", _epoch):
            _kernels._compile(_epoch, args)
        _kernels._ready.add(variant)
