"""PixelScaler and ImageFlattener against plain numpy, and in pipelines."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    ImageFlattener,
    PixelScaler,
)

RNG = np.random.RandomState(0)
IMAGES = RNG.randint(0, 256, size=(40, 5, 4, 3)).astype(np.uint8)


def test_pixel_scaler_is_the_course_division():
    X = IMAGES.reshape(40, -1)
    scaled = PixelScaler().transform(X)
    assert scaled.dtype == np.float64
    np.testing.assert_array_equal(scaled, X / 255)  # bit for bit
    np.testing.assert_array_equal(PixelScaler(max_value=16).fit_transform(X), X / 16)


def test_pixel_scaler_keeps_float32_and_sparse():
    X = (IMAGES.reshape(40, -1) / 1.0).astype(np.float32)
    assert PixelScaler().transform(X).dtype == np.float32
    X_sparse = sparse.csr_array(np.where(X > 200, X, 0))
    scaled = PixelScaler().transform(X_sparse)
    assert sparse.issparse(scaled) and scaled.dtype == np.float32
    np.testing.assert_array_equal(scaled.toarray(), X_sparse.toarray() / 255)
    assert X_sparse.max() > 200  # input untouched


def test_pixel_scaler_needs_no_fit_and_inverts():
    X = RNG.uniform(0, 255, size=(3, 4))
    scaler = PixelScaler()
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X)
    with pytest.raises(ValueError, match="max_value"):
        PixelScaler(max_value=0).transform(X)


def test_pixel_scaler_pandas_output():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(IMAGES[:, 0, 0, :], columns=["r", "g", "b"])
    out = PixelScaler().set_output(transform="pandas").fit_transform(frame)
    assert list(out.columns) == ["r", "g", "b"]
    np.testing.assert_array_equal(out.to_numpy(), frame.to_numpy() / 255)


@pytest.mark.parametrize("shape", [(40, 5, 4, 3), (40, 5, 4)])
def test_flattener_matches_course_reshape(shape):
    images = RNG.randint(0, 256, size=shape).astype(np.uint8)
    flattener = ImageFlattener().fit(images)
    rows = flattener.transform(images)
    np.testing.assert_array_equal(rows, images.reshape(images.shape[0], -1))
    assert rows.dtype == np.uint8
    assert flattener.image_shape_ == shape[1:]
    assert flattener.n_features_in_ == np.prod(shape[1:])
    np.testing.assert_array_equal(flattener.inverse_transform(rows), images)
    # The course's layout is the transpose: X.reshape(m, -1).T
    np.testing.assert_array_equal(rows.T, images.reshape(images.shape[0], -1).T)


def test_flattener_on_non_contiguous_images():
    images = np.asfortranarray(IMAGES)[:, ::-1]
    rows = ImageFlattener().fit_transform(images)
    np.testing.assert_array_equal(rows, np.ascontiguousarray(images).reshape(40, -1))


def test_flattener_passes_rows_through_and_accepts_rows_after_images():
    rows = IMAGES.reshape(40, -1)
    np.testing.assert_array_equal(ImageFlattener().fit_transform(rows), rows)
    flattener = ImageFlattener().fit(IMAGES)
    np.testing.assert_array_equal(flattener.transform(rows), rows)


def test_flattener_rejects_other_image_shapes():
    flattener = ImageFlattener().fit(IMAGES)
    with pytest.raises(ValueError, match=r"images of shape \(4, 5, 3\).*\(5, 4, 3\)"):
        flattener.transform(IMAGES.reshape(40, 4, 5, 3))


def test_flattener_feature_names_and_pandas_output():
    pytest.importorskip("pandas")
    flattener = ImageFlattener().set_output(transform="pandas").fit(IMAGES)
    out = flattener.transform(IMAGES)
    assert out.shape == (40, 60) and out.columns[0] == "x0" and out.columns[-1] == "x59"


def image_pipeline(**params):
    return make_pipeline(
        ImageFlattener(),
        PixelScaler(),
        GradientDescentLogisticRegression(**params),
    )


def test_pipeline_on_raw_uint8_images():
    # "Cats" have a brighter red channel.
    y = np.arange(40) % 2
    images = RNG.randint(0, 200, size=(40, 5, 4, 3))
    images[..., 0] += 55 * y[:, None, None]
    images = images.astype(np.uint8)
    model = image_pipeline().fit(images, y)
    assert model.predict(images).shape == (40,)
    assert model.predict_proba(images).shape == (40, 2)
    assert model.score(images, y) == 1.0
    scores = cross_val_score(image_pipeline(), images, y, cv=4)
    assert scores.min() >= 0.8
    search = GridSearchCV(
        image_pipeline(max_iter=100, tol=0),
        {"gradientdescentlogisticregression__learning_rate": [1e-4, 0.05]},
        cv=4,
    ).fit(IMAGES, y)
    assert (
        search.best_params_["gradientdescentlogisticregression__learning_rate"] == 0.05
    )
    assert search.predict(IMAGES).shape == (40,)
