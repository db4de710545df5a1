"""Fitting and predicting in other array namespaces (array API): results as NumPy's.

Runs with array_api_strict (on its default device and on its second device,
where any silent conversion to NumPy raises) and with PyTorch on the CPU (and
on CUDA, MPS or XPU where they exist); namespaces that are not installed are
skipped.
"""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._array_api import (
    _atol_for_type,
    move_to,
    yield_namespace_device_dtype_combinations,
)
from sklearn.utils._testing import _array_api_for_tests

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
    MiniBatchLogisticRegression,
    PixelScaler,
    _namespace,
)

NAMESPACES = [
    pytest.param(name, device, dtype, id=f"{name}-{device}-{dtype}")
    for name, device, dtype in yield_namespace_device_dtype_combinations(
        include_numpy_namespaces=False
    )
]
ESTIMATORS = {
    "gd": dict(tol=0, max_iter=60),
    # Run to the minimum: line-search and restart decisions compare values
    # equal to rounding, where float32 sums on a device and float64 sums on
    # the host may decide differently (seen at iteration 39 of 60).
    "nesterov-l1-line-search": dict(
        solver="nesterov", line_search=True, l1_ratio=0.5, C=0.5, tol=0, max_iter=400
    ),
    "fixed-rate-class-weight": dict(
        learning_rate=0.05, class_weight="balanced", tol=0, max_iter=60
    ),
}


def _namespace_or_skip(name, device, dtype):
    try:
        return _array_api_for_tests(name, device, dtype)
    except Exception as skip:  # SkipTest: the namespace or device is absent
        pytest.skip(str(skip))


def _data(n_classes, dtype, seed=0):
    X, y = make_classification(
        n_samples=120,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        random_state=seed,
    )
    weight = np.random.RandomState(seed).uniform(0.2, 2.0, len(y))
    return X.astype(dtype), y, weight


def _numpy(array):
    return np.asarray(move_to(array, xp=np, device="cpu"))


@pytest.mark.parametrize("name, device, dtype", NAMESPACES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("config", ESTIMATORS)
def test_fit_and_predictions_equal_numpy(name, device, dtype, n_classes, config):
    xp, device = _namespace_or_skip(name, device, dtype)
    X, y, weight = _data(n_classes, dtype)
    params = ESTIMATORS[config]
    reference = GradientDescentLogisticRegression(**params).fit(X, y, weight)
    X_xp = xp.asarray(X, device=device)
    with config_context(array_api_dispatch=True):
        model = GradientDescentLogisticRegression(**params).fit(
            X_xp, xp.asarray(y, device=device), xp.asarray(weight, device=device)
        )
        outputs = {
            method: getattr(model, method)(X_xp)
            for method in (
                "decision_function",
                "predict",
                "predict_proba",
                "predict_log_proba",
            )
        }
        score = model.score(X_xp, xp.asarray(y, device=device))

    rtol = 1e-10 if dtype == "float64" else 2e-4
    atol = _atol_for_type(dtype)
    # Nesterov restarts when the objective rises: near the minimum the two runs
    # compare values equal to rounding and may decide differently, which moves
    # the coefficients by about sqrt(eps) but the objective by eps only. The
    # default steps (spectral, preconditioned) are ratios of differences of
    # gradients, which amplify the namespaces' rounding (ulps apart at the
    # start) as much: their coefficients too agree to about sqrt(eps).
    near_minimum = 50 * np.sqrt(np.finfo(dtype).eps)
    coef_rtol, coef_atol = (
        (near_minimum, near_minimum) if "fixed" not in config else (rtol, atol)
    )
    for attribute in ("coef_", "intercept_", "loss_curve_"):
        value = getattr(model, attribute)
        assert type(value) is type(X_xp) and value.device == X_xp.device
        np.testing.assert_allclose(
            _numpy(value),
            getattr(reference, attribute),
            rtol=rtol if attribute == "loss_curve_" else coef_rtol,
            atol=atol if attribute == "loss_curve_" else coef_atol,
            err_msg=attribute,
        )
    np.testing.assert_array_equal(_numpy(model.n_iter_), reference.n_iter_)
    for method, value in outputs.items():
        assert type(value) is type(X_xp) and value.device == X_xp.device, method
        np.testing.assert_allclose(
            _numpy(value),
            getattr(reference, method)(X),
            rtol=coef_rtol,
            atol=coef_atol,
            err_msg=method,
        )
    assert score == pytest.approx(reference.score(X, y))


@pytest.mark.parametrize("name, device, dtype", NAMESPACES)
def test_only_per_model_values_cross_to_the_host(name, device, dtype, monkeypatch):
    """The loop reads back what steers it (a few numbers), never an array.

    array_api_strict arrays also refuse any silent conversion to NumPy, so a
    data-sized round trip elsewhere would raise.
    """
    xp, device = _namespace_or_skip(name, device, dtype)
    X, y, _ = _data(3, dtype)
    sizes = []
    to_host = _namespace.to_host

    def recording_to_host(namespace, array):
        sizes.append(int(np.prod(array.shape)))
        return to_host(namespace, array)

    for module in ("_namespace", "_step_bound"):
        monkeypatch.setattr(f"sklearn_gdlogreg.{module}.to_host", recording_to_host)
    with config_context(array_api_dispatch=True):
        GradientDescentLogisticRegression(
            learning_rate=0.1, solver="nesterov", tol=0, max_iter=30
        ).fit(xp.asarray(X, device=device), y)
    # k = 1 model; Nesterov evaluates two points at once: at most 2 values.
    assert sizes and max(sizes) <= 2
    assert len(sizes) <= 10 * 30


@pytest.mark.parametrize("name, device, dtype", NAMESPACES[:1])
def test_string_labels_and_numpy_labels_with_namespace_data(name, device, dtype):
    xp, device = _namespace_or_skip(name, device, dtype)
    X, y, _ = _data(2, dtype)
    labels = np.array(["dog", "cat"])[y]
    with config_context(array_api_dispatch=True):
        model = GradientDescentLogisticRegression().fit(
            xp.asarray(X, device=device), labels
        )
        predicted = model.predict(xp.asarray(X, device=device))
    assert isinstance(predicted, np.ndarray)
    np.testing.assert_array_equal(
        predicted, GradientDescentLogisticRegression().fit(X, labels).predict(X)
    )


@pytest.mark.parametrize("name, device, dtype", NAMESPACES[:1])
def test_predicting_numpy_after_a_namespace_fit_says_how_to_fix(name, device, dtype):
    xp, device = _namespace_or_skip(name, device, dtype)
    X, y, _ = _data(2, dtype)
    with config_context(array_api_dispatch=True):
        model = GradientDescentLogisticRegression().fit(xp.asarray(X, device=device), y)
        with pytest.raises(ValueError, match="same namespace.*move_estimator_to"):
            model.predict(X)


@pytest.mark.parametrize("name, device, dtype", NAMESPACES)
def test_pixel_scaler_pipeline_stays_in_the_namespace(name, device, dtype):
    xp, device = _namespace_or_skip(name, device, dtype)
    rng = np.random.RandomState(0)
    pixels = rng.randint(0, 256, (80, 12)).astype(dtype)
    y = (pixels[:, 0] + pixels[:, 1] > 255).astype(int)
    pipeline = make_pipeline(PixelScaler(), GradientDescentLogisticRegression())
    reference = pipeline.fit(pixels, y).predict_proba(pixels)
    pixels_xp = xp.asarray(pixels, device=device)
    with config_context(array_api_dispatch=True):
        proba = pipeline.fit(pixels_xp, xp.asarray(y, device=device)).predict_proba(
            pixels_xp
        )
    assert proba.device == pixels_xp.device
    # The default steps amplify the namespaces' rounding (see above): the
    # probabilities agree to about sqrt(eps).
    near_minimum = 50 * np.sqrt(np.finfo(dtype).eps)
    np.testing.assert_allclose(
        _numpy(proba), reference, rtol=near_minimum, atol=_atol_for_type(dtype)
    )


TORCH_CPU = [param for param in NAMESPACES if param.id == "torch-cpu-float64"]


@pytest.mark.parametrize("name, device, dtype", TORCH_CPU)
def test_grid_search_over_learning_rate_in_the_namespace(name, device, dtype):
    xp, device = _namespace_or_skip(name, device, dtype)
    X, y, _ = _data(3, dtype)
    grid = {"learning_rate": [0.05, 0.5, "auto"]}
    estimator = GradientDescentLogisticRegression(solver="nesterov", max_iter=5000)
    reference = GridSearchCV(estimator, grid).fit(X, y)
    with config_context(array_api_dispatch=True):
        search = GridSearchCV(estimator, grid).fit(
            xp.asarray(X, device=device), xp.asarray(y, device=device)
        )
    assert search.best_params_ == reference.best_params_
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], reference.cv_results_["mean_test_score"]
    )
    assert type(search.best_estimator_.coef_) is type(xp.asarray(X, device=device))


@pytest.mark.parametrize("name, device, dtype", NAMESPACES[:1] + TORCH_CPU)
def test_cv_estimator_fits_a_namespace_array_in_numpy(name, device, dtype):
    xp, device = _namespace_or_skip(name, device, dtype)
    X, y, _ = _data(3, dtype)
    reference = GradientDescentLogisticRegressionCV(Cs=2, cv=2).fit(X, y)
    with config_context(array_api_dispatch=True):
        model = GradientDescentLogisticRegressionCV(Cs=2, cv=2).fit(
            xp.asarray(X, device=device), y
        )
    assert isinstance(model.coef_, np.ndarray)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)


MINI_BATCH = {
    "adam-l1": dict(solver="adam", l1_ratio=0.5, C=0.5),
    "rmsprop-decay": dict(solver="rmsprop", schedule="decay", decay_rate=0.5),
    "sgd-nesterov-auto-rate": dict(solver="sgd", class_weight={0: 2.0, 1: 0.5}),
}


@pytest.mark.parametrize("name, device, dtype", NAMESPACES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("config", MINI_BATCH)
def test_minibatch_fit_and_partial_fit_equal_numpy(
    name, device, dtype, n_classes, config
):
    # The same batches, drawn on the host; the updates in X's namespace and on
    # its device.
    xp, device = _namespace_or_skip(name, device, dtype)
    X, y, weight = _data(n_classes, dtype)
    params = dict(batch_size=16, max_iter=4, tol=None, random_state=0)
    params.update(MINI_BATCH[config])
    reference = MiniBatchLogisticRegression(**params).fit(X, y, weight)
    reference.partial_fit(X, y, sample_weight=weight)
    X_xp = xp.asarray(X, device=device)
    y_xp, weight_xp = (xp.asarray(a, device=device) for a in (y, weight))
    with config_context(array_api_dispatch=True):
        model = MiniBatchLogisticRegression(**params).fit(X_xp, y_xp, weight_xp)
        model.partial_fit(X_xp, y_xp, sample_weight=weight_xp)
        proba = model.predict_proba(X_xp)
    # Adam's and RMSprop's steps divide by root mean squares: float32 rounding
    # of near-zero gradients is amplified.
    rtol, atol = (1e-9, 1e-12) if dtype == "float64" else (2e-3, 2e-3)
    for attribute in ("coef_", "intercept_", "loss_curve_"):
        value = getattr(model, attribute)
        assert type(value) is type(X_xp) and value.device == X_xp.device
        np.testing.assert_allclose(
            _numpy(value), getattr(reference, attribute), rtol=rtol, atol=atol,
            err_msg=attribute,
        )  # fmt: skip
    np.testing.assert_array_equal(_numpy(model.n_iter_), [5])
    assert model.t_ == reference.t_
    assert type(proba) is type(X_xp) and proba.device == X_xp.device
    np.testing.assert_allclose(
        _numpy(proba), reference.predict_proba(X), rtol=rtol, atol=atol
    )


@pytest.mark.parametrize("name, device, dtype", NAMESPACES[:1] + TORCH_CPU)
def test_minibatch_early_stopping_and_warm_start_in_the_namespace(name, device, dtype):
    xp, device = _namespace_or_skip(name, device, dtype)
    X, y, _ = _data(2, dtype)
    params = dict(early_stopping=True, max_iter=8, tol=None, random_state=0)
    reference = MiniBatchLogisticRegression(**params).fit(X, y)
    X_xp, y_xp = xp.asarray(X, device=device), xp.asarray(y, device=device)
    with config_context(array_api_dispatch=True):
        model = MiniBatchLogisticRegression(**params).fit(X_xp, y_xp)
        warm = MiniBatchLogisticRegression(warm_start=True, max_iter=2, tol=None)
        warm.fit(X_xp, y_xp).fit(X_xp, y_xp)
    assert model.validation_scores_ == pytest.approx(reference.validation_scores_)
    np.testing.assert_allclose(
        _numpy(model.coef_), reference.coef_, rtol=1e-9 if dtype == "float64" else 1e-3
    )
    assert type(warm.coef_) is type(X_xp) and warm.n_iter_.device == X_xp.device
