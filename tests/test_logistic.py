"""GradientDescentLogisticRegression against the course and scikit-learn."""

import pickle
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression, logistic_objective

COURSE_X = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])  # course layout
COURSE_Y = np.array([1, 0, 1])


def standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_course_optimize_example():
    model = GradientDescentLogisticRegression(
        learning_rate=0.009, max_iter=100, tol=0, C=np.inf
    )
    model.fit(COURSE_X.T, COURSE_Y, coef_init=[[1.0, 2.0]], intercept_init=[2.0])
    np.testing.assert_allclose(model.coef_, [[0.19033591, 0.12259159]], rtol=1e-7)
    assert model.intercept_[0] == pytest.approx(1.92535983008, rel=1e-11)
    assert model.loss_curve_[0] == pytest.approx(5.801545319394553, rel=1e-12)
    assert model.n_iter_ == 100 and len(model.loss_curve_) == 100


@pytest.mark.parametrize(
    ("loader", "n_classes"), [(load_breast_cancer, 2), (load_iris, 3)]
)
def test_starts_at_log_n_classes_from_zeros(loader, n_classes):
    X, y = standardized(loader)
    model = GradientDescentLogisticRegression(max_iter=3, tol=0).fit(X, y)
    assert model.loss_curve_[0] == pytest.approx(np.log(n_classes), abs=1e-12)
    assert model.coef_.shape == ((1 if n_classes == 2 else 3), X.shape[1])


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
@pytest.mark.parametrize("weighting", ["none", "sample_weight", "balanced"])
def test_converges_to_logistic_regression(loader, weighting):
    X, y = standardized(loader)
    sample_weight = None
    class_weight = "balanced" if weighting == "balanced" else None
    if weighting == "sample_weight":
        sample_weight = np.random.RandomState(0).uniform(0.2, 3.0, size=len(y))
    reference = LogisticRegression(
        C=1.0, tol=1e-12, max_iter=10_000, class_weight=class_weight
    ).fit(X, y, sample_weight=sample_weight)
    model = GradientDescentLogisticRegression(
        C=1.0, tol=1e-8, max_iter=200_000, class_weight=class_weight
    ).fit(X, y, sample_weight=sample_weight)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(
        model.intercept_, reference.intercept_, rtol=1e-4, atol=1e-7
    )
    np.testing.assert_allclose(
        model.predict_proba(X), reference.predict_proba(X), atol=1e-6
    )


def test_auto_step_is_one_over_the_lipschitz_bound():
    X, y = standardized(load_breast_cancer)
    model = GradientDescentLogisticRegression(
        solver="gd", max_iter=1, tol=0, C=2.0
    ).fit(X, y)
    X1 = np.hstack([X, np.ones((len(X), 1))])
    bound = np.linalg.norm(X1, 2) ** 2 / (4 * len(X)) + 1 / (2.0 * len(X))
    assert model.learning_rate_ == pytest.approx(1 / bound, rel=1e-10)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_auto_step_never_raises_the_objective(n_classes, as_sparse):
    # Badly scaled features, weights and no penalty: a hard case for a fixed step.
    X, y = make_classification(
        n_samples=300,
        n_features=30,
        n_informative=10,
        n_classes=n_classes,
        random_state=0,
    )
    X *= np.logspace(-2, 3, 30)
    weight = np.random.RandomState(0).uniform(0, 5, size=300)
    X = sparse.csr_array(X) if as_sparse else X
    model = GradientDescentLogisticRegression(
        solver="gd", max_iter=300, tol=0, C=np.inf
    )
    model.fit(X, y, sample_weight=weight)
    assert np.all(np.diff(model.loss_curve_) <= 1e-15)
    assert np.all(np.isfinite(model.coef_))


def test_sample_weight_two_equals_duplicated_rows():
    X, y = standardized(load_iris)
    weight = np.ones(len(y))
    weight[::3] = 2
    duplicated = np.r_[np.arange(len(y)), np.arange(0, len(y), 3)]
    kwargs = {"max_iter": 200, "tol": 0}
    weighted = GradientDescentLogisticRegression(**kwargs).fit(X, y, weight)
    repeated = GradientDescentLogisticRegression(**kwargs).fit(
        X[duplicated], y[duplicated]
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-12)


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
def test_float32_in_float32_out(loader):
    X, y = standardized(loader)
    kwargs = {"max_iter": 500, "tol": 0}
    model32 = GradientDescentLogisticRegression(**kwargs).fit(X.astype(np.float32), y)
    model64 = GradientDescentLogisticRegression(**kwargs).fit(X, y)
    assert model32.coef_.dtype == np.float32
    assert model32.intercept_.dtype == np.float32
    assert model32.predict_proba(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(model32.coef_, model64.coef_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("format", ["csr", "csc"])
def test_sparse_input_matches_dense(format):
    X, y = standardized(load_iris)
    X[np.abs(X) < 0.5] = 0
    kwargs = {"solver": "gd", "max_iter": 300, "tol": 0}
    dense = GradientDescentLogisticRegression(**kwargs).fit(X, y)
    model = GradientDescentLogisticRegression(**kwargs).fit(
        sparse.csr_array(X).asformat(format), y
    )
    np.testing.assert_allclose(model.coef_, dense.coef_, rtol=1e-10)
    assert model.learning_rate_ == pytest.approx(dense.learning_rate_, rel=1e-10)
    np.testing.assert_allclose(
        model.predict_proba(sparse.csr_array(X)), dense.predict_proba(X), rtol=1e-10
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_extreme_margins_raise_no_warning(dtype, n_classes):
    # pytest's configuration turns RuntimeWarning into errors. Starting from
    # weights that give margins in the thousands, of both signs, the descent and
    # the predictions must stay finite and warning-free.
    X, y = make_classification(
        n_samples=100,
        n_features=5,
        n_classes=n_classes,
        n_informative=3,
        random_state=0,
    )
    X = X.astype(dtype)
    n_outputs = 1 if n_classes == 2 else n_classes
    coef_init = np.random.RandomState(0).uniform(-1e3, 1e3, size=(n_outputs, 5))
    model = GradientDescentLogisticRegression(solver="gd", max_iter=50, tol=0, C=np.inf)
    model.fit(X, y, coef_init=coef_init)
    assert np.abs(model.decision_function(X)).max() > 1e3
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    assert np.all(np.isfinite(model.coef_)) and model.coef_.dtype == dtype
    proba = model.predict_proba(X)
    log_proba = model.predict_log_proba(X)
    assert proba.dtype == dtype
    assert np.all(np.isfinite(log_proba))
    assert log_proba.min() < -700  # exp() of it underflows: no log(0) taken
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)


def test_predict_log_proba_is_log_of_predict_proba():
    X, y = standardized(load_iris)
    model = GradientDescentLogisticRegression().fit(X, y)
    np.testing.assert_allclose(
        model.predict_log_proba(X), np.log(model.predict_proba(X)), rtol=1e-12
    )


def test_divergence_raises_and_leaves_no_bad_coefficients():
    X, y = load_breast_cancer(return_X_y=True)  # unscaled: features up to 4000
    # 1e-3 is a hundred times the stable step here: oscillating, finite, useless.
    model = GradientDescentLogisticRegression(learning_rate=1e-3, max_iter=500, tol=0)
    with pytest.raises(ValueError, match=r"learning_rate=0.001.*StandardScaler"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("learning_rate", ["auto", 1e-6])
def test_unmet_tol_warns_with_the_fix(learning_rate):
    X, y = load_breast_cancer(return_X_y=True)
    model = GradientDescentLogisticRegression(learning_rate=learning_rate, max_iter=20)
    with pytest.warns(
        ConvergenceWarning, match="max_iter=20.*StandardScaler"
    ) as record:
        model.fit(X, y)
    assert model.n_iter_ == 20
    suggests_auto = "learning_rate='auto'" in str(record[0].message)
    assert suggests_auto == (learning_rate != "auto")
    assert record[0].filename == __file__  # points at the caller's fit


def test_stops_when_the_gradient_is_within_tol():
    X, y = standardized(load_iris)
    model = GradientDescentLogisticRegression(tol=1e-3).fit(X, y)
    assert model.n_iter_ < 1000
    refit = GradientDescentLogisticRegression(tol=0, max_iter=model.n_iter_[0]).fit(
        X, y
    )
    np.testing.assert_array_equal(refit.coef_, model.coef_)
    # One update fewer and the gradient is still above tol.
    fewer = GradientDescentLogisticRegression(tol=1e-3, max_iter=model.n_iter_[0] - 1)
    with pytest.warns(ConvergenceWarning):
        fewer.fit(X, y)


def test_warm_start_continues_the_descent():
    X, y = standardized(load_iris)
    once = GradientDescentLogisticRegression(solver="gd", max_iter=100, tol=0).fit(X, y)
    twice = GradientDescentLogisticRegression(
        solver="gd", max_iter=50, tol=0, warm_start=True
    )
    twice.fit(X, y).fit(X, y)
    np.testing.assert_allclose(twice.coef_, once.coef_, rtol=1e-12)
    np.testing.assert_allclose(twice.loss_curve_, once.loss_curve_[50:], rtol=1e-12)


def test_string_and_sparse_integer_labels():
    X, y = standardized(load_iris)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    numbers = np.array([-7, 3, 40])[y]
    by_name = GradientDescentLogisticRegression().fit(X, names)
    by_number = GradientDescentLogisticRegression().fit(X, numbers)
    np.testing.assert_array_equal(
        by_name.classes_, ["setosa", "versicolor", "virginica"]
    )
    np.testing.assert_array_equal(by_number.classes_, [-7, 3, 40])
    np.testing.assert_array_equal(by_name.coef_, by_number.coef_)
    assert np.mean(by_name.predict(X) == names) > 0.9
    assert set(by_number.predict(X)) <= {-7, 3, 40}


def test_binary_labels_keep_their_order():
    X, y = standardized(load_breast_cancer)
    labels = np.where(y == 1, "yes", "no")
    model = GradientDescentLogisticRegression().fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["no", "yes"])
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(
        model.predict(X), np.where(proba[:, 1] > 0.5, "yes", "no")
    )
    np.testing.assert_array_equal(model.decision_function(X) > 0, proba[:, 1] > 0.5)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"X": "nan"}, "NaN"),
        ({"y": "one class"}, "one class"),
        (
            {"sample_weight": "negative"},
            "Negative values in data passed to",
        ),
        ({"coef_init": np.zeros(3)}, r"coef_init has shape \(3,\).*\(1, 30\)"),
        ({"intercept_init": np.zeros(2)}, r"intercept_init has shape \(2,\)"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"learning_rate": "fast"}, "learning_rate"),
        ({"C": 0.0}, "'C' parameter"),
        ({"max_iter": -1}, "max_iter"),
    ],
)
def test_bad_input_gets_a_clear_value_error(change, message):
    X, y = standardized(load_breast_cancer)
    params, fit_params = {}, {}
    if change.get("X") == "nan":
        X[3, 4] = np.nan
    if change.get("y") == "one class":
        y = np.ones_like(y)
    if change.get("sample_weight") == "negative":
        fit_params["sample_weight"] = -np.ones(len(y))
    for name in ("coef_init", "intercept_init"):
        if name in change:
            fit_params[name] = change[name]
    for name in ("learning_rate", "C", "max_iter"):
        if name in change:
            params[name] = change[name]
    with pytest.raises(ValueError, match=message):
        GradientDescentLogisticRegression(**params).fit(X, y, **fit_params)


def test_warm_start_with_other_classes_says_what_to_do():
    X, y = standardized(load_iris)
    model = GradientDescentLogisticRegression(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="warm_start=False"):
        model.fit(X[y > 0], y[y > 0])


def test_pickle_round_trip():
    X, y = standardized(load_iris)
    model = GradientDescentLogisticRegression().fit(X, y)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.loss_curve_, model.loss_curve_)


def test_grid_search_over_learning_rate_in_a_pipeline():
    X, y = load_breast_cancer(return_X_y=True)
    pipeline = make_pipeline(
        StandardScaler(), GradientDescentLogisticRegression(max_iter=200, tol=0)
    )
    search = GridSearchCV(
        pipeline,
        {"gradientdescentlogisticregression__learning_rate": [1e-4, 1e-2, 1.0, "auto"]},
        n_jobs=2,
        cv=3,
    )
    search.fit(X, y)
    best = search.best_params_["gradientdescentlogisticregression__learning_rate"]
    scores = search.cv_results_["mean_test_score"]
    # 200 steps of 1e-4 barely move from zero; the search must not pick that rate.
    assert best != 1e-4 and scores.max() > scores[0]
    assert search.predict(X).shape == y.shape
    assert search.score(X, y) > 0.97


def test_verbose_prints_cost_in_the_course_format(capsys):
    X, y = standardized(load_breast_cancer)
    GradientDescentLogisticRegression(max_iter=201, tol=0, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Cost after iteration 0: 0.693147"
    assert [line.split(":")[0] for line in lines] == [
        f"Cost after iteration {i}" for i in (0, 100, 200)
    ]


def test_pandas_feature_names_are_kept():
    pytest.importorskip("pandas")
    data = load_iris(as_frame=True)
    model = GradientDescentLogisticRegression().fit(data.data, data.target)
    np.testing.assert_array_equal(model.feature_names_in_, data.data.columns)


def test_logistic_objective_is_the_loss_curve_value():
    X, y = standardized(load_iris)
    five = GradientDescentLogisticRegression(max_iter=5, tol=0, C=0.5).fit(X, y)
    six = GradientDescentLogisticRegression(max_iter=6, tol=0, C=0.5).fit(X, y)
    assert logistic_objective(five, X, y) == pytest.approx(
        six.loss_curve_[5], rel=1e-14
    )


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
def test_logistic_objective_is_minimal_at_lbfgs_solution(loader):
    X, y = standardized(loader)
    weight = np.random.RandomState(0).uniform(0.5, 2, size=len(y))
    reference = LogisticRegression(C=0.3, class_weight="balanced", tol=1e-12)
    reference.fit(X, y, sample_weight=weight)
    best = logistic_objective(reference, X, y, sample_weight=weight)
    model = GradientDescentLogisticRegression(
        solver="gd", C=0.3, class_weight="balanced", max_iter=50
    )
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y, sample_weight=weight)
    assert best < logistic_objective(model, X, y, sample_weight=weight)
    # lbfgs's solution is a stationary point of the same objective.
    nudged = LogisticRegression(C=0.3, class_weight="balanced")
    nudged.classes_, nudged.intercept_ = reference.classes_, reference.intercept_
    nudged.coef_ = reference.coef_ * (1 + 1e-3)
    assert best < logistic_objective(nudged, X, y, sample_weight=weight)


def test_logistic_objective_rejects_unknown_labels():
    X, y = standardized(load_iris)
    model = GradientDescentLogisticRegression().fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match=r"not fitted on: \[2\]"):
        logistic_objective(model, X, y)


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
@pytest.mark.parametrize(
    ("solver", "line_search"),
    [("nesterov", False), ("nesterov", True), ("gd", True), ("bb", False)],
)
def test_faster_solvers_reach_the_same_solution_in_fewer_iterations(
    loader, solver, line_search
):
    X, y = standardized(loader)
    kwargs = {"tol": 1e-8, "max_iter": 200_000}
    plain = GradientDescentLogisticRegression(solver="gd", **kwargs).fit(X, y)
    fast = GradientDescentLogisticRegression(
        solver=solver, line_search=line_search, **kwargs
    ).fit(X, y)
    reference = LogisticRegression(tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(fast.coef_, reference.coef_, rtol=1e-4, atol=1e-7)
    assert fast.n_iter_ * 2 < plain.n_iter_


def test_line_search_grows_the_auto_step():
    X, y = standardized(load_breast_cancer)
    model = GradientDescentLogisticRegression(
        solver="gd", line_search=True, max_iter=300
    ).fit(X, y)
    auto = (
        GradientDescentLogisticRegression(solver="gd", max_iter=1, tol=0)
        .fit(X, y)
        .learning_rate_
    )
    assert model.learning_rate_ > 4 * auto
    assert np.all(np.diff(model.loss_curve_) <= 1e-15)  # still a descent


@pytest.mark.parametrize("loader", [load_breast_cancer, load_iris])
@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_l1_and_elastic_net_agree_with_saga(loader, l1_ratio):
    X, y = standardized(loader)
    reference = LogisticRegression(
        solver="saga", l1_ratio=l1_ratio, C=0.5, tol=1e-12, max_iter=100_000
    ).fit(X, y)
    model = GradientDescentLogisticRegression(
        solver="nesterov", line_search=True, l1_ratio=l1_ratio, C=0.5, tol=1e-10,
        max_iter=100_000,
    ).fit(X, y)  # fmt: skip
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, atol=1e-6)
    # Exact zeros, in the same places.
    np.testing.assert_array_equal(model.coef_ == 0, reference.coef_ == 0)
    assert np.sum(model.coef_ == 0) > 0
    assert logistic_objective(model, X, y) == pytest.approx(
        logistic_objective(reference, X, y), rel=1e-9
    )


def test_plain_gd_on_l1_also_reaches_saga():
    X, y = standardized(load_iris)
    reference = LogisticRegression(
        solver="saga", l1_ratio=1.0, C=0.5, tol=1e-12, max_iter=100_000
    ).fit(X, y)
    model = GradientDescentLogisticRegression(
        l1_ratio=1.0, C=0.5, tol=1e-9, max_iter=100_000
    ).fit(X, y)
    np.testing.assert_array_equal(model.coef_ == 0, reference.coef_ == 0)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)


def _default_sets():
    from sklearn.datasets import load_digits, load_wine

    digits = load_digits()
    yield "breast_cancer", *standardized(load_breast_cancer)
    yield "iris", *standardized(load_iris)
    yield "wine", *standardized(load_wine)
    yield "digits odd/even", digits.data / 16, digits.target % 2
    yield "digits 10 classes", digits.data / 16, digits.target


@pytest.mark.parametrize(
    ("X", "y"),
    [pytest.param(X, y, id=name) for name, X, y in _default_sets()],
)
def test_defaults_converge_to_the_optimum_without_warning(X, y):
    assert_defaults_converge(X, y)


@pytest.mark.slow  # 12,288 features: seconds
def test_defaults_converge_on_the_cats_scaled_by_255(catvnoncat):
    X = catvnoncat.X_train.reshape(len(catvnoncat.X_train), -1) / 255
    assert_defaults_converge(X, catvnoncat.y_train)


def assert_defaults_converge(X, y):
    """No ConvergenceWarning, and within 1e-3 (relative) of lbfgs's optimum."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = GradientDescentLogisticRegression().fit(X, y)
    reference = LogisticRegression(tol=1e-10, max_iter=100_000).fit(X, y)
    best = logistic_objective(reference, X, y)
    assert logistic_objective(model, X, y) <= best * (1 + 1e-3)
    assert model.n_iter_ < model.max_iter


@pytest.mark.parametrize(("learning_rate", "solver"), [(0.1, "gd"), ("auto", "bb")])
def test_solver_auto_is_plain_steps_at_a_fixed_rate_else_spectral(
    learning_rate, solver
):
    X, y = standardized(load_breast_cancer)
    kwargs = {"learning_rate": learning_rate, "max_iter": 30, "tol": 0}
    auto = GradientDescentLogisticRegression(**kwargs).fit(X, y)
    explicit = GradientDescentLogisticRegression(solver=solver, **kwargs).fit(X, y)
    np.testing.assert_array_equal(auto.coef_, explicit.coef_)
    np.testing.assert_array_equal(auto.loss_curve_, explicit.loss_curve_)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5, 1.0])
def test_spectral_steps_agree_with_lbfgs_and_saga(l1_ratio):
    X, y = standardized(load_breast_cancer)
    solver = "lbfgs" if l1_ratio == 0 else "saga"
    reference = LogisticRegression(
        solver=solver, l1_ratio=l1_ratio, C=0.5, tol=1e-12, max_iter=100_000
    ).fit(X, y)
    model = GradientDescentLogisticRegression(
        solver="bb", l1_ratio=l1_ratio, C=0.5, tol=1e-9, max_iter=100_000
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(model.coef_ == 0, reference.coef_ == 0)


def test_max_iter_zero_leaves_the_start_as_logistic_regression_does():
    X, y = standardized(load_iris)
    with pytest.warns(ConvergenceWarning, match="max_iter=0"):
        model = GradientDescentLogisticRegression(max_iter=0).fit(X, y)
    assert model.n_iter_ == 0 and model.loss_curve_.shape == (0,)
    np.testing.assert_array_equal(model.coef_, 0)
    np.testing.assert_allclose(model.predict_proba(X[:4]), 1 / 3)


def test_warm_start_without_intercept_fits_twice():
    X, y = standardized(load_breast_cancer)
    model = GradientDescentLogisticRegression(
        fit_intercept=False, warm_start=True, solver="gd", max_iter=20, tol=0
    )
    first = model.fit(X, y).coef_.copy()
    model.fit(X, y)
    once = GradientDescentLogisticRegression(
        fit_intercept=False, solver="gd", max_iter=40, tol=0
    ).fit(X, y)
    assert not np.array_equal(first, model.coef_)
    np.testing.assert_allclose(model.coef_, once.coef_, rtol=1e-12)
    np.testing.assert_array_equal(model.intercept_, 0)


@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf, "heavy"])
def test_class_weight_must_be_finite_and_non_negative(weight):
    X, y = standardized(load_breast_cancer)
    model = GradientDescentLogisticRegression(class_weight={0: weight, 1: 1.0})
    with pytest.raises(ValueError, match="class_weight must map classes to finite"):
        model.fit(X, y)


def test_class_weight_zero_leaves_a_class_out():
    X, y = standardized(load_iris)
    model = GradientDescentLogisticRegression(class_weight={0: 0.0, 1: 1.0, 2: 1.0})
    model.fit(X, y)
    kept = y > 0
    # Class 0 weighs nothing: the model learns to tell 1 from 2, and gives
    # class 0 little probability where those are.
    assert model.score(X[kept], y[kept]) > 0.9
    assert model.predict_proba(X[kept])[:, 0].max() < 0.1


@pytest.mark.parametrize(("dtype", "scale"), [(np.float32, 1e30), (np.float64, 1e300)])
def test_a_last_step_that_overflows_raises_the_divergence_error(dtype, scale):
    X, y = standardized(load_breast_cancer)
    X = (X * scale).astype(dtype)
    model = GradientDescentLogisticRegression(learning_rate=0.01, max_iter=1, tol=0)
    with pytest.raises(ValueError, match="diverged with learning_rate=0.01"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize(
    "kwargs, init",
    [({"learning_rate": 1e308}, {}), ({"learning_rate": 1.0}, {"coef_init": 1e300})],
)
def test_overflowing_fits_raise_no_runtime_warning(kwargs, init):
    X, y = standardized(load_breast_cancer)
    if "coef_init" in init:
        init = {"coef_init": np.full((1, X.shape[1]), init["coef_init"])}
    model = GradientDescentLogisticRegression(max_iter=50, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="diverged"):
            model.fit(X, y, **init)


@pytest.mark.parametrize("solver", ["gd", "bb"])
def test_float32_data_of_huge_magnitude_learns_as_float64_does(solver):
    # |x| ~ 1e23: the step 1 / L ~ 1e-46 is below float32's range.
    X, y = make_classification(200, 4, n_informative=3, n_redundant=0, random_state=0)
    X = X * 1e23
    params = dict(solver=solver, max_iter=200, tol=0, C=np.inf)
    model64 = GradientDescentLogisticRegression(**params).fit(X, y)
    model32 = GradientDescentLogisticRegression(**params).fit(X.astype(np.float32), y)
    assert model32.coef_.dtype == np.float32
    assert model64.score(X, y) > 0.6  # better than chance: it learned
    assert model32.score(X.astype(np.float32), y) == pytest.approx(
        model64.score(X, y), abs=0.02
    )


def test_weights_whose_sum_overflows_give_the_unpenalized_limit():
    X, y = standardized(load_breast_cancer)
    huge = GradientDescentLogisticRegression(max_iter=200, tol=0)
    huge.fit(X, y, sample_weight=np.full(len(y), 1e308))
    # S is infinite: the penalty 1 / (C S) vanishes, as with C = inf.
    free = GradientDescentLogisticRegression(max_iter=200, tol=0, C=np.inf).fit(X, y)
    assert huge.n_iter_ == 200
    np.testing.assert_allclose(huge.coef_, free.coef_, rtol=1e-10)


def test_weights_too_small_for_the_penalty_say_what_to_do():
    X, y = standardized(load_breast_cancer)
    model = GradientDescentLogisticRegression()
    with pytest.raises(ValueError, match="sample_weight sums to .*Multiply"):
        model.fit(X, y, sample_weight=np.full(len(y), 1e-320))


@pytest.mark.parametrize(
    "params",
    [{"solver": "gd"}, {"solver": "bb"}, {"solver": "nesterov", "line_search": True},
     {"solver": "nesterov", "l1_ratio": 0.5}, {"solver": "bb", "l1_ratio": 0.5}],
)  # fmt: skip
def test_float32_stays_float32_with_every_solver(params):
    X, y = standardized(load_iris)
    model = GradientDescentLogisticRegression(max_iter=20, tol=0, **params)
    model.fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32 and model.intercept_.dtype == np.float32


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sparsify_keeps_predictions_and_densify_restores_coef(n_classes):
    X, y = make_classification(
        n_samples=200, n_features=30, n_informative=4, n_classes=n_classes,
        n_clusters_per_class=1, random_state=0,
    )  # fmt: skip
    model = GradientDescentLogisticRegression(C=0.05, l1_ratio=1.0).fit(X, y)
    dense = model.coef_.copy()
    assert (dense == 0).mean() > 0.5  # L1 zeroed most coefficients
    expected = model.predict_proba(X), model.decision_function(X)
    assert model.sparsify() is model
    assert sparse.issparse(model.coef_) and model.coef_.nnz == np.count_nonzero(dense)
    for X_in in (X, sparse.csr_matrix(X), sparse.csc_matrix(X)):
        np.testing.assert_allclose(model.predict_proba(X_in), expected[0])
        np.testing.assert_allclose(model.decision_function(X_in), expected[1])
        assert isinstance(model.decision_function(X_in), np.ndarray)
    assert logistic_objective(model, X, y) == pytest.approx(
        logistic_objective(model.densify(), X, y)
    )
    assert isinstance(model.coef_, np.ndarray)
    np.testing.assert_array_equal(model.coef_, dense)


def test_warm_start_from_a_sparsified_model_continues_the_descent():
    X, y = standardized(load_breast_cancer)
    options = {"solver": "gd", "max_iter": 20, "tol": 0}
    model = GradientDescentLogisticRegression(warm_start=True, **options).fit(X, y)
    model.sparsify().fit(X, y)
    once = GradientDescentLogisticRegression(**{**options, "max_iter": 40}).fit(X, y)
    np.testing.assert_allclose(model.coef_, once.coef_, rtol=1e-12)


def test_sparsify_before_fit_says_fit_first():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="must be fitted before sparsifying"):
        GradientDescentLogisticRegression().sparsify()


def test_select_from_model_keeps_what_it_keeps_with_logistic_regression():
    from sklearn.feature_selection import SelectFromModel
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ours = SelectFromModel(
        GradientDescentLogisticRegression(l1_ratio=1, C=0.1, tol=1e-8, max_iter=5000)
    ).fit(X, y)
    theirs = SelectFromModel(
        LogisticRegression(l1_ratio=1, C=0.1, solver="saga", tol=1e-10, max_iter=20_000)
    ).fit(X, y)
    assert ours.threshold_ == theirs.threshold_ == 1e-5  # not the mean
    np.testing.assert_array_equal(ours.get_support(), theirs.get_support())


@pytest.mark.parametrize(
    ("params", "penalty"),
    [({"l1_ratio": 1}, "l1"), ({}, "l2"), ({"l1_ratio": 0.3}, "elasticnet"),
     ({"C": np.inf, "l1_ratio": 1}, None)],
)  # fmt: skip
def test_penalty_is_read_from_l1_ratio_and_c(params, penalty):
    model = GradientDescentLogisticRegression(**params)
    assert model.penalty == penalty
    assert "penalty" not in model.get_params()


def test_a_penalty_argument_is_refused_naming_l1_ratio():
    with pytest.raises(TypeError, match=r"l1_ratio=1 for penalty='l1'"):
        GradientDescentLogisticRegression(penalty="l1")


def test_n_iter_is_an_array_of_one_as_in_logistic_regression():
    X, y = load_iris(return_X_y=True)
    ours = GradientDescentLogisticRegression(max_iter=5, tol=0).fit(X / 8, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        theirs = LogisticRegression(max_iter=5).fit(X / 8, y)
    for model in (ours, theirs):  # code written for one runs on the other
        assert model.n_iter_.shape == (1,) and model.n_iter_.dtype == np.int32
    assert ours.n_iter_[0] == 5 == len(ours.loss_curve_)
