"""The state of ``k`` models descending together, and the running ones' batch.

:class:`DescentState` holds, per model, the iterate ``x``, the point ``y`` the
gradient is taken at (``x`` itself but with momentum), the smooth part and
gradient there, the objective at ``x``, the step, which models still run and
their history. Each iteration works on a :class:`Batch`: the running models'
rows of those arrays (the arrays themselves while every model runs, so that a
single model pays for no copies), taken from the state and put back in one
place each (:meth:`DescentState.batch`, :meth:`DescentState.store`).
"""

import numpy as np

from .._messages import divergence
from .._namespace import model_sums, per_model
from .arrays import put, take


class History:
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


class Batch:
    """The running models of one iteration: their objective, arrays and steps.

    ``models`` indexes the state's per-model arrays (``slice(None)`` while all
    run); the solver replaces ``x``, ``y``, ``gradient``, ``smooth`` and
    ``value`` by the accepted point's.
    """

    __slots__ = ("models", "objective", "x", "y", "gradient", "smooth", "value",
                 "steps", "scale", "everyone")  # fmt: skip

    def __init__(self, models, objective, x, y, gradient, smooth, value, steps,
                 scale, everyone):  # fmt: skip
        self.models, self.objective, self.everyone = models, objective, everyone
        self.x, self.y, self.gradient, self.smooth = x, y, gradient, smooth
        self.value, self.steps, self.scale = value, steps, scale

    def kept(self, xp, keep, objective):
        """The batch of the models where ``keep`` is True; ``objective`` is
        that of all models."""
        positions = np.flatnonzero(keep)
        models = positions if self.everyone else self.models[keep]
        x = take(xp, self.x, positions)
        return Batch(
            models,
            objective.select(models),
            x,
            x if self.y is self.x else take(xp, self.y, positions),
            take(xp, self.gradient, positions),
            None if self.smooth is None else self.smooth[keep],
            self.value[keep],
            self.steps[keep],
            None,
            False,
        )


class DescentState:
    """Where ``k`` models are, and which of them still run.

    Parameters
    ----------
    objective : Objective
    params : array of shape (k, n_outputs, n_params)
        The start, owned by the state (a copy of the caller's).
    learning_rate : float or ndarray of shape (k,)
    max_iter : int
    """

    def __init__(self, objective, params, learning_rate, max_iter):
        self.objective, self.xp = objective, objective.xp
        self.k = k = params.shape[0]
        self.x = self.y = params
        self.step = np.broadcast_to(
            np.asarray(learning_rate, dtype=np.float64), (k,)
        ).copy()
        self.smooth, self.gradient = objective.loss_gradient(params)
        self.value = self.smooth + objective.nonsmooth(params)
        self.running = np.ones(k, dtype=bool)
        self.n_running = k
        self.history = History(k, max_iter)
        self.converged = np.zeros(k, dtype=bool)
        self.diverged = [None] * k
        self.iteration = 0
        self._scale = None  # the steps as they scale the gradient, kept

    def batch(self, adaptive):
        """The running models' batch, or None when none runs.

        ``adaptive``: the steps change each iteration (no kept scale).
        """
        xp, step = self.xp, self.step
        if self.n_running == self.k:
            if self._scale is None or adaptive:
                self._scale = per_model(xp, step, self.gradient)
            return Batch(slice(None), self.objective, self.x, self.y, self.gradient,
                         self.smooth, self.value, step, self._scale, True)  # fmt: skip
        models = np.flatnonzero(self.running)
        if models.size == 0:
            return None
        x = take(xp, self.x, models)
        gradient = take(xp, self.gradient, models)
        steps = step[models]
        return Batch(
            models,
            self.objective.select(models),
            x,
            x if self.y is self.x else take(xp, self.y, models),
            gradient,
            None if self.smooth is None else self.smooth[models],
            self.value[models],
            steps,
            per_model(xp, steps, gradient),
            False,
        )

    def store(self, batch):
        """Put the batch's accepted point back into the state."""
        if batch.everyone:
            self.x, self.y, self.gradient = batch.x, batch.y, batch.gradient
            self.smooth, self.value = batch.smooth, batch.value
            return
        xp, models = self.xp, batch.models
        self.x = put(xp, self.x, models, batch.x)
        self.y = self.x if batch.y is batch.x else put(xp, self.y, models, batch.y)
        self.gradient = put(xp, self.gradient, models, batch.gradient)
        if batch.smooth is not None and self.smooth is not None:
            self.smooth = put(xp, self.smooth, models, batch.smooth)
        self.value = put(xp, self.value, models, batch.value)

    def stop(self, batch, done, diverged, outpaced=None):
        """Stop the batch's models that are ``done`` (converged), diverged
        (``diverged`` maps their positions to the reason) or ``outpaced`` (a
        mask, or None); return the mask of those that go on."""
        models = np.arange(self.k)[batch.models]
        self.converged[models[done]] = True
        for position, reason in diverged.items():
            model = models[position]
            self.diverged[model] = divergence(self.step[model], self.iteration, reason)
        keep = ~done
        keep[list(diverged)] = False
        if outpaced is not None:
            keep &= ~outpaced
        self.running[models[~keep]] = False
        self.history.stop(models[~keep], self.iteration)
        self.n_running = int(self.running.sum())
        self._scale = None
        return keep

    def non_finite(self):
        """Per model: whether its objective or parameters are not finite."""
        xp, x = self.xp, self.x
        finite = np.isfinite(self.value)
        if isinstance(x, np.ndarray):
            finite &= np.isfinite(x).reshape(self.k, -1).all(axis=1)
        else:
            finite &= model_sums(xp, xp.astype(~xp.isfinite(x), x.dtype)) == 0
        return ~finite


class Evaluated:
    """A proposal evaluated: the new point ``x`` with the ``steps`` that led to
    it, the smooth part and gradient there, and with momentum Nesterov's next
    point ``y`` with its own; ``memory`` holds what the solver keeps of it."""

    __slots__ = ("x", "steps", "smooth", "gradient", "y", "smooth_y",
                 "gradient_y", "memory")  # fmt: skip

    def __init__(self, x, steps, smooth, gradient, y=None, smooth_y=None,
                 gradient_y=None, memory=None):  # fmt: skip
        self.x, self.steps, self.smooth, self.gradient = x, steps, smooth, gradient
        self.y, self.smooth_y, self.gradient_y = y, smooth_y, gradient_y
        self.memory = memory
