"""The protocols of the axes that vary: data term, penalty, objective, solver.

Each axis is one small protocol, written here as code:

- :class:`DataTerm`: the rows of ``X`` bound to a loss, targets and weights
  (``_rows``): the mean loss and its gradient, wherever the rows live;
- :class:`Penalty`: the regularisation of ``k`` models (``_penalty``);
- :class:`Objective`: what the descent minimises (``_objective``, and the
  change of variables of ``_row_space``): a smooth part with a gradient, and
  optionally a nonsmooth part with a proximal step;
- :class:`Solver`: one way of stepping (``_solvers``): plain, Nesterov's,
  spectral, and backtracking around the first two.

Parameters of ``k`` models are packed in arrays of shape ``(k, n_outputs,
n_params)``, the intercept stored last. Per-model numbers (objective values,
steps, strengths) are float64 NumPy arrays of shape ``(k,)`` on the host.
The base classes give every optional member its default, so that callers
never look a member up.
"""

import contextlib
from typing import Any, Protocol

import numpy as np
from sklearn.externals.array_api_compat import numpy as np_compat

from ._namespace import dots, max_abs


class DataTerm(Protocol):
    """The data term: the weighted mean loss of ``k`` linear models over rows.

    ``sum_i s_i loss(y_i, x_i w^T + b) / S``, with ``s_i`` the sample weights
    and ``S`` their sum (``weight_sum``). Implemented by the bound rows of
    ``_rows`` (one class per place the rows live); it knows nothing of
    penalties, steps or stopping.
    """

    #: The loss on raw predictions (``_loss``).
    loss: Any
    #: The array namespace and device of ``X`` (and of the parameters).
    xp: Any
    device: Any
    #: Number of features of ``X``.
    n_features: int
    #: The ``S`` the weights are divided by.
    weight_sum: float
    #: The C-ordered in-memory NumPy array ``X`` is, or None (sparse,
    #: streamed, distributed or another namespace).
    dense: Any

    def loss_gradient(self, params):
        """The data term per model, float64 ``(k,)`` on the host, and its
        gradient wrt ``params``, shaped as ``params``: one evaluation."""

    def value(self, params):
        """The data term per model, without the gradient."""

    def squared_norm(self, exact=True, column_scale=None):
        """``||W^(1/2) [X, 1]||_2^2`` with ``W`` the samples' shares; with
        ``exact=False`` the cheaper upper bound of the Frobenius norm; with
        ``column_scale`` ``s``, of ``W^(1/2) [X, 1] diag(s)`` (per model
        where the shares or the scales are)."""

    def column_squares(self):
        """The diagonal of ``[X, 1]^T W [X, 1]``, float64 on the host, one
        row per model where the shares are per model."""

    def running(self):
        """The context a whole descent over these rows runs in."""


class Penalty:
    """The penalty of ``k`` models on their coefficients (not the intercepts).

    A smooth part adds to the value and the gradient; a nonsmooth part (L1)
    has a value and a proximal step. These defaults are those of no penalty.
    """

    #: Whether the penalty has a nonsmooth part (a proximal step).
    has_prox = False

    def add_smooth(self, values, gradient, params):
        """``values`` (k,) plus the smooth part's value at ``params``, with its
        gradient added to ``gradient`` in place."""
        return values

    def smooth_value(self, params):
        """The smooth part's value per model (0 where there is none)."""
        return 0.0

    def nonsmooth(self, params):
        """The nonsmooth part's value per model, ``(k,)`` on the host."""
        return np.zeros(params.shape[0])

    def prox(self, params, steps):
        """The proximal step of the nonsmooth part with ``steps`` (k,), or one
        per coordinate (``params``' dimensions), in place."""
        return params

    def lipschitz(self):
        """The smooth part's share of the gradient's Lipschitz constant, per
        model (a float or ``(k,)``)."""
        return 0.0

    def optimality(self, y, x_new, steps):
        """The stopping criterion of a nonsmooth part per model: the largest
        entry of the gradient mapping ``(y - x_new) / step``."""
        raise NotImplementedError

    def select(self, models):
        """The penalty of the models at index ``models`` only."""
        return self


class Objective:
    """What the descent minimises, for ``k`` models: ``F = f + g``.

    ``f`` is smooth (``loss_gradient``); ``g`` is the nonsmooth part, with
    ``nonsmooth`` and ``prox`` (by default none). Subclasses give
    ``loss_gradient``, ``select`` and ``lipschitz_constant``; the other
    members have defaults for parameters that are the model itself, in
    NumPy.
    """

    xp = np_compat
    device = "cpu"
    #: Whether ``g`` is not zero (the loop computes the criterion each
    #: iteration then, as it is cheap and needs the proximal point).
    has_prox = False

    def loss_gradient(self, params):
        """``f`` per model, float64 ``(k,)`` on the host, and its gradient."""
        raise NotImplementedError

    def select(self, models):
        """The same objective for the models at index ``models`` (indices may
        repeat: Nesterov's steps evaluate two points per model)."""
        raise NotImplementedError

    def lipschitz_constant(self, exact=True):
        """An upper bound of the Lipschitz constant of ``f``'s gradient, per
        model; ``exact=False``: a looser one that costs at most one pass."""
        raise NotImplementedError

    def total(self, smooth, params):
        """``F`` per model from ``f``'s values ``smooth`` at ``params``."""
        return smooth

    def nonsmooth(self, params):
        """``g`` per model, ``(k,)`` on the host."""
        return np.zeros(params.shape[0])

    def prox(self, params, steps):
        """The proximal step of ``g`` with per-model ``steps``, in place."""
        return params

    def optimality(self, y, x_new, steps, gradient, tol):
        """The stopping criterion per model with a nonsmooth part (see
        :meth:`Penalty.optimality`); without, :meth:`gradient_max`."""
        return self.gradient_max(gradient, tol)

    def gradient_max(self, gradient, tol):
        """The largest absolute entry of the gradient per model, on the host.

        ``tol`` lets an objective whose parameters are coordinates compute
        the exact value only where it decides a stop (``_row_space``).
        """
        return max_abs(self.xp, gradient)

    def inner(self, a, b):
        """Per-model inner products of the vectors ``a`` and ``b`` stand for,
        float64 on the host (Euclidean for the parameters themselves)."""
        return dots(self.xp, a, b)

    def running(self):
        """The context a whole descent runs in."""
        return contextlib.nullcontext()


class Solver:
    """One way of stepping, as the driver of ``_solvers`` uses it.

    Each iteration the driver proposes ``x_new = prox(y - step * gradient)``
    for the running models (a :class:`~sklearn_gdlogreg._solvers.state.Batch`),
    lets the monitor stop some, then asks the solver to :meth:`evaluate` the
    proposal (searching its step, if it searches) and to :meth:`accept` it.
    """

    #: Whether the steps change from one iteration to the next.
    adaptive = False

    def start(self, state):
        """Prepare the per-model memory, once the start is evaluated."""

    def evaluate(self, state, batch, x_new):
        """The proposal's point(s) evaluated: an ``Evaluated``."""
        raise NotImplementedError

    def retry(self, state, batch, x_new, steps):
        """``x_new`` from other ``steps`` evaluated: what ``Backtracking``
        needs of a solver it wraps."""
        raise NotImplementedError

    def accept(self, state, batch, evaluated):
        """Make ``evaluated`` the batch's new point (and its steps' memory)."""
        raise NotImplementedError

    def learning_rates(self, state):
        """The steps to report per model."""
        return state.step
