"""The mini-batch descent by epochs: a pass over the batches, the rate between passes.

:func:`run_epoch` makes one pass: for each mini-batch's objective, one
evaluation of its value and gradient, one step of the update rule
(``stochastic``), and the proximal step of an L1 part. :class:`Epochs` runs
the passes of one descent: by :func:`run_epoch` over the batches the rows hand
out, or, for rows whose blocks it reads (their ``compiled_epochs``), by the
compiled epoch of ``_kernels_epoch`` (the same maths in one call a block: a
C-ordered NumPy array in memory, or each chunk of a streamed file; see
:data:`PYTHON_UPDATES` for which). Between passes, a :class:`Schedule` sets
the rate and a :class:`NoImprovement` counter applies the stopping rule of
scikit-learn's ``MLPClassifier`` and ``SGDClassifier``.
"""

import contextlib
import math

import numpy as np

from .._namespace import namespace_of

__all__ = [
    "MIN_ADAPTIVE_RATE",
    "PYTHON_UPDATES",
    "SCHEDULES",
    "Epochs",
    "NoImprovement",
    "Schedule",
    "run_epoch",
]

#: The schedules of the learning rate.
SCHEDULES = ("constant", "decay", "invscaling", "adaptive")
#: "adaptive" stops once its rate is at most this, as MLPClassifier's.
MIN_ADAPTIVE_RATE = 1e-6
#: Rows the compiled epoch reads (their ``compiled_epochs``) make a pass in
#: Python while the descent's updates, this pass's included, are at most this
#: many, and by the compiled epoch from the pass that would go beyond. Measured
#: on 2 cores under load: a Python update costs 0.04-0.1 ms more than a
#: compiled one; the compiled epoch's first call in a process 0.3-0.6 s
#: (numba's import and the load from the disk cache), its compilation 7-16 s,
#: once per machine and dtype. So a descent of 2,000 updates (0.1-0.2 s of
#: Python) never compiles, and a longer one pays at most about that for the
#: choice. The choice depends on the counts only, not on whether the kernel is
#: compiled, so that a fit's result is the same in every process.
PYTHON_UPDATES = 2_000


class Epochs:
    """The passes of one mini-batch descent of ``objective``.

    Parameters
    ----------
    objective : LinearObjective
        Of one model; its rows hand out the batches (``mini_batches``).
    batch_size : int
    random_state : numpy.random.RandomState or None
        Shuffles the rows of each pass; None visits them in order.
    """

    def __init__(self, objective, batch_size, random_state):
        self.objective, self.batch_size = objective, batch_size
        self.random_state = random_state
        self.n_samples = objective.data.shape[0]
        #: Updates per pass.
        self.updates = -(-self.n_samples // batch_size)
        self._compiled = None

    def run(self, params, update_rule, lr, updates_done):
        """One pass, ``params`` updated in place: see :func:`run_epoch`.

        ``updates_done``: the descent's updates before this pass, which
        decide (with :data:`PYTHON_UPDATES`) how the pass is run.
        """
        data = self.objective.data
        if updates_done + self.updates > PYTHON_UPDATES and data.compiled_epochs:
            if self._compiled is None:
                from .._kernels_epoch import CompiledEpochs

                self._compiled = CompiledEpochs(self.objective, self.batch_size)
            blocks = data.epoch_blocks(self.batch_size, self.random_state)
            with contextlib.closing(blocks):
                return self._compiled.run(params, update_rule, lr, blocks)
        return run_epoch(self._batches(), params, update_rule, lr)

    def _batches(self):
        objective = self.objective
        kind, penalty = type(objective), objective.penalty
        for batch in objective.data.mini_batches(self.batch_size, self.random_state):
            yield (
                kind(batch, penalty, objective.fit_intercept),
                batch.shape[0] / self.n_samples,
            )


def run_epoch(batches, params, update_rule, lr):
    """One pass over the mini-batches: ``params`` updated in place.

    Parameters
    ----------
    batches : iterable of (Objective, float)
        Each mini-batch's objective (an unbiased sample of the whole one) and
        its share of the pass (its rows over all rows).
    params : ndarray of shape (1, n_outputs, n_params)
    update_rule : MomentumSGD, RMSprop or Adam
    lr : float

    Returns
    -------
    mean : float
        The batches' objectives at the parameters entering their updates,
        weighted by their shares: an estimate of the objective over the pass
        that costs no extra pass (MLPClassifier's ``loss_curve_``). Not
        finite if the descent diverged (the pass then ends there); the
        overflows that show it raise no RuntimeWarning.
    updates : int
    """
    mean, updates = 0.0, 0
    # Steps too large for the data overflow the parameters, the penalty or
    # the loss: the checks below report it (as the estimator's error naming
    # the learning rate), not a RuntimeWarning.
    with np.errstate(over="ignore", invalid="ignore"):
        for objective, share in batches:
            smooth, gradient = objective.loss_gradient(params)
            value = float(objective.total(smooth, params)[0])
            mean += share * value
            updates += 1
            if not math.isfinite(value):
                break
            steps = update_rule.step(params, gradient, lr)
            if objective.has_prox:
                objective.prox(params, steps)
        xp = namespace_of(params)[0]
        if not bool(xp.all(xp.isfinite(params))):
            mean = math.inf
    return mean, updates


class Schedule:
    """The learning rate of each epoch.

    With ``lr`` the initial rate and ``e`` the number of epochs done:

    - "constant": ``lr``;
    - "decay": ``lr / (1 + decay_rate e)``, the course's learning-rate decay;
    - "invscaling": ``lr / (1 + e) ** power_t``;
    - "adaptive": ``lr``, divided by 5 each time the stopping rule is met
      (:meth:`stop`), until it is at most ``MIN_ADAPTIVE_RATE``.

    Parameters
    ----------
    kind : {"constant", "decay", "invscaling", "adaptive"}
    lr : float
    decay_rate : float
    power_t : float
    """

    def __init__(self, kind, lr, decay_rate, power_t):
        self.kind, self.initial, self.current = kind, lr, lr
        self.decay_rate, self.power_t = decay_rate, power_t

    def rate(self, epoch):
        """The rate of the epoch after ``epoch`` epochs."""
        if self.kind == "decay":
            return self.initial / (1 + self.decay_rate * epoch)
        if self.kind == "invscaling":
            return self.initial / (1 + epoch) ** self.power_t
        return self.current

    def stop(self):
        """The stopping rule is met: whether to stop (else the rate was cut)."""
        if self.kind != "adaptive" or self.current <= MIN_ADAPTIVE_RATE:
            return True
        self.current /= 5
        return False


class NoImprovement:
    """The stopping rule: ``n_iter_no_change`` epochs without a gain of ``tol``.

    An epoch's value (a loss: lower is better) counts as no gain if it is
    above the best so far minus ``tol``; gains reset the count, as in
    MLPClassifier and SGDClassifier. ``tol=None`` never counts.

    Parameters
    ----------
    tol : float or None
    n_iter_no_change : int
    """

    def __init__(self, tol, n_iter_no_change):
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.best, self.count = math.inf, 0

    def update(self, value):
        """Count the epoch's ``value``; return whether it is the best so far."""
        if self.tol is not None:
            self.count = self.count + 1 if value > self.best - self.tol else 0
        best = value < self.best
        if best:
            self.best = value
        return best

    @property
    def met(self):
        """Whether ``n_iter_no_change`` epochs in a row gained too little."""
        return self.tol is not None and self.count >= self.n_iter_no_change

    def restart(self):
        """Count afresh (after the rate was cut)."""
        self.count = 0
