"""Spectral (Barzilai-Borwein) steps with a non-monotone line search.

A proposal ``x_new = prox(x - step * gradient)`` is accepted by SpaRSA's
non-monotone test, ``F(x_new) <= reference - SUFFICIENT_DECREASE / step *
||x_new - x||^2`` with ``reference`` the largest of the last
``NONMONOTONE_MEMORY`` objective values (spectral steps may rise now and then,
which is what makes them fast); a rejected step is halved until it passes, only
its models evaluated again. Then, with ``s`` the change of the parameters and
``r`` that of the gradient, the long step is ``s.s / s.r`` (BB1) and the short
one ``s.r / r.r`` (BB2); the next step is ABBmin's: the smallest of the last
``ABB_MEMORY`` short steps where the short one is below ``ABB_THRESHOLD`` times
the long one, else the long one. Where ``s.r <= 0`` (no curvature seen) the
accepted step is kept. The products are taken of ``s`` and ``r`` scaled to a
largest entry of 1: at feature scales near the dtype's limits (1e150 in
float64) ``s.s`` underflows to 0 and ``r.r`` overflows, which would make the
next step 0.
"""

import math

import numpy as np

from .._namespace import max_abs, per_model
from .arrays import moved, put, rounding, take
from .backtracking import MAX_BACKTRACKS, SHRINK
from .plain import PlainSteps
from .state import Evaluated

NONMONOTONE_MEMORY = 10
SUFFICIENT_DECREASE = 1e-4
ABB_THRESHOLD = 0.5
ABB_MEMORY = 3


class SpectralSteps(PlainSteps):
    """ABBmin steps, searched by the non-monotone test (SpaRSA's)."""

    adaptive = True

    def start(self, state):
        # Each model's recent short steps, newest first.
        self.short = [[] for _ in range(state.k)]

    def evaluate(self, state, batch, x_new):
        reference = state.history.recent_max(
            state.iteration, batch.models, NONMONOTONE_MEMORY
        )
        evaluated, change = self.search(state, batch, x_new, reference)
        evaluated.memory = self.next_steps(state, batch, evaluated, change)
        return evaluated

    def search(self, state, batch, x_new, reference):
        """Halve the steps the non-monotone test rejects; the accepted point
        evaluated, and its change ``s`` from ``x`` with ``s.s``."""
        xp, objective, x = state.xp, batch.objective, batch.x
        gradient, steps = batch.gradient, batch.steps
        reference = reference + rounding(xp, x.dtype, reference)
        smooth, gradient_new = objective.loss_gradient(x_new)
        for _ in range(MAX_BACKTRACKS):
            change = x_new - x
            ss = objective.inner(change, change)
            value = objective.total(smooth, x_new)
            bad = ~(value <= reference - SUFFICIENT_DECREASE * ss / steps)  # NaN too
            if not bad.any():
                break
            steps = np.where(bad, steps * SHRINK, steps)
            rejected = np.flatnonzero(bad)
            sub = objective.select(rejected)
            x_b, gradient_b = take(xp, x, rejected), take(xp, gradient, rejected)
            scale = per_model(xp, steps[rejected], x_b)
            x_b = sub.prox(moved(xp, x_b, scale, gradient_b), steps[rejected])
            smooth_b, gradient_x_b = sub.loss_gradient(x_b)
            x_new = put(xp, x_new, rejected, x_b)
            gradient_new = put(xp, gradient_new, rejected, gradient_x_b)
            smooth = np.array(smooth, dtype=np.float64)
            smooth[rejected] = smooth_b
        return Evaluated(x_new, steps, smooth, gradient_new), (change, ss)

    def next_steps(self, state, batch, evaluated, change):
        """ABBmin's next step of each model (see the module's docstring)."""
        xp, objective = state.xp, batch.objective
        change, ss = change
        r = evaluated.gradient - batch.gradient
        sr, rr, size = objective.inner(change, r), objective.inner(r, r), 1.0
        if not np.all((ss > _TINY) & (rr < _HUGE)):
            # Near float64's limits (features of 1e150), s.s underflows and r.r
            # overflows: the products of s / |s| and r / |r| (largest entries)
            # do not, and the steps are |s| / |r| times their ratios.
            ss, sr, rr, size = _scaled_products(xp, objective, change, r)
        models = batch.models
        products = zip(
            ss.tolist(),
            sr.tolist(),
            rr.tolist(),
            np.broadcast_to(size, ss.shape).tolist(),
            evaluated.steps.tolist(),
            range(state.k) if isinstance(models, slice) else models.tolist(),
            strict=False,
        )
        steps = []
        for ss, sr, rr, size, step, model in products:
            if not (sr > 0 and rr > 0):  # no curvature seen
                steps.append(step)
                continue
            long, short = size * (ss / sr), size * (sr / rr)
            if not (short > 0 and math.isfinite(long)):  # beyond float64
                steps.append(step)
                continue
            recent = self.short[model]
            recent.insert(0, short)
            del recent[ABB_MEMORY:]
            steps.append(min(recent) if short < ABB_THRESHOLD * long else long)
        return np.array(steps)

    def accept(self, state, batch, evaluated):
        super().accept(state, batch, evaluated)
        state.step[batch.models] = evaluated.memory


# Products of s and r within these bounds keep all their digits.
_TINY = np.finfo(np.float64).tiny / np.finfo(np.float64).eps
_HUGE = 1 / _TINY


def _scaled_products(xp, objective, s, r):
    """``s.s``, ``s.r`` and ``r.r`` of ``s / |s|`` and ``r / |r|``, and
    ``|s| / |r|`` (largest entries, per model)."""
    s_size = np.asarray(max_abs(xp, s), dtype=np.float64)
    r_size = np.asarray(max_abs(xp, r), dtype=np.float64)
    s = s / per_model(xp, np.where(s_size > 0, s_size, 1.0), s)
    r = r / per_model(xp, np.where(r_size > 0, r_size, 1.0), r)
    size = s_size / np.where(r_size > 0, r_size, np.inf)
    return objective.inner(s, s), objective.inner(s, r), objective.inner(r, r), size
