"""Each evaluator (where the rows live) against the loss written out directly."""

import numpy as np
import pytest
from scipy import sparse
from scipy.special import expit, log_softmax, softmax
from sklearn.base import config_context

from sklearn_gdlogreg._evaluators import (
    FusedRows,
    NamespaceRows,
    NumpyRows,
    evaluator_for,
)
from sklearn_gdlogreg._loss import loss_for_classes


def reference(X, y, weight, params, n_classes, fit_intercept):
    """Weighted mean log-loss and its gradient, model by model, in float64."""
    X = np.asarray(X, np.float64)
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, np.float64)
    share = weight / weight.sum()
    values, gradients = [], []
    for model in np.asarray(params, np.float64):
        coef = model[:, : X.shape[1]]
        raw = X @ coef.T + (model[:, -1] if fit_intercept else 0.0)
        if n_classes == 2:
            raw = raw[:, 0]
            loss = np.logaddexp(0, raw) - y * raw
            residual = (expit(raw) - y)[:, None]
        else:
            loss = -log_softmax(raw, axis=1)[np.arange(len(y)), y]
            residual = softmax(raw, axis=1) - np.eye(n_classes)[y]
        residual = residual * share[:, None]
        gradient = residual.T @ X
        if fit_intercept:
            gradient = np.column_stack([gradient, residual.sum(axis=0)])
        values.append(share @ loss)
        gradients.append(gradient)
    return np.array(values), np.array(gradients)


def evaluators(X, y, weight, n_classes, fit_intercept):
    loss = loss_for_classes(n_classes)
    target = loss.encode_target(y, X.dtype)
    found = {
        "numpy": evaluator_for(loss, X, target, weight, fit_intercept, kernel="numpy"),
        "fused": evaluator_for(loss, X, target, weight, fit_intercept, kernel="fused"),
        "sparse": evaluator_for(
            loss, sparse.csr_array(X), target, weight, fit_intercept
        ),
    }
    strict = pytest.importorskip("array_api_strict")
    try:
        with config_context(array_api_dispatch=True):
            xp_loss = loss_for_classes(n_classes, strict)
            found["namespace"] = evaluator_for(
                xp_loss, strict.asarray(X), target, weight, fit_intercept
            )
    except ImportError:  # SciPy < 1.14 cannot dispatch the array API
        pass
    return found


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_every_evaluator_matches_the_written_out_loss(
    dtype, n_classes, k, weighted, fit_intercept
):
    rng = np.random.RandomState(k + 7 * n_classes)
    X = rng.standard_normal((60, 7)).astype(dtype)
    y = rng.randint(n_classes, size=60)
    weight = rng.uniform(0.1, 3, 60).astype(dtype) if weighted else None
    n_outputs = 1 if n_classes == 2 else n_classes
    params = rng.standard_normal((k, n_outputs, 7 + fit_intercept)).astype(dtype)
    expected_values, expected_gradient = reference(
        X, y, weight, params, n_classes, fit_intercept
    )
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    found = evaluators(X, y, weight, n_classes, fit_intercept)
    assert isinstance(found["numpy"], NumpyRows)
    assert isinstance(found["fused"], FusedRows)
    assert "namespace" not in found or isinstance(found["namespace"], NamespaceRows)
    for name, evaluator in found.items():
        if name == "namespace":
            import array_api_strict as strict

            with config_context(array_api_dispatch=True):
                values, gradient = evaluator.loss_gradient(strict.asarray(params))
                value_only = evaluator.value(strict.asarray(params))
            gradient = np.asarray(gradient)
        else:
            values, gradient = evaluator.loss_gradient(params)
            value_only = evaluator.value(params)
        assert values.dtype == np.float64 and values.shape == (k,), name
        assert gradient.dtype == dtype and gradient.shape == params.shape, name
        np.testing.assert_allclose(values, expected_values, rtol=rtol, err_msg=name)
        np.testing.assert_allclose(value_only, expected_values, rtol=rtol, err_msg=name)
        scale = np.abs(expected_gradient).max()
        np.testing.assert_allclose(
            gradient, expected_gradient, rtol=0, atol=rtol * scale, err_msg=name
        )


@pytest.mark.parametrize("exact", [True, False])
def test_squared_norm_bounds_the_weighted_spectral_norm(exact):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((50, 6))
    weight = rng.uniform(0.1, 2, 50)
    loss = loss_for_classes(2)
    evaluator = evaluator_for(loss, X, loss.encode_target(rng.randint(2, size=50),
                              X.dtype), weight, True)  # fmt: skip
    X1 = np.column_stack([X, np.ones(50)]) * np.sqrt(weight / weight.sum())[:, None]
    spectral = np.linalg.norm(X1, 2) ** 2
    got = evaluator.squared_norm(exact)
    if exact:
        assert got == pytest.approx(spectral, rel=1e-10)
    else:
        assert got == pytest.approx(np.sum(X1**2), rel=1e-10) and got >= spectral
