"""The training problem: checked rows, classes, weights and its objectives."""

import h5py
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import sparse

from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._objective import linear_objective
from sklearn_gdlogreg._problem import TrainingProblem
from sklearn_gdlogreg._rows.hdf5 import HDF5Rows
from sklearn_gdlogreg._rows.numpy import NumpyRows


def _data(n_classes=3, n_samples=90):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((n_samples, 4))
    return X, rng.randint(n_classes, size=n_samples), rng.uniform(0.5, 2, n_samples)


def test_in_memory_data_is_validated_and_kept_as_an_array():
    X, y, weight = _data()
    estimator = GradientDescentLogisticRegression()
    problem = TrainingProblem(estimator, X.tolist(), y, weight)
    assert type(problem.X) is np.ndarray and problem.X.dtype == np.float64
    assert type(problem.rows) is NumpyRows and problem.rows.shape == (90, 4)
    assert estimator.n_features_in_ == 4
    np.testing.assert_array_equal(problem.classes, [0, 1, 2])
    assert problem.loss.n_outputs == 3 and problem.target.shape == (90,)


def test_sparse_stays_sparse_and_float32_stays_float32():
    X, y, _ = _data(2)
    problem = TrainingProblem(
        GradientDescentLogisticRegression(),
        sparse.csr_array(X, dtype=np.float32),
        y,
        None,
    )
    assert sparse.issparse(problem.X) and problem.rows.dtype == np.float32
    assert problem.target.dtype == np.float32


def test_a_fold_objective_equals_the_objective_of_the_fold():
    X, y, weight = _data()
    problem = TrainingProblem(GradientDescentLogisticRegression(), X, y, weight)
    fold = np.arange(0, 90, 3)
    objective = problem.objective(np.array([1.0, 10.0]), 0.0, rows=fold)
    loss = loss_for_classes(3)
    expected = linear_objective(
        loss, X[fold], loss.encode_target(y[fold], X.dtype), weight[fold],
        np.array([1.0, 10.0]), True,
    )  # fmt: skip
    params = np.random.RandomState(1).standard_normal((2, 3, 5))
    got, expected = objective.loss_gradient(params), expected.loss_gradient(params)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])


def test_class_weights_multiply_the_sample_weights():
    X, y, weight = _data(2)
    estimator = GradientDescentLogisticRegression(class_weight={0: 2.0, 1: 0.5})
    problem = TrainingProblem(estimator, X, y, weight)
    np.testing.assert_allclose(problem.weight, weight * np.where(y == 0, 2.0, 0.5))


def test_one_class_with_weight_is_refused():
    X, y, weight = _data(2)
    weight[y == 1] = 0
    with pytest.raises(ValueError, match="at least 2 classes with positive weight"):
        TrainingProblem(GradientDescentLogisticRegression(), X, y, weight)


def test_streamed_rows_are_kept_and_cannot_be_subset(tmp_path):
    X, y, _ = _data(2)
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file["X"] = X
        problem = TrainingProblem(
            GradientDescentLogisticRegression(), file["X"], y, None
        )
        assert type(problem.rows) is HDF5Rows and problem.X is problem.rows
        assert problem.objective(1.0, 0.0).data.X == file["X"]
        with pytest.raises(ValueError, match="needs X in memory"):
            problem.objective(1.0, 0.0, rows=np.arange(10))
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            TrainingProblem(GradientDescentLogisticRegression(), file["X"], y[:5], None)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_the_folds_objective_is_each_folds_objective_as_a_model(n_classes, as_sparse):
    X, y, weight = _data(n_classes)
    X = sparse.csr_array(X) if as_sparse else X
    problem = TrainingProblem(GradientDescentLogisticRegression(), X, y, weight)
    folds = [np.arange(0, 90, 3), np.arange(1, 90, 2)]
    both = problem.folds_objective(2.0, 0.0, folds, repeat=2)
    params = np.random.RandomState(1).standard_normal((4, problem.loss.n_outputs, 5))
    values, gradient = both.loss_gradient(params)
    for model in range(4):
        alone = problem.objective(2.0, 0.0, rows=folds[model // 2])
        expected = alone.loss_gradient(params[model : model + 1])
        np.testing.assert_allclose(values[model], expected[0][0], rtol=1e-13)
        np.testing.assert_allclose(gradient[model], expected[1][0], rtol=1e-12)
        np.testing.assert_allclose(
            both.lipschitz_constant()[model], alone.lipschitz_constant(), rtol=1e-10
        )
    # The running models' selection keeps each one's weights.
    selected = both.select(np.array([3, 0]))
    np.testing.assert_allclose(
        selected.loss_gradient(params[[3, 0]])[1], gradient[[3, 0]], rtol=1e-14
    )


@pytest.mark.parametrize("class_weight", ["balanced", {0: 2.0, 1: 0.5}])
def test_class_weights_of_huge_sample_weights_are_those_of_their_ratios(class_weight):
    # Weights of 1e307: "balanced" summed them to infinity in scikit-learn's
    # compute_class_weight, an overflow warning (#23 item 14). Its weights
    # depend on the ratios only, a dict's on none.
    X, y, weight = _data(2)
    estimator = GradientDescentLogisticRegression(class_weight=class_weight)
    huge = TrainingProblem(estimator, X, y, weight * 1e307)
    plain = TrainingProblem(estimator, X, y, weight)
    np.testing.assert_allclose(huge.weight / 1e307, plain.weight, rtol=1e-12)
    # Their sum is infinite, the penalty's strength 1 / (C S) zero: the model
    # is the unpenalised one of the same ratios.
    model = GradientDescentLogisticRegression(class_weight=class_weight)
    model.fit(X, y, sample_weight=weight * 1e307)
    reference = GradientDescentLogisticRegression(C=np.inf, class_weight=class_weight)
    reference.fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10)


@pytest.mark.parametrize(
    ("dtype", "scale", "class_weight"),
    [
        (np.float32, 1e200, None),  # beyond float32 themselves
        (np.float32, 1e38, {0: 4.0, 1: 1.0}),  # times the class weights
        (np.float64, 1e308, {0: 4.0, 1: 1.0}),
        (np.float32, 1e-300, None),  # all below float32: 0, as if absent
    ],
)
def test_weights_beyond_the_dtype_are_refused_naming_the_fix(
    dtype, scale, class_weight
):
    # Not cast to infinity with an overflow warning, nor all to 0 (then "one
    # class with positive weight"): the fix, with C.
    X, y, weight = _data(2)
    estimator = GradientDescentLogisticRegression(class_weight=class_weight)
    fix = "Divide sample_weight .* multiply C" if scale > 1 else "Multiply sample"
    match = f"{np.dtype(dtype).name}'s range. {fix}"
    with pytest.raises(ValueError, match=match) as error:
        TrainingProblem(estimator, X.astype(dtype), y, weight / 2 * scale)
    assert error.value.parameters == ("sample_weight", "C")


@settings(max_examples=50, deadline=None)
@given(
    labels=st.one_of(
        st.lists(st.integers(-3, 3), min_size=2, max_size=40),
        st.lists(st.sampled_from([-0.0, 0.0, 1.0, 2.0, -7.0]), min_size=2, max_size=40),
        st.lists(st.sampled_from(["cat", "non-cat", "dog"]), min_size=2, max_size=40),
    )
)
def test_classes_and_label_indices_are_numpy_s_unique_and_inverse(labels):
    y = np.asarray(labels)
    assume(len(np.unique(y)) >= 2)
    X = np.random.RandomState(0).standard_normal((len(y), 2))
    problem = TrainingProblem(GradientDescentLogisticRegression(), X, y, None)
    classes, inverse = np.unique(y, return_inverse=True)
    np.testing.assert_array_equal(problem.classes, classes)
    np.testing.assert_array_equal(problem.y_index, inverse)
