"""The race of steps (``_solvers.race``): halving, and the fastest's limit."""

import numpy as np
from quadratic import Quadratic, start

from sklearn_gdlogreg._solvers import Race, gradient_descent, race
from sklearn_gdlogreg._solvers.race import FACTOR, GRACE, HALVING_START, MIN_LANES


def test_once_a_model_converges_its_group_mates_stop_at_twice_its_iterations(
    monkeypatch,
):
    # No halving here. Group 0 races steps 0.5 and 0.05; group 1 holds step
    # 0.01 alone.
    monkeypatch.setattr(race, "HALVING_START", 10**9)
    result = gradient_descent(
        Quadratic(1.0, k=3), start(1.0, k=3), learning_rate=np.array([0.5, 0.05, 0.01]),
        max_iter=2000, tol=1e-6, race=Race([0, 0, 1], [0, 1, 1]),
    )  # fmt: skip
    fastest = result.n_iter[0]
    assert result.converged[0] and not result.converged[1]
    assert result.n_iter[1] == FACTOR * fastest + GRACE
    assert result.diverged[1] is None
    assert result.converged[2] and result.n_iter[2] > result.n_iter[1]


def test_halving_drops_the_lanes_furthest_behind_in_every_group_at_once():
    # Two groups, four lanes of steps 0.001, 0.01, 0.1, 0.5 on f = x^2 / 2:
    # the larger the step, the lower the objective at every iteration.
    steps = np.tile([0.001, 0.01, 0.1, 0.5], 2)
    result = gradient_descent(
        Quadratic(1.0, k=8), start(1.0, k=8), learning_rate=steps,
        max_iter=5000, tol=1e-9, race=Race(np.repeat([0, 1], 4), np.tile(range(4), 2)),
    )  # fmt: skip
    assert MIN_LANES == 1
    # The two slowest lanes stop at the first halving, in both groups; the
    # next at the second.
    np.testing.assert_array_equal(result.n_iter[[0, 1, 4, 5]], HALVING_START)
    np.testing.assert_array_equal(result.n_iter[[2, 6]], 2 * HALVING_START)
    assert not result.converged[[0, 1, 2, 4, 5, 6]].any()
    assert result.converged[[3, 7]].all()
    assert all(reason is None for reason in result.diverged)


def test_a_lane_converged_in_every_group_decides_the_race(monkeypatch):
    # Steps 0.5 and 0.4 in two groups, no halving: lane 0 arrives everywhere
    # first, and lane 1 stops there.
    monkeypatch.setattr(race, "HALVING_START", 10**9)
    objective = Quadratic(1.0, k=4)
    result = gradient_descent(
        objective, start(1.0, k=4), learning_rate=np.tile([0.5, 0.4], 2),
        max_iter=1000, tol=1e-6, race=Race([0, 0, 1, 1], [0, 1, 0, 1]),
    )  # fmt: skip
    assert result.converged[[0, 2]].all() and not result.converged[[1, 3]].any()
    decided = result.n_iter[[0, 2]].max()
    np.testing.assert_array_equal(result.n_iter[[1, 3]], decided)
