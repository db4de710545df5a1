"""Backtracking (Armijo) around a solver: shrink a step that decreases too little.

A step is accepted when the smooth part decreases at least as its quadratic
model promises (the sufficient-decrease test of proximal gradient methods,
``f(x_new) <= f(y) + <g, x_new - y> + ||x_new - y||^2 / (2 step)``); a
rejected one is halved and the proposal evaluated again, only through the
solver's own :meth:`~sklearn_gdlogreg._protocols.Solver.retry`. After an
accepted step, the next iteration tries ``GROW`` times it, so a pessimistic
first step does not hold the descent back.
"""

import numpy as np

from .._namespace import per_model
from .._protocols import Solver
from .arrays import moved, rounding

SHRINK = 0.5
GROW = 1.25
MAX_BACKTRACKS = 60


class Backtracking(Solver):
    """``solver``'s steps, each searched by backtracking."""

    adaptive = True

    def __init__(self, solver):
        self.solver = solver

    def start(self, state):
        self.solver.start(state)
        self.accepted = state.step.copy()

    def evaluate(self, state, batch, x_new):
        return self.search(state, batch, self.solver.evaluate(state, batch, x_new))

    def search(self, state, batch, evaluated):
        """Halve each model's step until its smooth part decreases enough."""
        xp, objective = state.xp, batch.objective
        y, gradient, smooth_y = batch.y, batch.gradient, batch.smooth
        steps = evaluated.steps
        for _ in range(MAX_BACKTRACKS):
            change = evaluated.x - y
            promised = (
                smooth_y
                + objective.inner(gradient, change)
                + objective.inner(change, change) / (2 * steps)
            )
            # Rounding in f is about eps * |f|: do not reject steps for less.
            slack = rounding(xp, change.dtype, smooth_y)
            bad = evaluated.smooth > promised + slack
            if not bad.any():
                break
            steps = np.where(bad, steps * SHRINK, steps)
            scale = per_model(xp, steps, gradient)
            x_new = objective.prox(moved(xp, y, scale, gradient), steps)
            evaluated = self.solver.retry(state, batch, x_new, steps)
        return evaluated

    def accept(self, state, batch, evaluated):
        self.solver.accept(state, batch, evaluated)
        self.accepted[batch.models] = evaluated.steps
        state.step[batch.models] = evaluated.steps * GROW

    def learning_rates(self, state):
        """The last accepted steps."""
        return self.accepted
