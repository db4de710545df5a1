"""Which models stop and why (``_solvers.monitor``): divergence, rises, growth."""

import re

import numpy as np
import pytest
from quadratic import Quadratic, start

from sklearn_gdlogreg._protocols import Objective
from sklearn_gdlogreg._solvers import MAX_CONSECUTIVE_RISES, gradient_descent


@pytest.mark.parametrize("learning_rate", [2.5, 1e200])
def test_too_large_a_step_is_reported_naming_the_learning_rate(learning_rate):
    result = gradient_descent(
        Quadratic(1.0), start(1.0), learning_rate=learning_rate, max_iter=1000, tol=0
    )
    message = re.escape(f"learning_rate={learning_rate:g}") + ".*'auto'"
    assert re.search(message, result.diverged[0])


def test_one_diverging_model_leaves_the_others_alone():
    result = gradient_descent(
        Quadratic(1.0, k=2), start(1.0, k=2), learning_rate=np.array([0.5, 3.0]),
        max_iter=50, tol=0,
    )  # fmt: skip
    assert result.diverged[0] is None and "diverged" in result.diverged[1]
    assert result.n_iter[0] == 50 and result.n_iter[1] < 50
    np.testing.assert_allclose(result.params[0], 0.5**50)


def test_rises_below_the_limit_are_tolerated():
    # |1 - step| = 1.02 grows f by 1.0404 each time: exactly the limit, then stops.
    kwargs = {"learning_rate": 2.02, "tol": 0}
    result = gradient_descent(
        Quadratic(1.0), start(1.0), max_iter=MAX_CONSECUTIVE_RISES, **kwargs
    )
    assert result.n_iter[0] == MAX_CONSECUTIVE_RISES and result.diverged[0] is None
    result = gradient_descent(
        Quadratic(1.0), start(1.0), max_iter=MAX_CONSECUTIVE_RISES + 1, **kwargs
    )
    assert "rose 20 iterations in a row" in result.diverged[0]


def test_objective_growing_a_hundredfold_is_divergence():
    # One step of 21 on curvature 1 multiplies f by 400.
    result = gradient_descent(
        Quadratic(1.0), start(1.0), learning_rate=21.0, max_iter=10, tol=0
    )
    assert "grew from 0.5 to 200 at iteration 1" in result.diverged[0]


class Tilted(Objective):
    """f(x) = sqrt(1 + x^2) + 0.3 x: a fixed step of 3 cycles between two
    values of f forever, neither diverging nor converging."""

    def select(self, models):
        return self

    def loss_gradient(self, params):
        root = np.sqrt(1 + params**2)
        return (root + 0.3 * params).sum(axis=(1, 2)), params / root + 0.3

    def lipschitz_constant(self, exact=True):
        return 1.0


def test_a_step_that_cycles_stops_as_stalled_only_with_a_window():
    kwargs = {"learning_rate": 3.0, "max_iter": 500, "tol": 1e-6}
    result = gradient_descent(Tilted(), np.zeros((1, 1, 1)), **kwargs)
    assert result.n_iter[0] == 500 and result.diverged[0] is None
    curve = result.loss_curves[0]
    assert abs(curve[-1] - curve[-3]) < 1e-6 < abs(curve[-1] - curve[-2])  # cycles
    result = gradient_descent(Tilted(), np.zeros((1, 1, 1)), stall_window=50, **kwargs)
    assert result.n_iter[0] < 100
    assert "made no new low in 50 iterations (it cycles)" in result.diverged[0]


def test_a_flat_objective_is_not_a_stall():
    # A step that lands on the minimum: the objective stays at its lowest.
    result = gradient_descent(
        Quadratic(1.0), start(1.0), learning_rate=1.0, max_iter=300, tol=0,
        stall_window=10,
    )  # fmt: skip
    assert result.n_iter[0] == 300 and result.diverged[0] is None


class Creeping(Objective):
    """f rises by 2 eps, relative, at every evaluation: rounding noise that a
    search accepts (float32 data, objectives of 1e-298), not divergence."""

    value = 1.0

    def select(self, models):
        return self

    def loss_gradient(self, params):
        self.value *= 1 + 2 * np.finfo(np.float64).eps
        return np.full(len(params), self.value), np.ones_like(params)

    def lipschitz_constant(self, exact=True):
        return 1.0


def test_rises_within_rounding_are_not_divergence():
    # Counted as rises, 20 of them stopped such fits with the auto step as
    # "diverged" (#23 item 14).
    result = gradient_descent(
        Creeping(), np.zeros((1, 1, 1)), learning_rate=1e-3, max_iter=50, tol=0
    )
    assert result.n_iter[0] == 50 and result.diverged[0] is None
    assert np.all(np.diff(result.loss_curves[0]) > 0)
