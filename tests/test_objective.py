"""The objective (``_objective``): data term plus penalty, against references."""

from decimal import Decimal, getcontext

import numpy as np
import pytest

from sklearn_gdlogreg._loss import BinaryLogLoss, loss_for_classes
from sklearn_gdlogreg._objective import linear_objective


def make_objective(
    n_classes, *, weighted, C, fit_intercept, dtype=np.float64, seed=0, l1_ratio=0.0
):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((40, 5)).astype(dtype)
    y = rng.randint(n_classes, size=40)
    sample_weight = rng.uniform(0.1, 3, size=40).astype(dtype) if weighted else None
    loss = loss_for_classes(n_classes)
    target = loss.encode_target(y, dtype)
    objective = linear_objective(
        loss, X, target, sample_weight, C, fit_intercept, l1_ratio=l1_ratio
    )
    return objective, rng


def value(objective, params):
    """The smooth part of J for one model's (n_outputs, n_params) parameters."""
    return objective.loss_gradient(params[np.newaxis])[0][0]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("C", [np.inf, 0.7])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_gradient_matches_central_finite_differences(
    n_classes, weighted, C, fit_intercept
):
    objective, rng = make_objective(
        n_classes, weighted=weighted, C=C, fit_intercept=fit_intercept
    )
    params = rng.standard_normal((objective.data.loss.n_outputs, objective.n_params))
    gradient = objective.loss_gradient(params[np.newaxis])[1][0]
    numeric = np.zeros_like(params)
    eps = 1e-6
    for index in np.ndindex(params.shape):
        step = np.zeros_like(params)
        step[index] = eps
        plus = value(objective, params + step)
        minus = value(objective, params - step)
        numeric[index] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9)


def test_objective_is_weighted_mean_loss_plus_l2():
    objective, rng = make_objective(3, weighted=True, C=0.5, fit_intercept=True)
    params = rng.standard_normal((3, objective.n_params))
    raw = objective.data.X @ params[:, :-1].T + params[:, -1]
    # Multinomial log-loss written directly from the softmax probabilities.
    proba = np.exp(raw) / np.exp(raw).sum(axis=1, keepdims=True)
    per_sample = -np.log(proba[np.arange(len(raw)), objective.data.target])
    sw = objective.data.sample_weight
    expected = (sw @ per_sample) / sw.sum() + np.sum(params[:, :-1] ** 2) / (
        2 * 0.5 * sw.sum()
    )
    assert value(objective, params) == pytest.approx(expected, rel=1e-13)


# The course's propagate() example, in the course's column layout.
COURSE_X = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
COURSE_Y = np.array([1, 0, 1])


def course_objective():
    loss = BinaryLogLoss()
    X = COURSE_X.T  # examples as rows here
    return linear_objective(
        loss, X, loss.encode_target(COURSE_Y, X.dtype), None, np.inf, True
    )


def exact_course_cost():
    """The course example's cost in 40-digit decimal arithmetic."""
    getcontext().prec = 40
    w, b = (Decimal(1), Decimal(2)), Decimal(2)
    total = Decimal(0)
    for column, y in zip(COURSE_X.T, COURSE_Y, strict=True):
        z = sum(wi * Decimal(float(xi)) for wi, xi in zip(w, column, strict=True)) + b
        total += (Decimal(1) + (-z).exp()).ln() + (1 - int(y)) * z
    return float(total / 3)


def test_course_propagate_numbers():
    values, gradient = course_objective().loss_gradient(np.array([[[1.0, 2.0, 2.0]]]))
    value, gradient = values[0], gradient[0]
    # The course prints 5.801545319394553, computed with log(1 - a), which loses
    # digits; the exact value is 5.80154531939415014...
    assert value == pytest.approx(5.801545319394553, rel=1e-12)
    assert value == pytest.approx(exact_course_cost(), rel=2e-16)
    np.testing.assert_allclose(gradient[0, :2], [0.99845601, 2.39507239], rtol=1e-8)
    assert gradient[0, 2] == pytest.approx(0.00145557813678, rel=1e-11)


def test_lipschitz_constant_is_a_tight_upper_bound_of_the_hessian():
    objective, _ = make_objective(2, weighted=True, C=2.0, fit_intercept=True)
    X1 = np.hstack([objective.data.X, np.ones((40, 1))])
    w = objective.data.share.reshape(-1)
    # The Hessian at zero, where the sigmoid's curvature is largest (1/4).
    hessian = X1.T @ (w[:, None] * X1) / 4
    hessian[:-1, :-1] += np.eye(5) * objective.penalty.l2
    largest = np.linalg.eigvalsh(hessian)[-1]
    # The bound adds the L2 strength to the intercept's direction too.
    lipschitz = objective.lipschitz_constant()
    assert largest <= lipschitz <= largest + objective.penalty.l2


def test_float32_stays_float32():
    objective, rng = make_objective(
        3, weighted=True, C=1.0, fit_intercept=True, dtype=np.float32
    )
    params = rng.standard_normal((1, 3, objective.n_params)).astype(np.float32)
    value32, gradient = objective.loss_gradient(params)
    assert gradient.dtype == np.float32
    assert objective.data.raw(params).dtype == np.float32
    objective64, _ = make_objective(3, weighted=True, C=1.0, fit_intercept=True)
    value64, gradient64 = objective64.loss_gradient(params.astype(np.float64))
    assert value32[0] == pytest.approx(value64[0], rel=1e-5)
    np.testing.assert_allclose(gradient, gradient64, rtol=1e-4, atol=1e-6)


def test_models_side_by_side_equal_models_alone():
    Cs, l1_ratios = np.array([0.1, 1.0, np.inf]), np.array([0.0, 0.5, 1.0])
    together, rng = make_objective(
        3, weighted=True, C=Cs, fit_intercept=True, l1_ratio=l1_ratios
    )
    params = rng.standard_normal((3, 3, together.n_params))
    values, gradient = together.loss_gradient(params)
    totals = together.value(params)
    for model in range(3):
        alone, _ = make_objective(
            3, weighted=True, C=Cs[model], fit_intercept=True, l1_ratio=l1_ratios[model]
        )
        one = params[model : model + 1]
        np.testing.assert_allclose(values[model], alone.loss_gradient(one)[0][0])
        np.testing.assert_allclose(gradient[model], alone.loss_gradient(one)[1][0])
        np.testing.assert_allclose(totals[model], alone.value(one)[0])
        selected = together.select(np.array([model]))
        np.testing.assert_allclose(selected.value(one), alone.value(one))


def test_elastic_net_value_matches_its_formula():
    objective, rng = make_objective(
        2, weighted=True, C=0.4, fit_intercept=True, l1_ratio=0.3
    )
    params = rng.standard_normal((1, 1, objective.n_params))
    coef = params[0, 0, :-1]
    scale = 1 / (0.4 * objective.data.sample_weight.sum())
    smooth = value(objective, params[0])
    raw = objective.data.X @ coef + params[0, 0, -1]
    mean_loss = objective.data.sample_weight @ np.logaddexp(
        0, raw
    ) - objective.data.sample_weight @ (objective.data.target.reshape(-1) * raw)
    mean_loss /= objective.data.sample_weight.sum()
    assert smooth == pytest.approx(mean_loss + scale * 0.7 * coef @ coef / 2, rel=1e-12)
    assert objective.value(params)[0] == pytest.approx(
        smooth + scale * 0.3 * np.abs(coef).sum(), rel=1e-12
    )


def test_prox_is_soft_thresholding_and_the_argmin():
    objective, rng = make_objective(
        3, weighted=False, C=0.01, fit_intercept=True, l1_ratio=1.0
    )
    params = rng.standard_normal((1, 3, objective.n_params))
    step = np.array([0.2])
    result = objective.prox(params.copy(), step)
    threshold = 0.2 * objective.penalty.l1
    expected = np.sign(params) * np.maximum(np.abs(params) - threshold, 0)
    np.testing.assert_array_equal(result[..., :-1], expected[..., :-1])
    np.testing.assert_array_equal(result[..., -1], params[..., -1])  # intercept
    assert np.sum(result[..., :-1] == 0) > 0
    # Each coordinate minimises l1 |w| + (w - v)^2 / (2 step): check on a grid.
    grid = np.linspace(-4, 4, 80001)
    for v, w in zip(params[0, :, :-1].ravel(), result[0, :, :-1].ravel(), strict=True):
        costs = objective.penalty.l1 * np.abs(grid) + (grid - v) ** 2 / 0.4
        assert w == pytest.approx(grid[np.argmin(costs)], abs=1e-4)


@pytest.mark.parametrize(
    ("dtype", "magnitude"), [(np.float32, 1e-40), (np.float64, 1e-160)]
)
def test_features_too_small_for_the_dtype_are_refused_naming_the_scale(
    dtype, magnitude
):
    # Without an intercept or a penalty, L is the features' own curvature:
    # 1 / L and the coefficients that fit are beyond the dtype.
    rng = np.random.RandomState(0)
    X = (rng.standard_normal((20, 3)) * magnitude).astype(dtype)
    loss = loss_for_classes(2)
    target = loss.encode_target(rng.randint(2, size=20), dtype)
    objective = linear_objective(loss, X, target, None, np.inf, False)
    with pytest.raises(ValueError, match=f"too small for {np.dtype(dtype).name}.*"
                       "Scale the features"):  # fmt: skip
        objective.lipschitz_constant()
    # All-zero features are not too small: every step is as good (L = 0).
    zeros = linear_objective(loss, X * 0, target, None, np.inf, False)
    assert zeros.lipschitz_constant() == 0
