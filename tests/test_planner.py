"""The fit's plan (``_planner``): the row space where it pays, every option passed."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
    _planner,
    _row_space,
)
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._objective import linear_objective
from sklearn_gdlogreg._preconditioner import PreconditionedObjective
from sklearn_gdlogreg._problem import TrainingProblem
from sklearn_gdlogreg._solvers import Race, auto_step, gradient_descent


@pytest.fixture
def wide(monkeypatch):
    """40 samples of 300 features (n < p / 2), in the row space whatever its size."""
    monkeypatch.setattr(_row_space, "MIN_BYTES", 0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 300))
    y = rng.integers(0, 2, 40)
    return X, y


def _used_row_space(monkeypatch):
    used = []

    def recorded(*args):
        used.append(_row_space.row_space(*args))
        return used[-1]

    monkeypatch.setattr(_planner, "row_space", recorded)
    return used


def test_a_cycling_rate_on_wide_rows_stops_as_in_the_coefficients(wide, monkeypatch):
    # The defect this guards: the row space was entered from inside the loop,
    # which called itself again without stall_window, so a cycling step ran to
    # max_iter there.
    X, y = wide
    loss = loss_for_classes(2)
    objective = linear_objective(loss, X, loss.encode_target(y, X.dtype), None, 1.0,
                                 True)  # fmt: skip
    options = {
        "learning_rate": 30 * auto_step(objective),
        "max_iter": 3000,
        "tol": 1e-4,
        "stall_window": 100,
    }
    start = np.zeros((1, 1, X.shape[1] + 1))
    used = _used_row_space(monkeypatch)
    planned = _planner.descend(objective, start, **options)
    assert used[0] is not None
    primal = gradient_descent(objective, start, **options)
    assert "no new low in 100 iterations (it cycles)" in primal.diverged[0]
    assert planned.n_iter[0] == primal.n_iter[0] < 3000
    assert planned.diverged[0] == primal.diverged[0]


def test_the_cv_scores_a_cycling_rate_on_wide_rows_nan(wide, monkeypatch):
    X, y = wide
    used = _used_row_space(monkeypatch)
    model = GradientDescentLogisticRegressionCV(
        learning_rates=[1.0, 10.0], Cs=[1.0], max_iter=3000, cv=2
    ).fit(X, y)
    assert any(space is not None for space in used)
    # It cycles: outpaced in the race, or stopped after the stall window (it
    # ran to max_iter before), and not chosen.
    assert not model.converged_[:, 0, 1].any()
    assert (model.n_iters_[:, 0, 1] < 200).all()
    assert model.learning_rate_ == 1.0


def test_the_plan_keeps_the_coefficients_where_the_row_space_does_not_apply(
    wide, monkeypatch
):
    X, y = wide
    loss = loss_for_classes(2)
    target = loss.encode_target(y, X.dtype)
    used = _used_row_space(monkeypatch)
    for objective, start in [
        # an L1 part, whose prox would leave the row space
        (linear_objective(loss, X, target, None, 1.0, True, 0.5),
         np.zeros((1, 1, 301))),
        # a start with non-zero coefficients
        (linear_objective(loss, X, target, None, 1.0, True), np.ones((1, 1, 301))),
    ]:  # fmt: skip
        planned = _planner.descend(
            objective, start, learning_rate=0.01, max_iter=50, tol=0
        )
        alone = gradient_descent(
            objective, start, learning_rate=0.01, max_iter=50, tol=0
        )
        np.testing.assert_array_equal(planned.params, alone.params)
    assert used == [None, None]


def test_the_default_keeps_the_row_space_and_a_request_preconditions(wide, monkeypatch):
    # A diagonal preconditioner's steps leave the row space: "auto" descends
    # there without one (its iterations are cheaper), True preconditions in
    # the coefficients; both reach the same model.
    X, y = wide
    X = X * np.logspace(-1, 1, X.shape[1])
    used = _used_row_space(monkeypatch)
    planned = []
    plan = _planner.plan

    def recorded(*args, **kwargs):
        planned.append(plan(*args, **kwargs))
        return planned[-1]

    monkeypatch.setattr("sklearn_gdlogreg._logistic.plan", recorded)
    options = {"tol": 1e-8, "max_iter": 5000}
    default = GradientDescentLogisticRegression(**options).fit(X, y)
    assert isinstance(planned[-1], _row_space.RowSpaceObjective)
    asked = GradientDescentLogisticRegression(precondition=True, **options).fit(X, y)
    assert isinstance(planned[-1], PreconditionedObjective)
    assert len(used) == 1  # not even consulted when asked for by name
    np.testing.assert_allclose(asked.coef_, default.coef_, rtol=1e-4, atol=1e-6)


def _breast_cancer_problem(units=1.0):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X) * units
    return TrainingProblem(GradientDescentLogisticRegression(), X, y, None)


CS_PATH = [0.01, 0.1, 1.0]


@pytest.mark.parametrize("solver", ["bb", "nesterov"])
def test_the_path_ends_where_separate_fits_at_each_C_end(solver):
    problem = _breast_cancer_problem()
    objective = problem.objective(CS_PATH[0], 0.0)
    options = {"max_iter": 20_000, "tol": 1e-12, "solver": solver}
    path = _planner.descend_path(
        objective, CS_PATH, np.zeros((1, 1, 31)), l1_ratio=0.0,
        learning_rate=auto_step, **options,
    )  # fmt: skip
    warm_iterations = cold_iterations = 0
    for C, result in zip(CS_PATH, path, strict=True):
        at_C = objective.with_strength(C)
        cold = _planner.descend(
            at_C, np.zeros((1, 1, 31)), learning_rate=auto_step(at_C), **options
        )
        assert result.converged[0] and cold.converged[0]
        np.testing.assert_allclose(result.params, cold.params, rtol=1e-8, atol=1e-10)
        warm_iterations += result.n_iter[0]
        cold_iterations += cold.n_iter[0]
    if solver == "bb":  # Nesterov's momentum gains little from a start nearby
        assert warm_iterations < cold_iterations


def test_warm_started_fold_models_agree_with_cold_ones_and_race_by_fold():
    problem = _breast_cancer_problem()
    folds = [np.arange(0, 569, 2), np.arange(1, 569, 2)]
    rates = np.array([1.0, 4.0, 16.0])
    objective = problem.folds_objective(CS_PATH[0], 0.0, folds, repeat=len(rates))
    options = {"max_iter": 20_000, "tol": 1e-10, "solver": "gd"}
    path = _planner.descend_path(
        objective, CS_PATH, np.zeros((6, 1, 31)), l1_ratio=0.0,
        learning_rate=lambda at: np.tile(rates, 2) * auto_step(at),
        race=Race(np.repeat([0, 1], 3), np.tile([0, 1, 2], 2)), **options,
    )  # fmt: skip
    for C, result in zip(CS_PATH, path, strict=True):
        for fold, rows in enumerate(folds):
            at_C = problem.objective(C, 0.0, rows=rows)
            cold = _planner.descend(
                at_C, np.zeros((1, 1, 31)), learning_rate=auto_step(at_C), **options
            )
            mine = slice(3 * fold, 3 * fold + 3)
            converged = result.converged[mine]
            assert converged.any()  # the race stopped the others of the fold
            np.testing.assert_allclose(
                result.params[mine][converged][0], cold.params[0], rtol=1e-6, atol=1e-8
            )


# Features four decades apart: the preconditioner's D is far from uniform.
UNITS = np.logspace(-2, 2, 30)


# Nesterov's steps reach tol=1e-12 within 20,000 iterations on the standardized
# features only.
@pytest.mark.parametrize("solver, units", [("bb", UNITS), ("nesterov", 1.0)])
def test_the_preconditioned_path_ends_where_separate_fits_at_each_C_end(solver, units):
    # D holds the L2 strength 1 / (C S): rebuilt at each C, so that each C's
    # descent is a single fit's from the last solution, the coefficients
    # carried between the Cs' coordinates.
    problem = _breast_cancer_problem(units)
    objective = problem.objective(CS_PATH[0], 0.0)
    options = {"max_iter": 20_000, "tol": 1e-12, "solver": solver}
    start = np.zeros((1, 1, 31))

    def step(variables):
        return auto_step(variables, exact=solver != "bb")

    path = _planner.descend_path(
        objective, CS_PATH, start, l1_ratio=0.0, learning_rate=step,
        precondition=True, **options,
    )  # fmt: skip
    previous = start
    for C, result in zip(CS_PATH, path, strict=True):
        at_C = _planner.plan(
            objective.with_strength(C), start, options["max_iter"], precondition=True
        )
        assert isinstance(at_C, PreconditionedObjective)
        # The warm start: this C's single descent from the last C's solution.
        warm = at_C.descend(previous, learning_rate=step(at_C), **options)
        assert result.n_iter[0] == warm.n_iter[0]
        np.testing.assert_array_equal(result.params, warm.params)
        # The end: the single fit's at this C, from zero.
        cold = GradientDescentLogisticRegression(C=C, precondition=True, **options).fit(
            problem.X, problem.y
        )
        assert result.converged[0] and cold.n_iter_[0] < options["max_iter"]
        np.testing.assert_allclose(
            result.params[0], np.column_stack([cold.coef_, cold.intercept_]),
            rtol=1e-8, atol=1e-10,
        )  # fmt: skip
        previous = result.params


def test_preconditioned_fold_models_are_single_fits_on_their_folds():
    # Each fold's model weighs its training rows only (per-model weights):
    # its D is that of its rows, and along the path (the CV's default steps,
    # spectral in D's metric) it ends where a single fit on the fold ends.
    problem = _breast_cancer_problem(UNITS)
    folds = [np.arange(0, 569, 2), np.arange(1, 569, 2)]
    objective = problem.folds_objective(CS_PATH[0], 0.0, folds)
    variables = _planner.plan(objective, np.zeros((2, 1, 31)), 1000, precondition=True)
    for fold, rows in enumerate(folds):
        alone = _planner.plan(
            problem.objective(CS_PATH[0], 0.0, rows=rows),
            np.zeros((1, 1, 31)),
            1000,
            precondition=True,
        )
        np.testing.assert_allclose(
            variables.diagonal[fold], alone.diagonal[0], rtol=1e-12
        )
    options = {"max_iter": 20_000, "tol": 1e-10, "solver": "bb"}
    path = _planner.descend_path(
        objective, CS_PATH, np.zeros((2, 1, 31)), l1_ratio=0.0,
        learning_rate=lambda at: auto_step(at, exact=False), precondition=True,
        race=Race(groups=np.arange(2), lanes=np.zeros(2)), **options,
    )  # fmt: skip
    for C, result in zip(CS_PATH, path, strict=True):
        for fold, rows in enumerate(folds):
            single = GradientDescentLogisticRegression(C=C, **options).fit(
                problem.X[rows], problem.y[rows]
            )
            assert result.converged[fold]
            np.testing.assert_allclose(
                result.params[fold], np.column_stack([single.coef_, single.intercept_]),
                rtol=1e-6, atol=1e-8,
            )  # fmt: skip
