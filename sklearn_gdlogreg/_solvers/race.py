"""A race between steps: models of one objective at different learning rates.

The models of a *group* share an objective (a training fold, say); each is in
a *lane*, its step (a learning rate of the grid), which is the same in every
group. Two rules stop models that could not win a choice that goes to the best
score and, in a tie, to the fewest iterations (they are *outpaced*: neither
converged nor diverged):

- successive halving: at iterations ``HALVING_START``, twice that, four times
  that..., the lanes still running are ranked by how far their objective is
  above the lowest of their group (relative, averaged over the groups), and
  only the better half of them runs on, at least ``MIN_LANES`` (a lane with a
  converged model is never dropped). A lane is dropped in every group at
  once, so that the lanes left may converge in every fold;
- once a model of a group has converged in ``t`` iterations, the others of its
  group still running at ``FACTOR * t + GRACE`` iterations stop: they need
  more than twice its iterations;
- once a lane has converged in every group, the race is decided: every other
  model stops.
"""

import numpy as np

HALVING_START = 8
MIN_LANES = 1
FACTOR = 2
GRACE = 10


class Race:
    """The race of ``k`` models, with what it remembers.

    Parameters
    ----------
    groups : array-like of shape (k,)
        Each model's group.
    lanes : array-like of shape (k,), default=None
        Each model's lane; None: a lane per model.
    """

    def __init__(self, groups, lanes=None):
        self.groups = np.asarray(groups)
        self.lanes = np.arange(len(self.groups)) if lanes is None else np.asarray(lanes)
        # The iteration from which each model, if still running, is outpaced.
        self.finish = np.full(len(self.groups), np.inf)
        self.halving = HALVING_START
        # The groups in which each lane has converged.
        self.arrived = {lane: set() for lane in np.unique(self.lanes).tolist()}
        self.n_groups = len(np.unique(self.groups))

    def fresh(self):
        """The same race, not yet run."""
        return Race(self.groups, self.lanes)

    def outpaced(self, models, value, done, iteration):
        """The mask of the batch's ``models`` outpaced at ``iteration``, or None.

        ``value`` are their objectives, ``done`` the mask of those converged
        (or None).
        """
        indices = np.arange(len(self.groups))[models]
        if done is not None and done.any():
            limit = FACTOR * iteration + GRACE
            for group in np.unique(self.groups[indices[done]]):
                mates = self.groups == group
                self.finish[mates] = np.minimum(self.finish[mates], limit)
            for model in indices[done]:
                arrived = self.arrived[self.lanes[model].item()]
                arrived.add(self.groups[model].item())
                if len(arrived) == self.n_groups:  # decided: the rest stop
                    self.finish = np.minimum(self.finish, iteration)
        if iteration >= self.halving:
            self.halving *= 2
            self._halve(indices, value, done, iteration)
        outpaced = self.finish[indices] <= iteration
        return outpaced if outpaced.any() else None

    def _halve(self, indices, value, done, iteration):
        """Outpace the worse half of the running lanes, from ``iteration``."""
        lanes, groups = self.lanes[indices], self.groups[indices]
        running = np.unique(lanes)
        if len(running) <= MIN_LANES:
            return
        lowest = {group: value[groups == group].min() for group in np.unique(groups)}
        floor = np.array([lowest[group] for group in groups])
        with np.errstate(invalid="ignore", divide="ignore"):
            behind = (value - floor) / np.maximum(np.abs(floor), 1e-300)
        behind = np.where(np.isfinite(behind), behind, np.inf)
        if done is not None:
            behind = np.where(done, -np.inf, behind)
        score = np.array([behind[lanes == lane].mean() for lane in running])
        kept = max(MIN_LANES, -(-len(running) // 2))
        for lane in running[np.argsort(score, kind="stable")[kept:]]:
            dropped = self.lanes == lane
            self.finish[dropped] = np.minimum(self.finish[dropped], iteration)
