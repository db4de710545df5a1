"""The objective of ``k`` logistic models: an evaluator's data term plus the penalty.

:class:`LinearObjective` adds the elastic-net penalty (its L2 part to the value
and gradient, its L1 part as a value and a proximal step) to the data term an
evaluator of ``_evaluators`` computes, for ``k`` models that share ``X`` with a
strength each (the estimator fits one; the cross-validated estimator fits one
per learning rate and ``C``, so that an iteration for all of them is one read
of ``X``). It is what the descent loop of ``_descent`` minimises.

Parameters are packed as in scikit-learn's ``LinearModelLoss``, the intercept
stored last: an array of shape ``(k, n_outputs, n_features + fit_intercept)``.
"""

import copy

import numpy as np

from ._namespace import is_numpy, model_sums, per_model
from ._rows import make_rows


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

    Parameters
    ----------
    loss : BinaryLogLoss or MultinomialLogLoss
        The loss on raw predictions.
    X : {ndarray, sparse matrix, DatasetRows, DaskRows, array-API array} of \
shape (n_samples, n_features)
        Training data, float32 or float64; the computation keeps its dtype.
        Where it lives chooses the evaluator (see ``_evaluators``).
    target : ndarray
        Target encoded by ``loss.encode_target`` (NumPy).
    sample_weight : ndarray of shape (n_samples,) or None
        Non-negative weights with a positive sum; None means all ones.
    C : float or ndarray of shape (k,)
        Inverse of the penalty's strength, per model; ``np.inf``: no penalty.
    fit_intercept : bool
        Whether the last parameter of each output is an intercept.
    l1_ratio : float or ndarray of shape (k,), default=0.0
        Share of L1 in the penalty, per model.
    kernel : {"auto", "fused", "numpy"}, default="auto"
        How in-memory dense data is read, see ``_evaluators.evaluator_for``.
    weight_sum : float, default=None
        The ``S`` the weights are divided by; default their sum.
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
        self.evaluator = make_rows(X, kernel=kernel).bind(
            loss, target, sample_weight, fit_intercept, weight_sum=weight_sum
        )
        self.xp, self.device = self.evaluator.xp, self.evaluator.device
        self.loss = loss
        self.X = X
        self.fit_intercept = fit_intercept
        self.weight_sum = weight_sum = self.evaluator.weight_sum
        C, l1_ratio = np.broadcast_arrays(
            np.asarray(C, float), np.asarray(l1_ratio, float)
        )
        strength = np.zeros(C.shape)
        finite = ~np.isinf(C)
        with np.errstate(over="ignore", divide="ignore"):
            strength[finite] = 1.0 / (C[finite] * weight_sum)
        if not np.all(np.isfinite(strength)):
            raise ValueError(
                f"The penalty's strength 1 / (C * sum(sample_weight)) overflows: "
                f"sample_weight sums to {weight_sum:.3g}. Multiply sample_weight "
                "by a constant (its scale sets how much the penalty weighs, as in "
                "LogisticRegression), or raise C."
            )
        self.l2_reg_strength = strength * (1 - l1_ratio)
        self.l1_reg_strength = strength * l1_ratio
        self._set_flags()

    def _set_flags(self):
        # Whether any model has an L2 part; whether any has an L1 part (and so
        # needs the proximal step).
        self.has_l2 = bool(np.any(self.l2_reg_strength))
        self.has_l1 = bool(np.any(self.l1_reg_strength))
        self._numpy = is_numpy(self.xp)
        # The L2 strengths shaped to scale (k, n_outputs, n_features) arrays,
        # and as a number where all models share one.
        self._l2_column = np.reshape(self.l2_reg_strength, (-1, 1, 1))
        self._l2_shared = (
            float(self.l2_reg_strength) if np.ndim(self.l2_reg_strength) == 0 else None
        )

    def running(self):
        """The context a descent of this objective runs in (its evaluator's)."""
        return self.evaluator.running()

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

    def loss_gradient(self, params):
        """The smooth part of J and its gradient at ``params``: one evaluation.

        Returns
        -------
        values : ndarray of shape (k,), float64, on the host
        gradient : array shaped as ``params``, in X's namespace
        """
        values, gradient = self.evaluator.loss_gradient(params)
        if self.has_l2:
            values = values + self._l2_value(params)
            self._add_l2_gradient(gradient, params)
        return values, gradient

    def value(self, params):
        """J per model at ``params``, shape (k,)."""
        smooth = self.evaluator.value(params) + self._l2_value(params)
        return smooth + self.nonsmooth(params)

    def _l2_value(self, params):
        """The L2 part of J per model (0 without one)."""
        if not self.has_l2:
            return 0.0
        p = self.X.shape[1]
        if self._one_vector(params):
            coef = params[0, 0, :p]
            # Squares in the data's dtype, summed in float64, as for k models.
            squares = (
                coef @ coef
                if coef.dtype == np.float64
                else (coef * coef).sum(dtype=np.float64)
            )
            return 0.5 * self._l2_shared * float(squares)
        coef = params[..., :p]
        return 0.5 * self.l2_reg_strength * model_sums(self.xp, coef * coef)

    def _one_vector(self, params):
        """Whether ``params`` are one NumPy model of one output, one strength."""
        return (
            self._numpy
            and params.shape[0] * params.shape[1] == 1
            and self._l2_shared is not None
        )

    def _add_l2_gradient(self, gradient, params):
        """Add the L2 part's gradient to ``gradient`` in place."""
        n_features = self.X.shape[1]
        if self._one_vector(params):
            gradient[0, 0, :n_features] += self._l2_shared * params[0, 0, :n_features]
            return gradient
        coef = params[..., :n_features]
        strength = (
            self._l2_column
            if self._numpy
            else per_model(self.xp, self.l2_reg_strength, coef)
        )
        gradient[..., :n_features] += strength * coef
        return gradient

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
            One step per model of this objective.
        """
        if self.has_l1:
            xp = self.xp
            n_features = self.X.shape[1]
            coef = params[..., :n_features]
            threshold = per_model(xp, np.asarray(step) * self.l1_reg_strength, coef)
            shrunk = xp.clip(xp.abs(coef) - threshold, min=0)
            params[..., :n_features] = xp.sign(coef) * shrunk
        return params

    def lipschitz_constant(self, exact=True):
        """Upper bound of the Lipschitz constant of the smooth part's gradient.

        The Hessian is ``X1^T D X1 / S + l2`` on the coefficients, with ``X1 = [X,
        1]`` and ``D`` the sample weights times the loss's curvature, which is at
        most ``curvature_bound``. Hence ``L <= curvature_bound * ||W^(1/2) X1||_2^2
        / S + l2`` with ``W`` the diagonal of normalised sample weights.
        A step of ``1 / L`` makes every iteration decrease the objective.

        Parameters
        ----------
        exact : bool, default=True
            False: the looser bound from the Frobenius norm, in one pass over
            ``X`` (for a first step only).

        Returns
        -------
        float or ndarray of shape (k,)
            Per model where the strengths are per model.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            squared_norm = self.evaluator.squared_norm(exact)
        if not np.isfinite(squared_norm):
            raise ValueError(
                "The features are too large for float64 arithmetic: the squared "
                "norm of X, which sets the step, overflows. Scale the features "
                "(StandardScaler, or PixelScaler for pixel values)."
            )
        return self.loss.curvature_bound() * squared_norm + self.l2_reg_strength
