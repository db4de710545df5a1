"""The descent loop on quadratics, whose iterates and minimisers are known."""

import re

import numpy as np
import pytest

from sklearn_gdlogreg._descent import (
    GROW,
    MAX_CONSECUTIVE_RISES,
    auto_step,
    gradient_descent,
)


class Quadratic:
    """k models: f(x) = sum_j c_j / 2 (x_j - a_j)^2 + l1 ||x||_1, raw = x.

    Implements the objective protocol the loop needs; ``c`` (curvature per
    coordinate) and ``a`` (centre) have the shape of one model's parameters.
    """

    def __init__(self, curvature, centre=0.0, l1=0.0, k=1):
        self.curvature = np.asarray(curvature, dtype=float)
        self.centre = np.asarray(centre, dtype=float)
        self.l1 = l1
        self.has_l1 = l1 > 0
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

    def nonsmooth(self, params):
        return self.l1 * np.abs(params).reshape(len(params), -1).sum(axis=1)

    def prox(self, params, step):
        if self.has_l1:
            threshold = (np.asarray(step) * self.l1)[:, None, None]
            params[...] = np.sign(params) * np.maximum(np.abs(params) - threshold, 0)
        return params

    def lipschitz_constant(self, exact=True):
        return float(np.max(self.curvature))


def start(*values, k=1):
    return np.tile(np.array(values, dtype=float).reshape(1, 1, -1), (k, 1, 1))


def test_iterates_follow_the_closed_form():
    x0 = start(3.0, -2.0)
    result = gradient_descent(Quadratic(2.0), x0, learning_rate=0.1, max_iter=25, tol=0)
    # x_t = (1 - step * curvature)^t x_0 and f(x_t) = ||x_t||^2.
    factors = 0.8 ** np.arange(25)
    np.testing.assert_allclose(result.loss_curves[0], 13.0 * factors**2, rtol=1e-13)
    np.testing.assert_allclose(result.params, x0 * 0.8**25, rtol=1e-13)
    assert result.objective[0] == pytest.approx(13.0 * 0.8**50, rel=1e-13)
    assert result.n_iter[0] == 25 and not result.converged[0]
    np.testing.assert_array_equal(x0, start(3.0, -2.0))  # not modified


def test_models_run_side_by_side_with_their_own_steps():
    rates = np.array([0.1, 0.25, 0.5])
    result = gradient_descent(
        Quadratic(2.0, k=3),
        start(1.0, k=3),
        learning_rate=rates,
        max_iter=500,
        tol=1e-6,
    )
    for model, rate in enumerate(rates):
        alone = gradient_descent(
            Quadratic(2.0), start(1.0), learning_rate=rate, max_iter=500, tol=1e-6
        )
        assert result.n_iter[model] == alone.n_iter[0]
        np.testing.assert_array_equal(result.params[model], alone.params[0])
        np.testing.assert_array_equal(result.loss_curves[model], alone.loss_curves[0])
    # rate 0.5 with curvature 2 lands on the minimum in one step.
    assert result.n_iter.tolist()[2] == 1 and result.converged.all()


def test_stops_at_first_gradient_within_tol():
    result = gradient_descent(
        Quadratic(1.0), start(1.0), learning_rate=0.5, max_iter=100, tol=1e-3
    )
    # gradient after t updates: 0.5^t; first <= 1e-3 at t = 10.
    assert result.converged[0]
    assert result.n_iter[0] == 10 and len(result.loss_curves[0]) == 10
    assert result.gradient_max[0] == pytest.approx(0.5**10)
    assert result.params[0, 0, 0] == pytest.approx(0.5**10)


def test_tol_zero_runs_exactly_max_iter():
    result = gradient_descent(
        Quadratic(1.0), start(1.0), learning_rate=1.0, max_iter=7, tol=0
    )
    assert result.n_iter[0] == 7 and len(result.loss_curves[0]) == 7


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


def ill_conditioned():
    """Curvatures 1 and 1e-3: plain descent needs thousands of steps."""
    return Quadratic([1.0, 1e-3], centre=[1.0, -2.0])


def test_nesterov_is_much_faster_and_restarts_on_rises():
    objective = ill_conditioned()
    kwargs = {"learning_rate": 1.0, "max_iter": 20_000, "tol": 1e-8}
    plain = gradient_descent(objective, start(0.0, 0.0), **kwargs)
    fast = gradient_descent(objective, start(0.0, 0.0), solver="nesterov", **kwargs)
    assert plain.converged[0] and fast.converged[0]
    assert fast.n_iter[0] * 10 < plain.n_iter[0]
    np.testing.assert_allclose(fast.params[0, 0], [1.0, -2.0], atol=1e-4)
    curve = fast.loss_curves[0]
    rises = np.diff(curve) > 0
    assert rises.any()  # momentum overshoots...
    assert not (rises[1:] & rises[:-1]).any()  # ...and a restart follows each rise


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


def test_proximal_descent_reaches_the_soft_thresholded_minimum():
    # argmin c/2 (x - a)^2 + l1 |x| = sign(a) max(|a| - l1 / c, 0), per coordinate.
    centre = np.array([3.0, 0.2, -1.0, -0.1])
    objective = Quadratic(2.0, centre=centre, l1=0.5)
    for solver in ("gd", "nesterov"):
        result = gradient_descent(
            objective, start(0, 0, 0, 0), learning_rate=0.3, max_iter=1000,
            tol=1e-12, solver=solver,
        )  # fmt: skip
        expected = np.sign(centre) * np.maximum(np.abs(centre) - 0.25, 0)
        np.testing.assert_allclose(result.params[0, 0], expected, atol=1e-10)
        assert result.params[0, 0, 1] == 0.0 and result.params[0, 0, 3] == 0.0


def test_auto_step_is_one_over_lipschitz():
    assert auto_step(Quadratic(4.0)) == 0.25


def test_callback_sees_each_iteration_and_can_stop():
    seen = []

    def callback(iteration, values, params):
        seen.append((iteration, values[0]))
        return iteration == 4

    result = gradient_descent(
        Quadratic(1.0), start(1.0), learning_rate=0.5, max_iter=100, tol=0,
        callback=callback,
    )  # fmt: skip
    assert [i for i, _ in seen] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([v for _, v in seen], result.loss_curves[0])
    assert result.n_iter[0] == 5 and result.stopped


@pytest.mark.parametrize(("verbose", "lines"), [(0, 0), (1, 3), (2, 250)])
def test_verbose_prints_the_course_format(capsys, verbose, lines):
    gradient_descent(
        Quadratic(1.0), start(1.0), learning_rate=0.001, max_iter=250, tol=0,
        verbose=verbose,
    )  # fmt: skip
    out = capsys.readouterr().out.splitlines()
    assert len(out) == lines
    if verbose == 1:
        assert out[0] == "Cost after iteration 0: 0.500000"
        assert out[1] == f"Cost after iteration 100: {0.5 * 0.999**200:f}"


@pytest.mark.parametrize("solver", ["gd", "nesterov"])
def test_one_objective_evaluation_per_iteration(solver):
    # With the fused pass, one evaluation is one read of the data.
    objective = Quadratic([1.0, 3.0], centre=[2.0, -1.0])
    gradient_descent(
        objective, start(0.0, 0.0), learning_rate=0.1, max_iter=30, tol=0, solver=solver
    )
    assert objective.evaluations == 31  # the start, then one per iteration


def test_spectral_steps_follow_their_definition():
    # f(x) = sum_j c_j / 2 (x_j - a_j)^2: the gradient is c * (x - a). Written
    # out: x_{t+1} = x_t - step_t g_t; with s = x_{t+1} - x_t, r = g_{t+1} - g_t,
    # long = s.s / s.r, short = s.r / r.r, the next step is the smallest of the
    # last three short steps where short < 0.5 long (ABBmin), else long.
    curvature, centre = np.array([1.0, 10.0, 0.1]), np.array([1.0, -2.0, 3.0])
    x, step = np.zeros(3), 0.05
    expected, shorts = [], []
    for _ in range(6):
        g = curvature * (x - centre)
        x_new = x - step * g
        s, r = x_new - x, curvature * (x_new - centre) - g
        long, short = s @ s / (s @ r), (s @ r) / (r @ r)
        shorts.insert(0, short)
        step = min(shorts[:3]) if short < 0.5 * long else long
        x = x_new
        expected.append(x.copy())
    for iterations in range(1, 7):
        result = gradient_descent(
            Quadratic(curvature, centre=centre), start(0.0, 0.0, 0.0),
            learning_rate=0.05, max_iter=iterations, tol=0, solver="bb",
        )  # fmt: skip
        np.testing.assert_allclose(
            result.params[0, 0], expected[iterations - 1], rtol=1e-12
        )


def test_spectral_steps_reach_the_minimum_far_faster_than_plain_steps():
    objective = ill_conditioned()
    kwargs = {"learning_rate": 1.0, "max_iter": 20_000, "tol": 1e-8}
    plain = gradient_descent(objective, start(0.0, 0.0), **kwargs)
    fast = gradient_descent(objective, start(0.0, 0.0), solver="bb", **kwargs)
    assert fast.converged[0] and fast.n_iter[0] * 50 < plain.n_iter[0]
    np.testing.assert_allclose(fast.params[0, 0], [1.0, -2.0], atol=1e-5)


def test_spectral_steps_backtrack_a_step_that_is_far_too_large():
    # 1e6 on curvature 4: the non-monotone test halves it until it is safe.
    result = gradient_descent(
        Quadratic(4.0, centre=1.0), start(0.0), learning_rate=1e6, max_iter=100,
        tol=1e-10, solver="bb",
    )  # fmt: skip
    assert result.converged[0] and result.diverged[0] is None
    np.testing.assert_allclose(result.params[0, 0], 1.0, atol=1e-9)


def test_spectral_proximal_steps_reach_the_soft_thresholded_minimum():
    centre = np.array([3.0, 0.2, -1.0, -0.1])
    objective = Quadratic([2.0, 1.0, 5.0, 0.5], centre=centre, l1=0.5)
    result = gradient_descent(
        objective, start(0, 0, 0, 0), learning_rate=0.3, max_iter=1000,
        tol=1e-12, solver="bb",
    )  # fmt: skip
    curvature = np.array([2.0, 1.0, 5.0, 0.5])
    expected = np.sign(centre) * np.maximum(np.abs(centre) - 0.5 / curvature, 0)
    np.testing.assert_allclose(result.params[0, 0], expected, atol=1e-10)


def test_a_last_update_that_overflows_is_divergence():
    # One step of 1e300 from 1e10 overflows to inf on the last iteration.
    result = gradient_descent(
        Quadratic(1.0), start(1e10), learning_rate=1e300, max_iter=1, tol=0
    )
    assert (
        "no longer finite" in result.diverged[0] or "overflowed" in (result.diverged[0])
    )
