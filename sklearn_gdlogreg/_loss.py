"""Log-loss and its gradient for linear models: the only place with the maths.

Two losses work on raw predictions (margins): :class:`BinaryLogLoss` (sigmoid,
one output) and :class:`MultinomialLogLoss` (softmax, one output per class).
:class:`LinearObjective` adds the linear model, sample weights and the elastic-net
penalty, for ``k`` models that share ``X`` (the estimator fits one; the
cross-validated estimator fits one per learning rate and ``C``, so that a step
for all of them is one matrix product).

Parameters are packed as in scikit-learn's ``LinearModelLoss``, the intercept
stored last: an array of shape ``(k, n_outputs, n_features + fit_intercept)``.
Raw predictions during fitting have shape ``(k, n_outputs, n_samples)``: samples
last, so that sums and maxima over the outputs of each sample run over whole
contiguous rows (fast), and ``coef @ X.T`` gives them directly.
"""

import copy

import numpy as np
from scipy import sparse
from sklearn.externals.array_api_compat import numpy as np_compat
from sklearn.utils._array_api import _expit

from ._dask import DaskRows
from ._namespace import (
    is_numpy,
    model_sums,
    namespace_of,
    on_device,
    per_model,
    sum_dtype,
    to_host,
)
from ._rows import DatasetRows, row_chunks


class BinaryLogLoss:
    """Sigmoid output with the binary log-loss (cross-entropy).

    ``loss(y, raw) = log(1 + exp(raw)) - y * raw`` with ``y`` in {0, 1}, which is
    ``-(y log(a) + (1 - y) log(1 - a))`` with ``a = sigmoid(raw)``, computed
    without overflow for any finite ``raw``.

    Parameters
    ----------
    xp : namespace, default=None
        The array namespace of the raw predictions; default NumPy.
    """

    n_outputs = 1

    def __init__(self, xp=None):
        self.xp = np_compat if xp is None else xp

    def encode_target(self, y_index, dtype):
        """The target as the loss uses it: 0/1 floats of shape (1, 1, n), NumPy."""
        return np.asarray(y_index, dtype=dtype).reshape(1, 1, -1)

    def loss(self, raw, target):
        """Per-sample loss (k, n) for raw of shape (k, 1, n)."""
        return (_softplus(self.xp, raw) - target * raw)[:, 0, :]

    def loss_gradient(self, raw, target):
        """Per-sample loss (k, n) and its gradient wrt ``raw`` (k, 1, n)."""
        return self.loss(raw, target), _expit(raw, xp=self.xp) - target

    def predict_proba(self, raw):
        """Probabilities of the two classes from raw of shape (n, 1): (n, 2)."""
        proba = _expit(raw, xp=self.xp)
        return self.xp.concat([1 - proba, proba], axis=1)

    def predict_log_proba(self, raw):
        """Logarithm of :meth:`predict_proba`, computed without taking log(0)."""
        return -_softplus(self.xp, self.xp.concat([raw, -raw], axis=1))

    def curvature_bound(self):
        """Upper bound of the second derivative of the loss wrt ``raw``."""
        return 0.25


def _softplus(xp, raw):
    """``log(1 + exp(raw))`` without overflow: NumPy's ``logaddexp(0, raw)``."""
    if is_numpy(xp):
        return np.logaddexp(0, raw)
    return xp.clip(raw, min=0) + xp.log1p(xp.exp(-xp.abs(raw)))


class MultinomialLogLoss:
    """Softmax output with the multinomial log-loss (categorical cross-entropy).

    ``loss(y, raw) = logsumexp(raw) - raw[y]``, computed with log-sum-exp.

    Parameters
    ----------
    n_classes : int
    xp : namespace, default=None
        The array namespace of the raw predictions; default NumPy.
    """

    def __init__(self, n_classes, xp=None):
        self.n_outputs = n_classes
        self.xp = np_compat if xp is None else xp

    def encode_target(self, y_index, dtype):
        """The target as the loss uses it: class indices of shape (n,), NumPy."""
        return np.asarray(y_index, dtype=np.intp)

    def _picked(self, shifted, target):
        """``shifted[:, target_i, i]`` for each sample i: shape (k, n)."""
        if is_numpy(self.xp):
            return shifted[:, target, np.arange(shifted.shape[-1])]
        return self.xp.sum(shifted * self._one_hot(target, shifted.dtype), axis=1)

    def _one_hot(self, target, dtype):
        xp = self.xp
        classes = xp.arange(self.n_outputs, device=target.device)
        return xp.astype(target == xp.reshape(classes, (-1, 1)), dtype)

    def loss(self, raw, target):
        """Per-sample loss (k, n) for raw of shape (k, n_classes, n)."""
        shifted, _, sum_exp = _shifted_exp(self.xp, raw, axis=1)
        return self.xp.log(sum_exp[:, 0, :]) - self._picked(shifted, target)

    def loss_gradient(self, raw, target):
        """Per-sample loss (k, n) and its gradient wrt ``raw`` (k, n_classes, n)."""
        shifted, exp_shifted, sum_exp = _shifted_exp(self.xp, raw, axis=1)
        loss = self.xp.log(sum_exp[:, 0, :]) - self._picked(shifted, target)
        gradient = exp_shifted / sum_exp
        if is_numpy(self.xp):
            gradient[:, target, np.arange(raw.shape[-1])] -= 1
        else:
            gradient = gradient - self._one_hot(target, gradient.dtype)
        return loss, gradient

    def predict_proba(self, raw):
        """Class probabilities (softmax) from raw of shape (n, n_classes)."""
        _, exp_shifted, sum_exp = _shifted_exp(self.xp, raw, axis=-1)
        return exp_shifted / sum_exp

    def predict_log_proba(self, raw):
        """Logarithm of the class probabilities, by log-sum-exp."""
        shifted, _, sum_exp = _shifted_exp(self.xp, raw, axis=-1)
        return shifted - self.xp.log(sum_exp)

    def curvature_bound(self):
        """Upper bound of the Hessian's eigenvalues wrt one sample's ``raw``.

        Böhning's bound: the softmax Hessian ``diag(p) - p p^T`` is at most
        ``(I - 1 1^T / k) / 2``, whose eigenvalues are at most 1/2.
        """
        return 0.5


def _shifted_exp(xp, raw, axis):
    """Log-sum-exp's pieces: ``raw - max``, its exp, and the sum of that.

    Along the classes' ``axis``. Working from ``raw - max`` keeps every exponent
    at most 0 (no overflow) and the sum at least 1 (no log(0)); probabilities
    then sum to 1 to rounding, and ``log(sum) - shifted[y]`` loses no digits to
    cancellation of large margins.
    """
    shifted = raw - xp.max(raw, axis=axis, keepdims=True)
    exp_shifted = xp.exp(shifted)
    return shifted, exp_shifted, xp.sum(exp_shifted, axis=axis, keepdims=True)


def loss_for_classes(n_classes, xp=None):
    """Return the loss for ``n_classes``: binary for two, multinomial for more.

    ``xp`` is the array namespace of the raw predictions (default NumPy).
    """
    if n_classes == 2:
        return BinaryLogLoss(xp)
    return MultinomialLogLoss(n_classes, xp)


class LinearObjective:
    """Mean weighted log-loss of linear models plus an elastic-net penalty.

    For each of ``k`` models, with ``s_i`` the sample weights, ``S = sum_i s_i``
    and ``r`` the model's ``l1_ratio``::

        J(w, b) = sum_i s_i loss(y_i, x_i w^T + b) / S
                  + (r ||w||_1 + (1 - r) ||w||^2 / 2) / (C S)

    the objective of :class:`~sklearn.linear_model.LogisticRegression` divided by
    ``C S``, so it has the same minimiser. The intercept ``b`` is not penalised.
    The smooth part (loss and L2) has a gradient; the L1 part is handled by its
    proximal operator, soft-thresholding.

    :meth:`loss_gradient` evaluates the smooth part and its gradient. For dense
    data it runs the fused pass of ``_kernels`` (one read of ``X``); otherwise
    (sparse data, or ``kernel="numpy"``) it is split where ``X`` is read:
    :meth:`forward` computes the raw predictions (one pass over ``X``),
    :meth:`smooth` the smooth part and its gradient wrt the raw predictions (no
    pass), :meth:`backward` the gradient wrt the parameters (one pass). That
    NumPy path is the reference the fused pass is tested against.

    Parameters
    ----------
    loss : BinaryLogLoss or MultinomialLogLoss
        The loss on raw predictions.
    X : {ndarray, sparse matrix, DatasetRows, array-API array} of shape \
(n_samples, n_features)
        Training data, float32 or float64; the computation keeps its dtype.
        A :class:`~sklearn_gdlogreg._rows.DatasetRows` is streamed from its file
        through the fused pass. An array of another array-API namespace (with
        ``array_api_dispatch``) is computed in that namespace, on its device.
    target : ndarray
        Target encoded by ``loss.encode_target`` (NumPy; moved to X's device).
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights with a positive sum; None means all ones. NumPy,
        or X's namespace.
    C : float or ndarray of shape (k,)
        Inverse of the penalty's strength, per model; ``np.inf``: no penalty.
    fit_intercept : bool
        Whether the last parameter of each output is an intercept.
    l1_ratio : float or ndarray of shape (k,), default=0.0
        Share of L1 in the penalty, per model.
    kernel : {"auto", "fused", "numpy"}, default="auto"
        How :meth:`loss_gradient` reads ``X``: "fused" (one pass, dense data
        only), "numpy" (two BLAS passes), or "auto": fused for C-ordered dense
        data of at least 1 MB and for streamed data, else numpy.
    weight_sum : float, default=None
        The ``S`` the weights are divided by; default their sum (``n_samples``
        without weights). A part of the rows given the whole data's ``S``
        computes that part's share of the mean loss.
    """

    def __init__(
        self,
        loss,
        X,
        target,
        sample_weight,
        C,
        fit_intercept,
        l1_ratio=0.0,
        kernel="auto",
        weight_sum=None,
    ):
        self.xp, self.device = xp, device = namespace_of(X)
        self.loss = loss
        self.X = X
        self.target = on_device(xp, target, device)
        self.fit_intercept = fit_intercept
        sample_weight = on_device(xp, sample_weight, device)
        self.sample_weight = sample_weight
        n_samples = X.shape[0]
        if weight_sum is None:
            weight_sum = (
                n_samples if sample_weight is None else float(xp.sum(sample_weight))
            )
        # Each sample's share of the mean; it scales (..., n) arrays.
        if sample_weight is None:
            self.normalized_weight = xp.asarray(
                1 / weight_sum, dtype=X.dtype, device=device
            )
        else:
            self.normalized_weight = sample_weight / weight_sum
        C, l1_ratio = np.broadcast_arrays(
            np.asarray(C, float), np.asarray(l1_ratio, float)
        )
        strength = np.zeros(C.shape)
        finite = ~np.isinf(C)
        strength[finite] = 1.0 / (C[finite] * weight_sum)
        self.l2_reg_strength = strength * (1 - l1_ratio)
        self.l1_reg_strength = strength * l1_ratio
        self._set_flags()
        self.weight_sum = weight_sum
        self.distributed = isinstance(X, DaskRows)
        if self.distributed:
            # Targets and weights go to the workers once, beside X's blocks.
            self._blocks = [
                X.aligned(np.reshape(target, -1)),
                X.aligned(sample_weight),
            ]
        self.fused = not self.distributed and _use_fused(X, kernel)
        if self.fused:
            # Per-sample float targets and shares, as the fused pass reads them.
            self._fused_target = np.ascontiguousarray(target, X.dtype).reshape(-1)
            self._fused_weight = np.ascontiguousarray(
                self.normalized_weight, X.dtype
            ).reshape(-1)
            self._workspace = {}

    def _set_flags(self):
        # Whether any model has an L2 part; whether any has an L1 part (and so
        # needs the proximal step).
        self.has_l2 = bool(np.any(self.l2_reg_strength))
        self.has_l1 = bool(np.any(self.l1_reg_strength))

    @property
    def n_params(self):
        """Number of packed parameters per output: features plus intercept."""
        return self.X.shape[1] + int(self.fit_intercept)

    def select(self, models):
        """The same objective for the models at index ``models`` only."""
        selected = copy.copy(self)
        if np.ndim(self.l2_reg_strength):
            selected.l2_reg_strength = self.l2_reg_strength[models]
            selected.l1_reg_strength = self.l1_reg_strength[models]
            selected._set_flags()
        return selected

    def forward(self, params):
        """Raw predictions ``coef @ X.T + intercept``, shape (k, n_outputs, n)."""
        xp = self.xp
        k, n_outputs, _ = params.shape
        n_features = self.X.shape[1]
        coef = xp.reshape(params[..., :n_features], (k * n_outputs, n_features))
        raw = coef @ self.X.T
        if is_numpy(xp):
            raw = np.asarray(raw)  # from a sparse product too
        if self.fit_intercept:
            raw += xp.reshape(params[..., n_features], (-1, 1))
        return xp.reshape(raw, (k, n_outputs, -1))

    def smooth(self, raw, params):
        """The smooth part of J per model, and its gradient wrt ``raw``.

        Returns
        -------
        values : ndarray of shape (k,), float64, on the host
        grad_raw : array of shape (k, n_outputs, n)
            Weighted by each sample's share, ready for :meth:`backward`.
        """
        loss, grad_raw = self.loss.loss_gradient(raw, self.target)
        grad_raw *= self.normalized_weight
        return self._values(loss, params), grad_raw

    def smooth_value(self, raw, params):
        """The smooth part of J per model, without its gradient: shape (k,)."""
        return self._values(self.loss.loss(raw, self.target), params)

    def _values(self, loss, params):
        values = model_sums(self.xp, loss * self.normalized_weight)
        return values + self._l2_value(params)

    def _l2_value(self, params):
        """The L2 part of J per model (0 without one)."""
        if not self.has_l2:
            return 0.0
        coef = params[..., : self.X.shape[1]]
        return 0.5 * self.l2_reg_strength * model_sums(self.xp, coef * coef)

    def _add_l2_gradient(self, gradient, params):
        """Add the L2 part's gradient to ``gradient`` in place."""
        if self.has_l2:
            n_features = self.X.shape[1]
            coef = params[..., :n_features]
            strength = per_model(self.xp, self.l2_reg_strength, coef)
            gradient[..., :n_features] += strength * coef
        return gradient

    def backward(self, grad_raw, params):
        """Gradient of the smooth part wrt the parameters, shaped as ``params``."""
        xp = self.xp
        k, n_outputs, n_samples = grad_raw.shape
        n_features = self.X.shape[1]
        flat = xp.reshape(grad_raw, (k * n_outputs, n_samples))
        product = flat @ self.X
        if is_numpy(xp):
            product = np.asarray(product)  # from a sparse product too
        gradient = xp.empty_like(params)
        gradient[..., :n_features] = xp.reshape(product, (k, n_outputs, n_features))
        if self.fit_intercept:
            gradient[..., n_features] = xp.sum(grad_raw, axis=2)
        return self._add_l2_gradient(gradient, params)

    def nonsmooth(self, params):
        """The L1 part of J per model, shape (k,), on the host."""
        if not self.has_l1:
            return np.zeros(params.shape[0])
        coef = params[..., : self.X.shape[1]]
        return self.l1_reg_strength * model_sums(self.xp, self.xp.abs(coef))

    def prox(self, params, step):
        """Proximal step of the L1 part, in place: soft-thresholding.

        ``w <- sign(w) max(|w| - step * l1, 0)`` on the coefficients (not the
        intercept), the minimiser of ``l1 ||w||_1 + ||w - params||^2 / (2 step)``.

        Parameters
        ----------
        params : ndarray of shape (k, n_outputs, n_params)
        step : ndarray of shape (k,)
        """
        if self.has_l1:
            xp = self.xp
            n_features = self.X.shape[1]
            coef = params[..., :n_features]
            threshold = per_model(xp, np.asarray(step) * self.l1_reg_strength, coef)
            shrunk = xp.clip(xp.abs(coef) - threshold, min=0)
            params[..., :n_features] = xp.sign(coef) * shrunk
        return params

    def loss_gradient(self, params):
        """The smooth part of J and its gradient at ``params``: one evaluation.

        Returns
        -------
        values : ndarray of shape (k,), float64, on the host
        gradient : array shaped as ``params``, in X's namespace
        """
        if self.fused:
            return self._fused_loss_gradient(params)
        if self.distributed:
            values, gradient = self.X.map_sum(
                _block_loss_gradient,
                self._blocks,
                params,
                self.loss.n_outputs,
                self.fit_intercept,
                self.weight_sum,
            )
            values = values + self._l2_value(params)
            return values, self._add_l2_gradient(gradient, params)
        raw = self.forward(params)
        values, grad_raw = self.smooth(raw, params)
        return values, self.backward(grad_raw, params)

    def _fused_loss_gradient(self, params):
        from ._kernels import FusedSums  # numba: imported only when used

        k, n_outputs, _ = params.shape
        n_features = self.X.shape[1]
        coef = params[..., :n_features]
        intercept = (
            params[..., n_features]
            if self.fit_intercept
            else np.zeros((k, n_outputs), params.dtype)
        )
        sums = FusedSums(
            n_features,
            self.X.dtype,
            coef.reshape(k * n_outputs, n_features),
            intercept.reshape(-1),
            n_outputs,
        )
        chunks = (
            self.X.chunks(sums.rows_per_block)
            if isinstance(self.X, DatasetRows)
            else [(0, self.X)]
        )
        one_share = self._fused_weight.size == 1
        for start, rows in chunks:
            stop = start + len(rows)
            weight = self._fused_weight if one_share else self._fused_weight[start:stop]
            sums.add(rows, self._fused_target[start:stop], weight, self._workspace)
        gradient = np.empty_like(params)
        gradient[..., :n_features] = sums.grad.reshape(k, n_outputs, n_features)
        if self.fit_intercept:
            gradient[..., n_features] = sums.intercept_grad.reshape(k, n_outputs)
        values = sums.loss + self._l2_value(params)
        return values, self._add_l2_gradient(gradient, params)

    def value(self, params):
        """J per model at ``params``, shape (k,)."""
        if self.fused or self.distributed:
            smooth = self.loss_gradient(params)[0]
        else:
            smooth = self.smooth_value(self.forward(params), params)
        return smooth + self.nonsmooth(params)

    def lipschitz_constant(self):
        """Upper bound of the Lipschitz constant of the smooth part's gradient.

        The Hessian is ``X1^T D X1 / S + l2`` on the coefficients, with ``X1 = [X,
        1]`` and ``D`` the sample weights times the loss's curvature, which is at
        most ``curvature_bound``. Hence ``L <= curvature_bound * ||W^(1/2) X1||_2^2
        / S + l2`` with ``W`` the diagonal of normalised sample weights.
        A step of ``1 / L`` makes every iteration decrease the objective.

        Returns
        -------
        float or ndarray of shape (k,)
            Per model where the strengths are per model.
        """
        if self.distributed:
            sq_norm = _distributed_squared_norm(
                self.X, self._blocks[1], self.fit_intercept, self.weight_sum
            )
        else:
            sq_norm = squared_spectral_norm(
                self.X,
                self.xp.reshape(self.normalized_weight, (-1,)),
                self.fit_intercept,
            )
        return self.loss.curvature_bound() * sq_norm + self.l2_reg_strength


# Sizes up to which the largest singular value is computed exactly from a Gram
# matrix; larger problems use power iteration.
_EXACT_GRAM_MAX_SIDE = 256
_POWER_ITERATIONS = 50
_POWER_RTOL = 1e-6
_CHUNK_ROWS = 8192


def squared_spectral_norm(X, weight, fit_intercept):
    """Largest eigenvalue of ``X1^T diag(weight) X1`` with ``X1 = [X, 1]``.

    Exact (from the smaller Gram matrix, in float64) when one side of ``X1`` has at
    most 256 entries; otherwise by power iteration from a fixed start, 50 steps at
    most, which is exact in practice and within a factor below 2 of the exact value
    in all but contrived cases (the step 1 / L still decreases the objective while
    L is over half the true constant). Computed in X's namespace, on its device.

    Parameters
    ----------
    X : {ndarray, sparse matrix, DatasetRows, array-API array} of shape \
(n_samples, n_features)
    weight : array of shape (n_samples,) or shape ()
        Non-negative weight of each sample (a scalar: the same for all), in
        X's namespace.
    fit_intercept : bool
        Whether to append a column of ones to ``X``.

    Returns
    -------
    float
    """
    xp, device = namespace_of(X)
    n_samples, n_features = X.shape
    dtype = sum_dtype(xp, device)
    weight = xp.broadcast_to(xp.astype(weight, dtype), (n_samples,))
    n_params = n_features + int(fit_intercept)
    if isinstance(X, DatasetRows) and n_params > _EXACT_GRAM_MAX_SIDE:
        return _power_iteration(xp, X, weight, fit_intercept)
    if min(n_samples, n_params) <= _EXACT_GRAM_MAX_SIDE:
        gram = (
            _feature_gram(xp, X, weight, fit_intercept)
            if n_params <= n_samples
            else _sample_gram(xp, X, weight, fit_intercept)
        )
        return float(np.linalg.eigvalsh(to_host(xp, gram))[-1])
    return _power_iteration(xp, X, weight, fit_intercept)


def _with_ones(xp, X, fit_intercept, dtype):
    """``[X, 1]`` in ``dtype`` (dense or sparse), or ``X`` in ``dtype``."""
    if sparse.issparse(X):
        X = sparse.csr_array(X, dtype=dtype)
        if fit_intercept:
            X = sparse.hstack([X, np.ones((X.shape[0], 1))], format="csr")
        return X
    X = xp.astype(xp.asarray(X), dtype)
    if fit_intercept:
        ones = xp.ones((X.shape[0], 1), dtype=dtype, device=xp.asarray(X).device)
        X = xp.concat([X, ones], axis=1)
    return X


def _feature_gram(xp, X, weight, fit_intercept):
    """``X1^T diag(weight) X1``, accumulated over row chunks to bound memory."""
    n_params = X.shape[1] + int(fit_intercept)
    gram = xp.zeros((n_params, n_params), dtype=weight.dtype, device=weight.device)
    for start, chunk in row_chunks(X, _CHUNK_ROWS):
        chunk_weight = xp.reshape(weight[start : start + chunk.shape[0]], (-1, 1))
        chunk = _with_ones(xp, chunk, fit_intercept, weight.dtype)
        weighted = (
            chunk.multiply(chunk_weight)
            if sparse.issparse(chunk)
            else (chunk * chunk_weight)
        )
        product = chunk.T @ weighted
        gram += product.toarray() if sparse.issparse(product) else product
    return gram


def _sample_gram(xp, X, weight, fit_intercept):
    """``diag(w)^(1/2) X1 X1^T diag(w)^(1/2)``: same nonzero eigenvalues."""
    if isinstance(X, DatasetRows):
        X = np.concatenate([chunk.copy() for _, chunk in X.chunks()])
    X1 = _with_ones(xp, X, fit_intercept, weight.dtype)
    gram = X1 @ X1.T
    gram = gram.toarray() if sparse.issparse(gram) else gram
    root = xp.sqrt(weight)
    return gram * xp.reshape(root, (-1, 1)) * xp.reshape(root, (1, -1))


def _power_iteration(xp, X, weight, fit_intercept):
    """Power iteration on ``X1^T diag(weight) X1`` from a fixed random start."""
    # Products run in X's dtype so that float32 X is never copied to float64.
    weight = xp.astype(weight, X.dtype)
    return _largest_eigenvalue(
        xp,
        lambda vector: _gram_times(xp, X, weight, vector, fit_intercept),
        X.shape[1] + int(fit_intercept),
        weight.device,
    )


def _largest_eigenvalue(xp, gram_times, size, device):
    """Power iteration with the product ``gram_times(vector)`` of a PSD matrix."""
    start = np.random.RandomState(0).standard_normal(size)
    vector = xp.asarray(start, dtype=sum_dtype(xp, device), device=device)
    estimate = 0.0
    for _ in range(_POWER_ITERATIONS):
        vector = vector / xp.linalg.vector_norm(vector)
        new_vector = gram_times(vector)
        new_estimate = float(xp.sum(vector * new_vector))
        vector = new_vector
        if abs(new_estimate - estimate) <= _POWER_RTOL * new_estimate:
            return new_estimate
        estimate = new_estimate
    return estimate


def _gram_times(xp, X, weight, vector, fit_intercept):
    """``X1^T diag(weight) X1 @ vector``, over row chunks, in ``vector``'s dtype."""
    n_features = X.shape[1]
    coef = xp.astype(vector[:n_features], X.dtype)
    intercept = xp.astype(vector[n_features:], X.dtype)
    new_vector = xp.zeros_like(vector)
    for start, chunk in row_chunks(X, _CHUNK_ROWS):
        product = chunk @ coef
        if fit_intercept:
            product = product + intercept
        weighted = weight[start : start + chunk.shape[0]] * product
        new_vector[:n_features] += weighted @ chunk
        if fit_intercept:
            new_vector[n_features:] += xp.sum(weighted, dtype=vector.dtype)
    return new_vector


def _distributed_squared_norm(rows, weights, fit_intercept, weight_sum):
    """:func:`squared_spectral_norm` of a Dask ``X``, block by block on the workers.

    ``weights`` are the sample weights split as X's rows (or Nones), to be
    divided by ``weight_sum``.
    """
    n_params = rows.shape[1] + int(fit_intercept)
    if n_params <= _EXACT_GRAM_MAX_SIDE:
        gram = rows.map_sum(_block_gram, [weights], fit_intercept, weight_sum)
        return float(np.linalg.eigvalsh(gram)[-1])
    return _largest_eigenvalue(
        np_compat,
        lambda vector: rows.map_sum(
            _block_gram_times, [weights], vector, fit_intercept, weight_sum
        ),
        n_params,
        "cpu",
    )


def _block_weight(X, weight, weight_sum):
    """One block's share of the mean: its weights (or ones) over ``weight_sum``."""
    ones = np.ones(X.shape[0])
    return (ones if weight is None else np.asarray(weight, np.float64)) / weight_sum


def _block_gram(X, weight, fit_intercept, weight_sum):
    """One Dask block's part of ``X1^T diag(weight) X1``."""
    weight = _block_weight(X, weight, weight_sum)
    return _feature_gram(np_compat, X, weight, fit_intercept)


def _block_gram_times(X, weight, vector, fit_intercept, weight_sum):
    """One Dask block's part of ``X1^T diag(weight) X1 @ vector``."""
    weight = _block_weight(X, weight, weight_sum).astype(X.dtype)
    return _gram_times(np_compat, X, weight, vector, fit_intercept)


def _block_loss_gradient(X, target, weight, params, n_outputs, fit_intercept, total):
    """One Dask block's share of the smooth part (no penalty) and its gradient.

    The same evaluation as in memory, on the block's rows, with weights divided
    by the whole data's ``total``.
    """
    loss = loss_for_classes(2 if n_outputs == 1 else n_outputs)
    objective = LinearObjective(
        loss,
        X,
        loss.encode_target(target, X.dtype),
        weight,
        np.inf,
        fit_intercept,
        weight_sum=total,
    )
    if not objective.fused:
        return objective.loss_gradient(params)
    from ._kernels import one_thread

    # Dask already runs one block per worker thread.
    with one_thread():
        return objective.loss_gradient(params)


# Below this size the fused pass gains too little to be worth its compilation.
_FUSED_MIN_BYTES = 1 << 20


def _use_fused(X, kernel):
    """Whether ``loss_gradient`` runs the fused pass, for ``kernel``."""
    if kernel not in ("auto", "fused", "numpy"):
        raise ValueError(f"kernel must be 'auto', 'fused' or 'numpy', got {kernel!r}")
    if isinstance(X, DatasetRows):
        if kernel == "numpy":
            raise ValueError("Data streamed from a file needs the fused kernel.")
        return True
    dense = isinstance(X, np.ndarray) and X.flags.c_contiguous
    if kernel == "fused" and not dense:
        raise ValueError("The fused kernel needs a C-ordered dense array.")
    if kernel == "auto":
        return dense and X.nbytes >= _FUSED_MIN_BYTES
    return kernel == "fused"
