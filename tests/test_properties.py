"""Property-based tests: any input gives a clear error or a finite, valid model."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    MiniBatchLogisticRegression,
)

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def problems(draw):
    n_samples = draw(st.integers(2, 40))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    magnitude = draw(
        st.sampled_from([1e-300, 1e-160, 1e-40, 1e-3, 1.0, 1e3, 1e30, 1e150, 1e160])
    )
    if dtype == np.float32:
        magnitude = min(max(magnitude, 1e-40), 1e30)
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features)) * magnitude
    shape = draw(st.sampled_from(["plain", "constant", "duplicated", "separable"]))
    n_classes = draw(st.integers(2, 4))
    y = rng.randint(n_classes, size=n_samples)
    y[:2] = [0, 1]  # at least two classes
    if shape == "constant":
        X[:, 0] = magnitude
    elif shape == "duplicated" and n_features > 1:
        X[:, 1] = X[:, 0]
    elif shape == "separable":
        X[:, 0] = np.where(y == 0, -magnitude, magnitude)
    X = X.astype(dtype)
    layout = draw(st.sampled_from(["dense", "csr", "csc"]))
    if layout != "dense":
        X = getattr(sparse, f"{layout}_array")(X)
    weight = None
    if draw(st.booleans()):
        # Weights of any magnitude, in float64 (beyond float32's, refused).
        scale = draw(st.sampled_from([1e-300, 1.0, 1e200, 1e307]))
        weight = rng.uniform(0, 3, n_samples) * scale
    params = dict(
        C=draw(st.sampled_from([1e-3, 1.0, 1e3, np.inf])),
        l1_ratio=draw(st.sampled_from([0.0, 0.5, 1.0])),
        solver=draw(st.sampled_from(["auto", "gd", "nesterov", "bb"])),
        line_search=draw(st.booleans()),
        precondition=draw(st.sampled_from(["auto", True, False])),
        learning_rate=draw(st.sampled_from(["auto", 0.1])),
        max_iter=draw(st.sampled_from([0, 1, 30])),
        fit_intercept=draw(st.booleans()),
        class_weight=draw(st.sampled_from([None, "balanced"])),
    )
    if params["l1_ratio"] > 0 and np.isinf(params["C"]):
        params["l1_ratio"] = 0.0
    return X, y, weight, params


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(problems())
def test_a_fit_raises_a_clear_error_or_gives_a_finite_valid_model(problem):
    X, y, weight, params = problem
    model = GradientDescentLogisticRegression(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            model.fit(X, y, sample_weight=weight)
        except ValueError as error:
            # A clear error: it names a parameter or the data and a fix.
            message = str(error).lower()
            # The auto step cannot diverge: at any magnitude, what fails is
            # named (the features' scale, say), never a divergence.
            if params["learning_rate"] == "auto":
                assert "diverged" not in message, message
            assert any(
                word in message for word in ("learning_rate", "sample_weight",
                                             "class", "scale", "weight")
            ), message  # fmt: skip
            return
        proba = model.predict_proba(X)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    n_samples=st.integers(4, 40),
    n_classes=st.integers(2, 4),
    batch_size=st.integers(1, 50),
    epochs=st.integers(1, 3),
    solver=st.sampled_from(["sgd", "rmsprop", "adam"]),
    shuffle=st.booleans(),
    float32=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_property_partial_fit_is_fit_by_epochs(
    n_samples, n_classes, batch_size, epochs, solver, shuffle, float32, seed
):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 3)).astype(np.float32 if float32 else np.float64)
    y = np.arange(n_samples) % n_classes  # every class present
    params = dict(
        solver=solver, batch_size=batch_size, shuffle=shuffle, random_state=seed
    )
    fitted = MiniBatchLogisticRegression(max_iter=epochs, tol=None, **params)
    fitted.fit(X, y)
    streamed = MiniBatchLogisticRegression(**params)
    for _ in range(epochs):
        streamed.partial_fit(X, y, classes=np.arange(n_classes))
    np.testing.assert_array_equal(streamed.coef_, fitted.coef_)
    np.testing.assert_array_equal(streamed.intercept_, fitted.intercept_)
    assert streamed.coef_.dtype == X.dtype
    n_batches = -(-n_samples // min(batch_size, n_samples))
    assert fitted.t_ == epochs * n_batches
    assert np.all(np.isfinite(fitted.loss_curve_))
