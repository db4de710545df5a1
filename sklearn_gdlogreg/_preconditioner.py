"""A diagonal preconditioner: the descent in coordinates scaled to each one's curvature.

The Hessian of the objective is at most ``c X1^T W X1 + diag(l2, ..., l2, 0)``
(``X1 = [X, 1]``, ``W`` the samples' shares, ``c`` the loss's curvature bound,
``l2`` the penalty's strength on the coefficients, none on the intercept). Its
diagonal ``D``, ``d_j = c sum_i w_i x_ij^2 + l2`` (``c`` for the intercept),
is the scale of each coordinate: a feature of values in the thousands has
curvature a million times that of one in units, and a single step ``1 / L``,
set by the largest, leaves the others (the intercept among them) crawling.

Every solver's step in the metric of ``D``, ``w <- prox(w - step D^-1
gradient)``, is the plain step in the coordinates ``z = D^(1/2) w``, where the
gradient is ``D^(-1/2)`` times the coefficients' own: so the descent runs in
those coordinates (:class:`PreconditionedObjective`, a change of variables as
``_row_space``'s), and plain, Nesterov's, backtracking and spectral steps are
preconditioned without knowing it: the spectral steps' ``s.s / s.r`` and
``s.r / r.r`` are ``s^T D s / s^T r`` and ``s^T r / r^T D^-1 r``, their
non-monotone test measures ``||x_new - x||`` in ``D``'s norm, and the L1 part's
soft-thresholding takes each coordinate's own step, ``step / d_j``. The
iterates depend on the features' units no more than the objective does
(without a penalty, not at all); still one gradient per iteration.

The parameters of the loop are then ``z``; its stopping criterion stays the
largest entry of the coefficients' gradient (or gradient mapping,
``D (w_y - w_new) / step`` with an L1 part). A learning rate is a step in
``D``'s metric: "auto" is ``1 / L`` with ``L`` the Lipschitz constant's bound in
these coordinates, at most ``n_params + 1`` and often near 1.
"""

import copy

import numpy as np

from ._messages import ParameterError, features_overflow
from ._namespace import is_numpy, max_abs, per_model
from ._protocols import Objective
from ._solvers import gradient_descent
from ._solvers.arrays import take

#: A coordinate's curvature is taken as at least this share of the largest
#: (times the dtype's epsilon squared): a column of X so small that it would
#: call for coefficients beyond the largest ones by more than ``1 / eps`` is
#: moved as if it were that large (it barely changes the predictions).
RELATIVE_FLOOR = 1.0


def preconditioned(objective):
    """The :class:`PreconditionedObjective` of a ``LinearObjective``: one pass
    over ``X`` for its columns' squares."""
    return PreconditionedObjective(objective, _column_squares(objective.data))


def _column_squares(data):
    """``data.column_squares()``, infinite where they overflow: the step
    bound's checks then name the features' scale."""
    with np.errstate(over="ignore", invalid="ignore"):
        return data.column_squares()


def curvature_diagonal(objective, squares=None):
    """``D``: each coordinate's curvature bound, per model.

    ``c sum_i w_i x_ij^2 + l2`` for feature ``j`` of a model of L2 strength
    ``l2`` and samples' shares ``w``, ``c`` for the intercept (``c`` the
    loss's curvature bound). One pass over ``X`` (none if given the columns'
    weighted ``squares``, ``data.column_squares()``); the features' overflow
    and underflow are checked as for the step bound.

    Returns
    -------
    ndarray of shape (k, 1, n_params) or (1, 1, n_params), float64
        One row per model where the models have their own strengths or their
        own samples' shares (cross-validation's folds).
    """
    data, penalty = objective.data, objective.penalty
    if squares is None:
        squares = _column_squares(data)
    # The checks of the step bound, from the Frobenius norm these squares sum to.
    objective.lipschitz_from(squares.sum(axis=-1))
    diagonal = data.loss.curvature_bound() * np.reshape(
        squares, (-1, 1, squares.shape[-1])
    )
    l2 = np.reshape(penalty.l2, (-1, 1, 1))
    k = max(diagonal.shape[0], l2.shape[0])
    diagonal = np.broadcast_to(diagonal, (k, 1, diagonal.shape[-1])).copy()
    diagonal[..., : objective.n_features] += l2
    eps = float(np.finfo(np.dtype(data.dtype)).eps)
    largest = diagonal.max(axis=-1, keepdims=True)
    # All-zero data without a penalty: nothing to scale.
    largest = np.where(largest > 0, largest, 1.0)
    return np.maximum(diagonal, RELATIVE_FLOOR * eps**2 * largest)


class PreconditionedObjective(Objective):
    """A :class:`LinearObjective` in the coordinates ``z = D^(1/2) w``.

    Parameters are packed as the coefficients (shape ``(k, n_outputs,
    n_params)``), each scaled by ``d_j^(1/2)``. ``D`` depends on the
    penalty's L2 strength: :meth:`with_strength` rebuilds it (from the
    columns' squares, no pass over ``X``), so that the coordinates of one
    point change with the strength; a regularization path carries the
    coefficients between strengths (:meth:`start`, :meth:`descend_from`).

    Parameters
    ----------
    objective : LinearObjective
    column_squares : ndarray of shape (n_params,) or (k, n_params)
        The columns' weighted squares (``data.column_squares()``), float64.
    diagonal : callable, default=curvature_diagonal
        ``diagonal(objective, column_squares)``: ``D``, float64, positive, of
        shape (k, 1, n_params) or (1, 1, n_params), at each strength.
    """

    def __init__(self, objective, column_squares, diagonal=curvature_diagonal):
        self.column_squares = column_squares
        self.xp, self.device = objective.xp, objective.device
        self.fit_intercept = objective.fit_intercept
        self.n_features = objective.n_features
        self.dtype = np.dtype(objective.data.dtype)
        self._diagonal = diagonal
        self._penalise(objective)

    def _penalise(self, objective):
        """Take the primal ``objective`` and the ``D`` of its penalty."""
        self.primal = objective
        self.has_prox = objective.has_prox
        self.diagonal = self._diagonal(objective, self.column_squares)
        # w = z * scale, and the gradient in z is the coefficients' times scale.
        self.host_scale = 1 / np.sqrt(self.diagonal)
        self.scale = self._on_device(self.host_scale)

    def with_strength(self, C, l1_ratio=0.0):
        """The same data term at the penalty of strengths ``C`` and
        ``l1_ratio``, in the coordinates of that penalty's ``D``, as
        :meth:`LinearObjective.with_strength`."""
        penalised = copy.copy(self)
        penalised._penalise(self.primal.with_strength(C, l1_ratio))
        return penalised

    def _on_device(self, values):
        """Host ``values`` in the parameters' dtype, namespace and device."""
        if is_numpy(self.xp):
            return values.astype(self.dtype)
        return self.xp.asarray(
            values, dtype=getattr(self.xp, self.dtype.name), device=self.device
        )

    def descend(self, params, **options):
        """:func:`gradient_descent` from ``params`` in these coordinates, with
        every option; the result in the coefficients."""
        return self.descend_from(params, **options)[0]

    def descend_from(self, params, *, callback=None, **options):
        """:meth:`descend` from the coefficients ``params``: the result, and
        the coefficients it ended at (a path's next start: the coordinates
        change with the strength, the coefficients do not)."""

        def in_primal(iteration, values, coordinates):
            return callback(iteration, values, self.primal_params(coordinates))

        result = gradient_descent(
            self,
            self.coordinates(params),
            callback=None if callback is None else in_primal,
            **options,
        )
        result.params = self.primal_params(result.params)
        return result, result.params

    def start(self, params):
        """What :meth:`descend_from` starts from for ``params``: themselves."""
        return params

    def coordinates(self, params):
        """The coordinates ``z = w / scale`` of the coefficients ``params``."""
        return params / self.scale

    def primal_params(self, coordinates):
        """The coefficients ``w = z * scale`` of the coordinates."""
        return coordinates * self.scale

    def select(self, models):
        """The same objective for the models at index ``models`` only."""
        primal = self.primal.select(models)
        per_model = self.diagonal.shape[0] > 1
        if primal is self.primal and not per_model:
            return self
        selected = copy.copy(self)
        selected.primal = primal
        if per_model:
            indices = np.arange(self.diagonal.shape[0])[models]
            selected.diagonal = self.diagonal[indices]
            selected.host_scale = self.host_scale[indices]
            selected.scale = take(self.xp, self.scale, indices)
            if np.ndim(self.column_squares) == 2:
                selected.column_squares = self.column_squares[indices]
        return selected

    def running(self):
        """The context the descent runs in: the coefficients' data's."""
        return self.primal.running()

    def loss_gradient(self, coordinates):
        """The smooth part and its gradient in these coordinates: one
        evaluation of the coefficients' own."""
        values, gradient = self.primal.loss_gradient(coordinates * self.scale)
        gradient *= self.scale
        return values, gradient

    def value(self, coordinates):
        return self.primal.value(coordinates * self.scale)

    def total(self, smooth, coordinates):
        if not self.has_prox:
            return smooth
        return smooth + self.nonsmooth(coordinates)

    def nonsmooth(self, coordinates):
        """The L1 part at the coefficients ``coordinates * scale``."""
        if not self.has_prox:
            return np.zeros(coordinates.shape[0])
        return self.primal.nonsmooth(coordinates * self.scale)

    def prox(self, coordinates, steps):
        """The L1 part's proximal step in these coordinates, in place:
        soft-thresholding each coordinate with its own step ``step scale_j``
        (``step / d_j`` on the coefficient)."""
        steps = per_model(self.xp, steps, coordinates) * self.scale
        return self.primal.penalty.prox(coordinates, steps)

    def optimality(self, y, x_new, steps, gradient, tol):
        """The largest entry of the gradient mapping ``D (w_y - w_new) / step``
        (with an L1 part; else of the coefficients' gradient)."""
        if not self.has_prox:
            return self.gradient_max(gradient, tol)
        xp = self.xp
        return max_abs(xp, (y - x_new) / (self.scale * per_model(xp, steps, x_new)))

    def gradient_max(self, gradient, tol):
        """The largest absolute entry of the coefficients' gradient."""
        return max_abs(self.xp, gradient / self.scale)

    def lipschitz_constant(self, exact=True):
        """Upper bound of the smooth part's Lipschitz constant in these
        coordinates, per model.

        ``c ||W^(1/2) X1 S||_2^2 + max_j l2 s_j^2`` with ``S = D^(-1/2)`` (one
        bound per model with its own ``D``); with ``exact=False``, from the
        Frobenius norm, ``sum_j c sum_i w_i x_ij^2 s_j^2``: with the
        Hessian bound's ``D``, at most ``n_params + 1``, and no pass over
        ``X``.
        """
        primal = self.primal
        data, p = primal.data, self.n_features
        scales = self.host_scale[:, 0, :]
        l2 = np.reshape(primal.penalty.l2, -1)
        penalty = l2 * np.max(scales[:, :p] ** 2, axis=1, initial=0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            if exact:
                column_scale = scales[0] if len(scales) == 1 else scales
                norms = data.squared_norm(True, column_scale=column_scale)
            else:
                norms = np.sum(self.column_squares * scales**2, axis=-1)
        norms = np.asarray(norms, dtype=np.float64)
        if not np.all(np.isfinite(norms)):
            raise ParameterError(features_overflow())
        lipschitz = data.loss.curvature_bound() * norms + penalty
        # One number where the models share one D, as the coefficients' bound.
        return lipschitz.item() if lipschitz.size == 1 else lipschitz
