"""The losses on raw predictions (``_loss``) against independent references."""

from decimal import Decimal, getcontext

import numpy as np
import pytest

from sklearn_gdlogreg._loss import (
    BinaryLogLoss,
    MultinomialLogLoss,
)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_loss_is_exact_at_extreme_margins(dtype):
    # Fitting layout: (models, outputs, samples).
    raw = np.array([[[-1000.0, -40.0, -1e-3, 0.0, 30.0, 800.0]]], dtype=dtype)
    getcontext().prec = 50
    for target in (0.0, 1.0):
        loss, gradient = BinaryLogLoss().loss_gradient(raw, np.full_like(raw, target))
        assert loss.dtype == dtype and gradient.dtype == dtype
        for r, value in zip(raw[0, 0], loss[0], strict=True):
            z = Decimal(float(r))
            exact = (Decimal(1) + z.exp()).ln() - Decimal(target) * z
            assert float(value) == pytest.approx(
                float(exact), rel=float(10 * np.finfo(dtype).eps)
            )
        assert np.all(np.isfinite(gradient)) and np.all(np.abs(gradient) <= 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_multinomial_loss_is_finite_at_extreme_margins(dtype):
    raw = np.array([[3000.0, -3000.0, 0.0], [-500.0, -500.0, -501.0]], dtype=dtype)
    # Fitting layout: (models, classes, samples).
    loss, gradient = MultinomialLogLoss(3).loss_gradient(raw.T[None], np.array([1, 2]))
    loss, gradient = loss[0], gradient[0].T
    assert loss.dtype == dtype and gradient.dtype == dtype
    rtol = 10 * np.finfo(dtype).eps
    np.testing.assert_allclose(loss, [6000.0, 1 + np.log(2 + np.exp(-1))], rtol=rtol)
    np.testing.assert_allclose(gradient.sum(axis=1), 0, atol=rtol)


@pytest.mark.parametrize("loss", [BinaryLogLoss(), MultinomialLogLoss(3)])
def test_log_proba_is_finite_where_proba_underflows(loss):
    raw = np.array([[900.0, -900.0, 0.0]])[:, : loss.n_outputs]
    log_proba = loss.predict_log_proba(raw)
    assert np.all(np.isfinite(log_proba))
    np.testing.assert_allclose(np.exp(log_proba), loss.predict_proba(raw), atol=1e-300)
    np.testing.assert_allclose(loss.predict_proba(raw).sum(axis=1), 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss", [BinaryLogLoss(), MultinomialLogLoss(3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_mean_loss_residual_is_the_weighted_mean_of_loss_gradient(
    loss, dtype, weighted
):
    """The NumPy fast path against the per-sample loss and gradient."""
    rng = np.random.RandomState(0)
    raw = (rng.standard_normal((2, loss.n_outputs, 50)) * 30).astype(dtype)
    y = rng.randint(max(loss.n_outputs, 2), size=50)
    target = np.reshape(loss.encode_target(y, dtype), -1)
    share = (
        (lambda w: (w / w.sum()).astype(dtype))(rng.uniform(0.1, 2, 50))
        if weighted
        else np.asarray(1 / 50, dtype)
    )
    per_sample, gradient = loss.loss_gradient(raw.copy(), target)
    expected = per_sample.astype(np.float64) @ np.broadcast_to(share, (50,))
    values, residual = loss.mean_loss_residual(raw.copy(), target, share)
    rtol = 1e-13 if dtype == np.float64 else 1e-6
    assert values.dtype == np.float64 and values.shape == (2,)
    np.testing.assert_allclose(values, expected, rtol=rtol)
    np.testing.assert_allclose(loss.mean_loss(raw.copy(), target, share), values)
    assert residual.dtype == dtype
    np.testing.assert_allclose(
        np.reshape(residual, gradient.shape), gradient * share, rtol=rtol, atol=1e-30
    )


def test_binary_mean_loss_of_one_model_takes_the_vector_as_it_is():
    """One model's raw predictions of shape (n,): a number and a vector."""
    rng = np.random.RandomState(1)
    raw = rng.standard_normal(40)
    target = (rng.uniform(size=40) > 0.5).astype(float)
    share = np.asarray(1 / 40)
    value, residual = BinaryLogLoss().mean_loss_residual(raw.copy(), target, share)
    values, residuals = BinaryLogLoss().mean_loss_residual(raw[None], target, share)
    assert np.ndim(value) == 0 and residual.shape == (40,)
    assert value == pytest.approx(values[0], rel=1e-15)
    np.testing.assert_allclose(residual, residuals[0], rtol=1e-15)


@pytest.mark.parametrize("loss", [BinaryLogLoss, lambda xp: MultinomialLogLoss(3, xp)])
def test_mean_loss_residual_in_a_namespace_equals_numpy(loss):
    strict = pytest.importorskip("array_api_strict")
    rng = np.random.RandomState(2)
    numpy_loss, strict_loss = loss(None), loss(strict)
    raw = rng.standard_normal((2, numpy_loss.n_outputs, 30)) * 1e3  # extreme too
    y = rng.randint(max(numpy_loss.n_outputs, 2), size=30)
    target = np.reshape(numpy_loss.encode_target(y, np.float64), -1)
    share = rng.uniform(0.1, 2, 30) / 30
    values, residual = numpy_loss.mean_loss_residual(raw.copy(), target, share)
    strict_values, strict_residual = strict_loss.mean_loss_residual(
        strict.asarray(raw), strict.asarray(target), strict.asarray(share)
    )
    np.testing.assert_allclose(strict_values, values, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(strict_residual), residual, atol=1e-15)
