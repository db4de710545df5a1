"""The objective of ``k`` logistic models: a data term plus a penalty.

:class:`LinearObjective` adds a penalty of ``_penalty`` to the data term that
the rows of ``_rows`` compute wherever they live, for ``k`` models that share
``X`` with a strength each (the estimator fits one; the cross-validated
estimator fits one per learning rate and ``C``, so that an iteration for all
of them is one read of ``X``). It is what the descent of ``_solvers``
minimises. :func:`linear_objective` builds one from the estimator's pieces.

Parameters are packed as in scikit-learn's ``LinearModelLoss``, the intercept
stored last: an array of shape ``(k, n_outputs, n_features + fit_intercept)``.
"""

import copy

import numpy as np

from ._messages import ParameterError, features_overflow, features_underflow
from ._penalty import penalty_for
from ._protocols import Objective
from ._rows import make_rows
from ._solvers import gradient_descent


def linear_objective(loss, X, target, sample_weight, C, fit_intercept,
                     l1_ratio=0.0, kernel="auto", weight_sum=None):  # fmt: skip
    """The objective of models of strengths ``C`` and ``l1_ratio`` on ``X``.

    For each of ``k`` models, with ``s_i`` the sample weights, ``S = sum_i s_i``
    and ``r`` the model's ``l1_ratio``::

        J(w, b) = sum_i s_i loss(y_i, x_i w^T + b) / S
                  + (r ||w||_1 + (1 - r) ||w||^2 / 2) / (C S)

    the objective of :class:`~sklearn.linear_model.LogisticRegression` divided by
    ``C S``, so it has the same minimiser.

    Parameters
    ----------
    loss : BinaryLogLoss or MultinomialLogLoss
        The loss on raw predictions.
    X : {ndarray, sparse matrix, h5py.Dataset, dask array, array-API array} of \
shape (n_samples, n_features)
        Training data, float32 or float64; the computation keeps its dtype.
        Where it lives chooses the rows (see ``_rows``).
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
        How in-memory dense data is read (see ``_rows.make_rows``).
    weight_sum : float, default=None
        The ``S`` the weights are divided by; default their sum.

    Returns
    -------
    LinearObjective
    """
    data = make_rows(X, kernel=kernel).bind(
        loss, target, sample_weight, fit_intercept, weight_sum=weight_sum
    )
    return LinearObjective(data, None, fit_intercept).with_strength(C, l1_ratio)


class LinearObjective(Objective):
    """Mean weighted log-loss of linear models plus a penalty.

    The smooth part is the data term and the penalty's smooth part; the
    nonsmooth part, if any, is the penalty's (L1), with its proximal step.

    Parameters
    ----------
    data : DataTerm
        The rows bound to the loss, targets and weights.
    penalty : Penalty or None
        None: set one with :meth:`with_strength`.
    fit_intercept : bool
    """

    def __init__(self, data, penalty, fit_intercept):
        self.data, self.fit_intercept = data, fit_intercept
        self.xp, self.device = data.xp, data.device
        self.n_features = data.n_features
        # The data's part of the step bound, computed once for every penalty.
        self._squared_norms = {}
        self._penalise(penalty)

    def _penalise(self, penalty):
        self.penalty = penalty
        if penalty is not None:
            self.has_prox = penalty.has_prox
            # The loop calls prox every iteration: the penalty's own, no hop.
            self.prox = penalty.prox

    def with_strength(self, C, l1_ratio=0.0):
        """The same data term with the penalty of strengths ``C`` and
        ``l1_ratio`` (each a float or one per model): a regularization path
        changes only this."""
        data = self.data
        penalised = copy.copy(self)
        penalised._penalise(
            penalty_for(C, l1_ratio, data.weight_sum, data.n_features, data.xp)
        )
        return penalised

    @property
    def n_params(self):
        """Number of packed parameters per output: features plus intercept."""
        return self.n_features + int(self.fit_intercept)

    def running(self):
        """The context a descent of this objective runs in (its rows')."""
        return self.data.running()

    def descend(self, params, **options):
        """:func:`~sklearn_gdlogreg._solvers.gradient_descent` in the
        coefficients themselves (the variables :func:`_planner.plan` may
        change)."""
        return gradient_descent(self, params, **options)

    def descend_from(self, params, **options):
        """:meth:`descend`, and the parameters it ended at (a path's next
        start, as the other variables' ``descend_from``)."""
        result = gradient_descent(self, params, **options)
        return result, result.params

    def start(self, params):
        """What :meth:`descend_from` starts from for ``params``: themselves."""
        return params

    def select(self, models):
        """The same objective for the models at index ``models`` only."""
        penalty, data = self.penalty.select(models), self.data.select(models)
        if penalty is self.penalty and data is self.data:
            return self
        selected = copy.copy(self)
        if data is not self.data:  # the data's step bounds are per model
            selected.data, selected._squared_norms = data, {}
        selected._penalise(penalty)
        return selected

    def loss_gradient(self, params):
        """The smooth part of J and its gradient at ``params``: one evaluation.

        Returns
        -------
        values : ndarray of shape (k,), float64, on the host
        gradient : array shaped as ``params``, in X's namespace
        """
        values, gradient = self.data.loss_gradient(params)
        return self.penalty.add_smooth(values, gradient, params), gradient

    def value(self, params):
        """J per model at ``params``, shape (k,)."""
        smooth = self.data.value(params) + self.penalty.smooth_value(params)
        return smooth + self.penalty.nonsmooth(params)

    def total(self, smooth, params):
        if not self.has_prox:
            return smooth
        return smooth + self.penalty.nonsmooth(params)

    def nonsmooth(self, params):
        """The L1 part of J per model, shape (k,), on the host."""
        return self.penalty.nonsmooth(params)

    def optimality(self, y, x_new, steps, gradient, tol):
        """The penalty's criterion with an L1 part (the gradient mapping's)."""
        if not self.has_prox:
            return self.gradient_max(gradient, tol)
        return self.penalty.optimality(y, x_new, steps)

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
        return self.lipschitz_from(self.squared_norm(exact))

    def squared_norm(self, exact=True):
        """``||W^(1/2) [X, 1]||_2^2``, with ``W`` the samples' shares (see the
        rows' ``squared_norm``), computed once: with ``exact=False`` the
        rows' weighted mean of ``||x_i||^2`` (plus 1 for an intercept).

        Returns
        -------
        float or ndarray of shape (k,)
            Per model where the shares are per model; infinite where it
            overflows.
        """
        if exact not in self._squared_norms:
            with np.errstate(over="ignore", invalid="ignore"):
                self._squared_norms[exact] = self.data.squared_norm(exact)
        return self._squared_norms[exact]

    def lipschitz_from(self, squared_norm):
        """The bound of :meth:`lipschitz_constant` from ``||W^(1/2) X1||_2^2``
        (or a bound of it; one per model where the shares are), with features
        beyond the dtype's range refused."""
        if not np.all(np.isfinite(squared_norm)):
            raise ParameterError(features_overflow())
        lipschitz = self.data.loss.curvature_bound() * squared_norm
        lipschitz = lipschitz + self.penalty.lipschitz()
        # Features so small that 1 / L, and coefficients of that size, are
        # beyond the data's dtype (not all-zero data, whose L is 0).
        dtype = np.dtype(self.data.dtype)
        tiny = (lipschitz > 0) & (lipschitz < 1 / float(np.finfo(dtype).max))
        if np.any(tiny):
            smallest = float(np.min(np.where(tiny, lipschitz, np.inf)))
            raise ParameterError(features_underflow(dtype.name, smallest))
        return lipschitz
