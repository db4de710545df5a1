"""Plain steps: the course's gradient descent, ``x <- prox(x - step * gradient)``."""

from .._protocols import Solver
from .state import Evaluated


class PlainSteps(Solver):
    """Every update is the proposal itself, evaluated once (one read of X)."""

    def evaluate(self, state, batch, x_new):
        smooth, gradient = batch.objective.loss_gradient(x_new)
        return Evaluated(x_new, batch.steps, smooth, gradient)

    def retry(self, state, batch, x_new, steps):
        smooth, gradient = batch.objective.loss_gradient(x_new)
        return Evaluated(x_new, steps, smooth, gradient)

    def accept(self, state, batch, evaluated):
        batch.x = batch.y = evaluated.x
        batch.smooth, batch.gradient = evaluated.smooth, evaluated.gradient
        batch.value = batch.objective.total(evaluated.smooth, evaluated.x)
