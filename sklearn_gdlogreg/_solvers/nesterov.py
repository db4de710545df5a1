"""Nesterov's accelerated gradient, restarted whenever the objective rises.

From ``x`` and the extrapolated ``y``: ``x_new = prox(y - step * g(y))``, then
``y_new = x_new + beta (x_new - x)`` with ``beta = (t - 1) / t_next`` and
``t_next = (1 + sqrt(1 + 4 t^2)) / 2``. Both new points are evaluated in one
objective call (one read of X with the fused pass); where ``F(x_new)`` rose
above ``F(x)``, the momentum restarts (``t = 1``) and the gradient is taken at
``x_new`` instead.
"""

import numpy as np

from .._namespace import per_model
from .._protocols import Solver
from .arrays import on_models
from .state import Evaluated


class NesterovSteps(Solver):
    """Momentum with adaptive restart."""

    def start(self, state):
        state.y = state.xp.asarray(state.x, copy=True)
        self.t = np.ones(state.k)

    def evaluate(self, state, batch, x_new):
        return self.retry(state, batch, x_new, batch.steps)

    def retry(self, state, batch, x_new, steps):
        xp = state.xp
        t = self.t[batch.models]
        t_next = (1 + np.sqrt(1 + 4 * t**2)) / 2
        y_new = x_new + per_model(xp, (t - 1) / t_next, x_new) * (x_new - batch.x)
        n = x_new.shape[0]
        both = batch.objective.select(np.concatenate([np.arange(n)] * 2))
        smooth, gradient = both.loss_gradient(xp.concat([x_new, y_new]))
        return Evaluated(x_new, steps, smooth[:n], gradient[:n, ...], y_new,
                         smooth[n:], gradient[n:, ...], t_next)  # fmt: skip

    def accept(self, state, batch, evaluated):
        xp, x_new = state.xp, evaluated.x
        value = batch.objective.total(evaluated.smooth, x_new)
        restart = value > batch.value
        self.t[batch.models] = np.where(restart, 1.0, evaluated.memory)
        at_x = on_models(xp, restart, x_new)
        batch.y = xp.where(at_x, x_new, evaluated.y)
        batch.smooth = np.where(restart, evaluated.smooth, evaluated.smooth_y)
        batch.gradient = xp.where(at_x, evaluated.gradient, evaluated.gradient_y)
        batch.x, batch.value = x_new, value
