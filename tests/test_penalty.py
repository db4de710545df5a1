"""Penalties of k models (``_penalty``): values, gradients, prox, criterion."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.externals.array_api_compat import numpy as np_compat

from sklearn_gdlogreg._penalty import L2, ElasticNet, penalty_for


def _params(k=3, m=2, p=4, seed=0):
    return np.random.default_rng(seed).standard_normal((k, m, p + 1))


def test_strengths_are_one_over_c_s_split_by_l1_ratio():
    penalty = penalty_for(np.array([0.5, 2.0, np.inf]), 0.25, 10.0, 4, np_compat)
    assert isinstance(penalty, ElasticNet)
    np.testing.assert_allclose(penalty.l2, [0.75 / 5, 0.75 / 20, 0])
    np.testing.assert_allclose(penalty.l1, [0.25 / 5, 0.25 / 20, 0])
    assert type(penalty_for(1.0, 0.0, 10.0, 4, np_compat)) is L2


def test_an_overflowing_strength_names_sample_weight_and_c():
    with pytest.raises(ValueError, match="sample_weight sums to 1e-320.*raise C"):
        penalty_for(1.0, 0.0, 1e-320, 4, np_compat)


def test_l2_value_and_gradient_match_the_formula_and_spare_the_intercept():
    params = _params()
    penalty = L2(np.array([0.1, 1.0, 3.0]), 4, np_compat)
    gradient = np.zeros_like(params)
    values = penalty.add_smooth(np.zeros(3), gradient, params)
    coef = params[..., :4]
    np.testing.assert_allclose(
        values, 0.5 * np.array([0.1, 1.0, 3.0]) * (coef**2).sum(axis=(1, 2))
    )
    np.testing.assert_allclose(
        gradient[..., :4], np.reshape([0.1, 1.0, 3.0], (-1, 1, 1)) * coef
    )
    assert not gradient[..., 4].any()


def test_one_model_of_one_output_takes_the_same_values_as_k_models():
    params = _params(k=1, m=1)
    shared, per_model = L2(0.7, 4, np_compat), L2(np.array([0.7]), 4, np_compat)
    g1, g2 = np.zeros_like(params), np.zeros_like(params)
    v1 = shared.add_smooth(np.zeros(1), g1, params)
    v2 = per_model.add_smooth(np.zeros(1), g2, params)
    np.testing.assert_allclose(v1, v2, rtol=1e-15)
    np.testing.assert_array_equal(g1, g2)


@settings(max_examples=50, deadline=None)
@given(
    coef=st.lists(st.floats(-5, 5), min_size=3, max_size=3),
    step=st.floats(1e-3, 10),
    l1=st.floats(0, 2),
)
def test_prox_is_the_argmin_of_l1_plus_the_distance(coef, step, l1):
    penalty = ElasticNet(np.array([0.0]), np.array([l1]), 3, np_compat)
    params = np.array([[coef + [7.0]]])
    result = penalty.prox(params.copy(), np.array([step]))
    assert result[0, 0, 3] == 7.0  # the intercept is not shrunk
    # argmin over a fine grid of l1 |w| + (w - c)^2 / (2 step), per coordinate.
    grid = np.linspace(-6, 6, 240_001)
    for c, w in zip(coef, result[0, 0, :3], strict=True):
        best = grid[np.argmin(l1 * np.abs(grid) + (grid - c) ** 2 / (2 * step))]
        assert w == pytest.approx(best, abs=1e-4)


def test_a_prox_of_per_coordinate_steps_is_the_argmin_in_scaled_coordinates():
    # A preconditioner's coordinates z (w = s z): argmin_z l1 ||s z||_1 +
    # ||z - c||^2 / (2 step), coordinate by coordinate, is the prox with each
    # coordinate's own step, step s_j (the soft-thresholding of z_j by step l1
    # s_j); each model its own l1.
    l1 = np.array([0.7, 0.2])
    penalty = ElasticNet(np.zeros(2), l1, 3, np_compat)
    coef, scale, step = [2.0, -0.3, 0.9], np.array([[[3.0, 0.5, 0.01, 9.0]]]), 0.4
    result = penalty.prox(np.array([[coef + [7.0]]] * 2), step * scale)
    assert (result[:, 0, 3] == 7.0).all()
    grid = np.linspace(-6, 6, 240_001)
    for model, strength in enumerate(l1):
        for c, s, z in zip(coef, scale[0, 0], result[model, 0, :3], strict=False):
            objective = strength * np.abs(s * grid) + (grid - c) ** 2 / (2 * step)
            assert z == pytest.approx(grid[np.argmin(objective)], abs=1e-4)


def test_the_criterion_with_l1_is_the_gradient_mapping():
    penalty = ElasticNet(np.zeros(2), np.array([0.5, 0.1]), 4, np_compat)
    y, x_new = _params(k=2), _params(k=2, seed=1)
    expected = np.abs((y - x_new) / np.reshape([0.2, 2.0], (-1, 1, 1)))
    np.testing.assert_allclose(
        penalty.optimality(y, x_new, np.array([0.2, 2.0])),
        expected.reshape(2, -1).max(axis=1),
    )


def test_selected_models_keep_their_own_strengths():
    penalty = ElasticNet(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]), 4,
                         np_compat)  # fmt: skip
    selected = penalty.select(np.array([2, 0, 2]))
    assert selected.l2.tolist() == [3.0, 1.0, 3.0]
    assert selected.l1.tolist() == [6.0, 4.0, 6.0]
    assert penalty.l2.tolist() == [1.0, 2.0, 3.0]  # unchanged
    params = _params()
    np.testing.assert_allclose(
        selected.nonsmooth(params),
        [6, 4, 6] * np.abs(params[..., :4]).sum(axis=(1, 2)),
    )
