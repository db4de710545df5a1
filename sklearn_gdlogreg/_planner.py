"""The fit's plan: which variables to descend in, then the descent, or a path.

The estimators call :func:`descend` (or :func:`plan`, then the chosen
variables' ``descend``) for one objective, or :func:`descend_path` for one
objective at each penalty strength of a grid, rather than the loop: where the
rows are few and wide they descend in their row space (``_row_space``, a change
of variables that takes the same steps in fewer operations); where asked, in
the coordinates of a diagonal preconditioner (``_preconditioner``, steps that
see each coordinate's scale); elsewhere in the coefficients themselves, with
the same options either way. Each kind of variables has ``with_strength``,
``start`` and ``descend_from``, so that a path runs through any of them alike.
"""

import numpy as np

from ._preconditioner import preconditioned
from ._row_space import row_space


def plan(objective, params, max_iter, *, precondition=False, allow_row_space=True):
    """The objective in the variables to descend ``objective`` in from ``params``.

    The row space where it pays (and ``allow_row_space``): a diagonal
    preconditioner's steps would leave it (``D^-1 X^T r`` is no combination
    of X's rows), so it descends without one. Else, with ``precondition``, the
    coordinates of the diagonal preconditioner; else the coefficients.

    Parameters
    ----------
    objective : LinearObjective
    params : array of shape (k, n_outputs, n_params)
    max_iter : int
    precondition : bool, default=False
    allow_row_space : bool, default=True

    Returns
    -------
    LinearObjective, RowSpaceObjective or PreconditionedObjective
        Its ``descend(params, **options)`` runs the descent and gives the
        result in the coefficients; its ``lipschitz_constant`` is that of
        its variables (the "auto" step). For a path, ``with_strength(C,
        l1_ratio)`` gives the same variables at another penalty, ``start(params)``
        the point its ``descend_from(point, **options)`` takes, which returns
        the result and the point it ended at, in variables the strength does
        not change (the coefficients, or the row space's coordinates).
    """
    if allow_row_space:
        space = row_space(objective, params, max_iter)
        if space is not None:
            return space
    if precondition:
        return preconditioned(objective)
    return objective


def descend(objective, params, *, precondition=False, allow_row_space=True, **options):
    """Minimise ``objective`` from ``params`` in the variables that pay.

    Parameters
    ----------
    objective : LinearObjective
    params : array of shape (k, n_outputs, n_params)
    precondition, allow_row_space : bool
        See :func:`plan`.
    **options
        Those of :func:`~sklearn_gdlogreg._solvers.gradient_descent`, all
        passed on (a learning rate is a step in the chosen variables).

    Returns
    -------
    DescentResult
        In the coefficients, whichever variables were descended.
    """
    variables = plan(
        objective,
        params,
        options["max_iter"],
        precondition=precondition,
        allow_row_space=allow_row_space,
    )
    return variables.descend(params, **options)


def descend_path(objective, Cs, params, *, l1_ratio, learning_rate, race=None,
                 precondition=False, allow_row_space=True, **options):  # fmt: skip
    """Minimise ``objective`` at each strength of ``Cs`` in turn, warm-started.

    A regularization path, as ``LogisticRegressionCV`` computes one: each
    strength starts from the previous one's solution, so that from the
    strongest penalty to the weakest each descent has little way to go. The
    variables are chosen once, for the whole path (:func:`plan`); a
    preconditioner's ``D``, which holds the L2 strength, is rebuilt at each
    strength, and the path carries the coefficients between them (the
    row space, its coordinates). Models of a group of
    ``race`` (one objective at several steps) start the next strength from
    their group's best solution: the fastest converged, else the lowest
    objective; a group whose every model diverged starts again from
    ``params``.

    Parameters
    ----------
    objective : LinearObjective
        Its penalty is replaced by each strength's.
    Cs : iterable of float or ndarray of shape (k,)
        The strengths in the path's order (usually the smallest ``C`` first).
    params : array of shape (k, n_outputs, n_params)
        The first strength's start.
    l1_ratio : float or ndarray of shape (k,)
    learning_rate : callable
        ``learning_rate(variables)``: the steps at one strength, in the
        variables descended (the "auto" step changes with the penalty's
        curvature, and is in a preconditioner's metric where there is one).
    race : Race, default=None
        The models' race, as in :func:`~sklearn_gdlogreg._solvers.
        gradient_descent`; its groups share starts. None: each model on its
        own.
    precondition, allow_row_space : bool
        See :func:`plan`.
    **options
        Those of :func:`~sklearn_gdlogreg._solvers.gradient_descent`.

    Yields
    ------
    DescentResult
        One per strength, in the coefficients.
    """
    variables = plan(
        objective,
        params,
        options["max_iter"],
        precondition=precondition,
        allow_row_space=allow_row_space,
    )
    start = variables.start(params)
    groups = np.arange(len(params)) if race is None else race.groups
    x = start
    for C in Cs:
        at = variables.with_strength(C, l1_ratio)
        options.update(learning_rate=learning_rate(at), race=race)
        result, end = at.descend_from(x, **options)
        yield result
        x = _next_start(result, end, start, groups)


def _next_start(result, end, start, groups):
    """Every model's start at the path's next strength (see
    :func:`descend_path`), in the variables descended."""
    finite = np.array([reason is None for reason in result.diverged])
    converged = result.converged & finite
    # The best model of each group: the fastest converged, else the lowest.
    rank = np.where(converged, result.n_iter, np.inf)
    rank = np.lexsort((np.where(finite, result.objective, np.inf), rank, groups))
    starts = np.array(start, copy=True)
    for group in np.unique(groups):
        best = rank[np.flatnonzero(groups[rank] == group)[0]]
        if finite[best]:
            starts[groups == group] = end[best]
    return starts
