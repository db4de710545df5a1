"""The descent loop on quadratics, whose iterates are known in closed form."""

import re

import numpy as np
import pytest

from sklearn_gdlogreg._descent import MAX_CONSECUTIVE_RISES, gradient_descent


def quadratic(curvature):
    """f(x) = curvature / 2 * ||x||^2, minimum 0 at 0."""

    def loss_gradient(params):
        with np.errstate(over="ignore"):  # let huge steps reach inf
            return 0.5 * curvature * float(np.sum(params**2)), curvature * params

    return loss_gradient


def test_iterates_follow_the_closed_form():
    start = np.array([[3.0, -2.0]])
    result = gradient_descent(
        quadratic(2.0), start, learning_rate=0.1, max_iter=25, tol=0
    )
    # x_t = (1 - step * curvature)^t x_0 and f(x_t) = ||x_t||^2.
    factors = 0.8 ** np.arange(25)
    np.testing.assert_allclose(result.loss_curve, 13.0 * factors**2, rtol=1e-13)
    np.testing.assert_allclose(result.params, start * 0.8**25, rtol=1e-13)
    assert result.n_iter == 25 and not result.converged
    np.testing.assert_array_equal(start, [[3.0, -2.0]])  # not modified


def test_stops_at_first_gradient_within_tol():
    result = gradient_descent(
        quadratic(1.0), np.array([[1.0]]), learning_rate=0.5, max_iter=100, tol=1e-3
    )
    # gradient after t updates: 0.5^t; first <= 1e-3 at t = 10.
    assert result.converged
    assert result.n_iter == 10 and len(result.loss_curve) == 10
    assert result.gradient_max == pytest.approx(0.5**10)
    assert result.params[0, 0] == pytest.approx(0.5**10)


def test_tol_zero_runs_exactly_max_iter():
    result = gradient_descent(
        quadratic(1.0), np.array([[1.0]]), learning_rate=1.0, max_iter=7, tol=0
    )
    assert result.n_iter == 7 and len(result.loss_curve) == 7


@pytest.mark.parametrize("learning_rate", [2.5, 1e200])
def test_too_large_a_step_raises_naming_the_learning_rate(learning_rate):
    match = re.escape(f"learning_rate={learning_rate:g}") + ".*'auto'"
    with pytest.raises(ValueError, match=match):
        gradient_descent(
            quadratic(1.0),
            np.array([[1.0]]),
            learning_rate=learning_rate,
            max_iter=1000,
            tol=0,
        )


def test_rises_below_the_limit_are_tolerated():
    # |1 - step| = 1.02 grows f by 1.0404 each time: exactly the limit, then raises.
    kwargs = {"learning_rate": 2.02, "tol": 0}
    result = gradient_descent(
        quadratic(1.0), np.array([[1.0]]), max_iter=MAX_CONSECUTIVE_RISES, **kwargs
    )
    assert result.n_iter == MAX_CONSECUTIVE_RISES
    with pytest.raises(ValueError, match="rose 20 iterations in a row"):
        gradient_descent(
            quadratic(1.0),
            np.array([[1.0]]),
            max_iter=MAX_CONSECUTIVE_RISES + 1,
            **kwargs,
        )


def test_objective_growing_a_hundredfold_raises():
    def flat_then_jump(params):
        value = 1.0 if params[0, 0] < 3 else 101.0  # one jump, no long run of rises
        return value, np.array([[-1.0]])

    kwargs = {"learning_rate": 1.0, "max_iter": 10, "tol": 0}
    with pytest.raises(ValueError, match="grew from 1 to 101 at iteration 3"):
        gradient_descent(flat_then_jump, np.array([[0.0]]), **kwargs)
    result = gradient_descent(
        flat_then_jump, np.array([[0.0]]), **kwargs | {"max_iter": 3}
    )
    assert result.n_iter == 3


def test_callback_sees_each_iteration_and_can_stop():
    seen = []

    def callback(iteration, value, params):
        seen.append((iteration, value))
        return iteration == 4

    result = gradient_descent(
        quadratic(1.0),
        np.array([[1.0]]),
        learning_rate=0.5,
        max_iter=100,
        tol=0,
        callback=callback,
    )
    assert [i for i, _ in seen] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([v for _, v in seen], result.loss_curve)
    assert result.n_iter == 5


@pytest.mark.parametrize(("verbose", "lines"), [(0, 0), (1, 3), (2, 250)])
def test_verbose_prints_the_course_format(capsys, verbose, lines):
    gradient_descent(
        quadratic(1.0),
        np.array([[1.0]]),
        learning_rate=0.001,
        max_iter=250,
        tol=0,
        verbose=verbose,
    )
    out = capsys.readouterr().out.splitlines()
    assert len(out) == lines
    if verbose == 1:
        assert out[0] == "Cost after iteration 0: 0.500000"
        assert out[1] == f"Cost after iteration 100: {0.5 * 0.999**200:f}"
