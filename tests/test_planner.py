"""The fit's plan (``_planner``): the row space where it pays, every option passed."""

import numpy as np
import pytest

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
    _planner,
    _row_space,
)
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._objective import linear_objective
from sklearn_gdlogreg._preconditioner import PreconditionedObjective
from sklearn_gdlogreg._solvers import auto_step, gradient_descent


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
        learning_rates=[1.0, 10.0], max_iter=3000, cv=2
    ).fit(X, y)
    assert any(space is not None for space in used)
    assert np.isnan(model.scores_[:, 0, 1]).all()
    # It cycles: stopped after the stall window (it ran to max_iter before).
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
