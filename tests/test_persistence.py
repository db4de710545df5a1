"""Saving and loading models; files written completely or not at all."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression, ImageFlattener
from sklearn_gdlogreg._files import write_atomically
from sklearn_gdlogreg.persistence import load_model, save_model


def test_round_trip_predicts_the_same(tmp_path):
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(
        ImageFlattener(), StandardScaler(), GradientDescentLogisticRegression()
    ).fit(X, y)
    save_model(model, tmp_path / "iris.skops")
    loaded = load_model(tmp_path / "iris.skops")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded[-1].loss_curve_, model[-1].loss_curve_)


@pytest.mark.parametrize(
    "parameters",
    [
        dict(solver="sgd", momentum=0.0),
        dict(solver="sgd", momentum=0.9),
        dict(solver="rmsprop", schedule="adaptive"),
        dict(solver="adam", early_stopping=True),
    ],
)
def test_a_mini_batch_model_round_trips_and_its_descent_goes_on(parameters, tmp_path):
    from sklearn_gdlogreg import MiniBatchLogisticRegression

    X, y = load_iris(return_X_y=True)
    model = make_pipeline(
        StandardScaler(),
        MiniBatchLogisticRegression(
            max_iter=3, tol=None, batch_size=32, random_state=0, **parameters
        ),
    ).fit(X, y)
    save_model(model, tmp_path / "iris.skops")
    loaded = load_model(tmp_path / "iris.skops")
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    # The update rule's memory and the shuffling generator were saved too: an
    # epoch more of partial_fit makes the same steps from either.
    X_scaled = model[0].transform(X)
    for estimator in (model[-1], loaded[-1]):
        estimator.partial_fit(X_scaled, y)
    np.testing.assert_array_equal(loaded[-1].coef_, model[-1].coef_)
    assert loaded[-1].t_ == model[-1].t_


def test_a_bare_estimator_is_not_a_saved_model(tmp_path):
    X, y = load_iris(return_X_y=True)
    save_model(GradientDescentLogisticRegression().fit(X, y), tmp_path / "bare.skops")
    with pytest.raises(ValueError, match="holds a GradientDescentLogisticRegression"):
        load_model(tmp_path / "bare.skops")


def test_failed_write_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def write_half_then_fail(path):
        with open(path, "wb") as file:
            file.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, write_half_then_fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    write_atomically(target, lambda path: open(path, "wb").write(b"new"))
    assert target.read_bytes() == b"new"


def test_a_pipeline_with_a_step_outside_the_list_is_refused(tmp_path):
    from sklearn.preprocessing import FunctionTransformer

    X, y = load_iris(return_X_y=True)
    model = make_pipeline(
        FunctionTransformer(np.negative), GradientDescentLogisticRegression()
    ).fit(X, y)
    save_model(model, tmp_path / "extra.skops")
    with pytest.raises(ValueError, match="types this package does not trust.*Func"):
        load_model(tmp_path / "extra.skops")


def test_a_file_that_unpacks_too_large_is_refused_before_loading(tmp_path):
    import zipfile

    path = tmp_path / "bomb.skops"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("schema.json", "{}")
        archive.writestr("padding.npy", b"\0" * (300 << 20))  # ~300 kB on disk
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ValueError, match="would unpack to 300 MB"):
        load_model(path)


def test_written_files_respect_the_umask_and_the_old_mode(tmp_path):
    import os
    import stat

    new = tmp_path / "new.bin"
    previous = os.umask(0o022)
    try:
        write_atomically(new, lambda path: open(path, "wb").write(b"x"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    old = tmp_path / "old.bin"
    old.write_bytes(b"old")
    old.chmod(0o640)
    write_atomically(old, lambda path: open(path, "wb").write(b"new"))
    assert stat.S_IMODE(old.stat().st_mode) == 0o640


def test_a_sparsified_model_round_trips(tmp_path):
    import scipy.sparse

    X, y = load_iris(return_X_y=True)
    model = make_pipeline(
        StandardScaler(), GradientDescentLogisticRegression(l1_ratio=1, C=0.1)
    ).fit(X, y)
    model[-1].sparsify()
    save_model(model, tmp_path / "sparse.skops")
    loaded = load_model(tmp_path / "sparse.skops")
    assert scipy.sparse.issparse(loaded[-1].coef_)
    assert (loaded[-1].coef_ != model[-1].coef_).nnz == 0
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_an_unfitted_pipeline_is_refused(tmp_path):
    save_model(
        make_pipeline(StandardScaler(), GradientDescentLogisticRegression()),
        tmp_path / "unfitted.skops",
    )
    with pytest.raises(ValueError, match="its pipeline is not fitted"):
        load_model(tmp_path / "unfitted.skops")


def test_a_pipeline_whose_attributes_disagree_is_refused(tmp_path):
    X, y = load_iris(return_X_y=True)
    model = make_pipeline(ImageFlattener(), GradientDescentLogisticRegression()).fit(
        X, y
    )
    model[0].image_shape_ = (5,)  # as a damaged file may leave it
    save_model(model, tmp_path / "odd.skops")
    with pytest.raises(ValueError, match="holds no fitted model that predicts"):
        load_model(tmp_path / "odd.skops")
