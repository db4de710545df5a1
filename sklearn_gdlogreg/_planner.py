"""The fit's plan: which variables to descend in, then the descent, or a path.

The estimators call :func:`descend` (one objective) or :func:`descend_path`
(one objective at each penalty strength of a grid) rather than the loop: where
the rows are few and wide they descend in their row space (``_row_space``, a
change of variables), elsewhere in the coefficients themselves, with the same
options either way.
"""

import numpy as np

from ._row_space import row_space
from ._solvers import gradient_descent


def descend(objective, params, **options):
    """Minimise ``objective`` from ``params`` in the variables that pay.

    Parameters
    ----------
    objective : LinearObjective
    params : array of shape (k, n_outputs, n_params)
    **options
        Those of :func:`~sklearn_gdlogreg._solvers.gradient_descent`, all
        passed on.

    Returns
    -------
    DescentResult
        In the coefficients, whichever variables were descended.
    """
    space = row_space(objective, params, options["max_iter"])
    if space is None:
        return gradient_descent(objective, params, **options)
    return space.descend(params, **options)


def descend_path(objective, Cs, params, *, l1_ratio, learning_rate, race=None,
                 **options):  # fmt: skip
    """Minimise ``objective`` at each strength of ``Cs`` in turn, warm-started.

    A regularization path, as ``LogisticRegressionCV`` computes one: each
    strength starts from the previous one's solution, so that from the
    strongest penalty to the weakest each descent has little way to go. The
    variables are chosen once, for the whole path. Models of a group of
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
        ``learning_rate(objective)``: the steps at one strength (the "auto"
        step changes with the penalty's curvature).
    race : Race, default=None
        The models' race, as in :func:`~sklearn_gdlogreg._solvers.
        gradient_descent`; its groups share starts. None: each model on its
        own.
    **options
        Those of :func:`~sklearn_gdlogreg._solvers.gradient_descent`.

    Yields
    ------
    DescentResult
        One per strength, in the coefficients.
    """
    space = row_space(objective, params, options["max_iter"])
    current = objective if space is None else space
    start = params if space is None else space.start(params)
    groups = np.arange(len(params)) if race is None else race.groups
    x = start
    for C in Cs:
        at = current.with_strength(C, l1_ratio)
        steps = learning_rate(at if space is None else at.primal)
        options.update(learning_rate=steps, race=race)
        if space is None:
            result = gradient_descent(at, x, **options)
            end = result.params
        else:
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
