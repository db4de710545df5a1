"""Predictions of a fitted model: one code path through X's rows, any kind."""

import h5py
import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import NotFittedError

from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._rows import hdf5

METHODS = ("decision_function", "predict", "predict_proba", "predict_log_proba")


def _fitted(n_classes, dtype=np.float64, labels=None):
    rng = np.random.RandomState(n_classes)
    X = rng.standard_normal((300, 6)).astype(dtype)
    y = rng.randint(n_classes, size=300)
    if labels is not None:
        y = np.asarray(labels)[y]
    model = GradientDescentLogisticRegression(max_iter=30, tol=0).fit(X, y)
    return model, X


@pytest.mark.parametrize("n_classes", [2, 3])
def test_numpy_sparse_and_streamed_rows_predict_the_same(
    n_classes, tmp_path, monkeypatch
):
    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 8 * 6 * 40)  # chunks of 40 rows
    model, X = _fitted(n_classes)
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file["X"] = X
        for method in METHODS:
            expected = getattr(model, method)(X)
            streamed = getattr(model, method)(file["X"])  # the same products
            assert type(streamed) is np.ndarray and streamed.dtype == expected.dtype
            np.testing.assert_array_equal(streamed, expected, err_msg=method)
            for other in (sparse.csr_array(X), sparse.csc_array(X)):
                got = getattr(model, method)(other)
                assert type(got) is np.ndarray and got.dtype == expected.dtype
                np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=method)


def test_shapes_and_dtypes_of_the_outputs():
    model, X = _fitted(2, np.float32)
    assert model.decision_function(X).shape == (300,)
    assert model.predict_proba(X).shape == (300, 2)
    assert model.predict_proba(X).dtype == np.float32
    assert model.predict_proba(X.astype(np.float64)).dtype == np.float64
    model3, X3 = _fitted(3)
    assert model3.decision_function(X3).shape == (300, 3)


def test_string_labels_are_predicted():
    model, X = _fitted(3, labels=["cat", "dog", "emu"])
    predicted = model.predict(X)
    assert predicted.dtype.kind == "U" and set(predicted) <= {"cat", "dog", "emu"}
    np.testing.assert_array_equal(
        predicted, model.classes_[model.predict_proba(X).argmax(axis=1)]
    )


def test_sparsified_coef_predicts_the_same():
    model, X = _fitted(3)
    expected = {method: getattr(model, method)(X) for method in METHODS}
    model.sparsify()
    assert sparse.issparse(model.coef_)
    for method in METHODS:
        np.testing.assert_allclose(getattr(model, method)(X), expected[method])


def test_unfitted_and_mismatched_inputs_say_why(tmp_path):
    model = GradientDescentLogisticRegression()
    for method in METHODS:
        with pytest.raises(NotFittedError):
            getattr(model, method)(np.zeros((2, 6)))
    model, X = _fitted(2)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :4])
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file["X"] = X[:, :4]
        with pytest.raises(ValueError, match="features"):
            model.predict(file["X"])
