"""Spectral steps with the non-monotone search (``_solvers.spectral``)."""

import numpy as np
import pytest
from quadratic import Quadratic, ill_conditioned, start
from sklearn.linear_model import LogisticRegression

from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._solvers import gradient_descent


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


@pytest.mark.parametrize("l1", [0.0, 1e148])
def test_spectral_steps_stay_positive_at_extreme_scales(l1):
    # Curvatures of 1e300 and a minimiser of 1e-150 (features of 1e150): near
    # the minimum s.s underflows to 0 and r.r nears overflow; the steps were
    # then 0, reported as a divergence "with learning_rate=0" (#23 item 14).
    curvature, centre = np.array([1e300, 3e298]), np.array([1e-150, -2e-150])
    result = gradient_descent(
        Quadratic(curvature, centre=centre, l1=l1), start(0.0, 0.0),
        learning_rate=1e-300, max_iter=200, tol=0, solver="bb",
    )  # fmt: skip
    assert result.diverged[0] is None and result.learning_rate[0] > 0
    expected = np.sign(centre) * np.maximum(np.abs(centre) - l1 / curvature, 0)
    np.testing.assert_allclose(result.params[0, 0], expected, rtol=1e-12)


def test_a_fit_of_features_of_1e150_with_l1_is_the_fit_of_the_unscaled_ones():
    # The default solver and step on features of 1e150 (#23 item 14): the
    # penalty on coefficients of 1e-150 is negligible, so the model is the
    # unpenalised one of the unscaled features, scaled.
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((20, 3)), rng.randint(2, size=20)
    model = GradientDescentLogisticRegression(
        C=1e-3, l1_ratio=0.5, fit_intercept=False
    ).fit(X * 1e150, y)
    reference = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12)
    np.testing.assert_allclose(
        model.coef_ * 1e150, reference.fit(X, y).coef_, rtol=1e-5
    )
