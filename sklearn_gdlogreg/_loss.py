"""Log-loss and its gradient for linear models: the only place with the maths.

Two losses work on raw predictions (margins) of shape ``(n_samples, n_outputs)``:
:class:`BinaryLogLoss` (sigmoid, one output) and :class:`MultinomialLogLoss`
(softmax, one output per class). :class:`LinearObjective` adds the linear model,
sample weights and the L2 penalty, and returns the objective and its gradient
together, so that ``X @ coef.T`` is computed once per evaluation.

Parameters of the linear model are packed as in scikit-learn's ``LinearModelLoss``:
an array of shape ``(n_outputs, n_features + fit_intercept)`` with the intercept
stored last.
"""

import numpy as np
from scipy import sparse
from scipy.special import expit


class BinaryLogLoss:
    """Sigmoid output with the binary log-loss (cross-entropy).

    ``loss(y, raw) = log(1 + exp(raw)) - y * raw`` with ``y`` in {0, 1}, which is
    ``-(y log(a) + (1 - y) log(1 - a))`` with ``a = sigmoid(raw)``, computed
    without overflow for any finite ``raw``.
    """

    n_outputs = 1

    def encode_target(self, y_index, dtype):
        """Return the target as the loss uses it: 0/1 floats of shape (n, 1)."""
        return np.asarray(y_index, dtype=dtype).reshape(-1, 1)

    def loss_gradient(self, raw, target):
        """Per-sample loss, shape (n,), and its gradient wrt ``raw``, shape (n, 1)."""
        loss = np.logaddexp(0, raw) - target * raw
        return loss[:, 0], expit(raw) - target

    def predict_proba(self, raw):
        """Probabilities of the two classes, shape (n, 2)."""
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
        """Return the target as the loss uses it: class indices of shape (n,)."""
        return np.asarray(y_index, dtype=np.intp)

    def loss_gradient(self, raw, target):
        """Per-sample loss, shape (n,), and its gradient wrt ``raw``, shape (n, k)."""
        rows = np.arange(raw.shape[0])
        shifted, exp_shifted, sum_exp = _shifted_exp(raw)
        loss = np.log(sum_exp[:, 0]) - shifted[rows, target]
        gradient = exp_shifted / sum_exp
        gradient[rows, target] -= 1
        return loss, gradient

    def predict_proba(self, raw):
        """Class probabilities (softmax), shape (n, k)."""
        _, exp_shifted, sum_exp = _shifted_exp(raw)
        return exp_shifted / sum_exp

    def predict_log_proba(self, raw):
        """Logarithm of the class probabilities, by log-sum-exp."""
        shifted, _, sum_exp = _shifted_exp(raw)
        return shifted - np.log(sum_exp)

    def curvature_bound(self):
        """Upper bound of the Hessian's eigenvalues wrt one sample's ``raw``.

        Böhning's bound: the softmax Hessian ``diag(p) - p p^T`` is at most
        ``(I - 1 1^T / k) / 2``, whose eigenvalues are at most 1/2.
        """
        return 0.5


def _shifted_exp(raw):
    """Log-sum-exp's pieces: ``raw - max``, its exp, and the sum of that per row.

    Working from ``raw - max`` keeps every exponent at most 0 (no overflow) and
    the sum at least 1 (no log(0)); probabilities then sum to 1 to rounding, and
    ``log(sum) - shifted[y]`` loses no digits to cancellation of large margins.
    """
    shifted = raw - raw.max(axis=1, keepdims=True)
    exp_shifted = np.exp(shifted)
    return shifted, exp_shifted, exp_shifted.sum(axis=1, keepdims=True)


def loss_for_classes(n_classes):
    """Return the loss for ``n_classes``: binary for two, multinomial for more."""
    if n_classes == 2:
        return BinaryLogLoss()
    return MultinomialLogLoss(n_classes)


def raw_predictions(X, params, fit_intercept):
    """Return ``X @ coef.T + intercept`` for packed ``params``."""
    n_features = X.shape[1]
    raw = X @ params[:, :n_features].T
    if fit_intercept:
        raw += params[:, n_features]
    return raw


class LinearObjective:
    """Mean weighted log-loss of a linear model plus an L2 penalty.

    ``J(w, b) = sum_i s_i loss(y_i, x_i w^T + b) / S + ||w||^2 / (2 C S)``, with
    ``s_i`` the sample weights and ``S = sum_i s_i``: the objective of
    :class:`~sklearn.linear_model.LogisticRegression` divided by ``C S``, so it
    has the same minimiser. The intercept ``b`` is not penalised.

    Parameters
    ----------
    loss : BinaryLogLoss or MultinomialLogLoss
        The loss on raw predictions.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, float32 or float64; the computation keeps its dtype.
    target : ndarray
        Target encoded by ``loss.encode_target``.
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights with a positive sum; None means all ones.
    C : float
        Inverse of the L2 penalty's strength; ``np.inf`` means no penalty.
    fit_intercept : bool
        Whether the last column of the packed parameters is an intercept.
    """

    def __init__(self, loss, X, target, sample_weight, C, fit_intercept):
        self.loss = loss
        self.X = X
        self.target = target
        self.fit_intercept = fit_intercept
        n_samples = X.shape[0]
        weight_sum = n_samples if sample_weight is None else float(sample_weight.sum())
        # Each sample's share of the mean, as a column so it scales (n, k) arrays.
        if sample_weight is None:
            self.normalized_weight = np.asarray(1 / n_samples, dtype=X.dtype)
        else:
            self.normalized_weight = (sample_weight / weight_sum)[:, np.newaxis]
        self.l2_reg_strength = 0.0 if np.isinf(C) else 1.0 / (C * weight_sum)
        self.sample_weight = sample_weight

    @property
    def n_params(self):
        """Number of packed parameters per output: features plus intercept."""
        return self.X.shape[1] + int(self.fit_intercept)

    def loss_gradient(self, params):
        """Return the objective and its gradient at packed ``params``.

        Parameters
        ----------
        params : ndarray of shape (n_outputs, n_features + fit_intercept)
            Coefficients, with the intercept last.

        Returns
        -------
        value : float
            The objective ``J``.
        gradient : ndarray of the same shape and dtype as ``params``
            The gradient of ``J`` wrt ``params``.
        """
        n_features = self.X.shape[1]
        raw = raw_predictions(self.X, params, self.fit_intercept)
        loss, grad_raw = self.loss.loss_gradient(raw, self.target)
        grad_raw *= self.normalized_weight
        value = float(np.sum(loss * self.normalized_weight.reshape(-1)))

        gradient = np.empty_like(params)
        gradient[:, :n_features] = grad_raw.T @ self.X
        if self.fit_intercept:
            gradient[:, n_features] = grad_raw.sum(axis=0)
        if self.l2_reg_strength:
            coef = params[:, :n_features]
            value += 0.5 * self.l2_reg_strength * float(np.sum(coef * coef))
            gradient[:, :n_features] += self.l2_reg_strength * coef
        return value, gradient

    def lipschitz_constant(self):
        """Upper bound of the Lipschitz constant of the objective's gradient.

        The Hessian is ``X1^T D X1 / S + l2`` on the coefficients, with ``X1 = [X,
        1]`` and ``D`` the sample weights times the loss's curvature, which is at
        most ``curvature_bound``. Hence ``L <= curvature_bound * ||W^(1/2) X1||_2^2
        / S + l2`` with ``W`` the diagonal of normalised sample weights.
        A step of ``1 / L`` makes every iteration decrease the objective.
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
    for start in range(0, X.shape[0], _CHUNK_ROWS):
        rows = slice(start, start + _CHUNK_ROWS)
        chunk = _with_ones(X[rows], fit_intercept)
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
        product = X @ vector[:n_features].astype(X.dtype)
        if fit_intercept:
            product = product + vector[n_features].astype(X.dtype)
        weighted = weight * product
        new_vector = np.empty_like(vector)
        new_vector[:n_features] = weighted @ X
        if fit_intercept:
            new_vector[n_features] = weighted.sum(dtype=np.float64)
        new_estimate = float(vector @ new_vector)
        vector = new_vector
        if abs(new_estimate - estimate) <= _POWER_RTOL * new_estimate:
            return new_estimate
        estimate = new_estimate
    return estimate
