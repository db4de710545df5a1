"""A test objective whose iterates and minimisers are known: k quadratics."""

import numpy as np

from sklearn_gdlogreg._namespace import max_abs
from sklearn_gdlogreg._protocols import Objective


class Quadratic(Objective):
    """k models: f(x) = sum_j c_j / 2 (x_j - a_j)^2 + l1 ||x||_1, raw = x.

    ``c`` (curvature per coordinate) and ``a`` (centre) have the shape of one
    model's parameters. Only what the protocol requires is written, and with
    an L1 part its nonsmooth members: the rest are the protocol's defaults.
    """

    def __init__(self, curvature, centre=0.0, l1=0.0, k=1):
        self.curvature = np.asarray(curvature, dtype=float)
        self.centre = np.asarray(centre, dtype=float)
        self.l1 = l1
        self.has_prox = l1 > 0
        self.k = k
        self.evaluations = 0

    def select(self, models):
        return self

    def _per_model(self, value, like):
        return np.broadcast_to(value, like.shape[1:]).reshape(1, 1, -1)

    def loss_gradient(self, params):
        self.evaluations += 1
        c = self._per_model(self.curvature, params)
        a = self._per_model(self.centre, params)
        with np.errstate(over="ignore", invalid="ignore"):  # let huge steps reach inf
            values = 0.5 * np.sum(c * (params - a) ** 2, axis=(1, 2))
            return values, c * (params - a)

    def total(self, smooth, params):
        return smooth + self.nonsmooth(params)

    def nonsmooth(self, params):
        return self.l1 * np.abs(params).reshape(len(params), -1).sum(axis=1)

    def prox(self, params, step):
        threshold = (np.asarray(step) * self.l1)[:, None, None]
        params[...] = np.sign(params) * np.maximum(np.abs(params) - threshold, 0)
        return params

    def optimality(self, y, x_new, steps, gradient, tol):
        return max_abs(np, (y - x_new) / np.reshape(steps, (-1, 1, 1)))

    def lipschitz_constant(self, exact=True):
        return float(np.max(self.curvature))


def start(*values, k=1):
    """``k`` models starting at ``values``."""
    return np.tile(np.array(values, dtype=float).reshape(1, 1, -1), (k, 1, 1))


def ill_conditioned():
    """Curvatures 1 and 1e-3: plain descent needs thousands of steps."""
    return Quadratic([1.0, 1e-3], centre=[1.0, -2.0])
