"""The fit's plan: which variables to descend in, then the descent.

The estimators call :func:`descend` rather than the loop: where the rows are
few and wide it descends in their row space (``_row_space``, a change of
variables), elsewhere in the coefficients themselves, with the same options
either way.
"""

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
