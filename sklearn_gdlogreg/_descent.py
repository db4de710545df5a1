"""The batch gradient-descent loop: fixed step, stopping rule, history, divergence."""

from dataclasses import dataclass

import numpy as np

# Signs that the step is too large: the objective rising this many iterations in a
# row, or growing past this factor of its starting value (or of 1, if larger).
MAX_CONSECUTIVE_RISES = 20
MAX_GROWTH = 100.0


@dataclass
class DescentResult:
    """What :func:`gradient_descent` found.

    Attributes
    ----------
    params : ndarray
        The parameters after the last update.
    n_iter : int
        Updates made.
    loss_curve : ndarray of shape (n_iter,)
        The objective at the parameters entering each update.
    gradient_max : float
        Largest absolute entry of the last gradient computed.
    converged : bool
        Whether the stopping rule ``gradient_max <= tol`` was met.
    stopped : bool
        Whether the callback asked to stop.
    """

    params: np.ndarray
    n_iter: int
    loss_curve: np.ndarray
    gradient_max: float
    converged: bool
    stopped: bool = False


def gradient_descent(
    loss_gradient, params, *, learning_rate, max_iter, tol, verbose=0, callback=None
):
    """Minimise a function by batch gradient descent with a fixed step.

    Each iteration evaluates the objective and its gradient once at the current
    parameters, stops there if the largest absolute entry of the gradient is at
    most ``tol`` (only when ``tol > 0``), and otherwise records the objective and
    updates ``params -= learning_rate * gradient``. So ``n_iter`` counts updates,
    and a run with ``tol=0, max_iter=n_iter`` ends at the same parameters.

    Parameters
    ----------
    loss_gradient : callable
        ``loss_gradient(params) -> (value, gradient)``, gradient shaped as params.
    params : ndarray
        Starting point; not modified.
    learning_rate : float
        The step size.
    max_iter : int
        Largest number of iterations.
    tol : float
        Stopping tolerance on the largest absolute entry of the gradient; with
        ``tol=0`` exactly ``max_iter`` iterations are run.
    verbose : int, default=0
        With 1, print the cost every 100 iterations in the format of the
        course ("Cost after iteration 100: 0.584508"); with 2 or more, every
        iteration.
    callback : callable, default=None
        Called after each update as ``callback(iteration, value, params)``, with
        the objective before the update and the parameters after it; returning
        True stops the descent.

    Returns
    -------
    DescentResult

    Raises
    ------
    ValueError
        If the objective or its gradient stops being finite, or the objective
        rises 20 iterations in a row, or grows past 100 times its starting value
        (or 100, if larger): the step is too large for the data.
    """
    step = float(learning_rate)
    params = params.copy()
    loss_curve = []
    rises = 0
    gradient_max = np.inf
    converged = stopped = False
    print_every = 1 if verbose >= 2 else 100
    for iteration in range(max_iter):
        value, gradient = loss_gradient(params)
        gradient_max = float(np.max(np.abs(gradient)))
        if tol > 0 and gradient_max <= tol:
            converged = True
            break
        rises = rises + 1 if loss_curve and value > loss_curve[-1] else 0
        start = loss_curve[0] if loss_curve else value
        problem = _divergence(value, gradient_max, rises, start)
        if problem:
            raise ValueError(_divergence_message(step, iteration, problem))
        loss_curve.append(value)
        if verbose and iteration % print_every == 0:
            print(f"Cost after iteration {iteration}: {value:f}", flush=True)
        params -= step * gradient
        if callback is not None and callback(iteration, value, params):
            stopped = True
            break
    if not np.all(np.isfinite(params)):
        raise ValueError(
            _divergence_message(step, max_iter, "the parameters overflowed")
        )
    return DescentResult(
        params=params,
        n_iter=len(loss_curve),
        loss_curve=np.asarray(loss_curve, dtype=np.float64),
        gradient_max=gradient_max,
        converged=converged,
        stopped=stopped,
    )


def _divergence(value, gradient_max, rises, start):
    """What shows that the descent diverges, or None."""
    if not (np.isfinite(value) and np.isfinite(gradient_max)):
        return "the objective is no longer finite"
    if rises >= MAX_CONSECUTIVE_RISES:
        return f"the objective rose {rises} iterations in a row"
    if value > MAX_GROWTH * max(start, 1.0):
        return f"the objective grew from {start:.6g} to {value:.6g}"
    return None


def _divergence_message(step, iteration, what):
    return (
        f"Gradient descent diverged with learning_rate={step:g}: {what} at "
        f"iteration {iteration}. Use a smaller learning_rate, or "
        "learning_rate='auto' (a step that cannot diverge), and scale the features "
        "(StandardScaler, or PixelScaler for pixel values)."
    )
