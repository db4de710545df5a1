"""Penalties of ``k`` models: L2 (ridge), and elastic net (L2 plus L1).

With ``S`` the sum of the sample weights and ``r = l1_ratio``, the penalty of
a model of strength ``C`` is ``(r ||w||_1 + (1 - r) ||w||^2 / 2) / (C S)`` on
its coefficients ``w`` (never the intercept): that of ``LogisticRegression``
divided by ``C S``, as the data term is a weighted mean. The L2 part is smooth
(value, gradient, its share ``l2`` of the Lipschitz constant); the L1 part is
handled by its proximal operator, soft-thresholding, and the stopping
criterion becomes the gradient mapping's.
"""

import copy

import numpy as np

from ._namespace import is_numpy, max_abs, model_sums, per_model
from ._protocols import Penalty


def penalty_for(C, l1_ratio, weight_sum, n_features, xp):
    """The penalty of models of strengths ``C`` and ``l1_ratio`` (each a float
    or one per model), for data whose weights sum to ``weight_sum``.

    ``C=np.inf`` is no penalty.
    """
    C, l1_ratio, weight_sum = np.broadcast_arrays(
        np.asarray(C, float), np.asarray(l1_ratio, float), np.asarray(weight_sum)
    )
    strength = np.zeros(C.shape)
    finite = ~np.isinf(C)
    with np.errstate(over="ignore", divide="ignore"):
        strength[finite] = 1.0 / (C[finite] * weight_sum[finite])
    if not np.all(np.isfinite(strength)):
        raise ValueError(
            f"The penalty's strength 1 / (C * sum(sample_weight)) overflows: "
            f"sample_weight sums to {float(np.min(weight_sum)):.3g}. Multiply "
            "sample_weight by a constant (its scale sets how much the penalty "
            "weighs, as in LogisticRegression), or raise C."
        )
    l2, l1 = strength * (1 - l1_ratio), strength * l1_ratio
    if np.any(l1):
        return ElasticNet(l2, l1, n_features, xp)
    return L2(l2, n_features, xp)


class L2(Penalty):
    """``l2 ||w||^2 / 2`` per model.

    Parameters
    ----------
    l2 : float or ndarray of shape (k,)
        The strength of each model (one for all: a float or a 0-d array).
    n_features : int
        The coefficients are ``params[..., :n_features]``.
    xp : namespace
        The parameters' array namespace.
    """

    def __init__(self, l2, n_features, xp):
        self.l2, self.n_features, self.xp = np.asarray(l2, float), n_features, xp
        self._numpy = is_numpy(xp)
        self._strengths()

    def _strengths(self):
        self.has_l2 = bool(np.any(self.l2))
        # The strengths shaped to scale (k, n_outputs, n_features) arrays, and
        # as a number where all models share one.
        self._column = np.reshape(self.l2, (-1, 1, 1))
        self._shared = float(self.l2) if np.ndim(self.l2) == 0 else None

    def select(self, models):
        if not np.ndim(self.l2):
            return self
        selected = copy.copy(self)
        selected.l2 = self.l2[models]
        selected._strengths()
        return selected

    def lipschitz(self):
        return self.l2

    def add_smooth(self, values, gradient, params):
        if not self.has_l2:
            return values
        p = self.n_features
        if self._one_vector(params):
            gradient[0, 0, :p] += self._shared * params[0, 0, :p]
        else:
            coef = params[..., :p]
            strength = (
                self._column if self._numpy else per_model(self.xp, self.l2, coef)
            )
            gradient[..., :p] += strength * coef
        return values + self.smooth_value(params)

    def smooth_value(self, params):
        if not self.has_l2:
            return 0.0
        p = self.n_features
        if self._one_vector(params):
            coef = params[0, 0, :p]
            # Squares in the data's dtype, summed in float64, as for k models.
            squares = (
                coef @ coef
                if coef.dtype == np.float64
                else (coef * coef).sum(dtype=np.float64)
            )
            return 0.5 * self._shared * float(squares)
        coef = params[..., :p]
        return 0.5 * self.l2 * model_sums(self.xp, coef * coef)

    def _one_vector(self, params):
        """Whether ``params`` are one NumPy model of one output, one strength."""
        return (
            self._numpy
            and params.shape[0] * params.shape[1] == 1
            and self._shared is not None
        )


class ElasticNet(L2):
    """``l2 ||w||^2 / 2 + l1 ||w||_1`` per model, the L1 part by its prox.

    Parameters
    ----------
    l2, l1 : float or ndarray of shape (k,)
        The strengths of each model's parts.
    n_features : int
    xp : namespace
    """

    has_prox = True

    def __init__(self, l2, l1, n_features, xp):
        self.l1 = np.asarray(l1, float)
        super().__init__(l2, n_features, xp)

    def select(self, models):
        if not np.ndim(self.l2):
            return self
        selected = super().select(models)
        selected.l1 = self.l1[models]
        return selected

    def nonsmooth(self, params):
        coef = params[..., : self.n_features]
        return self.l1 * model_sums(self.xp, self.xp.abs(coef))

    def prox(self, params, steps):
        """Soft-thresholding, in place: ``w <- sign(w) max(|w| - step l1, 0)``
        on the coefficients, the minimiser of ``l1 ||w||_1 + ||w - params||^2
        / (2 step)``.

        ``steps`` is one per model, or one per coordinate (an array of
        ``params``' dimensions, broadcasting to them): the steps of a diagonal
        metric, each coordinate's threshold its step times ``l1`` (a
        preconditioner's ``step d_j^(-1/2)`` in its coordinates, the
        per-coordinate rates of RMSprop and Adam)."""
        xp = self.xp
        coef = params[..., : self.n_features]
        if np.ndim(steps) == params.ndim:
            threshold = steps[..., : self.n_features] * per_model(xp, self.l1, coef)
        else:
            threshold = per_model(xp, np.asarray(steps) * self.l1, coef)
        shrunk = xp.clip(xp.abs(coef) - threshold, min=0)
        params[..., : self.n_features] = xp.sign(coef) * shrunk
        return params

    def optimality(self, y, x_new, steps):
        """The largest entry of the gradient mapping ``(y - x_new) / step``."""
        return max_abs(self.xp, (y - x_new) / per_model(self.xp, steps, x_new))
