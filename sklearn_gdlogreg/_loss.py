"""The log-losses on raw predictions (margins): the only place with their maths.

:class:`BinaryLogLoss` (sigmoid, one output) and :class:`MultinomialLogLoss`
(softmax, one output per class), each with its value, its gradient wrt the raw
predictions, the weighted mean the objective takes of them, its probabilities
and its curvature bound, computed without overflow. Raw predictions during
fitting have shape ``(k, n_outputs, n_samples)`` (``k`` models side by side,
samples last); when predicting, ``(n_samples, n_outputs)``.

Every kind of rows in memory (``_rows``) computes its data term with
:meth:`~BinaryLogLoss.mean_loss_residual` and :meth:`~BinaryLogLoss.mean_loss`:
for NumPy in as few calls as can be (a small problem pays for arithmetic, not
for Python calls), for other namespaces in their functions. The compiled fused
pass (``_kernels``) has its own copy, tested against this one.
"""

import math

import numpy as np
from scipy.special import expit
from sklearn.externals.array_api_compat import numpy as np_compat

from ._namespace import is_numpy, model_sums


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
        self._numpy = is_numpy(self.xp)

    def encode_target(self, y_index, dtype):
        """The target as the loss uses it: 0/1 floats of shape (1, 1, n), NumPy."""
        return np.asarray(y_index, dtype=dtype).reshape(1, 1, -1)

    def loss(self, raw, target):
        """Per-sample loss (k, n) for raw of shape (k, 1, n)."""
        return (_softplus(self.xp, raw) - target * raw)[:, 0, :]

    def loss_gradient(self, raw, target):
        """Per-sample loss (k, n) and its gradient wrt ``raw`` (k, 1, n)."""
        return self.loss(raw, target), _sigmoid(self.xp, raw) - target

    def mean_loss(self, raw, target, share):
        """The weighted mean loss of each model, float64 on the host.

        Parameters
        ----------
        raw : array of shape (k, 1, n), (k, n) or (n,)
            Raw predictions of ``k`` models (of one model for shape (n,));
            NumPy's may be overwritten.
        target : array of shape (n,)
            0/1 floats, in ``raw``'s namespace.
        share : array of shape (n,) or ()
            Each sample's share of the mean (one for all: shape ()).

        Returns
        -------
        ndarray of shape (k,), or a float for raw of shape (n,)
        """
        if raw.ndim == 3:
            raw = raw[:, 0, :]
        if self._numpy:
            per_sample = np.logaddexp(0, raw)
            per_sample -= target * raw
            return _weighted_mean(per_sample, share)
        return model_sums(self.xp, (_softplus(self.xp, raw) - target * raw) * share)

    def mean_loss_residual(self, raw, target, share):
        """:meth:`mean_loss` and each sample's share of its gradient wrt ``raw``.

        The residual is ``share * (sigmoid(raw) - target)``, shaped as ``raw``
        without its output axis: the gradient wrt the coefficients is
        ``residual @ X``, wrt the intercept its sum. For NumPy, in as few calls
        as can be: ``softplus - target * raw`` is taken per sample before the
        weighted mean (the sums of each are far larger than their difference
        near a good fit, and would lose the digits a line search compares).

        Returns
        -------
        values : ndarray of shape (k,), or a float for raw of shape (n,)
        residual : array of shape (k, n) or (n,)
        """
        if raw.ndim == 3:
            raw = raw[:, 0, :]
        if self._numpy:
            per_sample = np.logaddexp(0, raw)
            per_sample -= target * raw
            values = _weighted_mean(per_sample, share)
            residual = expit(raw)
            residual -= target
            residual *= share
            return values, residual
        xp = self.xp
        values = model_sums(xp, (_softplus(xp, raw) - target * raw) * share)
        residual = _sigmoid(xp, raw) - target
        residual *= share
        return values, residual

    def predict_proba(self, raw):
        """Probabilities of the two classes from raw of shape (n, 1): (n, 2)."""
        proba = _sigmoid(self.xp, raw)
        return self.xp.concat([1 - proba, proba], axis=1)

    def predict_log_proba(self, raw):
        """Logarithm of :meth:`predict_proba`, computed without taking log(0)."""
        return -_softplus(self.xp, self.xp.concat([raw, -raw], axis=1))

    def curvature_bound(self):
        """Upper bound of the second derivative of the loss wrt ``raw``."""
        return 0.25


def _sigmoid(xp, raw):
    """``1 / (1 + exp(-raw))`` without overflow: SciPy's ``expit`` for NumPy;
    elsewhere so written, ``raw`` clipped where ``exp(-raw)`` would overflow
    (the result is then below the smallest normal number, as it should be)."""
    if is_numpy(xp):
        return expit(raw)
    limit = math.log(xp.finfo(raw.dtype).max) - 1  # exp(limit) rounds finite
    return 1.0 / (1.0 + xp.exp(-xp.clip(raw, min=-limit)))


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
        self._numpy = is_numpy(self.xp)
        self._samples = np.arange(0)

    def encode_target(self, y_index, dtype):
        """The target as the loss uses it: class indices of shape (n,), NumPy."""
        return np.asarray(y_index, dtype=np.intp)

    def _picked(self, shifted, target):
        """``shifted[:, target_i, i]`` for each sample i: shape (k, n)."""
        if self._numpy:
            return shifted[:, target, self._sample_index(shifted.shape[-1])]
        return self.xp.sum(shifted * self._one_hot(target, shifted.dtype), axis=1)

    def _sample_index(self, n_samples):
        """``np.arange(n_samples)``, kept from the last call (the same each time)."""
        samples = self._samples  # read once: another thread may replace it
        if samples.shape[0] != n_samples:
            samples = self._samples = np.arange(n_samples)
        return samples

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
        if self._numpy:
            gradient[:, target, self._sample_index(raw.shape[-1])] -= 1
        else:
            gradient = gradient - self._one_hot(target, gradient.dtype)
        return loss, gradient

    def mean_loss(self, raw, target, share):
        """The weighted mean loss of each model, float64 on the host.

        Parameters
        ----------
        raw : array of shape (k, n_classes, n)
            Raw predictions of ``k`` models; NumPy's are overwritten.
        target : array of shape (n,)
            Class indices, in ``raw``'s namespace.
        share : array of shape (n,) or ()
            Each sample's share of the mean (one for all: shape ()).

        Returns
        -------
        ndarray of shape (k,)
        """
        if self._numpy:
            return _weighted_mean(self._numpy_pass(raw, target, False)[0], share)
        return model_sums(self.xp, self.loss(raw, target) * share)

    def mean_loss_residual(self, raw, target, share):
        """:meth:`mean_loss` and each sample's share of its gradient wrt ``raw``.

        The residual is ``share * (softmax(raw) - onehot(target))``, shape (k,
        n_classes, n): the gradient wrt the coefficients is ``residual @ X``
        (per model), wrt the intercepts its sums. For NumPy, log-sum-exp in
        place, the target's entries picked by index.

        Returns
        -------
        values : ndarray of shape (k,)
        residual : array of shape (k, n_classes, n)
        """
        if self._numpy:
            per_sample, residual = self._numpy_pass(raw, target, True)
            values = _weighted_mean(per_sample, share)
        else:
            per_sample, residual = self.loss_gradient(raw, target)
            values = model_sums(self.xp, per_sample * share)
        # Per-model shares (k, n) scale each model's classes alike.
        residual *= share if share.ndim < 2 else share[:, np.newaxis, :]
        return values, residual

    def _numpy_pass(self, raw, target, gradient):
        """Per-sample loss (k, n) by log-sum-exp in place over ``raw``, and
        (with ``gradient``) softmax minus one-hot, (k, n_classes, n)."""
        samples = self._sample_index(raw.shape[-1])
        raw -= raw.max(axis=1, keepdims=True)
        exp = np.exp(raw)
        sum_exp = exp.sum(axis=1, keepdims=True)
        per_sample = np.log(sum_exp[:, 0, :])
        per_sample -= raw[:, target, samples]
        if not gradient:
            return per_sample, None
        exp /= sum_exp
        exp[:, target, samples] -= 1
        return per_sample, exp

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


def _weighted_mean(per_sample, share):
    """Weighted mean over the last axis of NumPy per-sample losses, float64.

    float64 losses are summed as they are (no copy); float32 ones in float64.
    ``share`` of shape (k, n) has a row per model.
    """
    if share.ndim == 0:
        return per_sample.sum(axis=-1, dtype=np.float64) * float(share)
    if share.ndim == 2:
        return np.einsum("kn,kn->k", per_sample, share, dtype=np.float64)
    if per_sample.dtype == np.float64:
        return per_sample @ share
    return np.dot(per_sample.astype(np.float64, copy=False), share)


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
