"""The log-losses on raw predictions (margins): the only place with their maths.

:class:`BinaryLogLoss` (sigmoid, one output) and :class:`MultinomialLogLoss`
(softmax, one output per class), each with its value, its gradient wrt the raw
predictions, its probabilities and its curvature bound, computed without
overflow. Raw predictions during fitting have shape ``(k, n_outputs,
n_samples)`` (``k`` models side by side, samples last); when predicting,
``(n_samples, n_outputs)``.
"""

import numpy as np
from sklearn.externals.array_api_compat import numpy as np_compat
from sklearn.utils._array_api import _expit

from ._namespace import is_numpy


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
