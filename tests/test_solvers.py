"""The descent's driver (``_solvers``) on quadratics, whose iterates are known."""

import numpy as np
import pytest
from quadratic import Quadratic, start

from sklearn_gdlogreg._protocols import Objective
from sklearn_gdlogreg._solvers import auto_step, gradient_descent, make_solver
from sklearn_gdlogreg._solvers.backtracking import Backtracking
from sklearn_gdlogreg._solvers.nesterov import NesterovSteps
from sklearn_gdlogreg._solvers.plain import PlainSteps
from sklearn_gdlogreg._solvers.spectral import SpectralSteps


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


def test_a_last_update_that_overflows_is_divergence():
    # One step of 1e300 from 1e10 overflows to inf on the last iteration.
    result = gradient_descent(
        Quadratic(1.0), start(1e10), learning_rate=1e300, max_iter=1, tol=0
    )
    assert (
        "no longer finite" in result.diverged[0] or "overflowed" in (result.diverged[0])
    )


class Minimal(Objective):
    """Only the members the protocol requires: f(x) = ||x - 1||^2 / 2."""

    def select(self, models):
        return self

    def loss_gradient(self, params):
        return 0.5 * ((params - 1) ** 2).sum(axis=(1, 2)), params - 1

    def lipschitz_constant(self, exact=True):
        return 1.0


@pytest.mark.parametrize("solver", ["gd", "nesterov", "bb"])
@pytest.mark.parametrize("line_search", [False, True])
def test_an_objective_with_only_the_required_members_is_minimised(solver, line_search):
    result = gradient_descent(
        Minimal(), np.zeros((2, 1, 3)), learning_rate=0.5, max_iter=500, tol=1e-10,
        solver=solver, line_search=line_search,
    )  # fmt: skip
    assert result.converged.all()
    np.testing.assert_allclose(result.params, 1.0, atol=1e-9)


def test_an_unknown_solver_is_refused_by_name():
    with pytest.raises(ValueError, match=r"solver must be one of \('gd', 'nesterov'"):
        make_solver("adam")


def test_line_search_wraps_the_strategy_and_spectral_steps_search_their_own():
    assert isinstance(make_solver("gd", line_search=True), Backtracking)
    assert isinstance(make_solver("nesterov", line_search=True).solver, NesterovSteps)
    assert isinstance(make_solver("bb", line_search=True), SpectralSteps)
    assert isinstance(make_solver("gd"), PlainSteps)
