"""Which models stop, and why: converged, diverging, or stalled.

Each iteration, before a model's update, :class:`Monitor` looks at its
objective ``F(x)`` and its stopping criterion: the model has converged when
the criterion is at most ``tol``; it diverges when ``F`` (or the criterion)
stops being finite, rises ``MAX_CONSECUTIVE_RISES`` iterations in a row (each
time by more than its rounding error, which the searches accept), or grows
past ``MAX_GROWTH`` times its start (or ``MAX_GROWTH``, if larger); and, with a
``stall_window``, it stalls when ``F`` makes no new low for that many
iterations while above its lowest value in at least half of them (a fixed step
that cycles). With a :class:`~sklearn_gdlogreg._solvers.race.Race`, the models
it outpaces stop too, neither converged nor diverged.
"""

import numpy as np

# Signs that the step is too large: the objective rising this many iterations in a
# row, or growing past this factor of its starting value (or of 1, if larger).
MAX_CONSECUTIVE_RISES = 20
MAX_GROWTH = 100.0
# A stalled objective (see stall_window) moves by more than this, relative.
STALL_SLACK = 1e-8


class Monitor:
    """The stopping tests of ``k`` models, with what they remember.

    Parameters
    ----------
    values : ndarray of shape (k,)
        The objective at the start.
    tol : float
        Converged when the criterion is at most ``tol`` (never for 0).
    stall_window : int or None
        See the module's docstring; None: never stalls.
    proximal : bool
        Whether the objective has a nonsmooth part: the criterion is then
        its ``optimality`` (the gradient mapping's, which needs the proximal
        point), computed every iteration as it is cheap; else its
        ``gradient_max``, computed every iteration only with ``tol > 0``.
    rounding : float
        The relative rounding error of objective values (``arrays.rounding``).
    race : Race, default=None
        The models' race (run afresh here); None: no race.
    """

    def __init__(self, values, tol, stall_window, proximal, rounding, race=None):
        k = len(values)
        self.tol, self.stall_window, self.rounding = tol, stall_window, rounding
        self.race = None if race is None else race.fresh()
        self.proximal = proximal
        self.every_iteration = proximal or tol > 0
        self.first, self.last = values.copy(), values.copy()
        self.growth_limit = np.where(
            np.isfinite(values), MAX_GROWTH * np.maximum(values, 1.0), -np.inf
        )
        self.rises = np.zeros(k, dtype=int)
        self.any_rises = False
        # Each model's lowest objective, the iterations since it was reached,
        # and those of them spent above it.
        self.lowest = values.copy()
        self.since, self.above = np.zeros(k, int), np.zeros(k, int)
        self.stalled = np.zeros(k, dtype=bool)
        self.gradient_max = np.full(k, np.inf)

    def check(self, batch, x_new, iteration):
        """Test the batch's models before their update to ``x_new``.

        Returns
        -------
        None, or (done, diverged, outpaced)
            None where every model goes on; else the mask of the converged
            models, a dict from the position of each diverging one to why, and
            the mask of the outpaced ones (or None).
        """
        models, value = batch.models, batch.value
        # A rise within rounding is noise (searches accept it), not a sign.
        last = self.last[models]
        rising = value > last + self.rounding * np.abs(last)
        # Below the growth limit: not NaN nor infinity either.
        healthy = value <= self.growth_limit[models]
        if rising.any():
            self.rises[models] = (self.rises[models] + 1) * rising
            healthy &= self.rises[models] < MAX_CONSECUTIVE_RISES
            self.any_rises = True
        elif self.any_rises:
            self.rises[:] = 0
            self.any_rises = False
        if self.stall_window is not None:
            healthy &= ~self._stalls(models, value)
        done = None
        if self.every_iteration:
            # The stopping criterion; without tol, only its finiteness counts.
            objective, tol = batch.objective, self.tol
            criterion = (
                objective.optimality(batch.y, x_new, batch.steps, batch.gradient, tol)
                if self.proximal
                else objective.gradient_max(batch.gradient, tol)
            )
            self.gradient_max[models] = criterion
            healthy &= np.isfinite(criterion)
            if self.tol > 0:
                done = criterion <= self.tol
        self.last[models] = value
        outpaced = (
            None
            if self.race is None
            else self.race.outpaced(models, value, done, iteration)
        )
        if healthy.all() and (done is None or not done.any()) and outpaced is None:
            return None
        done = np.zeros_like(healthy) if done is None else done
        problem = np.flatnonzero(~healthy & ~done)
        indices = np.arange(len(self.first))[models]
        diverged = {j: self._reason(indices[j], value[j]) for j in problem}
        if outpaced is not None:
            outpaced &= ~done & healthy
        return done, diverged, outpaced

    def _stalls(self, models, value):
        """Update the stall counts; whether each model stalls.

        Stalled: no new low for ``stall_window`` iterations, and above the
        lowest value in half of them (not merely flat), both by more than
        ``STALL_SLACK`` relative: rounding noise is neither.
        """
        low = self.lowest[models]
        slack = STALL_SLACK * np.abs(low) + self.rounding * np.abs(low)
        old = value >= low - slack
        self.lowest[models] = np.minimum(low, value)
        self.since[models] = (self.since[models] + 1) * old
        self.above[models] = (self.above[models] + (value > low + slack)) * old
        window = self.stall_window
        stalled = (self.since[models] >= window) & (2 * self.above[models] >= window)
        self.stalled[models] = stalled
        return stalled

    def _reason(self, model, value):
        """What shows that ``model`` diverges (or stalls)."""
        criterion = self.gradient_max[model] if self.every_iteration else 0.0
        if not (np.isfinite(value) and np.isfinite(criterion)):
            return "the objective is no longer finite"
        if self.rises[model] >= MAX_CONSECUTIVE_RISES:
            return f"the objective rose {self.rises[model]} iterations in a row"
        start = self.first[model]
        if value > MAX_GROWTH * max(start, 1.0):
            return f"the objective grew from {start:.6g} to {value:.6g}"
        if self.stalled[model]:
            return (
                f"the objective made no new low in {self.since[model]} iterations "
                "(it cycles)"
            )
        return None
