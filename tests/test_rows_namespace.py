"""Rows of another array-API namespace: computed there, on its device."""

import numpy as np
import pytest
from sklearn.base import config_context

from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._namespace import as_numpy
from sklearn_gdlogreg._rows import make_rows
from sklearn_gdlogreg._rows.namespace import NamespaceRows

strict = pytest.importorskip("array_api_strict")
Array = type(strict.asarray(0.0))


def _rows(X):
    try:
        return make_rows(strict.asarray(X))
    except ImportError:  # SciPy < 1.14 cannot dispatch the array API
        pytest.skip("SciPy cannot dispatch the array API")


@pytest.mark.parametrize("n_classes", [2, 3])
def test_bound_rows_keep_targets_and_gradients_in_the_namespace(n_classes):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 5))
    y = rng.randint(n_classes, size=40)
    with config_context(array_api_dispatch=True):
        rows = _rows(X)
        assert type(rows) is NamespaceRows and rows.dense is None
        assert rows.dtype == np.float64  # the NumPy dtype computed in
        loss = loss_for_classes(n_classes, rows.xp)
        bound = rows.bind(loss, loss.encode_target(y, X.dtype), None, True)
        assert isinstance(bound.target, Array)
        params = strict.zeros((2, loss.n_outputs, 6), dtype=strict.float64)
        values, gradient = bound.loss_gradient(params)
        assert isinstance(gradient, Array) and gradient.shape == params.shape
        assert isinstance(values, np.ndarray) and values.shape == (2,)
        np.testing.assert_allclose(values, np.log(n_classes), rtol=1e-12)
        assert isinstance(bound.raw(params), Array)


def test_predictions_and_subsets_stay_in_the_namespace():
    rng = np.random.RandomState(1)
    X = rng.standard_normal((30, 4))
    coef, intercept = rng.standard_normal((1, 4)), rng.standard_normal(1)
    with config_context(array_api_dispatch=True):
        rows = _rows(X)
        raw = rows.map_raw(
            lambda raw, xp: raw, strict.asarray(coef), strict.asarray(intercept), 1
        )
        assert isinstance(raw, Array)
        np.testing.assert_allclose(as_numpy(raw), X @ coef.T + intercept, rtol=1e-13)
        subset = rows.take([0, 2, 4])
        assert type(subset) is NamespaceRows and subset.shape == (3, 4)
        np.testing.assert_array_equal(as_numpy(subset.X), X[[0, 2, 4]])
