"""GradientDescentLogisticRegressionCV against GridSearchCV and separate fits."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
)
from sklearn_gdlogreg._planner import descend
from sklearn_gdlogreg._problem import TrainingProblem

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)
RATES = [0.003, 0.03, 0.3, 3.0]
CV = StratifiedKFold(4, shuffle=True, random_state=0)


# The slow rates need more than 150 iterations: the CV says so for its grid
# and its refit, as GridSearchCV's fits do below.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Cs", [[1.0], [0.01, 1.0, 100.0]])
def test_same_scores_and_choice_as_grid_search(Cs):
    kwargs = {"max_iter": 150, "tol": 1e-4}
    cv_model = GradientDescentLogisticRegressionCV(
        learning_rates=RATES, Cs=Cs, cv=CV, **kwargs
    ).fit(X_IRIS, Y_IRIS)
    search = GridSearchCV(
        GradientDescentLogisticRegression(**kwargs),
        {"C": Cs, "learning_rate": RATES},
        cv=CV,
    )
    with pytest.warns(Warning):  # ConvergenceWarnings from the slow rates
        search.fit(X_IRIS, Y_IRIS)
    # GridSearchCV orders its candidates C first, learning rate second: the same.
    split_scores = np.array(
        [search.cv_results_[f"split{i}_test_score"] for i in range(4)]
    ).reshape(4, len(Cs), len(RATES))
    np.testing.assert_allclose(cv_model.scores_, split_scores)
    # The choice: GridSearchCV's among the combinations converged in every fold.
    # (If none converged everywhere, the best of all, with a warning.)
    converged = cv_model.converged_.all(axis=0)
    if not converged.any():
        converged[:] = True
    mean = np.where(converged, split_scores.mean(axis=0), -np.inf)
    best_c, best_r = np.unravel_index(np.argmax(mean), mean.shape)
    assert cv_model.learning_rate_ == RATES[best_r] and cv_model.C_ == Cs[best_c]
    refit = GradientDescentLogisticRegression(
        C=Cs[best_c], learning_rate=RATES[best_r], **kwargs
    ).fit(X_IRIS, Y_IRIS)
    np.testing.assert_allclose(cv_model.coef_, refit.coef_, rtol=1e-10, atol=1e-12)


def test_each_model_equals_its_separate_descent_and_stops_on_its_own():
    model = GradientDescentLogisticRegressionCV(
        learning_rates=RATES, cv=CV, max_iter=400, tol=1e-3
    ).fit(X_IRIS, Y_IRIS)
    train, _ = next(CV.split(X_IRIS, Y_IRIS))
    problem = TrainingProblem(GradientDescentLogisticRegression(), X_IRIS, Y_IRIS, None)
    for r, rate in enumerate(RATES):
        alone = descend(
            problem.objective(1.0, 0.0, rows=train),
            np.zeros((1, 3, 5)),
            learning_rate=rate,
            max_iter=400,
            tol=1e-3,
        )
        np.testing.assert_allclose(
            model.loss_curves_[0, 0, r], alone.loss_curves[0], rtol=1e-12
        )
        assert model.n_iters_[0, 0, r] == alone.n_iter[0]
    assert len(set(model.n_iters_[0, 0])) > 1  # different rates stop apart


def test_diverging_rates_score_nan_and_are_not_chosen():
    X, y = load_breast_cancer(return_X_y=True)  # unscaled: large rates diverge
    model = GradientDescentLogisticRegressionCV(
        learning_rates=[1e-7, 1e-6, 1e-3, 1.0], cv=3, max_iter=200
    )
    with pytest.warns(Warning):
        model.fit(X, y)
    assert np.all(np.isnan(model.scores_[:, 0, 2:]))
    assert not np.any(np.isnan(model.scores_[:, 0, :2]))
    assert model.learning_rate_ in (1e-7, 1e-6)


def test_all_diverging_is_an_error():
    X, y = load_breast_cancer(return_X_y=True)
    model = GradientDescentLogisticRegressionCV(learning_rates=[1.0, 10.0], cv=3)
    with pytest.raises(ValueError, match="Every learning rate diverged"):
        model.fit(X, y)


def test_integer_grid_is_auto_multiples():
    model = GradientDescentLogisticRegressionCV(learning_rates=4, cv=3, max_iter=50)
    with pytest.warns(Warning):
        model.fit(X_IRIS, Y_IRIS)
    assert model.learning_rates_ == ["auto", "auto*2", "auto*4", "auto*8"]
    auto = GradientDescentLogisticRegression(solver="gd", max_iter=1, tol=0)
    auto.fit(X_IRIS, Y_IRIS)
    chosen = model.learning_rates_[int(np.nanargmax(model.scores_.mean(axis=0)[0]))]
    multiple = 1 if chosen == "auto" else int(chosen.split("*")[1])
    assert model.learning_rate_ == pytest.approx(multiple * auto.learning_rate_)


def test_refit_false_averages_the_folds():
    model = GradientDescentLogisticRegressionCV(
        learning_rates=[0.3], cv=CV, refit=False, max_iter=100, tol=0
    ).fit(X_IRIS, Y_IRIS)
    coefs = []
    for train, _ in CV.split(X_IRIS, Y_IRIS):
        alone = GradientDescentLogisticRegression(
            learning_rate=0.3, max_iter=100, tol=0
        )
        coefs.append(alone.fit(X_IRIS[train], Y_IRIS[train]).coef_)
    np.testing.assert_allclose(model.coef_, np.mean(coefs, axis=0), rtol=1e-10)


@pytest.mark.parametrize("rates", [[], [-1.0], ["fast"]])
def test_bad_grid(rates):
    with pytest.raises(ValueError, match="learning_rates"):
        GradientDescentLogisticRegressionCV(learning_rates=rates).fit(X_IRIS, Y_IRIS)


def test_elastic_net_grid_whose_models_stop_apart_does_not_crash():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = GradientDescentLogisticRegressionCV(
        l1_ratio=0.5, learning_rates=4, cv=3, max_iter=300, tol=1e-3
    ).fit(X, y)
    iterations = model.n_iters_[:, 0, :]
    assert len(np.unique(iterations)) > 1  # models stopped at different times
    assert np.isfinite(model.scores_).all() and np.isfinite(model.coef_).all()


def test_score_uses_the_scoring_of_the_search():
    from sklearn.metrics import get_scorer

    model = GradientDescentLogisticRegressionCV(
        scoring="neg_log_loss", cv=3, max_iter=200
    ).fit(X_IRIS, Y_IRIS)
    expected = get_scorer("neg_log_loss")(model, X_IRIS, Y_IRIS)
    assert model.score(X_IRIS, Y_IRIS) == pytest.approx(expected)
    assert model.score(X_IRIS, Y_IRIS) < 0  # not an accuracy


# 100 iterations on unscaled iris: the grid does not converge, and says so.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("scoring", ["neg_log_loss", "neg_brier_score"])
def test_folds_holding_one_class_are_scored_on_probabilities(scoring):
    from sklearn.linear_model import LogisticRegressionCV

    # Sorted labels and unshuffled folds: the first and last validation folds
    # hold a single class.
    X = X_IRIS[Y_IRIS < 2][:60]
    y = Y_IRIS[Y_IRIS < 2][:60]
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    from sklearn.model_selection import KFold

    folds = KFold(3)
    model = GradientDescentLogisticRegressionCV(
        scoring=scoring, cv=folds, learning_rates=2, max_iter=100
    ).fit(X, y)
    assert np.isfinite(model.scores_).all()
    reference = LogisticRegressionCV(
        scoring=scoring, cv=folds, Cs=[1.0], l1_ratios=(0,), use_legacy_attributes=False
    ).fit(X, y)
    assert reference.scores_.shape[0] == 3  # scikit-learn scores them too


def test_a_rate_that_never_converges_does_not_win():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = GradientDescentLogisticRegressionCV(learning_rates=8, cv=3, max_iter=1500)
    with warnings.catch_warnings():
        # The refit of the chosen rate converges: no warning.
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    # Some rates of the grid neither converged nor diverged (they cycle)...
    assert (~model.converged_ & np.isfinite(model.scores_)).any()
    # ...and the chosen one, 2**i times 1 / L, converged in every fold.
    auto = GradientDescentLogisticRegression(solver="gd", max_iter=1, tol=0).fit(X, y)
    chosen = round(np.log2(model.learning_rate_ / auto.learning_rate_))
    assert model.converged_[:, 0, chosen].all()


def _breast_cancer_and_auto_step():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    auto = GradientDescentLogisticRegression(solver="gd", max_iter=1, tol=0).fit(X, y)
    return X, y, auto.learning_rate_


def test_a_rate_that_cycles_stops_early_and_scores_nan():
    X, y, auto = _breast_cancer_and_auto_step()
    cycling, good = 128 * auto, 8 * auto
    # Alone, the cycling rate neither converges nor diverges in 1000 iterations.
    with pytest.warns(ConvergenceWarning):
        alone = GradientDescentLogisticRegression(learning_rate=cycling, max_iter=1000)
        alone.fit(X, y)
    assert alone.n_iter_ == 1000
    model = GradientDescentLogisticRegressionCV(
        learning_rates=[cycling, good], cv=5, max_iter=1000
    ).fit(X, y)
    # Stopped by the stall window (100 iterations), far before max_iter
    # (337-413 iterations per fold on one machine, depending on BLAS rounding).
    assert (model.n_iters_[:, 0, 0] < 500).all()
    assert np.isnan(model.scores_[:, 0, 0]).all()
    assert model.converged_[:, 0, 1].all()
    assert model.learning_rate_ == good


def test_a_model_flat_within_rounding_is_not_taken_for_cycling():
    # tol far below what float64 reaches: the objectives flatten out, and the
    # models must run to max_iter and score, not stop as cycling.
    X, y, auto = _breast_cancer_and_auto_step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GradientDescentLogisticRegressionCV(
            learning_rates=[4 * auto], cv=3, max_iter=2500, tol=1e-30
        ).fit(X[:, :5], y)
    assert (model.n_iters_ == 2500).all()
    assert np.isfinite(model.scores_).all()


def _weights_and_groups():
    rng = np.random.default_rng(0)
    return rng.uniform(0.1, 3.0, len(Y_IRIS)), np.arange(len(Y_IRIS)) % 6


def _split_scores(search, n_splits, shape):
    return np.array(
        [search.cv_results_[f"split{i}_test_score"] for i in range(n_splits)]
    ).reshape(n_splits, *shape)


@pytest.mark.parametrize("requested", [True, False])
def test_routing_sends_sample_weight_to_the_scorer_that_asks_and_groups_to_split(
    requested,
):
    from sklearn import config_context
    from sklearn.metrics import accuracy_score, make_scorer
    from sklearn.model_selection import GroupKFold

    weight, groups = _weights_and_groups()
    kwargs = {"max_iter": 150, "tol": 1e-4}
    with config_context(enable_metadata_routing=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scorer = make_scorer(accuracy_score).set_score_request(sample_weight=requested)
        cv_model = GradientDescentLogisticRegressionCV(
            learning_rates=RATES, cv=GroupKFold(3), scoring=scorer, **kwargs
        ).fit(X_IRIS, Y_IRIS, sample_weight=weight, groups=groups)
        # The reference: GridSearchCV with the same routing.
        estimator = GradientDescentLogisticRegression(**kwargs)
        search = GridSearchCV(
            estimator.set_fit_request(sample_weight=True),
            {"learning_rate": RATES},
            cv=GroupKFold(3),
            scoring=scorer,
        ).fit(X_IRIS, Y_IRIS, sample_weight=weight, groups=groups)
        if requested:
            score = cv_model.score(X_IRIS, Y_IRIS, sample_weight=weight)
        else:  # as LogisticRegressionCV: metadata no one asked for are refused
            with pytest.raises(TypeError, match="sample_weight"):
                cv_model.score(X_IRIS, Y_IRIS, sample_weight=weight)
            score = cv_model.score(X_IRIS, Y_IRIS)
    np.testing.assert_allclose(
        cv_model.scores_, _split_scores(search, 3, (1, len(RATES)))
    )
    expected = accuracy_score(
        Y_IRIS, cv_model.predict(X_IRIS), sample_weight=weight if requested else None
    )
    assert score == pytest.approx(expected)


# 150 iterations on unscaled iris: the CV and each single fit warn.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_without_routing_sample_weight_weights_the_scores_as_logistic_regression_cv():
    from sklearn.metrics import accuracy_score

    weight, _ = _weights_and_groups()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GradientDescentLogisticRegressionCV(
            learning_rates=RATES[2:3], cv=CV, max_iter=150
        ).fit(X_IRIS, Y_IRIS, sample_weight=weight)
    for fold, (train, test) in enumerate(CV.split(X_IRIS, Y_IRIS)):
        single = GradientDescentLogisticRegression(
            learning_rate=RATES[2], max_iter=150
        ).fit(X_IRIS[train], Y_IRIS[train], sample_weight=weight[train])
        expected = accuracy_score(
            Y_IRIS[test], single.predict(X_IRIS[test]), sample_weight=weight[test]
        )
        assert model.scores_[fold, 0, 0] == pytest.approx(expected)


def test_metadata_nothing_requested_is_refused():
    from sklearn import config_context

    with config_context(enable_metadata_routing=True):
        with pytest.raises(TypeError, match="extra"):
            GradientDescentLogisticRegressionCV(cv=3, max_iter=5).fit(
                X_IRIS, Y_IRIS, sample_weight=np.ones(len(Y_IRIS)), extra=1
            )
    with pytest.raises(ValueError, match="extra"):
        GradientDescentLogisticRegressionCV(cv=3, max_iter=5).fit(
            X_IRIS, Y_IRIS, extra=1
        )
