"""Rows of X in a Dask array: sums over its blocks, computed where the blocks live.

The gradient of the objective is a sum over samples, so each iteration is a
reduction over X's row blocks: every block's share of the loss and gradient is
computed by the same code as in memory (the rows ``make_rows`` chooses for the
block, fused pass included) on the worker that holds the block, and only those
shares (one parameter-sized array per block) and the parameters travel. X is
persisted once, when the fit starts; the active scheduler runs the work.
Predictions are lazy Dask arrays, computed block by block. Mini-batches are
drawn within each block, blocks in shuffled order, each brought to the caller
when it is reached (fetched from its worker, or computed from X's graph where
there is no cluster to persist it on): the whole array is never in the
caller's memory at once. Early stopping holds out whole blocks: the rows of a
part of the blocks (:meth:`DaskRows.take`) are those blocks, where they live;
the score's predictions are made there (``map_raw``), and only each row's
predicted class comes back, beside its label, already on the host (simpler
than a sum on the workers of the labels and weights sent there, and as
memory-safe: an integer per row).

With a ``dask.distributed.Client``, blocks are handled as futures. The targets
and weights become tasks beside X's blocks (each depends on its X block, so it
runs on that block's worker). Each evaluation is one task per worker thread,
running the blocks that worker holds, and one task adding their parts in block
order (a task per block costs the scheduler milliseconds, and a Dask graph per
iteration about twice as much). Nothing the fit needs is scattered without
lineage: when a worker is lost, the scheduler recomputes its blocks from their
graph (X's, and the tasks that hold the targets and weights) and the fit goes
on, to the same result. Any other scheduler (threads, processes, synchronous)
runs the same sums as a graph of delayed calls.

Dask is optional (``pip install sklearn-gdlogreg[dask]``): this module is
imported only for a Dask array, which cannot exist without it.
"""

import copy
import functools
import sys

import numpy as np
from sklearn.externals.array_api_compat import numpy as np_compat
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_array,
    check_consistent_length,
    column_or_1d,
)

from .._step_bound import (
    EXACT_GRAM_MAX_SIDE,
    column_squares,
    feature_gram,
    gram_times,
    largest_eigenvalue,
    scaled_gram,
    scaled_product,
    squared_frobenius_norm,
)
from . import make_rows
from ._base import Rows, computed_dtype, numpy_raw, weight_shares
from .batches import block_batches, visiting_order

_SCATTER_BYTES = 64 << 10


class DaskRows(Rows):
    """A 2-D Dask array of numbers, in blocks of whole rows.

    float32 data stays float32, anything else becomes float64. Columns are
    joined into one block per row block. For a fit that reads the rows in
    full passes, the array is persisted and its values checked for NaN and
    infinity once, on the workers; for a fit by mini-batches, it is persisted
    only on a ``distributed`` cluster (its blocks are fetched one at a time),
    and else computed block by block from its graph at each pass, each block
    checked the first time; for predictions it stays lazy.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    persist : bool or None, default=True
        True: persisted now. None: lazy, with the sizes of its blocks known
        (:meth:`for_fit` then places it as the fit reads it). False: lazy,
        for predictions only.
    """

    xp, device = np_compat, "cpu"
    take_error = (
        "Cross-validation needs X in memory (its folds are row subsets); "
        "compute the Dask array first, or fit GradientDescentLogisticRegression, "
        "which fits it on the cluster."
    )
    blocks_name = "row blocks of the Dask array"
    blocks_fix = "rechunk the array into more row blocks: X.rechunk({0: rows})."

    def __init__(self, X, persist=True):
        if X.ndim != 2:
            raise ValueError(
                f"The Dask array has shape {X.shape}; it needs 2 dimensions "
                "(samples, features)."
            )
        if X.dtype.kind not in "fiub":
            raise ValueError(f"The Dask array holds {X.dtype}; it needs numbers.")
        if persist is None:
            X = _prepared(X)
        elif persist:
            X = _persisted(X)
        else:
            X = X.astype(computed_dtype(X.dtype)).rechunk({1: -1})
        self.X = X
        self.shape = X.shape
        self.n_features = X.shape[1]
        self.dtype = X.dtype
        self.row_sizes = X.chunks[0]
        if persist is not False:
            self._persisted = []
            # Unpersisted blocks are computed from the graph, each checked
            # the first time (a set shared by the bound copies).
            self._unchecked = set() if persist else set(range(len(self.row_sizes)))
            self.client = _active_client() if persist else None
        if persist and not bool(_all_finite(X).compute()):
            raise ValueError(_NOT_FINITE)

    @functools.cached_property
    def _blocks(self):
        """X's blocks, in block order: futures on a ``Client``, else delayed
        values (of the persisted array, or of X's graph)."""
        if self.client is None:
            return self.X.to_delayed().ravel().tolist()
        return block_futures(self.X)

    @classmethod
    def checked_for_fit(cls, estimator, X, y, reset=True):
        """Lazy rows checked as any rows not in memory (``Rows.checked_for_fit``):
        :meth:`for_fit` then persists them, or not, as the fit reads them."""
        rows = cls(X, persist=None)
        _check_feature_names(estimator, rows, reset=reset)
        _check_n_features(estimator, rows, reset=reset)
        y = column_or_1d(y, warn=True)
        check_consistent_length(np.empty((rows.shape[0], 0)), y)
        return rows, y

    def for_fit(self, batches=False):
        """Persisted for a fit's full passes, or for mini-batches on a
        ``distributed`` cluster (where the blocks live on the workers);
        else, for mini-batches, lazy: computed block by block at each pass,
        never all in memory at once."""
        if batches and _active_client() is None:
            return self
        return type(self)(self.X)

    @classmethod
    def checked_for_predict(cls, estimator, X, method):
        """Lazy rows of ``X``, its number of features checked against the fit."""
        _check_n_features(estimator, X, reset=False)
        return cls(X, persist=False)

    def map_raw(self, function, coef, intercept, n_columns, dtype=None):
        """A lazy Dask array of ``function`` on each row block's raw predictions.

        Each block is checked for NaN and infinity as it is computed.
        """
        dtype = self.raw_dtype(coef) if dtype is None else dtype
        block_function = functools.partial(_block_outputs, function, coef, intercept)
        if n_columns is None:
            return self.X.map_blocks(block_function, drop_axis=1, dtype=dtype)
        return self.X.map_blocks(
            block_function, chunks=(self.row_sizes, (n_columns,)), dtype=dtype
        )

    def bind(self, loss, target, sample_weight, fit_intercept, weight_sum=None):
        """The rows with targets and weights sent beside X's blocks, once.

        Each evaluation is then one :meth:`map_sum` of the in-memory
        evaluation of each block (without penalty), weights divided by the
        whole data's sum.
        """
        bound = copy.copy(self)
        bound.loss, bound.fit_intercept = loss, fit_intercept
        if weight_sum is None:
            weight_sum = (
                self.shape[0]
                if sample_weight is None
                else weight_shares(sample_weight)[1]
            )
        bound.weight_sum = weight_sum
        # The host copies, for mini-batches.
        bound.host_target, bound.sample_weight = target, sample_weight
        bound._target = self.aligned(np.reshape(target, -1))
        bound._weight = self.aligned(sample_weight)
        return bound

    def mini_batches(self, batch_size, random_state=None):
        """The batches of one pass: blocks in shuffled order, each computed
        (or fetched from its worker) when it is reached, its rows shuffled and
        cut into batches (see :meth:`Rows.mini_batches`); one block is in
        memory at a time."""
        spans = self.block_spans()
        order = visiting_order(len(self._blocks), random_state)
        blocks = ((spans[index][0], self._block(index)) for index in order)
        yield from block_batches(self, blocks, batch_size, random_state)

    def block_spans(self):
        """The ``(start, stop)`` of each row block, in order: the units of the
        mini-batches' visits, of the pieces beside the blocks, and of early
        stopping's held-out rows."""
        stops = np.cumsum(self.row_sizes).tolist()
        return list(zip([0, *stops[:-1]], stops, strict=True))

    def take_blocks(self, blocks):
        """The rows of the row blocks at index ``blocks``, where they are: on
        the workers that hold them, or computed from X's graph (lazy rows),
        each checked the first time, as X's."""
        taken = copy.copy(self)
        taken.X = self.X.blocks[blocks]
        taken.shape, taken.row_sizes = taken.X.shape, taken.X.chunks[0]
        taken._blocks = [self._blocks[index] for index in blocks]
        taken._unchecked = {
            new for new, old in enumerate(blocks) if old in self._unchecked
        }
        return taken

    def _block(self, index):
        """Block ``index`` in memory, checked if it was not yet."""
        block = self._blocks[index]
        X = np.asarray(block.compute() if self.client is None else block.result())
        if index in self._unchecked:
            _check_finite(X)
            self._unchecked.discard(index)
        return X

    def loss_gradient(self, params):
        return self.map_sum(
            _block_loss_gradient,
            [self._target, self._weight],
            params,
            self.loss.n_outputs,
            self.fit_intercept,
            self.weight_sum,
        )

    def squared_norm(self, exact=True, column_scale=None):
        """The step bound's squared norm, summed over the blocks on the workers
        (one per model for scales of shape (k, n_params))."""
        if np.ndim(column_scale) == 2:
            return np.array([self.squared_norm(exact, scale) for scale in column_scale])
        if not exact:
            if column_scale is not None:
                return float(self.column_squares() @ np.square(column_scale))
            return self.map_sum(
                _block_frobenius, [self._weight], self.fit_intercept, self.weight_sum
            )
        n_params = self.n_features + int(self.fit_intercept)
        if n_params <= EXACT_GRAM_MAX_SIDE:
            gram = self.map_sum(
                _block_gram, [self._weight], self.fit_intercept, self.weight_sum
            )
            return float(np.linalg.eigvalsh(scaled_gram(gram, column_scale))[-1])
        return largest_eigenvalue(
            np_compat,
            scaled_product(
                np_compat,
                lambda vector: self.map_sum(
                    _block_gram_times,
                    [self._weight],
                    vector,
                    self.fit_intercept,
                    self.weight_sum,
                ),
                column_scale,
                "cpu",
            ),
            n_params,
            "cpu",
        )

    def column_squares(self):
        """Each column's weighted mean square, summed over the blocks."""
        return self.map_sum(
            _block_column_squares, [self._weight], self.fit_intercept, self.weight_sum
        )

    def aligned(self, array):
        """Host ``array`` of shape (n_samples, ...) split as X's rows, persisted."""
        import dask
        import dask.array as da

        if array is None or np.ndim(array) == 0:
            return [array] * len(self._blocks)
        if self.client is not None:
            return self._beside_blocks(np.asarray(array))
        chunks = (self.row_sizes,) + tuple((size,) for size in np.shape(array)[1:])
        (blocks,) = dask.persist(da.from_array(np.asarray(array), chunks=chunks))
        # The persisted array holds the data on the workers: keep it while the
        # blocks are used.
        self._persisted.append(blocks)
        return blocks.to_delayed().ravel().tolist()

    def _beside_blocks(self, array):
        """Pieces of ``array`` as futures, each computed on its X block's worker.

        Each piece is a task that holds its rows and depends on its X block, so
        the scheduler places it beside the block and can recompute it, as it
        recomputes the block, if a worker is lost (a scattered piece could not
        be).
        """
        return [
            self.client.submit(_piece, array[start:stop], block, pure=False)
            for block, (start, stop) in zip(
                self._blocks, self.block_spans(), strict=True
            )
        ]

    def _worker_groups(self):
        """Block indices in one group per worker thread holding them.

        Asked of the scheduler at each call: after a worker is lost, its blocks
        are recomputed elsewhere and the groups follow them. A block held by
        several workers (a copy made when X was computed, say) goes to the one
        with the least work per thread; blocks not held anywhere yet form a
        group of their own (worker None).
        """
        holders = self.client.who_has(self._blocks)
        threads = self.client.nthreads()
        held = [list(holders.get(block.key) or [None]) for block in self._blocks]
        by_worker = {}
        # Blocks with one holder first: they leave no choice.
        for index in sorted(range(len(held)), key=lambda i: len(held[i])):
            worker = min(
                held[index],
                key=lambda w: len(by_worker.get(w, ())) / threads.get(w, 1),
            )
            by_worker.setdefault(worker, []).append(index)
        groups = []
        for worker, indices in by_worker.items():
            indices = sorted(indices)
            n_groups = min(len(indices), threads.get(worker, 1))
            groups += [
                (worker, part.tolist()) for part in np.array_split(indices, n_groups)
            ]
        return groups

    def map_sum(self, function, aligned, *args):
        """``sum over blocks of function(X_block, *aligned_blocks, *args)``.

        ``aligned`` are lists from :meth:`aligned`; ``args`` are sent once per
        call (not once per block). ``function`` returns an array or a tuple of
        arrays; the sums are added on the workers.
        """
        import dask

        if self.client is not None:
            client = self.client
            # Large arguments go to every worker once, small ones with the tasks.
            shared = [
                client.scatter(arg, broadcast=True, hash=False)
                if isinstance(arg, np.ndarray) and arg.nbytes > _SCATTER_BYTES
                else arg
                for arg in args
            ]
            # One task per worker thread runs the blocks it holds (a task costs
            # the scheduler milliseconds; a block's work may be less), and
            # one task adds the parts in block order.
            groups = self._worker_groups()
            tasks = [
                client.submit(
                    _blocks_parts,
                    function,
                    [self._blocks[i] for i in indices],
                    [[part[i] for i in indices] for part in aligned],
                    *shared,
                    workers=None if worker is None else [worker],
                    allow_other_workers=True,
                    pure=False,
                )
                for worker, indices in groups
            ]
            order = [i for _, indices in groups for i in indices]
            return client.submit(_sum_in_order, tasks, order, pure=False).result()

        if self._unchecked:  # blocks computed from the graph, not checked yet
            function = functools.partial(_checked_first, function)
        shared = [dask.delayed(arg) for arg in args]
        parts = [
            dask.delayed(function)(block, *(part[i] for part in aligned), *shared)
            for i, block in enumerate(self._blocks)
        ]
        while len(parts) > 1:
            pairs = [
                dask.delayed(_add)(parts[i], parts[i + 1])
                for i in range(0, len(parts) - 1, 2)
            ]
            parts = pairs + ([parts[-1]] if len(parts) % 2 else [])
        (total,) = dask.compute(parts[0])
        return total


_NOT_FINITE = (
    "The Dask array contains NaN or infinity. Remove or impute those values first."
)


def _persisted(X):
    """X in computed dtype, one block per row block, persisted (its sizes known)."""
    import dask

    (X,) = dask.persist(_prepared(X))
    return X


def _prepared(X):
    """X in computed dtype, one block per row block, its blocks' sizes known."""
    if any(np.isnan(size) for size in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if 0 in X.shape:
        raise ValueError(
            f"The Dask array has shape {X.shape}; it needs at least one "
            "sample and one feature."
        )
    return X.astype(computed_dtype(X.dtype)).rechunk({1: -1})


def _check_finite(X):
    if not np.isfinite(X).all():
        raise ValueError(_NOT_FINITE)


def _checked_first(function, X, *args):
    """``function(X, *args)`` on a block computed from the graph, checked first."""
    _check_finite(X)
    return function(X, *args)


def block_futures(array):
    """A persisted Dask array's futures (on a ``Client``), one per block, in
    block order."""
    import dask
    from distributed import futures_of

    futures = {future.key: future for future in futures_of(array)}
    return [futures[key] for key in dask.core.flatten(array.__dask_keys__())]


def _all_finite(X):
    import dask.array as da

    return da.isfinite(X).all()


def _active_client():
    """The ``distributed.Client`` that Dask's active scheduler is, or None."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    from dask.base import get_scheduler

    client = getattr(get_scheduler(), "__self__", None)
    return client if isinstance(client, distributed.Client) else None


def _piece(piece, block):
    """A piece of the targets or weights; ``block`` only places the task."""
    return piece


def _blocks_parts(function, blocks, aligned, *args):
    """``function`` on each of one worker's blocks: the list of their parts."""
    return [
        function(block, *(part[i] for part in aligned), *args)
        for i, block in enumerate(blocks)
    ]


def _sum_in_order(groups, order):
    """The parts of every group added in block order (``order[j]``: the block
    index of the j-th part, groups concatenated)."""
    parts = [part for group in groups for part in group]
    total = None
    for j in np.argsort(order, kind="stable"):
        total = parts[j] if total is None else _add(total, parts[j])
    return total


def _add(a, b):
    if isinstance(a, tuple):
        return tuple(_add(x, y) for x, y in zip(a, b, strict=True))
    return a + b


def _block_weight(X, weight, weight_sum):
    """One block's share of the mean: its weights (or ones) over ``weight_sum``."""
    ones = np.ones(X.shape[0])
    return (ones if weight is None else np.asarray(weight, np.float64)) / weight_sum


def _block_rows(X):
    """The rows of one block, in memory on its worker, read by their own kind
    from the first evaluation: each evaluation binds a block's rows anew, so
    a descent's count of NumPy's passes (``numpy_bytes``) is not theirs."""
    rows = make_rows(X)
    rows.numpy_bytes = 0
    return rows


def _block_gram(X, weight, fit_intercept, weight_sum):
    """One Dask block's part of ``X1^T diag(weight) X1``."""
    weight = _block_weight(X, weight, weight_sum)
    return feature_gram(_block_rows(X), weight, fit_intercept)


def _block_frobenius(X, weight, fit_intercept, weight_sum):
    """One Dask block's part of ``||diag(weight)^(1/2) X1||_F^2``."""
    weight = _block_weight(X, weight, weight_sum)
    return squared_frobenius_norm(_block_rows(X), weight, fit_intercept)


def _block_column_squares(X, weight, fit_intercept, weight_sum):
    """One Dask block's part of the diagonal of ``X1^T diag(weight) X1``."""
    weight = _block_weight(X, weight, weight_sum)
    return column_squares(_block_rows(X), weight, fit_intercept)


def _block_gram_times(X, weight, vector, fit_intercept, weight_sum):
    """One Dask block's part of ``X1^T diag(weight) X1 @ vector``."""
    weight = _block_weight(X, weight, weight_sum).astype(X.dtype)
    return gram_times(_block_rows(X), weight, vector, fit_intercept)


def _block_loss_gradient(X, target, weight, params, n_outputs, fit_intercept, total):
    """One Dask block's share of the smooth part (no penalty) and its gradient.

    The same evaluation as in memory, on the block's rows, with weights divided
    by the whole data's ``total``, the kernel on one thread (Dask already runs
    one block per worker thread).
    """
    from .._loss import loss_for_classes

    loss = loss_for_classes(2 if n_outputs == 1 else n_outputs)
    rows = _block_rows(X).bind(
        loss, loss.encode_target(target, X.dtype), weight, fit_intercept,
        weight_sum=total,
    )  # fmt: skip
    with rows.one_thread():
        return rows.loss_gradient(params)


def _block_outputs(function, coef, intercept, X):
    """``function`` on the raw predictions of one block, checked first."""
    X = check_array(X, dtype=None, ensure_min_samples=0)
    return function(numpy_raw(X, coef, intercept), np_compat)
