"""The diagonal preconditioner (``_preconditioner``): every solver's steps in the
metric of the Hessian bound's diagonal, against their written definition."""

import numpy as np
import pytest
from scipy import sparse
from scipy.special import expit
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    _planner,
    logistic_objective,
)
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._objective import linear_objective
from sklearn_gdlogreg._preconditioner import curvature_diagonal, preconditioned
from sklearn_gdlogreg._solvers import auto_step

# -- a tiny problem written out ------------------------------------------------


class Tiny:
    """Eight samples, two features a thousand times apart in scale, an
    intercept, and an elastic net of strength ``1 / (C n)``: the objective,
    its gradient and the diagonal ``D``, in NumPy."""

    def __init__(self, C=1.0, l1_ratio=0.0):
        rng = np.random.RandomState(3)
        self.X = rng.standard_normal((8, 2)) * [100.0, 0.1] + [50.0, 0.0]
        self.y = np.array([0, 1, 1, 0, 1, 0, 0, 1])
        n = len(self.y)
        self.l2 = (1 - l1_ratio) / (C * n)
        self.l1 = l1_ratio / (C * n)
        self.C, self.l1_ratio = C, l1_ratio
        self.D = np.append(0.25 * np.mean(self.X**2, axis=0) + self.l2, 0.25)

    def smooth(self, x):
        raw = self.X @ x[:2] + x[2]
        loss = np.mean(np.logaddexp(0, raw) - self.y * raw)
        return loss + 0.5 * self.l2 * x[:2] @ x[:2]

    def value(self, x):
        return self.smooth(x) + self.l1 * np.abs(x[:2]).sum()

    def gradient(self, x):
        residual = expit(self.X @ x[:2] + x[2]) - self.y
        coef = self.X.T @ residual / len(self.y) + self.l2 * x[:2]
        return np.append(coef, residual.mean())

    def step(self, x, step, gradient=None):
        """``prox(x - step D^-1 g)``: soft-thresholding by ``step l1 / d_j``."""
        gradient = self.gradient(x) if gradient is None else gradient
        moved = x - step * gradient / self.D
        threshold = step * self.l1 / self.D[:2]
        moved[:2] = np.sign(moved[:2]) * np.maximum(np.abs(moved[:2]) - threshold, 0)
        return moved

    def fit(self, **options):
        model = GradientDescentLogisticRegression(
            C=self.C, l1_ratio=self.l1_ratio, tol=0, precondition=True, **options
        )
        model.fit(self.X, self.y)
        return np.append(model.coef_[0], model.intercept_)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_preconditioned_plain_steps_follow_their_definition(l1_ratio):
    # x_{t+1} = prox(x_t - step D^-1 g_t), the L1 part thresholding each
    # coefficient by step l1 / d_j.
    tiny = Tiny(C=0.05, l1_ratio=l1_ratio)
    x = np.zeros(3)
    for iterations in range(1, 6):
        x = tiny.step(x, 0.4)
        got = tiny.fit(solver="gd", learning_rate=0.4, max_iter=iterations)
        np.testing.assert_allclose(got, x, rtol=1e-12, atol=1e-15)


def test_the_auto_step_is_one_over_the_bound_in_the_metric_of_d():
    tiny = Tiny()
    # L = c ||W^(1/2) X1 S||^2 + max_j l2 s_j^2 with S = D^(-1/2), as the
    # coefficients' L = c ||W^(1/2) X1||^2 + l2.
    scale = 1 / np.sqrt(tiny.D)
    X1 = np.column_stack([tiny.X, np.ones(8)]) * scale / np.sqrt(8)
    bound = 0.25 * np.linalg.norm(X1, 2) ** 2 + tiny.l2 * scale[:2].max() ** 2
    model = GradientDescentLogisticRegression(
        solver="gd", precondition=True, max_iter=1, tol=0
    ).fit(tiny.X, tiny.y)
    assert model.learning_rate_ == pytest.approx(1 / bound, rel=1e-10)
    x = tiny.step(np.zeros(3), 1 / bound)
    np.testing.assert_allclose(tiny.fit(solver="gd", max_iter=1), x, rtol=1e-10)


def test_preconditioned_nesterov_steps_follow_their_definition():
    # From x and y: x_new = y - step D^-1 g(y); t_next = (1 + sqrt(1 + 4 t^2))
    # / 2; y_new = x_new + (t - 1) / t_next (x_new - x); where F(x_new) rose
    # above F(x), t = 1 and y = x_new.
    tiny = Tiny()
    x, y, t = np.zeros(3), np.zeros(3), 1.0
    for iterations in range(1, 9):
        x_new = tiny.step(y, 1.0)
        t_next = (1 + np.sqrt(1 + 4 * t**2)) / 2
        y_new = x_new + (t - 1) / t_next * (x_new - x)
        restart = tiny.value(x_new) > tiny.value(x)
        t, y = (1.0, x_new) if restart else (t_next, y_new)
        x = x_new
        got = tiny.fit(solver="nesterov", learning_rate=1.0, max_iter=iterations)
        np.testing.assert_allclose(got, x, rtol=1e-10)


def test_preconditioned_spectral_steps_follow_their_definition():
    # The step is accepted when F(x_new) <= max of the last 10 F - 1e-4 / step
    # ||x_new - x||_D^2, else halved; then with s = x_new - x, r = g_new - g:
    # long = s^T D s / s^T r, short = s^T r / r^T D^-1 r, and ABBmin (the
    # smallest of the last three short steps where short < long / 2).
    tiny = Tiny(C=0.05)
    x, step, values, shorts = np.zeros(3), 8.0, [], []
    halvings = 0
    for iterations in range(1, 11):
        g = tiny.gradient(x)
        values.append(tiny.value(x))
        reference = max(values[-10:])
        reference += 8 * np.finfo(float).eps * abs(reference)
        while True:
            x_new = tiny.step(x, step, g)
            s = x_new - x
            ss = s @ (tiny.D * s)
            if tiny.value(x_new) <= reference - 1e-4 * ss / step:
                break
            step, halvings = step / 2, halvings + 1
        r = tiny.gradient(x_new) - g
        sr, rr = s @ r, r @ (r / tiny.D)
        long, short = ss / sr, sr / rr
        shorts.insert(0, short)
        step = min(shorts[:3]) if short < 0.5 * long else long
        x = x_new
        got = tiny.fit(solver="bb", learning_rate=8.0, max_iter=iterations)
        np.testing.assert_allclose(got, x, rtol=1e-9)
    assert halvings > 0  # the search was exercised


def test_the_diagonal_is_the_hessian_bound_s_per_model():
    tiny = Tiny()
    loss = loss_for_classes(2)
    target = loss.encode_target(tiny.y, np.float64)
    C = np.array([0.5, 2.0])
    objective = linear_objective(loss, tiny.X, target, None, C, True)
    squares = np.append(np.mean(tiny.X**2, axis=0), 1.0)
    for model, strength in enumerate(1 / (C * 8)):
        expected = 0.25 * squares + [strength, strength, 0.0]
        np.testing.assert_allclose(curvature_diagonal(objective)[model, 0], expected)


# -- what preconditioning buys, and what it keeps ------------------------------


def test_unscaled_breast_cancer_reaches_lbfgs_s_coefficients():
    # Features from 1e-3 to 4e3: lbfgs at tol=1e-12 stops with its gradient
    # at 3e-6 and its coefficients 2e-3 (relative) from the minimiser, which
    # Newton's steps find; the preconditioned spectral steps (the defaults)
    # reach it, with a lower objective than lbfgs's.
    X, y = load_breast_cancer(return_X_y=True)
    lbfgs = LogisticRegression(tol=1e-12, max_iter=100_000).fit(X, y)
    newton = LogisticRegression(solver="newton-cholesky", tol=1e-12).fit(X, y)
    model = GradientDescentLogisticRegression(tol=1e-7, max_iter=20_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, lbfgs.coef_, rtol=5e-3, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, lbfgs.intercept_, rtol=5e-3)
    np.testing.assert_allclose(model.coef_, newton.coef_, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, newton.intercept_, rtol=1e-5)
    assert logistic_objective(model, X, y) <= logistic_objective(lbfgs, X, y)
    # Without the preconditioner, as many iterations end far from it.
    plain = GradientDescentLogisticRegression(
        tol=1e-7, max_iter=model.n_iter_[0], precondition=False
    )
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        plain.fit(X, y)
    assert logistic_objective(plain, X, y) > 1.05 * logistic_objective(model, X, y)


@pytest.mark.parametrize("solver", ["gd", "bb"])
def test_without_a_penalty_the_iterates_do_not_depend_on_the_features_units(solver):
    X, y = load_iris(return_X_y=True)
    units = np.array([1e-3, 1.0, 1e2, 1e4])
    options = {"C": np.inf, "solver": solver, "precondition": True, "tol": 0}
    options["max_iter"] = 25
    model = GradientDescentLogisticRegression(**options).fit(X, y)
    rescaled = GradientDescentLogisticRegression(**options).fit(X * units, y)
    # Equal but for rounding (which the spectral steps amplify a little).
    np.testing.assert_allclose(rescaled.coef_ * units, model.coef_, rtol=1e-6)
    np.testing.assert_allclose(rescaled.intercept_, model.intercept_, rtol=1e-6)


# Some of the models alone stop at max_iter, as they do together.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "solver, tol, max_iter", [("gd", 1e-2, 600), ("nesterov", 3e-3, 300),
                              ("bb", 1e-2, 60)]
)  # fmt: skip
def test_k_models_descend_as_each_alone(solver, tol, max_iter):
    # Three strengths, each with its own D; tol stops them at different
    # iterations, so the running models' objective is a selection.
    X, y = load_iris(return_X_y=True)
    loss = loss_for_classes(3)
    target = loss.encode_target(y, X.dtype)
    C = np.array([0.01, 1.0, 100.0])
    objective = linear_objective(loss, X, target, None, C, True)
    variables = preconditioned(objective)
    options = {"max_iter": max_iter, "tol": tol, "solver": solver}
    together = _planner.descend(
        objective,
        np.zeros((3, 3, 5)),
        precondition=True,
        learning_rate=auto_step(variables, exact=solver != "bb"),
        **options,
    )
    assert len(set(together.n_iter.tolist())) > 1
    for model, strength in enumerate(C):
        alone = GradientDescentLogisticRegression(
            C=strength, precondition=True, **options
        ).fit(X, y)
        assert alone.n_iter_[0] == together.n_iter[model]
        # Equal but for the rounding of k models' products against one's.
        np.testing.assert_allclose(
            alone.coef_, together.params[model, :, :4], rtol=1e-6, atol=1e-9
        )


@pytest.mark.parametrize("solver, max_iter", [("gd", 300), ("bb", 30)])
def test_sparse_multinomial_matches_dense_and_float32_stays_float32(solver, max_iter):
    X, y = load_iris(return_X_y=True)
    X = X * [1.0, 10.0, 100.0, 1000.0]
    X[X < 30] = 0
    options = {"max_iter": max_iter, "tol": 0, "precondition": True, "solver": solver}
    dense = GradientDescentLogisticRegression(**options).fit(X, y)
    model = GradientDescentLogisticRegression(**options).fit(sparse.csr_array(X), y)
    np.testing.assert_allclose(model.coef_, dense.coef_, rtol=1e-8, atol=1e-12)
    # float32 is computed in float32, to the same minimum.
    X = load_iris().data
    options = {"tol": 1e-4, "max_iter": 20_000, "precondition": True}
    single = GradientDescentLogisticRegression(**options).fit(X.astype(np.float32), y)
    double = GradientDescentLogisticRegression(**options).fit(X, y)
    assert single.coef_.dtype == np.float32 and single.intercept_.dtype == np.float32
    assert logistic_objective(single, X, y) == pytest.approx(
        logistic_objective(double, X, y), rel=1e-5
    )


def test_an_l1_part_ends_at_its_optimality_conditions():
    # Features five decades apart. At the minimiser of J + l1 ||w||_1: g_j =
    # -l1 sign(w_j) where w_j != 0, |g_j| <= l1 where w_j = 0 (g the smooth
    # part's gradient), and the intercept's gradient is zero.
    X, y = make_classification(300, 12, n_informative=5, random_state=0)
    X = X * np.logspace(-2, 3, 12)
    model = GradientDescentLogisticRegression(
        l1_ratio=1.0, C=0.1, tol=1e-9, max_iter=5000
    ).fit(X, y)
    w, b = model.coef_[0], model.intercept_[0]
    residual = expit(X @ w + b) - y
    gradient = X.T @ residual / len(y)
    l1 = 1 / (0.1 * len(y))
    zero = w == 0
    assert 0 < zero.sum() < len(w)
    np.testing.assert_allclose(gradient[~zero], -l1 * np.sign(w[~zero]), atol=1e-8)
    assert np.all(np.abs(gradient[zero]) <= l1 + 1e-8)
    assert abs(residual.mean()) <= 1e-8


def test_a_fixed_learning_rate_is_not_preconditioned_unless_asked():
    tiny = Tiny()
    plain = GradientDescentLogisticRegression(
        solver="gd", learning_rate=1e-4, max_iter=1, tol=0
    ).fit(tiny.X, tiny.y)
    expected = -1e-4 * tiny.gradient(np.zeros(3))
    np.testing.assert_allclose(plain.coef_[0], expected[:2], rtol=1e-12)
    np.testing.assert_allclose(plain.intercept_, expected[2:], rtol=1e-12)


def test_per_model_weights_give_each_model_its_diagonal_and_bound_at_each_C():
    # Cross-validation's fold models: each weighs its own rows (per-model
    # weights over all the rows). Each has the D and the step bound in D's
    # metric of a model fitted on its rows alone, at each strength.
    X, y = load_iris(return_X_y=True)
    X = X * [1.0, 10.0, 100.0, 1000.0]
    loss = loss_for_classes(3)
    target = loss.encode_target(y, X.dtype)
    rng = np.random.RandomState(0)
    weights = rng.uniform(0.5, 2.0, (2, len(y))) * (rng.uniform(size=(2, len(y))) < 0.7)
    both = preconditioned(
        linear_objective(loss, X, target, weights, 1.0, True, kernel="numpy")
    )
    for C in [0.1, 10.0]:
        at_C = both.with_strength(C)
        for model, weight in enumerate(weights):
            rows = weight > 0
            alone = preconditioned(
                linear_objective(
                    loss, X[rows], target[..., rows], weight[rows], C, True
                )
            )
            np.testing.assert_allclose(
                at_C.diagonal[model], alone.diagonal[0], rtol=1e-12
            )
            np.testing.assert_allclose(
                at_C.select([model]).diagonal, alone.diagonal, rtol=1e-12
            )
            for exact in [True, False]:
                assert at_C.lipschitz_constant(exact)[model] == pytest.approx(
                    alone.lipschitz_constant(exact), rel=1e-10
                )
