"""The descent: a driver over the state of ``k`` models and a solver strategy.

:func:`gradient_descent` minimises ``k`` objectives side by side (one
read of the data per iteration for all of them), each model with its own
step, stopping and divergence, computing only the models still running. The
pieces, one module each:

- ``state``: the models' arrays, the running ones' batch, the history;
- ``monitor``: convergence, divergence and stall tests;
- ``race``: which models of a race of steps stop early;
- ``plain``, ``nesterov``, ``spectral``: one solver strategy each (the
  :class:`~sklearn_gdlogreg._protocols.Solver` protocol);
- ``backtracking``: the Armijo search, around plain or Nesterov's steps;
- ``arrays``: array helpers across namespaces.

The objective is an :class:`~sklearn_gdlogreg._protocols.Objective`. The
parameters and gradients stay in its namespace and on its device (a GPU, say);
the per-model bookkeeping is on the host, a few numbers per iteration.
"""

from dataclasses import dataclass

import numpy as np

from .._messages import divergence
from .arrays import moved, rounding, take
from .backtracking import GROW, Backtracking
from .monitor import MAX_CONSECUTIVE_RISES, Monitor
from .nesterov import NesterovSteps
from .plain import PlainSteps
from .race import Race
from .spectral import SpectralSteps
from .state import DescentState

__all__ = [
    "GROW",
    "MAX_CONSECUTIVE_RISES",
    "Race",
    "SOLVERS",
    "DescentResult",
    "auto_step",
    "gradient_descent",
    "make_solver",
]

#: Each solver's strategy.
_STRATEGIES = {"gd": PlainSteps, "nesterov": NesterovSteps, "bb": SpectralSteps}
SOLVERS = tuple(_STRATEGIES)


def make_solver(solver, line_search=False):
    """The strategy of ``solver``, searched by backtracking with ``line_search``
    (spectral steps search their own)."""
    if solver not in _STRATEGIES:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    strategy = _STRATEGIES[solver]()
    return Backtracking(strategy) if line_search and solver != "bb" else strategy


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

    def diverge_where(self, non_finite, what):
        """Mark the models where ``non_finite`` as diverged (if not already):
        an update that overflowed, even when no later iteration looked at it."""
        for model in np.flatnonzero(non_finite):
            self.diverged[model] = self.diverged[model] or divergence(
                self.learning_rate[model], int(self.n_iter[model]), what[model]
            )


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
    race=None,
):
    """Minimise ``k`` objectives by batch (proximal) gradient descent.

    Each iteration takes the gradient at the current point ``y`` (the iterate
    ``x``, or Nesterov's extrapolation of it), stops the model there if the
    largest absolute entry of the gradient (mapping) is at most ``tol`` (only
    when ``tol > 0``), and otherwise records the objective at ``x`` and moves to
    ``x_new = prox(y - step * gradient)``. ``n_iter`` counts these updates, and a
    run with ``tol=0, max_iter=n_iter`` ends at the same parameters.

    Parameters
    ----------
    objective : Objective
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
        Also stop a model as diverged when its objective stalls (see
        ``monitor``): a fixed step that cycles. None: never (a single fit runs
        its ``max_iter``; a grid of steps stops such models early).
    race : Race, default=None
        Models of one objective at different steps race (see ``race``): those
        it outpaces stop, neither converged nor diverged. None: no race.

    Returns
    -------
    DescentResult
        A diverging model is stopped and its reason kept in ``diverged``: the
        objective (or gradient) stops being finite, rises 20 iterations in a
        row, or grows past 100 times its starting value (or 100, if larger);
        with ``stall_window``, also when it stalls.
    """
    strategy = make_solver(solver, line_search)
    xp = objective.xp
    # Steps too large for the data overflow: the divergence checks report it,
    # as a ValueError naming the learning rate, not as a RuntimeWarning.
    with np.errstate(over="ignore", invalid="ignore"), objective.running():
        state = DescentState(
            objective, xp.asarray(params, copy=True), learning_rate, max_iter
        )
        monitor = Monitor(
            state.value, tol, stall_window, objective.has_prox,
            float(rounding(xp, params.dtype, 1.0)), race,
        )  # fmt: skip
        strategy.start(state)
        stopped = _descend(state, strategy, monitor, max_iter, verbose, callback)
        if not monitor.every_iteration or max_iter == 0:
            # Not needed to steer the loop: the criterion at the final point.
            monitor.gradient_max = objective.gradient_max(state.gradient, 0.0)
        non_finite = state.non_finite()
    result = DescentResult(
        params=state.x,
        n_iter=state.history.n_iter,
        loss_curves=state.history.curves(),
        objective=state.value,
        gradient_max=monitor.gradient_max,
        learning_rate=strategy.learning_rates(state),
        converged=state.converged,
        diverged=state.diverged,
        stopped=stopped,
    )
    result.diverge_where(
        non_finite,
        np.where(
            np.isfinite(state.value),
            "the parameters overflowed",
            "the objective is no longer finite",
        ),
    )
    return result


def _descend(state, strategy, monitor, max_iter, verbose, callback):
    """The iterations; whether the callback stopped them."""
    xp, print_every = state.xp, 1 if verbose >= 2 else 100
    for iteration in range(max_iter):
        state.iteration = iteration
        # 1. The running models, and their proposal from the point y.
        batch = state.batch(strategy.adaptive)
        if batch is None:
            break
        x_new = batch.objective.prox(
            moved(xp, batch.y, batch.scale, batch.gradient), batch.steps
        )
        # 2. Stop the models that converged or diverge (before their update).
        stops = monitor.check(batch, x_new, iteration)
        if stops is not None:
            keep = state.stop(batch, *stops)
            if not keep.any():
                continue
            x_new = take(xp, x_new, np.flatnonzero(keep))
            batch = batch.kept(xp, keep, state.objective)
        # 3. Record the objective entering the update.
        state.history.record(iteration, batch.models, batch.value)
        if state.k == 1 and verbose and iteration % print_every == 0:
            print(f"Cost after iteration {iteration}: {state.value[0]:f}", flush=True)
        # 4. The solver evaluates the proposal, searches, and accepts a point.
        strategy.accept(state, batch, strategy.evaluate(state, batch, x_new))
        state.store(batch)
        # 5. The callback sees every model's parameters.
        if callback is not None and callback(
            iteration, state.history.latest(iteration), state.x
        ):
            return True
    return False


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
