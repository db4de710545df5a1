"""The batch gradient-descent loop: steps, momentum, line search, stopping, history.

One loop serves every solver: plain gradient descent (the course's), Nesterov's
accelerated gradient with adaptive restart, each with an optional backtracking
line search, and spectral (Barzilai-Borwein) steps with a non-monotone line
search; each takes a proximal (soft-thresholding) step when the objective has
an L1 part. It runs ``k`` models at once, each with its own step, stopping and
divergence, and computes only the models still running.

The objective is anything with these methods (see ``_objective.LinearObjective``):
``loss_gradient(params) -> (values, gradient)`` of the smooth part, ``has_l1``,
``nonsmooth(params) -> values``, ``prox(params, step) -> params`` and
``select(models) -> objective`` (indices may repeat), and optionally
``running()``, a context the whole descent runs in, ``xp``, the array
namespace of the parameters (NumPy by default), and for parameters that are
coordinates of the model rather than the model itself (``_row_space``),
``inner(a, b)``, the per-model inner products of the vectors they stand for,
and ``gradient_max(gradient, tol)``, the stopping criterion. An iteration makes one
``loss_gradient`` call (one read of the data with the fused pass): at the new
point, and with momentum at Nesterov's next point too, in the same call; a
backtracking line search adds one call per rejected step.

The parameters and gradients stay in the objective's namespace and on its
device (a GPU, say); the per-model bookkeeping (objective values, steps,
stopping) is on the host, a few numbers per iteration.
"""

import contextlib
import math
from dataclasses import dataclass

import numpy as np
from sklearn.externals.array_api_compat import numpy as np_compat

from ._messages import divergence as _divergence_message
from ._namespace import is_numpy, model_sums, per_model, to_host
from ._row_space import row_space

# Signs that the step is too large: the objective rising this many iterations in a
# row, or growing past this factor of its starting value (or of 1, if larger).
MAX_CONSECUTIVE_RISES = 20
MAX_GROWTH = 100.0
# A stalled objective (see stall_window) moves by more than this, relative.
STALL_SLACK = 1e-8
# Backtracking: a rejected step is multiplied by SHRINK; an accepted one lets the
# next iteration try GROW times it.
SHRINK = 0.5
GROW = 1.25
MAX_BACKTRACKS = 60

# Spectral steps ("bb"): the non-monotone (Grippo-Lampariello-Lucidi) line
# search accepts a step when the objective is below the largest of the last
# NONMONOTONE_MEMORY values by SUFFICIENT_DECREASE / step times the squared
# length of the step (SpaRSA's test, which covers the proximal case). The step
# is the adaptive ABBmin rule: the smallest of the last ABB_MEMORY "short" BB
# steps where the two BB steps disagree by more than ABB_THRESHOLD, else the
# long one.
NONMONOTONE_MEMORY = 10
SUFFICIENT_DECREASE = 1e-4
ABB_THRESHOLD = 0.5
ABB_MEMORY = 3

SOLVERS = ("gd", "nesterov", "bb")
# Machine epsilon of float32 and float64.
_EPS = {name: float(np.finfo(name).eps) for name in ("float32", "float64")}


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
    stall_window=None,
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
    params : array of shape (k, n_outputs, n_params)
        Starting point, in the objective's namespace; not modified.
    learning_rate : float or ndarray of shape (k,)
        The step (the first step tried, with ``line_search`` and "bb").
    max_iter : int
        Largest number of iterations.
    tol : float
        Stopping tolerance; with ``tol=0`` exactly ``max_iter`` iterations run.
    solver : {"gd", "nesterov", "bb"}, default="gd"
        Plain steps; Nesterov's momentum, restarted whenever the objective
        rises; or spectral (Barzilai-Borwein) steps with a non-monotone line
        search (which ``line_search`` does not change).
    line_search : bool, default=False
        For "gd" and "nesterov", backtracking (Armijo): halve the step until
        the smooth part decreases at least as its quadratic model promises;
        after an accepted step, try a 1.25 times larger one.
    verbose : int, default=0
        For one model: with 1, print the cost every 100 iterations in the
        format of the course ("Cost after iteration 100: 0.584508"); with 2 or
        more, every iteration.
    callback : callable, default=None
        Called after each update as ``callback(iteration, values, params)``, with
        the objectives before the update and all models' parameters after it;
        returning True stops the descent.
    stall_window : int, default=None
        Also stop a model as diverged when its objective has made no new low
        for this many iterations, and was above its lowest value in at least
        half of them (by 1e-8 relative, beyond rounding): a fixed step that
        cycles. None: never (a single
        fit runs its ``max_iter``; a grid of steps stops such models early).

    Returns
    -------
    DescentResult
        A diverging model is stopped and its reason kept in ``diverged``: the
        objective (or gradient) stops being finite, rises 20 iterations in a
        row, or grows past 100 times its starting value (or 100, if larger);
        with ``stall_window``, also when it stalls.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    space = row_space(objective, params, max_iter)
    if space is not None:
        # Few, wide rows: the same descent in the coordinates w = a X.
        def in_primal(iteration, values, coordinates):
            return callback(iteration, values, space.primal_params(coordinates))

        result = gradient_descent(
            space, space.start(params), learning_rate=learning_rate,
            max_iter=max_iter, tol=tol, solver=solver, line_search=line_search,
            verbose=verbose, callback=None if callback is None else in_primal,
        )  # fmt: skip
        # The exact criterion at the end (the loop may have needed only bounds).
        with np.errstate(over="ignore", invalid="ignore"):
            gradient = space.loss_gradient(result.params)[1]
            result.gradient_max = space.gradient_max(gradient, tol=0.0)
            result.params = space.primal_params(result.params)
        k = params.shape[0]
        overflowed = ~np.isfinite(result.params).reshape(k, -1).all(axis=1)
        for model in np.flatnonzero(overflowed):
            result.diverged[model] = result.diverged[model] or _divergence_message(
                result.learning_rate[model],
                int(result.n_iter[model]),
                "the parameters overflowed",
            )
        return result
    xp = getattr(objective, "xp", np_compat)
    numpy = is_numpy(xp)
    k = params.shape[0]
    spectral = solver == "bb"
    x = xp.asarray(params, copy=True)
    step = np.broadcast_to(np.asarray(learning_rate, dtype=np.float64), (k,)).copy()
    # Steps too large for the data overflow: the divergence checks report it,
    # as a ValueError naming the learning rate, not as a RuntimeWarning.
    running = getattr(objective, "running", contextlib.nullcontext)
    with np.errstate(over="ignore", invalid="ignore"), running():
        result = _descend(objective, xp, x, step, max_iter, tol, solver,
                          line_search, verbose, callback, stall_window)  # fmt: skip
    x, value_x, history, gradient_max, converged, diverged, stopped = result
    # A last update that overflowed leaves no finite objective (or parameters):
    # the model diverged, even when no later iteration looked at it.
    finite = np.isfinite(value_x)
    finite &= (
        np.isfinite(x).reshape(k, -1).all(axis=1)
        if numpy
        else model_sums(xp, xp.astype(~xp.isfinite(x), x.dtype)) == 0
    )
    for model in np.flatnonzero(~finite):
        diverged[model] = diverged[model] or _divergence_message(
            step[model],
            int(history.n_iter[model]),
            "the objective is no longer finite"
            if not np.isfinite(value_x[model])
            else "the parameters overflowed",
        )
    return DescentResult(
        params=x,
        n_iter=history.n_iter,
        loss_curves=history.curves(),
        objective=value_x,
        gradient_max=gradient_max,
        learning_rate=step / GROW if line_search and not spectral else step,
        converged=converged,
        diverged=diverged,
        stopped=stopped,
    )


def _descend(objective, xp, x, step, max_iter, tol, solver, line_search, verbose,
             callback, stall_window):  # fmt: skip
    """The loop of :func:`gradient_descent`, on its prepared arguments."""
    k = x.shape[0]
    momentum = solver == "nesterov"
    spectral = solver == "bb"
    # The point the gradient is taken at (x itself for plain steps), the smooth
    # part and gradient there, and the objective at x.
    smooth_y, gradient_y = objective.loss_gradient(x)
    y = xp.asarray(x, copy=True) if momentum else x
    value_x = smooth_y + objective.nonsmooth(x)
    t = np.ones(k)
    short_steps = [[] for _ in range(k)]
    history = _History(k, max_iter)
    # Each model's last recorded objective, and the growth that is divergence
    # (any value where the start is not finite).
    first, last = value_x.copy(), value_x.copy()
    growth_limit = np.where(
        np.isfinite(first), MAX_GROWTH * np.maximum(first, 1.0), -np.inf
    )
    rises = np.zeros(k, dtype=int)
    # Each model's lowest objective, the iterations since it was reached, and
    # those of them spent above it.
    lowest, since, above = value_x.copy(), np.zeros(k, int), np.zeros(k, int)
    stalled = np.zeros(k, dtype=bool)
    running = np.ones(k, dtype=bool)
    n_running = k
    any_rises = False
    # The steps as they scale the gradient; plain steps keep theirs.
    adaptive = spectral or line_search
    step_scale = None
    converged = np.zeros(k, dtype=bool)
    diverged = [None] * k
    gradient_max = np.full(k, np.inf)
    stopped = False
    print_every = 1 if verbose >= 2 else 100

    for iteration in range(max_iter):
        everyone = n_running == k
        if everyone:
            # All models running: work on the arrays themselves, no copies.
            active, sub = slice(None), objective
            x_a, y_a, gradient = x, y, gradient_y
        else:
            active = np.flatnonzero(running)
            if active.size == 0:
                break
            sub = objective.select(active)
            x_a, y_a, gradient = (_take(xp, a, active) for a in (x, y, gradient_y))
            step_scale = None
        steps = step[active]
        if step_scale is None or adaptive:
            step_scale = per_model(xp, steps, gradient)
        x_new = sub.prox(_moved(xp, y_a, step_scale, gradient), steps)
        value = value_x[active]
        rising = value > last[active]
        # Below the growth limit: not NaN nor infinity either.
        healthy = value <= growth_limit[active]
        if rising.any():
            rises[active] = (rises[active] + 1) * rising
            healthy &= rises[active] < MAX_CONSECUTIVE_RISES
            any_rises = True
        elif any_rises:
            rises[:] = 0
            any_rises = False
        if stall_window is not None:
            # Stalled: no new low for stall_window iterations, and above the
            # lowest value in half of them (not merely flat), both by more than
            # STALL_SLACK relative: rounding noise is neither.
            low = lowest[active]
            slack = STALL_SLACK * np.abs(low) + _rounding(xp, x.dtype, low)
            old = value >= low - slack
            lowest[active] = np.minimum(low, value)
            since[active] = (since[active] + 1) * old
            above[active] = (above[active] + (value > low + slack)) * old
            stalled[active] = (since[active] >= stall_window) & (
                2 * above[active] >= stall_window
            )
            healthy &= ~stalled[active]
        done = None
        checked = tol > 0 or sub.has_l1
        if checked:
            # The stopping criterion; without tol, only its finiteness counts.
            gradient_max[active] = (
                _max_abs(xp, (y_a - x_new) / per_model(xp, steps, x_new))
                if sub.has_l1
                else _gradient_max(sub, xp, gradient, tol)
            )
            healthy &= np.isfinite(gradient_max[active])
            if tol > 0:
                done = gradient_max[active] <= tol
        if not healthy.all() or (done is not None and done.any()):
            done = np.zeros_like(healthy) if done is None else done
            problem = ~healthy & ~done
            models = np.arange(k)[active]
            converged[models[done]] = True
            for model in models[problem]:
                diverged[model] = _divergence_message(
                    step[model],
                    iteration,
                    _divergence(
                        value_x[model],
                        gradient_max[model] if checked else 0.0,
                        rises[model],
                        first[model],
                        since[model] if stalled[model] else 0,
                    ),
                )
            keep = ~(done | problem)
            running[models[~keep]] = False
            history.stop(models[~keep], iteration)
            n_running = int(running.sum())
            step_scale = None
            if not keep.any():
                continue
            everyone = False
            active = models[keep]
            kept = np.flatnonzero(keep)
            x_a, y_a, x_new, gradient = (
                _take(xp, a, kept) for a in (x_a, y_a, x_new, gradient)
            )
            steps, value = steps[keep], value[keep]
            sub = objective.select(active)
        history.record(iteration, active, value)
        last[active] = value
        if k == 1 and verbose and iteration % print_every == 0:
            print(f"Cost after iteration {iteration}: {value_x[0]:f}", flush=True)

        if not (momentum or adaptive):
            # The course's plain step: the new point and its gradient, no more
            # (the smooth part alone is not needed again).
            value_new, gradient_new = sub.loss_gradient(x_new)
            if sub.has_l1:
                value_new = value_new + sub.nonsmooth(x_new)
            if everyone:
                x, gradient_y, value_x = x_new, gradient_new, value_new
            else:
                x, gradient_y, value_x = _store(
                    xp, active, (x, x_new), (gradient_y, gradient_new),
                    (value_x, value_new),
                )  # fmt: skip
            y = x
            if callback is not None and callback(iteration, history.latest(iteration),
                                                 x):  # fmt: skip
                stopped = True
                break
            continue
        if spectral:
            reference = history.recent_max(iteration, active, NONMONOTONE_MEMORY)
            evaluated, step[active] = _spectral(
                xp, sub, x_a, gradient, x_new, steps, reference, short_steps, active
            )
        else:
            step_to = _Step(sub, x_a, y_a, gradient, t[active] if momentum else None)
            evaluated = step_to.evaluate(x_new, steps)
        if line_search and not spectral:
            evaluated = step_to.backtrack(evaluated, smooth_y[active], steps)
            step[active] = evaluated.steps * GROW
        x_new, value_new = evaluated.x, evaluated.smooth_x
        if sub.has_l1:
            value_new = value_new + sub.nonsmooth(x_new)
        if momentum:
            # Restart the momentum where the objective rose.
            restart = value_new > value_x[active]
            t[active] = np.where(restart, 1.0, step_to.t_next)
            at_x = _on_models(xp, restart, x_new)
            y_new = xp.where(at_x, x_new, evaluated.y)
            smooth_y_new = np.where(restart, evaluated.smooth_x, evaluated.smooth_y)
            gradient_new = xp.where(at_x, evaluated.gradient_x, evaluated.gradient_y)
        else:
            y_new, smooth_y_new = x_new, evaluated.smooth_x
            gradient_new = evaluated.gradient_x
        if everyone:
            x, y, gradient_y, smooth_y = x_new, y_new, gradient_new, smooth_y_new
            value_x = value_new
        else:
            x, y, gradient_y, smooth_y, value_x = _store(
                xp, active, (x, x_new), (y, y_new), (gradient_y, gradient_new),
                (smooth_y, smooth_y_new), (value_x, value_new),
            )  # fmt: skip
        if callback is not None:
            if callback(iteration, history.latest(iteration), x):
                stopped = True
                break

    if not (tol > 0 or objective.has_l1) or max_iter == 0:
        # Not needed to steer the loop: the criterion at the final point.
        gradient_max = _gradient_max(objective, xp, gradient_y, 0.0)
    return x, value_x, history, gradient_max, converged, diverged, stopped


class _History:
    """The objective entering each update, per model, in one growing array.

    A model records from iteration 0 until it stops, so its count of updates
    is the iteration it stopped at, or the number of iterations run.
    """

    def __init__(self, k, max_iter):
        self.values = np.empty((min(max_iter, 1024), k))
        self.stopped_at = np.full(k, -1)
        self.iterations = 0
        self.models = np.arange(k)

    def record(self, iteration, models, values):
        if iteration == len(self.values):
            grown = np.empty((2 * len(self.values), self.values.shape[1]))
            grown[:iteration] = self.values
            self.values = grown
        self.values[iteration, models] = values
        self.iterations = iteration + 1

    def stop(self, models, iteration):
        """The ``models`` record nothing from ``iteration`` on."""
        self.stopped_at[models] = iteration

    @property
    def n_iter(self):
        """Updates recorded per model."""
        return np.where(self.stopped_at >= 0, self.stopped_at, self.iterations)

    def recent_max(self, iteration, models, memory):
        """The largest of the last ``memory`` values up to ``iteration``."""
        start = max(0, iteration + 1 - memory)
        return self.values[start : iteration + 1, models].max(axis=0)

    def latest(self, iteration):
        """Every model's last value up to ``iteration`` (NaN where none)."""
        n = np.minimum(self.n_iter, iteration + 1)
        values = self.values[np.maximum(n - 1, 0), self.models]
        return np.where(n > 0, values, np.nan)

    def curves(self):
        return [self.values[:n, model].copy() for model, n in enumerate(self.n_iter)]


def _store(xp, models, *pairs):
    """Each ``(whole, new)`` pair's ``whole`` with ``new`` in its ``models`` rows."""
    return tuple(
        _put(np if isinstance(whole, np.ndarray) else xp, whole, models, new)
        for whole, new in pairs
    )


def _spectral(xp, objective, x, gradient, x_new, steps, reference, short, models):
    """One spectral iteration from ``x``: the accepted point and the next steps.

    ``x_new = prox(x - step * gradient)`` is accepted by SpaRSA's non-monotone
    test, ``F(x_new) <= reference - sigma / step * ||x_new - x||^2`` with
    ``reference`` the largest recent objective value (spectral steps may rise
    now and then, which is what makes them fast); a rejected step is halved
    until it passes, only its models evaluated again. Then, with ``s`` the
    change of the parameters and ``r`` that of the gradient, the long step is
    ``s.s / s.r`` (BB1) and the short one ``s.r / r.r`` (BB2); the next step
    is ABBmin's: the smallest of the last ``ABB_MEMORY`` short steps where the
    short one is below ``ABB_THRESHOLD`` times the long one, else the long one.
    Where ``s.r <= 0`` (no curvature seen) the accepted step is kept.

    Returns
    -------
    evaluated : _Evaluated
    next_steps : ndarray of shape (k,)
    """
    reference = reference + _rounding(xp, x.dtype, reference)
    smooth, gradient_new = objective.loss_gradient(x_new)
    for _ in range(MAX_BACKTRACKS):
        change = x_new - x
        ss = _inner(objective, xp, change, change)
        value = smooth + objective.nonsmooth(x_new) if objective.has_l1 else smooth
        bad = ~(value <= reference - SUFFICIENT_DECREASE * ss / steps)  # NaN too
        if not bad.any():
            break
        steps = np.where(bad, steps * SHRINK, steps)
        rejected = np.flatnonzero(bad)
        sub = objective.select(rejected)
        x_b, gradient_b = _take(xp, x, rejected), _take(xp, gradient, rejected)
        scale = per_model(xp, steps[rejected], x_b)
        x_b = sub.prox(_moved(xp, x_b, scale, gradient_b), steps[rejected])
        smooth_b, gradient_x_b = sub.loss_gradient(x_b)
        x_new = _put(xp, x_new, rejected, x_b)
        gradient_new = _put(xp, gradient_new, rejected, gradient_x_b)
        smooth = np.array(smooth, dtype=np.float64)
        smooth[rejected] = smooth_b
    r = gradient_new - gradient
    products = zip(
        ss.tolist(),
        _inner(objective, xp, change, r).tolist(),
        _inner(objective, xp, r, r).tolist(),
        steps.tolist(),
        range(len(short)) if isinstance(models, slice) else models.tolist(),
        strict=False,
    )
    next_steps = []
    for ss_j, sr, rr, step, model in products:
        if not (sr > 0 and rr > 0 and math.isfinite(ss_j)):
            next_steps.append(step)
            continue
        long, short_step = ss_j / sr, sr / rr
        recent = short[model]
        recent.insert(0, short_step)
        del recent[ABB_MEMORY:]
        next_steps.append(min(recent) if short_step < ABB_THRESHOLD * long else long)
    return _Evaluated(x_new, steps, smooth, gradient_new), np.array(next_steps)


def _moved(xp, y, scale, gradient):
    """``y - scale * gradient`` in y's dtype (``scale`` from ``per_model``)."""
    moved = y - scale * gradient
    return moved if moved.dtype == y.dtype else xp.astype(moved, y.dtype)


def _rounding(xp, dtype, values):
    """The rounding error of objective values, about 8 eps |F|: line searches do
    not reject a step for less."""
    single = dtype == getattr(xp, "float32", np.float32)
    return 8 * _EPS["float32" if single else "float64"] * np.abs(values)


def _inner(objective, xp, a, b):
    """Per-model inner products in the objective's metric (Euclidean unless it
    has its own ``inner``), float64 on the host."""
    inner = getattr(objective, "inner", None)
    return _dots(xp, a, b) if inner is None else inner(a, b)


def _gradient_max(objective, xp, gradient, tol):
    """The stopping criterion of a smooth objective: its own, or the largest
    absolute entry of ``gradient``."""
    criterion = getattr(objective, "gradient_max", None)
    return _max_abs(xp, gradient) if criterion is None else criterion(gradient, tol)


def _dots(xp, a, b):
    """Per-model dot products of two (k, ...) arrays, float64 on the host."""
    if not is_numpy(xp):
        return model_sums(xp, a * b)
    k = a.shape[0]
    a, b = a.reshape(k, -1), b.reshape(k, -1)
    if a.dtype != np.float64:
        a, b = a.astype(np.float64), b.astype(np.float64)
    if k == 1:
        return np.array((a[0] @ b[0],))
    return np.einsum("ij,ij->i", a, b)


def auto_step(objective, exact=True):
    """The "auto" learning rate: ``1 / L``, a step that cannot raise the objective.

    ``L`` is the objective's upper bound of the Lipschitz constant of its smooth
    part's gradient (per model); with ``exact=False`` a looser bound that costs
    one pass over the data (for the first step of spectral steps, which size
    themselves from then on). Where ``L`` is 0 (all-zero data and no penalty),
    every step is as good, and 1 is used.
    """
    lipschitz = np.asarray(objective.lipschitz_constant(exact), dtype=np.float64)
    return np.where(lipschitz > 0, 1 / np.where(lipschitz > 0, lipschitz, 1), 1.0)


def _max_abs(xp, array):
    """Largest absolute entry per model of a (k, ...) array, on the host."""
    if is_numpy(xp):
        return np.abs(array).reshape(array.shape[0], -1).max(axis=1)
    flat = xp.reshape(xp.abs(array), (array.shape[0], -1))
    return to_host(xp, xp.max(flat, axis=1))


def _on_models(xp, mask, like):
    """A host per-model boolean ``mask`` shaped to select in the (k, ...) ``like``."""
    mask = np.reshape(mask, (-1,) + (1,) * (like.ndim - 1))
    return mask if is_numpy(xp) else xp.asarray(mask, device=like.device)


def _take(xp, array, models):
    """The rows of ``array`` at the host indices ``models``."""
    if is_numpy(xp):
        return array[models]
    return xp.take(array, xp.asarray(models, device=array.device), axis=0)


def _put(xp, array, models, values):
    """``array`` with its rows at ``models`` replaced by ``values``."""
    if is_numpy(xp):
        array[models] = values
        return array
    rows = [array[j : j + 1, ...] for j in range(array.shape[0])]
    for row, model in enumerate(models):
        rows[model] = values[row : row + 1, ...]
    return xp.concat(rows)


@dataclass
class _Evaluated:
    """A step's new point ``x`` (and Nesterov's next ``y``), evaluated."""

    x: np.ndarray
    steps: np.ndarray
    smooth_x: np.ndarray
    gradient_x: np.ndarray
    y: np.ndarray = None
    smooth_y: np.ndarray = None
    gradient_y: np.ndarray = None


class _Step:
    """Evaluate the points one step from ``y`` leads to, in one objective call.

    For plain steps that is the new point ``x_new``. With momentum it is also
    Nesterov's next point ``y_new = x_new + beta (x_new - x)``: both are
    evaluated together (one read of the data with the fused pass), and the loop
    keeps the gradient at ``y_new``, or at ``x_new`` when it restarts.
    """

    def __init__(self, objective, x, y, gradient, t):
        self.objective, self.x, self.y, self.gradient = objective, x, y, gradient
        self.momentum = t is not None
        if self.momentum:
            self.t_next = (1 + np.sqrt(1 + 4 * t**2)) / 2
            self.beta = (t - 1) / self.t_next
            n = x.shape[0]
            self.both = objective.select(np.concatenate([np.arange(n)] * 2))
        self.xp = getattr(objective, "xp", np_compat)

    def evaluate(self, x_new, steps):
        if not self.momentum:
            smooth, gradient = self.objective.loss_gradient(x_new)
            return _Evaluated(x_new, steps, smooth, gradient)
        xp = self.xp
        y_new = x_new + per_model(xp, self.beta, x_new) * (x_new - self.x)
        smooth, gradient = self.both.loss_gradient(xp.concat([x_new, y_new]))
        n = x_new.shape[0]
        return _Evaluated(
            x_new,
            steps,
            smooth[:n],
            gradient[:n, ...],
            y_new,
            smooth[n:],
            gradient[n:, ...],
        )

    def backtrack(self, evaluated, smooth_y, steps):
        """Shrink each model's step until its smooth part decreases enough.

        The test is the sufficient-decrease condition of proximal gradient
        methods: ``f(x_new) <= f(y) + <g, x_new - y> + ||x_new - y||^2 / (2 step)``.
        """
        objective, y, gradient, xp = self.objective, self.y, self.gradient, self.xp
        for _ in range(MAX_BACKTRACKS):
            change = evaluated.x - y
            model = (
                smooth_y
                + _inner(objective, xp, gradient, change)
                + _inner(objective, xp, change, change) / (2 * steps)
            )
            # Rounding in f is about eps * |f|: do not reject steps for less.
            slack = _rounding(xp, change.dtype, smooth_y)
            bad = evaluated.smooth_x > model + slack
            if not bad.any():
                break
            steps = np.where(bad, steps * SHRINK, steps)
            scale = per_model(xp, steps, gradient)
            x_new = objective.prox(_moved(xp, y, scale, gradient), steps)
            evaluated = self.evaluate(x_new, steps)
        return evaluated


def _divergence(value, gradient_max, rises, start, stalled=0):
    """What shows that the descent diverges (or stalls), or None."""
    if not (np.isfinite(value) and np.isfinite(gradient_max)):
        return "the objective is no longer finite"
    if rises >= MAX_CONSECUTIVE_RISES:
        return f"the objective rose {rises} iterations in a row"
    if value > MAX_GROWTH * max(start, 1.0):
        return f"the objective grew from {start:.6g} to {value:.6g}"
    if stalled:
        return f"the objective made no new low in {stalled} iterations (it cycles)"
    return None
