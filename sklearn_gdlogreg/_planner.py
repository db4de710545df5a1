"""The fit's plan: which variables to descend in, then the descent.

The estimators call :func:`descend` (or :func:`plan`, then the chosen
objective's ``descend``) rather than the loop: where the rows are few and wide
it descends in their row space (``_row_space``, a change of variables that
takes the same steps in fewer operations); where asked, in the coordinates of
a diagonal preconditioner (``_preconditioner``, steps that see each
coordinate's scale); elsewhere in the coefficients themselves, with the same
options either way.
"""

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
        its variables (the "auto" step).
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
