"""What every kind of rows shares: the protocol, the samples' shares, validation.

:class:`Rows` documents the protocol each kind implements and holds the
defaults; :class:`InMemoryRows` adds what the kinds whose ``X`` is an array in
memory share (validation by scikit-learn's ``validate_data``, row subsets,
chunks that are slices).
"""

import contextlib
import copy

import numpy as np
import scipy.sparse as sp
from sklearn.utils._array_api import (
    _matching_numpy_dtype,
    check_same_namespace,
    get_namespace_and_device,
)
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    check_consistent_length,
    column_or_1d,
    validate_data,
)

from .._namespace import namespace_of, on_device
from .._step_bound import (
    column_squares,
    squared_frobenius_norm,
    squared_spectral_norm,
)

#: The kernels ``make_rows`` takes (see there).
KERNELS = ("auto", "fused", "numpy")
#: The sparse formats fitted and predicted as they are.
ACCEPT_SPARSE = ["csr", "csc"]


def computed_dtype(dtype):
    """The dtype data of ``dtype`` is computed in: float32 stays, else float64."""
    return np.dtype(np.float32 if dtype == np.float32 else np.float64)


def weight_shares(sample_weight):
    """Each weight over the sum, and the sum, without overflow or underflow.

    Weights are divided by the largest first: weights of 1e308 sum to infinity,
    but their shares are exact (the sum, infinite, then makes the penalty's
    strength ``1 / (C S)`` zero, its limit). Weights of shape (k, n), one row
    per model, give shares per row and ``k`` sums.
    """
    weight = np.asarray(sample_weight, np.float64)
    if weight.ndim == 2:
        shares, totals = zip(*map(weight_shares, weight), strict=True)
        return np.stack(shares), np.array(totals)
    top = float(weight.max()) if weight.size else 0.0
    if top == 0:  # a part of the rows may weigh nothing
        return np.zeros_like(weight), 0.0
    relative = weight / top
    total = float(relative.sum())
    with np.errstate(over="ignore"):
        return relative / total, top * total


def numpy_raw(X, coef, intercept):
    """Raw predictions of NumPy or sparse rows: see :meth:`Rows.raw_block`."""
    with np.errstate(over="ignore"):
        return np.asarray(safe_sparse_dot(X, coef.T, dense_output=True) + intercept)


class Rows:
    """Where the rows of ``X`` live: the protocol every kind of rows implements.

    A rows object is made by :func:`~sklearn_gdlogreg._rows.make_rows`, the
    one place that chooses the kind. Unbound, it serves prediction and the
    checks of the data; :meth:`bind` gives the training view (targets and
    each sample's share of the mean), which computes the data term of the
    objective of ``k`` linear models that share ``X``: the weighted mean loss
    ``sum_i s_i loss(y_i, raw_i) / S`` and its gradient wrt the packed
    parameters, of shape ``(k, n_outputs, n_features + fit_intercept)`` with
    the intercept stored last. It knows nothing of penalties, steps or
    stopping.

    Attributes
    ----------
    X : object
        The data as given to the kind (an array, an ``h5py.Dataset``, a
        persisted Dask array).
    shape : tuple of (int, int)
        ``(n_samples, n_features)``.
    n_features : int
    dtype : numpy.dtype
        The NumPy dtype the rows are computed in: float32 stays float32,
        anything else is float64.
    xp, device
        The array namespace and device of the computation (NumPy's, "cpu",
        but for :class:`~sklearn_gdlogreg._rows.namespace.NamespaceRows`).
    dense : ndarray or None
        ``X`` where it is a NumPy ndarray in memory (the row space's Gram
        matrix needs one), else None.
    in_memory : bool
        Whether ``X`` is an array in memory: such rows can be subset at any
        indices (:meth:`take`; the others by whole blocks only), and
        :func:`make_rows` chooses their kind again for the kernel it is asked
        (the kind of in-memory data depends on its size).
    kernels : tuple of str
        The ``kernel`` values of ``make_rows`` this kind accepts.
    numpy_bytes : int
        How much of X a descent reads by NumPy's two passes before this kind's
        own evaluation (:class:`~sklearn_gdlogreg._rows.fused.DeferredFusedRows`
        leaves its first GB to them); 0 for the other kinds.

    After :meth:`bind`:

    weight_sum : float
        The ``S`` the weights are divided by.
    fit_intercept : bool
    loss : BinaryLogLoss or MultinomialLogLoss
    target : array
        The encoded target (``loss.encode_target``), in the kind's layout.
    sample_weight : ndarray or None
        As given to :meth:`bind`.
    share : array of shape (n_samples,) or ()
        Each sample's share of the mean ``s_i / S`` (one for all: shape ()),
        in the rows' dtype and namespace; ``host_share`` is the NumPy copy.
    """

    in_memory = False
    dense = None
    kernels = KERNELS
    #: Whether :meth:`bind` takes weights of shape (k, n_samples), one row per
    #: model (cross-validation's folds as models over all the rows).
    per_model_weights = False
    numpy_bytes = 0
    #: Why a kernel outside :attr:`kernels` cannot read these rows.
    kernel_error = ""
    #: Why these rows cannot be subset (:meth:`take`).
    take_error = ""
    #: What the blocks of :meth:`block_spans` are, and what else to do where
    #: there are too few to hold some out (:meth:`held_out_split`'s error).
    blocks_name = blocks_fix = ""

    # -- made and checked --------------------------------------------------

    @classmethod
    def check_kernel(cls, kernel):
        """Raise ``ValueError`` if this kind cannot be read by ``kernel``."""
        if kernel not in cls.kernels:
            raise ValueError(cls.kernel_error)

    @classmethod
    def checked_for_fit(cls, estimator, X, y, reset=True):
        """``(data, y)`` checked for ``estimator.fit``, ``data`` for ``make_rows``.

        The default, for rows not in memory: the rows are made (the kind checks
        X's shape and values), the number of features (and their names) set on
        ``estimator`` as ``validate_data`` does (with ``reset=False``, checked
        against those set: a later ``partial_fit``), and ``y`` checked against
        the number of samples without reading ``X``.
        """
        rows = cls(X)
        _check_feature_names(estimator, rows, reset=reset)
        _check_n_features(estimator, rows, reset=reset)
        y = column_or_1d(y, warn=True)
        check_consistent_length(np.empty((rows.shape[0], 0)), y)
        return rows, y

    @classmethod
    def checked_for_predict(cls, estimator, X, method):
        """The rows of ``X`` checked against the fitted ``estimator``."""
        rows = cls(X)
        _check_n_features(estimator, rows, reset=False)
        return rows

    def take(self, indices):
        """The rows at ``indices``: rows of the same protocol.

        Rows in memory take any indices (cross-validation's folds). Rows read
        block by block (:meth:`block_spans`) take the rows of whole blocks
        only, sorted, as :meth:`held_out_split` gives them; other indices
        raise ``ValueError`` (:attr:`take_error`).
        """
        from .held_out import blocks_taken

        spans = self.block_spans()
        return self.take_blocks(blocks_taken(spans, indices, self.take_error))

    def held_out_split(self, fraction, random_state, y_index):
        """``(train, held_out)``: the row indices early stopping trains on and
        scores on, each to :meth:`take`.

        For rows read block by block: ``fraction`` of the blocks (rounded, at
        least one, and one left to train on), drawn from ``random_state``,
        not stratified (``held_out.whole_blocks_split``); a ``ValueError``
        naming the blocks (and ``validation_fraction``) where there are too
        few.

        Parameters
        ----------
        fraction : float
            ``validation_fraction``.
        random_state : numpy.random.RandomState
        y_index : ndarray of shape (n_samples,)
            Each label's index among the classes (rows in memory stratify by it).

        Returns
        -------
        train, held_out : ndarray of int
        """
        from .held_out import whole_blocks_split

        return whole_blocks_split(
            self.block_spans(), fraction, random_state, self.blocks_name,
            self.blocks_fix,
        )  # fmt: skip

    def block_spans(self):
        """The ``(start, stop)`` of each block the rows are read in, in order:
        the units of :meth:`held_out_split` (rows read block by block)."""
        raise ValueError(self.take_error)

    def take_blocks(self, blocks):
        """The rows of the blocks at index ``blocks`` (sorted), as rows of
        this kind (rows read block by block)."""
        raise ValueError(self.take_error)

    # -- prediction --------------------------------------------------------

    def raw_block(self, X, coef, intercept):
        """Raw predictions ``X @ coef.T + intercept`` of an in-memory block.

        ``coef`` may be a SciPy sparse matrix (a sparsified ``coef_``).
        Overflowing margins are +-inf: probabilities 0 and 1, their limits.
        """
        return numpy_raw(X, coef, intercept)

    def map_raw(self, function, coef, intercept, n_columns, dtype=None):
        """``function(raw, xp)`` on the raw predictions of every block of rows.

        The predictions of any kind of rows in one code path: ``raw`` is
        :meth:`raw_block` of a block of rows, of shape (n_block, n_outputs),
        and ``function`` returns one value per row, or ``n_columns`` values.
        The results are assembled as the rows live: a NumPy array for NumPy
        rows (filled chunk by chunk for a streamed file), a lazy Dask array for
        a Dask array, an array of X's namespace for another namespace.

        Parameters
        ----------
        function : callable
            ``function(raw, xp)``; picklable where the blocks are on workers.
        coef : array of shape (n_outputs, n_features)
        intercept : array of shape (n_outputs,)
        n_columns : int or None
            None for one value per row.
        dtype : numpy.dtype, default=None
            The results' dtype, for the kinds that allocate them; default that
            of the raw predictions.
        """
        return function(self.raw_block(self.X, coef, intercept), self.xp)

    def raw_dtype(self, coef):
        """The dtype of the raw predictions with ``coef``."""
        return np.result_type(self.dtype, coef.dtype)

    # -- the step bound ----------------------------------------------------

    def row_chunks(self, size):
        """Yield ``(start, chunk)``: the rows in memory, about ``size`` at a time.

        ``chunk`` is an array in X's namespace (or a sparse matrix); the
        streamed kinds give chunks of their own buffer's size, in a buffer
        reused for the next chunk: copy to keep.
        """
        raise NotImplementedError

    # -- training ----------------------------------------------------------

    def bind(
        self, loss, target, sample_weight, fit_intercept, weight_sum=None, share=None
    ):
        """The rows with targets and each sample's share of the mean: a copy.

        Parameters
        ----------
        loss : BinaryLogLoss or MultinomialLogLoss
        target : ndarray
            Encoded by ``loss.encode_target`` (NumPy).
        sample_weight : ndarray of shape (n_samples,) or (k, n_samples), or None
            None means all ones. One row per model where the kind has
            :attr:`per_model_weights` (the share and ``S`` are then per model).
        fit_intercept : bool
        weight_sum : float or ndarray of shape (k,), default=None
            The ``S`` the weights are divided by; default their sum (a part
            of the rows, a Dask block, takes the whole data's).
        share : ndarray, default=None
            Each sample's share of the mean, where the caller has it (a
            mini-batch's, from the whole data's: ``batches.batch_shares``);
            default from ``sample_weight`` and ``weight_sum``.

        Returns
        -------
        Rows
            With :meth:`loss_gradient`, :meth:`value`, :meth:`squared_norm`
            and :meth:`running`.
        """
        bound = copy.copy(self)
        bound.loss = loss
        bound.target = bound.host_target = target
        bound.sample_weight = sample_weight
        bound.fit_intercept = fit_intercept
        # Each sample's share of the mean (one value for all without weights),
        # prepared on the host in the rows' precision.
        if share is not None:
            pass
        elif sample_weight is None:
            weight_sum = self.shape[0] if weight_sum is None else weight_sum
            share = 1 / weight_sum
        else:
            if np.ndim(sample_weight) == 2 and not self.per_model_weights:
                raise ValueError(f"{type(self).__name__} takes no per-model weights.")
            share, total = weight_shares(sample_weight)
            if weight_sum is None:
                weight_sum = total
            else:  # a part of the rows: shares of the whole data's sum
                share = share * np.reshape(total / weight_sum, (-1,) + (1,) * (
                    share.ndim - 1
                ))  # fmt: skip
        bound.weight_sum = weight_sum
        bound.share = bound.host_share = np.asarray(share, dtype=self.dtype)
        bound._bound()
        return bound

    def _bound(self):
        """What a kind prepares once bound (targets on the device, say)."""

    def mini_batches(self, batch_size, random_state=None):
        """Yield the bound rows of each mini-batch of one pass over the rows.

        Each batch ``B`` is an unbiased sample of the data term: its samples'
        shares are ``s_i / S * n / |B|`` (``S`` the whole data's weight sum),
        so that its mean loss is, in expectation over the batches of a pass,
        the whole data's (``batches.bound_batch``). The last batch may be
        smaller; rows read block by block (a streamed file, a Dask array)
        are cut into batches within each block, and each block's last batch
        may be smaller. A batch is used before the next is asked for (it may
        live in a reused buffer).

        Parameters
        ----------
        batch_size : int
        random_state : numpy.random.RandomState or None
            Shuffles the rows of each pass (blocks in shuffled order, rows
            shuffled within each block, for rows read block by block); None
            visits them in order.
        """
        raise NotImplementedError

    #: Whether the compiled epoch (``_kernels_epoch``) reads these bound
    #: rows, from the blocks of :meth:`epoch_blocks`.
    compiled_epochs = False

    def epoch_blocks(self, batch_size, random_state=None):
        """Yield ``(start, X, order)``: the blocks of one mini-batch pass, as
        the compiled epoch reads them (where :attr:`compiled_epochs`).

        ``X``: C-ordered float32 or float64 rows from ``start`` on (a buffer
        or view valid until the next block is asked for); ``order``: the
        indices of ``X``'s rows in the order the pass visits them, cut into
        batches of ``batch_size``. The batches, their order and the random
        draws are those of :meth:`mini_batches`.
        """
        raise NotImplementedError

    def for_fit(self, batches=False):
        """The rows as a fit reads them: in full passes, or in mini-batches.

        Themselves, but for the kinds whose reading pattern decides where the
        rows are kept (a Dask array is persisted for many passes, read block
        by block for mini-batches).
        """
        return self

    def select(self, models):
        """The bound rows for the models at index ``models`` only: themselves,
        but where the weights are per model."""
        if not self.per_model_weights or np.ndim(self.host_share) < 2:
            return self
        selected = copy.copy(self)
        selected.share = selected.host_share = self.host_share[models]
        selected.weight_sum = self.weight_sum[models]
        selected.sample_weight = self.sample_weight[models]
        return selected

    def loss_gradient(self, params):
        """The weighted mean loss of each model and its gradient: one evaluation.

        Parameters
        ----------
        params : array of shape (k, n_outputs, n_features + fit_intercept)
            In X's namespace, in the rows' dtype.

        Returns
        -------
        values : ndarray of shape (k,), float64, on the host
        gradient : array shaped as ``params``, in X's namespace
        """
        raise NotImplementedError

    def value(self, params):
        """The values of :meth:`loss_gradient` (one pass over ``X`` at most)."""
        return self.loss_gradient(params)[0]

    def squared_norm(self, exact=True, column_scale=None):
        """``||W^(1/2) [X, 1]||_2^2`` with W the samples' shares (the step bound).

        With ``exact=False``, the Frobenius norm's square, an upper bound in
        one pass over ``X``. With ``column_scale`` ``s`` (float64, of shape
        ``(n_features + fit_intercept,)``, or ``(k, ...)`` one per model), the
        norm of ``W^(1/2) [X, 1] diag(s)``.

        Returns
        -------
        float, or ndarray of shape (k,) where the shares or the scales are
        per model
        """
        if not exact and column_scale is not None:
            squares = self.column_squares() * np.square(column_scale)
            return squares.sum(axis=-1) if squares.ndim > 1 else float(squares.sum())
        weights = self._weights()
        if len(weights) == 1 and np.ndim(column_scale) < 2:
            return self._squared_norm(exact, weights[0], column_scale)
        # Per model: each model's shares, each model's scale.
        k = max(len(weights), len(column_scale) if np.ndim(column_scale) == 2 else 1)
        weights = weights * k if len(weights) == 1 else weights
        scales = column_scale if np.ndim(column_scale) == 2 else [column_scale] * k
        return np.array([
            self._squared_norm(exact, weight, scale)
            for weight, scale in zip(weights, scales, strict=True)
        ])  # fmt: skip

    def _squared_norm(self, exact, weight, column_scale):
        """:meth:`squared_norm` of one model's ``weight`` (and scale)."""
        if exact:
            return squared_spectral_norm(self, weight, self.fit_intercept, column_scale)
        return squared_frobenius_norm(self, weight, self.fit_intercept)

    def column_squares(self):
        """The diagonal of ``[X, 1]^T W [X, 1]`` (W the samples' shares): each
        column's weighted mean square, float64 on the host, in one pass; of
        shape ``(n_params,)``, or ``(k, n_params)`` with per-model weights."""
        squares = column_squares(self, self._weights(), self.fit_intercept)
        return squares[0] if np.ndim(self.host_share) < 2 else squares

    def _weights(self):
        """The samples' shares in X's namespace, on its device: a list of one
        for all models, or one per model."""
        share = self.host_share
        shares = [share] if np.ndim(share) < 2 else list(share)
        return [on_device(self.xp, np.reshape(s, -1), self.device) for s in shares]

    def running(self):
        """The context a whole descent over these rows runs in (none needed)."""
        return contextlib.nullcontext()

    def one_thread(self):
        """The context of an evaluation where the caller already runs one per
        thread (Dask's blocks): none needed but for the fused kernel."""
        return contextlib.nullcontext()


class InMemoryRows(Rows):
    """Rows of an array in memory, checked by scikit-learn's ``validate_data``.

    Parameters
    ----------
    X : {ndarray, sparse matrix, array-API array} of shape (n_samples, \
n_features)
        Validated: 2-D, float32 or float64, finite.
    """

    in_memory = True

    def __init__(self, X):
        self.X = X
        self.xp, self.device = namespace_of(X)
        self.shape = X.shape
        self.n_features = X.shape[1]
        self.dtype = (
            X.dtype if isinstance(X.dtype, np.dtype) else _matching_numpy_dtype(X)
        )

    @classmethod
    def checked_for_fit(cls, estimator, X, y, reset=True):
        """``validate_data(estimator, X, y)`` in X's namespace, sparse accepted."""
        xp, _, _ = get_namespace_and_device(X)
        return validate_data(
            estimator,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE,
            dtype=[xp.float64, xp.float32],
            reset=reset,
        )

    @classmethod
    def checked_for_predict(cls, estimator, X, method):
        """X validated against the fit; its namespace must be the fit's."""
        check_same_namespace(X, estimator, attribute="coef_", method=method)
        xp, _, _ = get_namespace_and_device(X)
        X = validate_data(
            estimator,
            X,
            accept_sparse=ACCEPT_SPARSE,
            dtype=[xp.float64, xp.float32],
            reset=False,
        )
        return cls(X)

    def take(self, indices):
        """The rows at ``indices``, in memory too (``make_rows`` then chooses
        the subset's own kind)."""
        return type(self)(self.X[indices])

    def held_out_split(self, fraction, random_state, y_index):
        """``fraction`` of the rows, stratified by ``y_index``, drawn from
        ``random_state`` (``held_out.stratified_split``): see
        :meth:`Rows.held_out_split`."""
        from .held_out import stratified_split

        return stratified_split(self.shape[0], fraction, random_state, y_index)

    def mini_batches(self, batch_size, random_state=None):
        """Batches of rows taken at shuffled indices (see :meth:`Rows.mini_batches`):
        copies of the dtype and format of ``X`` (float32 stays, sparse stays
        sparse; CSC is read as CSR, whose rows are cheap to take)."""
        rows = self
        if sp.issparse(self.X) and self.X.format != "csr":
            rows = copy.copy(self)
            rows.X = self.X.tocsr()
        order = self.pass_order(random_state)
        for start in range(0, self.shape[0], batch_size):
            yield rows.batch(order[start : start + batch_size])

    @property
    def compiled_epochs(self):
        """Rows of one model in memory as a C-ordered float NumPy array."""
        X = self.dense
        return (
            X is not None
            and X.flags.c_contiguous
            and X.dtype in (np.float32, np.float64)
            and np.ndim(self.host_share) < 2
        )

    def epoch_blocks(self, batch_size, random_state=None):
        """The whole array, in :meth:`pass_order` (see :meth:`Rows.epoch_blocks`)."""
        yield 0, self.dense, self.pass_order(random_state)

    def pass_order(self, random_state=None):
        """The rows of one pass, in order: shuffled by ``random_state`` (one
        permutation drawn), or as they are (None)."""
        n_samples = self.shape[0]
        if random_state is None:
            return np.arange(n_samples)
        return random_state.permutation(n_samples)

    def batch(self, indices):
        """The bound rows at ``indices``, each share times ``n / len(indices)``:
        an unbiased sample of the data term.

        Read by NumPy's two passes, as ``make_rows`` reads a batch (smaller
        than the fused kernel's first GB); the batches' kind and namespace
        are the first batch's, kept for the next ones (a batch costs the copy
        of its rows, not a choice of its kind). The shares are those of the
        compiled epoch (``_kernels_epoch``), ``batches.batch_shares``. Arrays of other
        namespaces are bound by ``batches.bound_batch``, on their device.
        """
        from .batches import batch_shares, bound_batch

        if not (isinstance(self.X, np.ndarray) or sp.issparse(self.X)):
            return bound_batch(self, self.take(indices).X, indices)
        X = self.X[indices]
        batch = self.__dict__.get("_batch_rows")
        if batch is None:
            from . import kind_of

            batch = self._batch_rows = kind_of(X, "numpy")(X)
        batch = copy.copy(batch)
        batch.X, batch.shape = X, X.shape
        if batch.dense is not None:
            batch.dense = X
        batch.loss, batch.fit_intercept = self.loss, self.fit_intercept
        batch.target = batch.host_target = self.host_target[..., indices]
        batch.sample_weight = (
            None if self.sample_weight is None else self.sample_weight[indices]
        )
        batch.weight_sum, share = batch_shares(self, indices)
        batch.share = batch.host_share = share
        batch._bound()
        return batch

    def row_chunks(self, size):
        n_samples = self.shape[0]
        for start in range(0, n_samples, size):
            yield start, self.X[start : min(start + size, n_samples), :]
