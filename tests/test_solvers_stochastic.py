"""The mini-batch update rules, schedules and stopping rule, by their definitions."""

import numpy as np
import pytest

from sklearn_gdlogreg._namespace import namespace_of
from sklearn_gdlogreg._penalty import penalty_for
from sklearn_gdlogreg._solvers.epochs import NoImprovement, Schedule
from sklearn_gdlogreg._solvers.stochastic import (
    Adam,
    MomentumSGD,
    RMSprop,
    make_update_rule,
)

# Three gradients of a model with one output and two parameters, as the
# mini-batches of a tiny problem would give them.
GRADIENTS = [
    np.array([[[0.5, -1.0]]]),
    np.array([[[0.2, 0.4]]]),
    np.array([[[-0.3, 0.1]]]),
]
START = np.array([[[1.0, -2.0]]])
LR = 0.1


def run(rule, dtype=np.float64):
    params = START.astype(dtype)
    steps = []
    for gradient in GRADIENTS:
        steps.append(rule.step(params, gradient.astype(dtype), LR))
    return params, steps


def test_plain_sgd_steps_along_the_gradient():
    params, steps = run(MomentumSGD(momentum=0.0))
    np.testing.assert_allclose(params, START - LR * sum(GRADIENTS))
    assert steps == [LR] * 3


def test_momentum_velocity_is_the_course_average():
    beta = 0.9
    params, _ = run(MomentumSGD(momentum=beta, nesterov=False))
    expected, velocity = START.copy(), np.zeros_like(START)
    for gradient in GRADIENTS:
        velocity = beta * velocity + (1 - beta) * gradient
        expected = expected - LR * velocity
    np.testing.assert_allclose(params, expected, rtol=1e-14)
    # By hand, the first velocity is (1 - beta) g1, the second beta of it plus
    # (1 - beta) g2.
    v1 = 0.1 * GRADIENTS[0]
    v2 = 0.9 * v1 + 0.1 * GRADIENTS[1]
    np.testing.assert_allclose(
        run_two(MomentumSGD(beta)), START - LR * v1 - LR * v2, rtol=1e-14
    )


def run_two(rule):
    params = START.copy()
    rule.step(params, GRADIENTS[0], LR)
    rule.step(params, GRADIENTS[1], LR)
    return params


def test_nesterov_steps_along_the_next_velocity():
    beta = 0.9
    params, _ = run(MomentumSGD(momentum=beta, nesterov=True))
    expected, velocity = START.copy(), np.zeros_like(START)
    for gradient in GRADIENTS:
        velocity = beta * velocity + (1 - beta) * gradient
        expected = expected - LR * (beta * velocity + (1 - beta) * gradient)
    np.testing.assert_allclose(params, expected, rtol=1e-14)


def test_momentum_is_mlp_velocity_with_rate_times_one_minus_beta():
    # MLPClassifier: v <- beta v - lr' g; w <- w + v, with lr' = lr (1 - beta).
    beta = 0.8
    params, _ = run(MomentumSGD(momentum=beta))
    expected, velocity = START.copy(), np.zeros_like(START)
    for gradient in GRADIENTS:
        velocity = beta * velocity - LR * (1 - beta) * gradient
        expected = expected + velocity
    np.testing.assert_allclose(params, expected, rtol=1e-13)


def test_rmsprop_bias_corrected_squared_average():
    beta_2, epsilon = 0.9, 1e-8
    params, steps = run(RMSprop(beta_2=beta_2, epsilon=epsilon))
    expected, squares = START.copy(), np.zeros_like(START)
    for t, gradient in enumerate(GRADIENTS, start=1):
        squares = beta_2 * squares + (1 - beta_2) * gradient**2
        squares_hat = squares / (1 - beta_2**t)
        expected = expected - LR * gradient / (np.sqrt(squares_hat) + epsilon)
    np.testing.assert_allclose(params, expected, rtol=1e-14)
    np.testing.assert_allclose(
        steps[-1], LR / (np.sqrt(squares / (1 - beta_2**3)) + epsilon)
    )


@pytest.mark.parametrize("beta_2", [0.9, 0.999])
def test_rmsprop_first_step_is_the_rate_not_the_uncorrected_multiple(beta_2):
    # Uncorrected, s = (1 - beta_2) g^2 would move each coordinate by
    # lr / sqrt(1 - beta_2) (31.6 lr for 0.999); corrected, by lr.
    first = START.copy()
    RMSprop(beta_2=beta_2, epsilon=0.0).step(first, GRADIENTS[0], LR)
    np.testing.assert_allclose(first, START - LR * np.sign(GRADIENTS[0]), rtol=1e-14)


def test_adam_bias_corrected_moments():
    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-8
    params, steps = run(Adam(beta_1, beta_2, epsilon))
    expected = START.copy()
    mean, squares = np.zeros_like(START), np.zeros_like(START)
    for t, gradient in enumerate(GRADIENTS, start=1):
        mean = beta_1 * mean + (1 - beta_1) * gradient
        squares = beta_2 * squares + (1 - beta_2) * gradient**2
        mean_hat = mean / (1 - beta_1**t)
        squares_hat = squares / (1 - beta_2**t)
        expected = expected - LR * mean_hat / (np.sqrt(squares_hat) + epsilon)
    np.testing.assert_allclose(params, expected, rtol=1e-14)
    # The first step, bias-corrected, is lr times the gradient's sign.
    first = START.copy()
    Adam(epsilon=0.0).step(first, GRADIENTS[0], LR)
    np.testing.assert_allclose(first, START - LR * np.sign(GRADIENTS[0]))


@pytest.mark.parametrize("solver", ["sgd", "rmsprop", "adam"])
def test_float32_state_stays_float32(solver):
    params, steps = run(make_update_rule(solver), dtype=np.float32)
    assert params.dtype == np.float32
    assert np.asarray(steps[-1]).dtype in (np.float32, np.float64)
    if solver != "sgd":
        assert steps[-1].dtype == np.float32


def test_make_update_rule_refuses_unknown_names():
    with pytest.raises(ValueError, match="solver must be one of"):
        make_update_rule("lbfgs")


def test_prox_with_a_step_per_coordinate_thresholds_each():
    params = np.array([[[0.5, -0.5, 3.0]]])
    # l1 = 1, one intercept after; NumPy through its array-API wrapper
    penalty = penalty_for(1.0, 1.0, 1.0, 2, namespace_of(params)[0])
    steps = np.array([[[0.2, 1.0, 5.0]]])
    penalty.prox(params, steps)
    # 0.5 - 0.2 = 0.3; |-0.5| - 1.0 < 0: zero; the intercept is untouched.
    np.testing.assert_allclose(params, [[[0.3, 0.0, 3.0]]])


def test_schedules_follow_their_formulas():
    assert Schedule("constant", 0.1, 1.0, 0.5).rate(7) == 0.1
    assert Schedule("decay", 0.1, 2.0, 0.5).rate(3) == pytest.approx(0.1 / 7)
    assert Schedule("invscaling", 0.1, 1.0, 0.5).rate(3) == pytest.approx(0.05)
    adaptive = Schedule("adaptive", 1e-5, 1.0, 0.5)
    assert not adaptive.stop() and adaptive.rate(9) == pytest.approx(2e-6)
    assert not adaptive.stop() and adaptive.rate(9) == pytest.approx(4e-7)
    assert adaptive.stop()  # at most 1e-6: stop
    assert Schedule("decay", 0.1, 1.0, 0.5).stop()


def test_no_improvement_counts_epochs_without_a_gain_of_tol():
    rule = NoImprovement(tol=0.1, n_iter_no_change=2)
    assert rule.update(1.0) and not rule.met
    assert rule.update(0.95) and not rule.met  # best, but a gain below tol
    assert not rule.update(0.99) and rule.met  # two in a row
    rule.restart()
    assert rule.update(0.5) and not rule.met and rule.count == 0
    never = NoImprovement(tol=None, n_iter_no_change=1)
    for value in (1.0, 2.0, 3.0):
        never.update(value)
    assert not never.met and never.best == 1.0


@pytest.mark.parametrize(
    ("params", "name", "constants", "kept"),
    [
        (dict(momentum=0.0), "sgd", (0.0, 0.0, 0.0), ()),
        (dict(momentum=0.8, nesterovs_momentum=False), "momentum", (0.8, 0, 0),
         ("velocity",)),
        (dict(momentum=0.8), "nesterov", (0.8, 0.0, 0.0), ("velocity",)),
    ],
)  # fmt: skip
def test_compiled_state_of_sgd_is_the_state_step_uses(params, name, constants, kept):
    rule = make_update_rule("sgd", **params)
    compiled_state_is_the_state_step_uses(rule, name, constants, kept)


def test_compiled_state_of_rmsprop_and_adam_is_the_state_step_uses():
    rule = make_update_rule("rmsprop", beta_2=0.99, epsilon=1e-7)
    compiled_state_is_the_state_step_uses(
        rule, "rmsprop", (0.0, 0.99, 1e-7), ("squares",)
    )
    rule = make_update_rule("adam", beta_1=0.8, beta_2=0.99, epsilon=1e-7)
    compiled_state_is_the_state_step_uses(
        rule, "adam", (0.8, 0.99, 1e-7), ("mean", "squares")
    )


def compiled_state_is_the_state_step_uses(rule, name, constants, kept):
    # The compiled epoch gets the rule's own arrays, created as step creates
    # them (zeros of the parameters' shape and dtype), so that a descent can
    # go from one path to the other.
    params = START.astype(np.float32)
    got, got_constants, states = rule.compiled_state(params)
    assert got == name and got_constants == pytest.approx(constants)
    arrays = [state for state in states if state is not None]
    assert len(arrays) == len(kept)
    for array, attribute in zip(arrays, kept, strict=True):
        assert array is getattr(rule, attribute)
        assert array.dtype == np.float32 and array.shape == params.shape
        assert not array.any()
    rule.step(params, GRADIENTS[0].astype(np.float32), LR)
    for array, attribute in zip(arrays, kept, strict=True):
        assert getattr(rule, attribute) is array and array.any()
