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
from scipy.special import expit

from ._rows import DatasetRows, row_chunks


class BinaryLogLoss:
    """Sigmoid output with the binary log-loss (cross-entropy).

    ``loss(y, raw) = log(1 + exp(raw)) - y * raw`` with ``y`` in {0, 1}, which is
    ``-(y log(a) + (1 - y) log(1 - a))`` with ``a = sigmoid(raw)``, computed
    without overflow for any finite ``raw``.
    """

    n_outputs = 1

    def encode_target(self, y_index, dtype):
        """The target as the loss uses it: 0/1 floats of shape (1, 1, n)."""
        return np.asarray(y_index, dtype=dtype).reshape(1, 1, -1)

    def loss(self, raw, target):
        """Per-sample loss (k, n) for raw of shape (k, 1, n)."""
        return (np.logaddexp(0, raw) - target * raw)[:, 0]

    def loss_gradient(self, raw, target):
        """Per-sample loss (k, n) and its gradient wrt ``raw`` (k, 1, n)."""
        return self.loss(raw, target), expit(raw) - target

    def predict_proba(self, raw):
        """Probabilities of the two classes from raw of shape (n, 1): (n, 2)."""
        proba = expit(raw)
        return np.hstack([1 - proba, proba])

    def predict_log_proba(self, raw):
        """Logarithm of :meth:`predict_proba`, computed without taking log(0)."""
        return -np.logaddexp(0, np.hstack([raw, -raw]))

    def curvature_bound(self):
        """Upper bound of the second derivative of the loss wrt ``raw``."""
        return 0.25


class MultinomialLogLoss:
    """Softmax output with the multinomial log-loss (categorical cross-entropy).

    ``loss(y, raw) = logsumexp(raw) - raw[y]``, computed with log-sum-exp.
    """

    def __init__(self, n_classes):
        self.n_outputs = n_classes

    def encode_target(self, y_index, dtype):
        """The target as the loss uses it: class indices of shape (n,)."""
        return np.asarray(y_index, dtype=np.intp)

    def loss(self, raw, target):
        """Per-sample loss (k, n) for raw of shape (k, n_classes, n)."""
        shifted, _, sum_exp = _shifted_exp(raw, axis=1)
        return np.log(sum_exp[:, 0]) - shifted[:, target, np.arange(raw.shape[-1])]

    def loss_gradient(self, raw, target):
        """Per-sample loss (k, n) and its gradient wrt ``raw`` (k, n_classes, n)."""
        samples = np.arange(raw.shape[-1])
        shifted, exp_shifted, sum_exp = _shifted_exp(raw, axis=1)
        loss = np.log(sum_exp[:, 0]) - shifted[:, target, samples]
        gradient = exp_shifted / sum_exp
        gradient[:, target, samples] -= 1
        return loss, gradient

    def predict_proba(self, raw):
        """Class probabilities (softmax) from raw of shape (n, n_classes)."""
        _, exp_shifted, sum_exp = _shifted_exp(raw, axis=-1)
        return exp_shifted / sum_exp

    def predict_log_proba(self, raw):
        """Logarithm of the class probabilities, by log-sum-exp."""
        shifted, _, sum_exp = _shifted_exp(raw, axis=-1)
        return shifted - np.log(sum_exp)

    def curvature_bound(self):
        """Upper bound of the Hessian's eigenvalues wrt one sample's ``raw``.

        Böhning's bound: the softmax Hessian ``diag(p) - p p^T`` is at most
        ``(I - 1 1^T / k) / 2``, whose eigenvalues are at most 1/2.
        """
        return 0.5


def _shifted_exp(raw, axis):
    """Log-sum-exp's pieces: ``raw - max``, its exp, and the sum of that.

    Along the classes' ``axis``. Working from ``raw - max`` keeps every exponent
    at most 0 (no overflow) and the sum at least 1 (no log(0)); probabilities
    then sum to 1 to rounding, and ``log(sum) - shifted[y]`` loses no digits to
    cancellation of large margins.
    """
    shifted = raw - raw.max(axis=axis, keepdims=True)
    exp_shifted = np.exp(shifted)
    return shifted, exp_shifted, exp_shifted.sum(axis=axis, keepdims=True)


def loss_for_classes(n_classes):
    """Return the loss for ``n_classes``: binary for two, multinomial for more."""
    if n_classes == 2:
        return BinaryLogLoss()
    return MultinomialLogLoss(n_classes)


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
    X : {ndarray, sparse matrix, DatasetRows} of shape (n_samples, n_features)
        Training data, float32 or float64; the computation keeps its dtype.
        A :class:`~sklearn_gdlogreg._rows.DatasetRows` is streamed from its file
        through the fused pass.
    target : ndarray
        Target encoded by ``loss.encode_target``.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights with a positive sum; None means all ones.
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
    ):
        self.loss = loss
        self.X = X
        self.target = target
        self.fit_intercept = fit_intercept
        self.sample_weight = sample_weight
        n_samples = X.shape[0]
        weight_sum = n_samples if sample_weight is None else float(sample_weight.sum())
        # Each sample's share of the mean; it scales (..., n) arrays.
        if sample_weight is None:
            self.normalized_weight = np.asarray(1 / n_samples, dtype=X.dtype)
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
        self.fused = _use_fused(X, kernel)
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

    def _per_model(self, strength):
        """A strength shaped to scale (k, n_outputs, n_params) arrays."""
        return np.reshape(strength, (-1, 1, 1)) if np.ndim(strength) else strength

    def forward(self, params):
        """Raw predictions ``coef @ X.T + intercept``, shape (k, n_outputs, n)."""
        k, n_outputs, _ = params.shape
        n_features = self.X.shape[1]
        coef = params[..., :n_features].reshape(k * n_outputs, n_features)
        raw = np.asarray(coef @ self.X.T)
        if self.fit_intercept:
            raw += params[..., n_features].reshape(-1, 1)
        return raw.reshape(k, n_outputs, -1)

    def smooth(self, raw, params):
        """The smooth part of J per model, and its gradient wrt ``raw``.

        Returns
        -------
        values : ndarray of shape (k,), float64
        grad_raw : ndarray of shape (k, n_outputs, n)
            Weighted by each sample's share, ready for :meth:`backward`.
        """
        loss, grad_raw = self.loss.loss_gradient(raw, self.target)
        grad_raw *= self.normalized_weight
        return self._values(loss, params), grad_raw

    def smooth_value(self, raw, params):
        """The smooth part of J per model, without its gradient: shape (k,)."""
        return self._values(self.loss.loss(raw, self.target), params)

    def _values(self, loss, params):
        values = np.sum(loss * self.normalized_weight, axis=1, dtype=np.float64)
        return values + self._l2_value(params)

    def _l2_value(self, params):
        """The L2 part of J per model (0 without one)."""
        if not self.has_l2:
            return 0.0
        coef = params[..., : self.X.shape[1]]
        squares = np.sum(coef * coef, axis=(1, 2), dtype=np.float64)
        return 0.5 * self.l2_reg_strength * squares

    def _add_l2_gradient(self, gradient, params):
        """Add the L2 part's gradient to ``gradient`` in place."""
        if self.has_l2:
            n_features = self.X.shape[1]
            coef = params[..., :n_features]
            gradient[..., :n_features] += self._per_model(self.l2_reg_strength) * coef
        return gradient

    def backward(self, grad_raw, params):
        """Gradient of the smooth part wrt the parameters, shaped as ``params``."""
        k, n_outputs, n_samples = grad_raw.shape
        n_features = self.X.shape[1]
        flat = grad_raw.reshape(k * n_outputs, n_samples)
        gradient = np.empty_like(params)
        gradient[..., :n_features] = np.asarray(flat @ self.X).reshape(
            k, n_outputs, n_features
        )
        if self.fit_intercept:
            gradient[..., n_features] = grad_raw.sum(axis=2)
        return self._add_l2_gradient(gradient, params)

    def nonsmooth(self, params):
        """The L1 part of J per model, shape (k,)."""
        if not self.has_l1:
            return np.zeros(len(params))
        coef = params[..., : self.X.shape[1]]
        return self.l1_reg_strength * np.sum(
            np.abs(coef), axis=(1, 2), dtype=np.float64
        )

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
            coef = params[..., : self.X.shape[1]]
            threshold = self._per_model(np.asarray(step) * self.l1_reg_strength)
            np.copyto(coef, np.sign(coef) * np.maximum(np.abs(coef) - threshold, 0))
        return params

    def loss_gradient(self, params):
        """The smooth part of J and its gradient at ``params``: one evaluation.

        Returns
        -------
        values : ndarray of shape (k,), float64
        gradient : ndarray shaped as ``params``
        """
        if self.fused:
            return self._fused_loss_gradient(params)
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
        if self.fused:
            smooth = self._fused_loss_gradient(params)[0]
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
        sq_norm = squared_spectral_norm(
            self.X, self.normalized_weight.reshape(-1), self.fit_intercept
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
    L is over half the true constant).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    weight : ndarray of shape (n_samples,) or shape ()
        Non-negative weight of each sample (a scalar: the same for all).
    fit_intercept : bool
        Whether to append a column of ones to ``X``.

    Returns
    -------
    float
    """
    n_samples, n_features = X.shape
    weight = np.broadcast_to(np.asarray(weight, dtype=np.float64), (n_samples,))
    n_params = n_features + int(fit_intercept)
    if isinstance(X, DatasetRows) and n_params > _EXACT_GRAM_MAX_SIDE:
        return _power_iteration(X, weight, fit_intercept)
    if min(n_samples, n_params) <= _EXACT_GRAM_MAX_SIDE:
        gram = (
            _feature_gram(X, weight, fit_intercept)
            if n_params <= n_samples
            else _sample_gram(X, weight, fit_intercept)
        )
        return float(np.linalg.eigvalsh(gram)[-1])
    return _power_iteration(X, weight, fit_intercept)


def _with_ones(X, fit_intercept):
    """``[X, 1]`` as float64 (dense or sparse), or ``X`` as float64."""
    if sparse.issparse(X):
        X = sparse.csr_array(X, dtype=np.float64)
        if fit_intercept:
            X = sparse.hstack([X, np.ones((X.shape[0], 1))], format="csr")
        return X
    X = np.asarray(X, dtype=np.float64)
    if fit_intercept:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
    return X


def _feature_gram(X, weight, fit_intercept):
    """``X1^T diag(weight) X1``, accumulated over row chunks to bound memory."""
    n_params = X.shape[1] + int(fit_intercept)
    gram = np.zeros((n_params, n_params))
    for start, chunk in row_chunks(X, _CHUNK_ROWS):
        rows = slice(start, start + chunk.shape[0])
        chunk = _with_ones(chunk, fit_intercept)
        weighted = (
            chunk.multiply(weight[rows, None])
            if sparse.issparse(chunk)
            else (chunk * weight[rows, None])
        )
        product = chunk.T @ weighted
        gram += product.toarray() if sparse.issparse(product) else product
    return gram


def _sample_gram(X, weight, fit_intercept):
    """``diag(w)^(1/2) X1 X1^T diag(w)^(1/2)``: same nonzero eigenvalues."""
    if isinstance(X, DatasetRows):
        X = np.concatenate([chunk.copy() for _, chunk in X.chunks()])
    X1 = _with_ones(X, fit_intercept)
    gram = X1 @ X1.T
    gram = gram.toarray() if sparse.issparse(gram) else gram
    root = np.sqrt(weight)
    return gram * root[:, None] * root[None, :]


def _power_iteration(X, weight, fit_intercept):
    """Power iteration on ``X1^T diag(weight) X1`` from a fixed random start."""
    n_features = X.shape[1]
    # Products run in X's dtype so that float32 X is never copied to float64.
    weight = weight.astype(X.dtype)
    vector = np.random.RandomState(0).standard_normal(n_features + int(fit_intercept))
    estimate = 0.0
    for _ in range(_POWER_ITERATIONS):
        vector /= np.linalg.norm(vector)
        coef = vector[:n_features].astype(X.dtype)
        new_vector = np.zeros_like(vector)
        for start, chunk in row_chunks(X, _CHUNK_ROWS):
            product = chunk @ coef
            if fit_intercept:
                product = product + vector[n_features].astype(X.dtype)
            weighted = weight[start : start + chunk.shape[0]] * product
            new_vector[:n_features] += weighted @ chunk
            if fit_intercept:
                new_vector[n_features] += weighted.sum(dtype=np.float64)
        new_estimate = float(vector @ new_vector)
        vector = new_vector
        if abs(new_estimate - estimate) <= _POWER_RTOL * new_estimate:
            return new_estimate
        estimate = new_estimate
    return estimate


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
