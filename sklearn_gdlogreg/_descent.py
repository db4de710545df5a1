"""The batch gradient-descent loop: steps, momentum, line search, stopping, history.

One loop serves every solver: plain gradient descent (the course's), Nesterov's
accelerated gradient with adaptive restart, each with an optional backtracking
line search, and a proximal (soft-thresholding) step when the objective has an
L1 part. It runs ``k`` models at once, each with its own step, stopping and
divergence, and computes only the models still running.

The objective is anything with these methods (see ``_loss.LinearObjective``):
``forward(params) -> raw`` (linear in ``params``), ``smooth(raw, params) ->
(values, grad_raw)``, ``smooth_value(raw, params) -> values``,
``backward(grad_raw, params) -> gradient``, ``has_l1``,
``nonsmooth(params) -> values``, ``prox(params, step) -> params`` and
``select(models) -> objective``. An iteration reads the data twice: one
``backward`` for the gradient, one ``forward`` at the new point, whose raw
predictions serve the next iteration (and, being linear, give the raw
predictions of Nesterov's extrapolated point without reading the data).
"""

from dataclasses import dataclass

import numpy as np

# Signs that the step is too large: the objective rising this many iterations in a
# row, or growing past this factor of its starting value (or of 1, if larger).
MAX_CONSECUTIVE_RISES = 20
MAX_GROWTH = 100.0
# Backtracking: a rejected step is multiplied by SHRINK; an accepted one lets the
# next iteration try GROW times it.
SHRINK = 0.5
GROW = 1.25
MAX_BACKTRACKS = 60

SOLVERS = ("gd", "nesterov")


@dataclass
class DescentResult:
    """What :func:`gradient_descent` found, per model.

    Attributes
    ----------
    params : ndarray of shape (k, n_outputs, n_params)
        The parameters after each model's last update.
    n_iter : ndarray of shape (k,)
        Updates made.
    loss_curves : list of k ndarrays
        The objective at the parameters entering each update.
    objective : ndarray of shape (k,)
        The objective at ``params``.
    gradient_max : ndarray of shape (k,)
        The stopping criterion last computed: the largest absolute entry of the
        gradient (of the gradient mapping, with an L1 part).
    learning_rate : ndarray of shape (k,)
        The last step (it moves with the line search).
    converged : ndarray of shape (k,), bool
        Whether ``gradient_max <= tol`` was met.
    diverged : list of k str or None
        Why the model was stopped as diverging, or None.
    stopped : bool
        Whether the callback asked to stop.
    """

    params: np.ndarray
    n_iter: np.ndarray
    loss_curves: list
    objective: np.ndarray
    gradient_max: np.ndarray
    learning_rate: np.ndarray
    converged: np.ndarray
    diverged: list
    stopped: bool = False


def gradient_descent(
    objective,
    params,
    *,
    learning_rate,
    max_iter,
    tol,
    solver="gd",
    line_search=False,
    verbose=0,
    callback=None,
):
    """Minimise ``k`` objectives by batch (proximal) gradient descent.

    Each iteration computes the gradient at the current point ``y`` (the iterate
    ``x``, or Nesterov's extrapolation of it), stops the model there if the
    largest absolute entry of the gradient (mapping) is at most ``tol`` (only
    when ``tol > 0``), and otherwise records the objective at ``x`` and moves to
    ``x_new = prox(y - step * gradient)``. ``n_iter`` counts these updates, and a
    run with ``tol=0, max_iter=n_iter`` ends at the same parameters.

    Parameters
    ----------
    objective : object
        See the module's docstring for the methods it needs.
    params : ndarray of shape (k, n_outputs, n_params)
        Starting point; not modified.
    learning_rate : float or ndarray of shape (k,)
        The step (the first step tried, with ``line_search``).
    max_iter : int
        Largest number of iterations.
    tol : float
        Stopping tolerance; with ``tol=0`` exactly ``max_iter`` iterations run.
    solver : {"gd", "nesterov"}, default="gd"
        Plain steps, or Nesterov's momentum, restarted whenever the objective
        rises.
    line_search : bool, default=False
        Backtracking (Armijo): halve the step until the smooth part decreases
        at least as its quadratic model promises; after an accepted step, try
        a 1.25 times larger one.
    verbose : int, default=0
        For one model: with 1, print the cost every 100 iterations in the
        format of the course ("Cost after iteration 100: 0.584508"); with 2 or
        more, every iteration.
    callback : callable, default=None
        Called after each update as ``callback(iteration, values, params)``, with
        the objectives before the update and all models' parameters after it;
        returning True stops the descent.

    Returns
    -------
    DescentResult
        A diverging model is stopped and its reason kept in ``diverged``: the
        objective (or gradient) stops being finite, rises 20 iterations in a
        row, or grows past 100 times its starting value (or 100, if larger).
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    k = len(params)
    momentum = solver == "nesterov"
    x = params.copy()
    step = np.broadcast_to(np.asarray(learning_rate, dtype=np.float64), (k,)).copy()
    raw_x = objective.forward(x)
    # The point the gradient is taken at: x itself for plain steps.
    y, raw_y = (x.copy(), raw_x.copy()) if momentum else (x, raw_x)
    # The objective at x: carried from the previous iteration when it was computed
    # there (momentum, line search), else computed with the gradient at y = x.
    carry_value = momentum or line_search
    value_x = np.full(k, np.nan)
    if carry_value:
        value_x = objective.smooth_value(raw_x, x) + objective.nonsmooth(x)
    t = np.ones(k)
    curves = [[] for _ in range(k)]
    rises = np.zeros(k, dtype=int)
    running = np.ones(k, dtype=bool)
    converged = np.zeros(k, dtype=bool)
    diverged = [None] * k
    gradient_max = np.full(k, np.inf)
    stopped = False
    print_every = 1 if verbose >= 2 else 100

    for iteration in range(max_iter):
        active = np.flatnonzero(running)
        if active.size == 0:
            break
        # All models running: work on the arrays themselves, no copies.
        everyone = active.size == k
        sub = objective if everyone else objective.select(active)
        x_a, y_a, raw_x_a, raw_y_a = (
            (x, y, raw_x, raw_y)
            if everyone
            else (x[active], y[active], raw_x[active], raw_y[active])
        )
        smooth_y, grad_raw = sub.smooth(raw_y_a, y_a)
        if not carry_value:
            value_x[active] = smooth_y + sub.nonsmooth(x_a)
        gradient = sub.backward(grad_raw, y_a)
        steps = step[active]
        # A step too large for the data may overflow here: the divergence
        # checks below report it, as a ValueError naming the learning rate.
        with np.errstate(over="ignore", invalid="ignore"):
            x_new = sub.prox(y_a - _scale(steps, gradient) * gradient, steps)
        if objective.has_l1:
            gradient_max[active] = _max_abs((y_a - x_new) / _scale(steps, x_new))
        else:
            gradient_max[active] = _max_abs(gradient)

        keep = np.ones(active.size, dtype=bool)
        for j, model in enumerate(active):
            if tol > 0 and gradient_max[model] <= tol:
                converged[model] = True
                keep[j] = False
                continue
            value = value_x[model]
            curve = curves[model]
            rises[model] = rises[model] + 1 if curve and value > curve[-1] else 0
            problem = _divergence(
                value, gradient_max[model], rises[model], curve[0] if curve else value
            )
            if problem:
                diverged[model] = _divergence_message(step[model], iteration, problem)
                keep[j] = False
                continue
            curve.append(value)
        running[active[~keep]] = False
        if k == 1 and verbose and keep[0] and iteration % print_every == 0:
            print(f"Cost after iteration {iteration}: {value_x[0]:f}", flush=True)
        if not keep.any():
            continue
        if not keep.all():
            everyone = False
            active, sub = active[keep], objective.select(active[keep])
            x_a, y_a, x_new = x_a[keep], y_a[keep], x_new[keep]
            raw_x_a, gradient = raw_x_a[keep], gradient[keep]
            smooth_y, steps = smooth_y[keep], steps[keep]

        raw_new = sub.forward(x_new)
        if line_search:
            x_new, raw_new, steps, smooth_new = _backtrack(
                sub, y_a, smooth_y, gradient, x_new, raw_new, steps
            )
            step[active] = steps * GROW
        elif carry_value:
            smooth_new = sub.smooth_value(raw_new, x_new)
        if carry_value:
            value_new = smooth_new + sub.nonsmooth(x_new)
        if momentum:
            t_next = (1 + np.sqrt(1 + 4 * t[active] ** 2)) / 2
            beta = (t[active] - 1) / t_next
            restart = value_new > value_x[active]
            beta[restart], t_next[restart] = 0.0, 1.0
            t[active] = t_next
            y_new = x_new + _scale(beta, x_new) * (x_new - x_a)
            raw_y_new = raw_new + _scale(beta, raw_new) * (raw_new - raw_x_a)
        else:
            y_new, raw_y_new = x_new, raw_new
        if everyone:
            x, raw_x, y, raw_y = x_new, raw_new, y_new, raw_y_new
        else:
            x[active], raw_x[active] = x_new, raw_new
            y[active], raw_y[active] = y_new, raw_y_new
        if carry_value:
            value_x[active] = value_new
        if callback is not None:
            last = np.array([curve[-1] if curve else np.nan for curve in curves])
            if callback(iteration, last, x):
                stopped = True
                break

    if not carry_value:
        value_x = objective.smooth_value(raw_x, x) + objective.nonsmooth(x)
    for model in np.flatnonzero(~np.isfinite(x).all(axis=(1, 2))):
        diverged[model] = diverged[model] or _divergence_message(
            step[model], max_iter, "the parameters overflowed"
        )
    return DescentResult(
        params=x,
        n_iter=np.array([len(curve) for curve in curves]),
        loss_curves=[np.asarray(curve, dtype=np.float64) for curve in curves],
        objective=value_x,
        gradient_max=gradient_max,
        learning_rate=step / GROW if line_search else step,
        converged=converged,
        diverged=diverged,
        stopped=stopped,
    )


def auto_step(objective):
    """The "auto" learning rate: ``1 / L``, a step that cannot raise the objective.

    ``L`` is the objective's upper bound of the Lipschitz constant of its smooth
    part's gradient (per model). Where ``L`` is 0 (all-zero data and no penalty),
    every step is as good, and 1 is used.
    """
    lipschitz = np.asarray(objective.lipschitz_constant(), dtype=np.float64)
    return np.where(lipschitz > 0, 1 / np.where(lipschitz > 0, lipschitz, 1), 1.0)


def _max_abs(array):
    """Largest absolute entry per model of a (k, ...) array."""
    return np.max(np.abs(array).reshape(len(array), -1), axis=1)


def _scale(steps, like):
    """Per-model steps shaped and typed to scale a (k, ...) array ``like``."""
    return steps.astype(like.dtype).reshape((-1,) + (1,) * (like.ndim - 1))


def _backtrack(objective, y, smooth_y, gradient, x_new, raw_new, steps):
    """Shrink each model's step until its smooth part decreases enough.

    The test is the sufficient-decrease condition of proximal gradient methods:
    ``f(x_new) <= f(y) + <g, x_new - y> + ||x_new - y||^2 / (2 step)``.

    Returns
    -------
    x_new, raw_new, steps, smooth_new
        The accepted point, its raw predictions, steps and smooth values.
    """
    for _ in range(MAX_BACKTRACKS):
        smooth_new = objective.smooth_value(raw_new, x_new)
        change = x_new - y
        model = (
            smooth_y
            + np.sum(gradient * change, axis=(1, 2), dtype=np.float64)
            + np.sum(change * change, axis=(1, 2), dtype=np.float64) / (2 * steps)
        )
        # Rounding in f is about eps * |f|: do not reject steps for less.
        slack = 8 * np.finfo(x_new.dtype).eps * np.abs(smooth_y)
        bad = smooth_new > model + slack
        if not bad.any():
            break
        steps = np.where(bad, steps * SHRINK, steps)
        x_new = objective.prox(y - _scale(steps, gradient) * gradient, steps)
        raw_new = objective.forward(x_new)
    return x_new, raw_new, steps, smooth_new


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
