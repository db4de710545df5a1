"""The descent in the row space of X equals the descent on the coefficients."""

import numpy as np
import pytest
from scipy import sparse

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
    _row_space,
)
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._objective import linear_objective
from sklearn_gdlogreg._planner import descend
from sklearn_gdlogreg._solvers import gradient_descent


@pytest.fixture(autouse=True)
def small_data_in_the_row_space(monkeypatch):
    """Small X (below a megabyte) is fitted in the row space here too: these
    tests check its results; when it pays is a matter of speed."""
    monkeypatch.setattr(_row_space, "MIN_BYTES", 0)


def _wide(n_classes, n=40, p=300, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)).astype(dtype)
    y = rng.integers(0, n_classes, n)
    y[:n_classes] = np.arange(n_classes)
    return X, y


def _fit_both(monkeypatch, X, y, **params):
    """The fit in the row space, and the same fit on the coefficients."""
    from sklearn_gdlogreg import _planner

    used = []

    def recorded(*args):
        used.append(_row_space.row_space(*args))
        return used[-1]

    with monkeypatch.context() as patch:
        patch.setattr(_planner, "row_space", recorded)
        fitted = GradientDescentLogisticRegression(**params).fit(X, y)
    assert used and used[0] is not None  # the descent did run in the row space
    with monkeypatch.context() as patch:
        patch.setattr(_row_space, "MAX_SAMPLES", 0)
        primal = GradientDescentLogisticRegression(**params).fit(X, y)
    return fitted, primal


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize(
    "params",
    [
        {"solver": "gd", "learning_rate": 0.05, "max_iter": 200, "tol": 0},
        {"solver": "gd", "line_search": True, "max_iter": 60, "tol": 0},
        {"solver": "nesterov", "max_iter": 60, "tol": 0, "C": 0.1},
        {"solver": "nesterov", "line_search": True, "max_iter": 40, "tol": 0},
    ],
    ids=["gd", "gd-line-search", "nesterov", "nesterov-line-search"],
)
def test_fixed_paths_equal_the_descent_on_the_coefficients(
    monkeypatch, n_classes, fit_intercept, params
):
    X, y = _wide(n_classes)
    fitted, primal = _fit_both(monkeypatch, X, y, fit_intercept=fit_intercept, **params)
    assert fitted.n_iter_ == primal.n_iter_
    np.testing.assert_allclose(fitted.loss_curve_, primal.loss_curve_, rtol=1e-10)
    # Plain steps take the same path to rounding; a line search's or a
    # restart's yes-or-no can tip the other way on a rounding difference, and
    # the path part by a little.
    plain = params["solver"] == "gd" and not params.get("line_search")
    rtol, atol = (1e-8, 1e-12) if plain else (1e-4, 1e-8)
    np.testing.assert_allclose(fitted.coef_, primal.coef_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(fitted.intercept_, primal.intercept_, atol=atol)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_stopping_on_tol_is_decided_on_the_exact_gradient(monkeypatch, n_classes):
    """Plain steps stop at the same iteration as on the coefficients: the first
    whose largest gradient entry is at most tol, though the loop mostly sees
    only bounds of it."""
    X, y = _wide(n_classes)
    params = {"solver": "gd", "C": 0.1, "tol": 1e-4, "max_iter": 5000}
    fitted, primal = _fit_both(monkeypatch, X, y, **params)
    assert 10 < fitted.n_iter_ == primal.n_iter_ < 5000
    np.testing.assert_allclose(fitted.coef_, primal.coef_, rtol=1e-8, atol=1e-12)


def test_spectral_steps_reach_the_same_solution(monkeypatch):
    X, y = _wide(3)
    fitted, primal = _fit_both(monkeypatch, X, y, tol=1e-8, max_iter=5000)
    np.testing.assert_allclose(fitted.coef_, primal.coef_, rtol=1e-5, atol=1e-7)


def test_float32_stays_float32(monkeypatch):
    X, y = _wide(2, dtype=np.float32)
    params = {"solver": "gd", "learning_rate": 0.05, "max_iter": 100, "tol": 0}
    fitted, primal = _fit_both(monkeypatch, X, y, **params)
    assert fitted.coef_.dtype == np.float32
    np.testing.assert_allclose(fitted.coef_, primal.coef_, rtol=1e-4, atol=1e-6)


def test_many_models_with_their_own_strengths_in_one_descent():
    X, y = _wide(2)
    loss = loss_for_classes(2)
    target = loss.encode_target(y, X.dtype)
    C = np.array([0.01, 1.0, np.inf])
    objective = linear_objective(loss, X, target, None, C, True)
    start = np.zeros((3, 1, X.shape[1] + 1))
    assert _row_space.row_space(objective, start, max_iter=100) is not None
    result = descend(objective, start, learning_rate=0.05, max_iter=100, tol=0)
    for model, c in enumerate(C):
        alone = linear_objective(loss, X, target, None, c, True)
        single = gradient_descent(  # on the coefficients
            alone, start[:1], learning_rate=0.05, max_iter=100, tol=0
        )
        np.testing.assert_allclose(
            result.params[model], single.params[0], rtol=1e-8, atol=1e-12
        )


def _objective(X, y, l1_ratio=0.0):
    loss = loss_for_classes(2)
    return linear_objective(
        loss, X, loss.encode_target(y, X.dtype), None, 1.0, True, l1_ratio
    )


def test_used_only_where_it_applies_and_pays(monkeypatch):
    X, y = _wide(2)
    start = np.zeros((1, 1, X.shape[1] + 1))
    assert _row_space.row_space(_objective(X, y), start, 100) is not None
    warm = start.copy()
    warm[0, 0, 3] = 1.0
    refused = {
        "L1": (_objective(X, y, l1_ratio=0.5), start, 100),
        "a start off the row space": (_objective(X, y), warm, 100),
        "fewer iterations than n / 8": (_objective(X, y), start, 4),
        "narrow rows": (_objective(X[:, :60], y), start[..., :61], 100),
        "sparse rows": (_objective(sparse.csr_matrix(X), y), start, 100),
        "overflowing products": (_objective(X * 1e160, y), start, 100),
    }
    for why, (objective, params, max_iter) in refused.items():
        assert _row_space.row_space(objective, params, max_iter) is None, why
    monkeypatch.setattr(_row_space, "MIN_BYTES", 1 << 20)
    assert _row_space.row_space(_objective(X, y), start, 100) is None  # 96 kB


def test_callbacks_see_the_coefficients(monkeypatch):
    X, y = _wide(2)
    seen = []
    loss = loss_for_classes(2)
    objective = linear_objective(
        loss, X, loss.encode_target(y, X.dtype), None, 1.0, True
    )
    result = descend(
        objective,
        np.zeros((1, 1, X.shape[1] + 1)),
        learning_rate=0.05,
        max_iter=10,
        tol=0,
        callback=lambda i, values, params: seen.append(params.copy()) and False,
    )
    assert len(seen) == 10 and seen[-1].shape == result.params.shape
    np.testing.assert_allclose(seen[-1], result.params, rtol=1e-12)


def test_the_course_run_on_wide_images_keeps_its_costs(catvnoncat):
    X = catvnoncat.X_train.reshape(len(catvnoncat.X_train), -1) / 255.0
    model = GradientDescentLogisticRegression(
        learning_rate=0.005, max_iter=2000, tol=0, C=np.inf
    ).fit(X, catvnoncat.y_train)
    # The course's printed costs, at iterations 0, 100, ..., 1900.
    course = [0.693147, 0.584508, 0.466949, 0.376007, 0.331463, 0.303273]
    np.testing.assert_allclose(model.loss_curve_[:600:100], course, atol=5e-7)
    assert f"{model.loss_curve_[1900]:.6f}" == "0.140872"


def test_cv_grid_on_wide_rows_equals_separate_fits():
    X, y = _wide(2)
    rates = [0.01, 0.05]
    model = GradientDescentLogisticRegressionCV(
        learning_rates=rates, Cs=[1.0], cv=3, max_iter=50, tol=0, refit=False
    ).fit(X, y)
    assert np.isfinite(model.scores_).all() and (model.n_iters_ == 50).all()
