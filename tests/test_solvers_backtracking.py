"""Backtracking around plain and Nesterov's steps (``_solvers.backtracking``)."""

import numpy as np
from quadratic import Quadratic, start

from sklearn_gdlogreg._solvers import GROW, gradient_descent


def test_line_search_shrinks_a_too_large_step_and_grows_a_small_one():
    objective = Quadratic(4.0, centre=1.0)
    large = gradient_descent(
        objective, start(0.0), learning_rate=100.0, max_iter=50, tol=1e-10,
        line_search=True,
    )  # fmt: skip
    assert large.converged[0] and large.diverged[0] is None
    assert np.all(np.diff(large.loss_curves[0]) <= 0)
    small = gradient_descent(
        objective, start(0.0), learning_rate=1e-6, max_iter=500, tol=1e-10,
        line_search=True,
    )  # fmt: skip
    assert small.converged[0]
    assert small.learning_rate[0] > 1e-6 * GROW**20


def test_backtracking_halves_until_sufficient_decrease_by_its_definition():
    # f(x) = 2 (x - 1)^2 (curvature 4) from 0 with a first step of 1: the test
    # f(x_new) <= f(0) + g (x_new - 0) + (x_new - 0)^2 / (2 s) fails for s > 1/4
    # and holds at s = 1/4, after two halvings: x_new = 0 - s g = 1, the minimum.
    result = gradient_descent(
        Quadratic(4.0, centre=1.0), start(0.0), learning_rate=1.0, max_iter=1,
        tol=0, line_search=True,
    )  # fmt: skip
    np.testing.assert_allclose(result.params[0, 0], [1.0])
    # The step reported is the one accepted (the next try is GROW times it).
    assert result.learning_rate[0] == 0.25


def test_backtracking_around_nesterov_takes_only_decreasing_steps_at_first():
    result = gradient_descent(
        Quadratic(4.0, centre=1.0), start(0.0), learning_rate=100.0, max_iter=2,
        tol=0, solver="nesterov", line_search=True,
    )  # fmt: skip
    assert result.diverged[0] is None
    assert result.loss_curves[0][1] < result.loss_curves[0][0]
