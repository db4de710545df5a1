"""The mini-batch update rules: momentum (Nesterov's too), RMSprop and Adam.

Each is a small class with one method, ``step(params, gradient, lr)``: it
updates ``params`` in place from the gradient of one mini-batch and returns
the step each coordinate took (the rate ``lr``, or one per coordinate), which
the proximal step of an L1 penalty needs. The formulas are the course's
("Optimization methods": velocity, squared averages, bias correction), as
written in each class's docstring; the state (velocity, averages, the number
of updates ``t``) lives in the object, in the parameters' dtype, namespace and
device, so that a ``partial_fit`` resumes where the last one stopped.

The compiled epoch (``_kernels_epoch``) steps by the same formulas on the
same state, which each rule hands it with :meth:`~Adam.compiled_state` (and
whose ``t`` it advances), so that a descent may go from one to the other.
"""

import math

import numpy as np

from .._namespace import namespace_of

__all__ = ["UPDATE_RULES", "Adam", "MomentumSGD", "RMSprop", "make_update_rule"]


class _UpdateRule:
    """What the rules share: the namespace of the parameters, found once
    (and not pickled with the state: a module cannot be)."""

    def _xp(self, params):
        xp = self.__dict__.get("_namespace")
        if xp is None:
            xp = self._namespace = namespace_of(params)[0]
        return xp

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_namespace", None)
        return state


class MomentumSGD(_UpdateRule):
    """Stochastic gradient descent, with momentum as the course writes it.

    Without momentum (``momentum=0``): ``w <- w - lr g``. With it, the velocity
    is an exponentially weighted average of the gradients::

        v <- momentum v + (1 - momentum) g
        w <- w - lr v

    and with ``nesterov``, the step looks ahead along the velocity:
    ``w <- w - lr (momentum v + (1 - momentum) g)`` (Sutskever's form of
    Nesterov's momentum, as MLPClassifier's ``nesterovs_momentum``).
    MLPClassifier's velocity ``v <- momentum v - lr g`` is the same with its
    ``lr`` equal to ``lr (1 - momentum)`` here: a rate here means the same
    step size with and without momentum.

    Parameters
    ----------
    momentum : float in [0, 1), default=0.0
    nesterov : bool, default=False
    """

    def __init__(self, momentum=0.0, nesterov=False):
        self.momentum, self.nesterov = momentum, nesterov
        self.velocity = None
        self.t = 0

    def step(self, params, gradient, lr):
        """Update ``params`` in place; return the step taken, ``lr``."""
        self.t += 1
        beta = self.momentum
        if beta == 0:
            params -= lr * gradient
            return lr
        if self.velocity is None:
            self.velocity = self._xp(params).zeros_like(params)
        velocity = self.velocity
        velocity *= beta
        velocity += (1 - beta) * gradient
        if self.nesterov:
            params -= lr * (beta * velocity + (1 - beta) * gradient)
        else:
            params -= lr * velocity
        return lr

    def compiled_state(self, params):
        """The rule as the compiled epoch takes it: its name, its constants
        ``(momentum, 0, 0)`` and its state ``(velocity, None)`` (created as
        :meth:`step` does; none without momentum)."""
        if self.momentum == 0:
            return "sgd", (0.0, 0.0, 0.0), (None, None)
        if self.velocity is None:
            self.velocity = np.zeros_like(params)
        name = "nesterov" if self.nesterov else "momentum"
        return name, (self.momentum, 0.0, 0.0), (self.velocity, None)


class RMSprop(_UpdateRule):
    """RMSprop: each coordinate's step divided by its gradients' root mean square.

    At the ``t``-th update (from 1)::

        s <- beta_2 s + (1 - beta_2) g^2
        s_hat = s / (1 - beta_2^t)
        w <- w - lr g / (sqrt(s_hat) + epsilon)

    the course's formula with Adam's bias correction of the squared average:
    ``s`` starts at 0, so without it the first step would be
    ``1 / sqrt(1 - beta_2)`` times ``lr`` per coordinate (about 32 times with
    ``beta_2=0.999``); with it, about ``lr``, as Adam's.

    Parameters
    ----------
    beta_2 : float in [0, 1), default=0.999
    epsilon : float, default=1e-8
    """

    def __init__(self, beta_2=0.999, epsilon=1e-8):
        self.beta_2, self.epsilon = beta_2, epsilon
        self.squares = None
        self.t = 0

    def step(self, params, gradient, lr):
        """Update ``params`` in place; return each coordinate's step."""
        self.t += 1
        xp = self._xp(params)
        if self.squares is None:
            self.squares = xp.zeros_like(params)
        squares = self.squares
        squares *= self.beta_2
        squares += (1 - self.beta_2) * gradient * gradient
        # The correction as a Python float: float32 parameters stay float32.
        squares_correction = 1 - math.pow(self.beta_2, self.t)
        steps = lr / (xp.sqrt(squares / squares_correction) + self.epsilon)
        params -= steps * gradient
        return steps

    def compiled_state(self, params):
        """The rule as the compiled epoch takes it: its name, its constants
        ``(0, beta_2, epsilon)`` and its state ``(None, squares)``."""
        if self.squares is None:
            self.squares = np.zeros_like(params)
        return "rmsprop", (0.0, self.beta_2, self.epsilon), (None, self.squares)


class Adam(_UpdateRule):
    """Adam: momentum and RMSprop together, each average bias-corrected.

    At the ``t``-th update (from 1)::

        m <- beta_1 m + (1 - beta_1) g
        s <- beta_2 s + (1 - beta_2) g^2
        m_hat = m / (1 - beta_1^t)
        s_hat = s / (1 - beta_2^t)
        w <- w - lr m_hat / (sqrt(s_hat) + epsilon)

    as the course writes it (Kingma and Ba's algorithm 1).

    Parameters
    ----------
    beta_1 : float in [0, 1), default=0.9
    beta_2 : float in [0, 1), default=0.999
    epsilon : float, default=1e-8
    """

    def __init__(self, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.mean = self.squares = None
        self.t = 0

    def step(self, params, gradient, lr):
        """Update ``params`` in place; return each coordinate's step."""
        self.t += 1
        xp = self._xp(params)
        if self.mean is None:
            self.mean, self.squares = xp.zeros_like(params), xp.zeros_like(params)
        mean, squares = self.mean, self.squares
        mean *= self.beta_1
        mean += (1 - self.beta_1) * gradient
        squares *= self.beta_2
        squares += (1 - self.beta_2) * gradient * gradient
        # The corrections as Python floats: float32 parameters stay float32.
        mean_correction = 1 - math.pow(self.beta_1, self.t)
        squares_correction = 1 - math.pow(self.beta_2, self.t)
        steps = lr / (xp.sqrt(squares / squares_correction) + self.epsilon)
        params -= steps * (mean / mean_correction)
        return steps

    def compiled_state(self, params):
        """The rule as the compiled epoch takes it: its name, its constants
        ``(beta_1, beta_2, epsilon)`` and its state ``(mean, squares)``."""
        if self.mean is None:
            self.mean, self.squares = np.zeros_like(params), np.zeros_like(params)
        constants = (self.beta_1, self.beta_2, self.epsilon)
        return "adam", constants, (self.mean, self.squares)


#: The update rule of each ``solver`` name.
UPDATE_RULES = ("sgd", "rmsprop", "adam")


def make_update_rule(solver, *, momentum=0.9, nesterovs_momentum=True,
                     beta_1=0.9, beta_2=0.999, epsilon=1e-8):  # fmt: skip
    """The update rule named ``solver``, with its parameters (the others unused)."""
    if solver == "sgd":
        return MomentumSGD(momentum, nesterovs_momentum)
    if solver == "rmsprop":
        return RMSprop(beta_2, epsilon)
    if solver == "adam":
        return Adam(beta_1, beta_2, epsilon)
    raise ValueError(f"solver must be one of {UPDATE_RULES}, got {solver!r}")
