"""GradientDescentLogisticRegressionCV against GridSearchCV and separate fits."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
)
from sklearn_gdlogreg._planner import descend
from sklearn_gdlogreg._problem import TrainingProblem
from sklearn_gdlogreg._solvers.race import FACTOR, GRACE, HALVING_START

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
    # Where the path's models converged, they score as GridSearchCV's fits
    # from zero (the rates outpaced in the race stopped short).
    converged = cv_model.converged_
    assert converged.any()
    np.testing.assert_allclose(cv_model.scores_[converged], split_scores[converged])
    if len(Cs) == 1:  # from zero, as GridSearchCV's: all but the outpaced
        ran = _ran_to_the_end(cv_model, kwargs["max_iter"])
        np.testing.assert_allclose(cv_model.scores_[ran], split_scores[ran])
    # The choice: GridSearchCV's C, and a rate of its best score, among the
    # combinations converged in every fold.
    # (If none converged everywhere, the best of those that ran to max_iter
    # everywhere, with a warning.)
    everywhere = converged.all(axis=0)
    if not everywhere.any():
        everywhere = _ran_to_the_end(cv_model, kwargs["max_iter"]).all(axis=0)
    mean = np.where(everywhere, split_scores.mean(axis=0), -np.inf)
    best_c, best_r = np.unravel_index(np.argmax(mean), mean.shape)
    chosen = RATES.index(cv_model.learning_rate_)
    assert cv_model.C_ == Cs[best_c]
    assert mean[best_c, chosen] == mean[best_c, best_r]
    # Ties go to the rate with the fewest iterations over the folds.
    tied = mean[best_c] == mean[best_c, best_r]
    iterations = cv_model.n_iters_[:, best_c].sum(axis=0)
    assert iterations[chosen] == iterations[tied].min()


def test_each_model_equals_its_separate_descent_until_it_converges_or_is_outpaced():
    model = GradientDescentLogisticRegressionCV(
        learning_rates=RATES, Cs=[1.0], cv=CV, max_iter=400, tol=1e-3
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
        n_iter = model.n_iters_[0, 0, r]
        np.testing.assert_allclose(
            model.loss_curves_[0, 0, r], alone.loss_curves[0][:n_iter], rtol=1e-12
        )
        if model.converged_[0, 0, r]:
            assert n_iter == alone.n_iter[0]
        else:  # outpaced: at a halving, at twice the fastest's (and ten), or
            # when a rate had converged in every fold
            fastest = model.n_iters_[0, 0][model.converged_[0, 0]].min()
            halvings = HALVING_START * 2 ** np.arange(10)
            everywhere = model.converged_[:, 0].all(axis=0)
            decided = model.n_iters_[:, 0, everywhere].max(axis=0).min()
            assert (
                n_iter in halvings
                or n_iter == FACTOR * fastest + GRACE
                or n_iter == decided
            )
            assert n_iter < alone.n_iter[0]
    assert not model.converged_[0, 0].all()  # the race stopped some


def test_diverging_rates_score_nan_and_are_not_chosen():
    X, y = load_breast_cancer(return_X_y=True)  # unscaled: large rates diverge
    model = GradientDescentLogisticRegressionCV(
        learning_rates=[1e-7, 1e-6, 1e-3, 1.0], Cs=[1.0], cv=3, max_iter=200
    )
    with pytest.warns(Warning):
        model.fit(X, y)
    # Stopped as diverging (NaN), or first outpaced in the race: never chosen.
    assert not model.converged_[:, 0, 2:].any()
    assert (model.n_iters_[:, 0, 2:] < 200).all()
    assert not np.any(np.isnan(model.scores_[:, 0, :2]))
    assert model.learning_rate_ in (1e-7, 1e-6)


def test_all_diverging_is_an_error():
    X, y = load_breast_cancer(return_X_y=True)
    model = GradientDescentLogisticRegressionCV(learning_rates=[1.0, 10.0], cv=3)
    with pytest.raises(ValueError, match="Every learning rate diverged"):
        model.fit(X, y)


def test_integer_grid_is_auto_multiples():
    model = GradientDescentLogisticRegressionCV(
        learning_rates=4, Cs=[1.0], cv=3, max_iter=50
    )
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
        learning_rates=[0.3], Cs=[1.0], cv=CV, refit=False, max_iter=100, tol=0
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
    model = GradientDescentLogisticRegressionCV(
        learning_rates=8, Cs=[1.0], cv=3, max_iter=1500
    )
    with warnings.catch_warnings():
        # The refit of the chosen rate converges: no warning.
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    # Some rates of the grid neither converged nor diverged (they cycle, or
    # were outpaced)...
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
        learning_rates=[cycling, good], Cs=[1.0], cv=5, max_iter=1000
    ).fit(X, y)
    # Stopped by the race (or the stall window, 100 iterations), far before
    # max_iter, and not chosen.
    assert (model.n_iters_[:, 0, 0] < 500).all()
    assert not model.converged_[:, 0, 0].any()
    assert model.converged_[:, 0, 1].all()
    assert model.learning_rate_ == good


def test_a_model_flat_within_rounding_is_not_taken_for_cycling():
    # tol far below what float64 reaches: the objectives flatten out, and the
    # models must run to max_iter and score, not stop as cycling.
    X, y, auto = _breast_cancer_and_auto_step()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GradientDescentLogisticRegressionCV(
            learning_rates=[4 * auto], Cs=[1.0], cv=3, max_iter=2500, tol=1e-30
        ).fit(X[:, :5], y)
    assert (model.n_iters_ == 2500).all()
    assert np.isfinite(model.scores_).all()


def _ran_to_the_end(model, max_iter):
    """The models that converged or ran ``max_iter``: not outpaced, nor
    stopped as diverging."""
    return model.converged_ | (model.n_iters_ == max_iter)


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
            learning_rates=RATES, Cs=[1.0], cv=GroupKFold(3), scoring=scorer, **kwargs
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
    ran = _ran_to_the_end(cv_model, kwargs["max_iter"])
    assert ran.any()
    np.testing.assert_allclose(
        cv_model.scores_[ran], _split_scores(search, 3, (1, len(RATES)))[ran]
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
            learning_rates=RATES[2:3], Cs=[1.0], cv=CV, max_iter=150
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


def _standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("loader", [load_breast_cancer, load_wine])
def test_the_defaults_choose_C_as_logistic_regression_cv(loader):
    from sklearn.linear_model import LogisticRegressionCV

    X, y = _standardized(loader)
    model = GradientDescentLogisticRegressionCV().fit(X, y)  # no warning either
    reference = LogisticRegressionCV(
        Cs=10, l1_ratios=(0,), use_legacy_attributes=False, scoring="accuracy"
    ).fit(X, y)
    assert model.scores_.shape == (5, 10, 1) and model.converged_.all()
    assert model.C_ == pytest.approx(float(np.ravel(reference.C_)[0]))
    np.testing.assert_allclose(model.Cs_, reference.Cs_)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classes_missing_from_training_folds_choose_as_logistic_regression_cv(
    n_classes,
):
    # scikit-learn's test_logistic_cv_folds_with_classes_missing: each training
    # fold lacks a class, whose intercept has no finite optimum.
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import KFold

    y = np.array(["a", "a", "b", "b", "c", "c"])[: 2 * n_classes]
    X = np.arange(2 * n_classes, dtype=float)[:, None]
    kwargs = {"cv": KFold(n_classes), "scoring": "neg_brier_score"}
    Cs = np.logspace(-6, 6, 5)
    model = GradientDescentLogisticRegressionCV(Cs=Cs, **kwargs).fit(X, y)
    reference = LogisticRegressionCV(
        Cs=Cs, l1_ratios=(0,), use_legacy_attributes=False, **kwargs
    ).fit(X, y)
    assert model.converged_.all()  # and no ConvergenceWarning
    assert model.C_ == float(np.ravel(reference.C_)[0]) == 1e-6


@pytest.mark.parametrize("solver", ["nesterov", "gd"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classes_missing_with_preconditioned_nesterov_or_plain_steps(solver, n_classes):
    # The missing class's intercept goes to infinity, at steps of 1 / L, where
    # L holds the penalty 1 / (C S) (5e5 at C=1e-6): unpreconditioned,
    # Nesterov's steps do not converge at the small Cs in 1000 iterations, and
    # the search chooses among the Cs converged in every fold (C=1, not
    # LogisticRegressionCV's); in D's metric the intercept moves at its own
    # scale. Nesterov's steps then converge in every fold; plain steps
    # approach an optimum at infinity too slowly (sublinearly) to, but
    # choose as LogisticRegressionCV, with a warning.
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import KFold

    y = np.array(["a", "a", "b", "b", "c", "c"])[: 2 * n_classes]
    X = np.arange(2 * n_classes, dtype=float)[:, None]
    kwargs = {"cv": KFold(n_classes), "scoring": "neg_brier_score"}
    Cs = np.logspace(-6, 6, 5)
    model = GradientDescentLogisticRegressionCV(
        Cs=Cs, solver=solver, precondition=True, **kwargs
    )
    if solver == "gd":
        with pytest.warns(ConvergenceWarning, match="No combination"):
            model.fit(X, y)
    else:
        model.fit(X, y)
        assert model.converged_.all()
    reference = LogisticRegressionCV(
        Cs=Cs, l1_ratios=(0,), use_legacy_attributes=False, **kwargs
    ).fit(X, y)
    assert model.C_ == float(np.ravel(reference.C_)[0]) == 1e-6


@pytest.mark.parametrize(
    "learning_rates, solver, precondition, expected",
    [
        (("auto",), "auto", "auto", True),  # the default: spectral steps
        (("auto",), "bb", "auto", True),
        (("auto",), "nesterov", "auto", False),
        (4, "auto", "auto", False),  # a grid of steps, in the coefficients
        (4, "bb", "auto", False),
        ([0.1, "auto"], "gd", True, True),
        (("auto",), "auto", False, False),
    ],
)
def test_the_folds_are_preconditioned_by_a_single_fit_s_rule(
    learning_rates, solver, precondition, expected, monkeypatch
):
    # The search's folds, and the refit alike (its step is in their metric).
    from sklearn_gdlogreg import _logistic, _logistic_cv, _planner

    asked, refit = [], []

    def recorded(*args, **kwargs):
        asked.append(kwargs["precondition"])
        return _planner.descend_path(*args, **kwargs)

    def planned(*args, **kwargs):
        refit.append(kwargs["precondition"])
        return _planner.plan(*args, **kwargs)

    monkeypatch.setattr(_logistic_cv, "descend_path", recorded)
    monkeypatch.setattr(_logistic, "plan", planned)
    GradientDescentLogisticRegressionCV(
        learning_rates=learning_rates,
        Cs=[1.0],
        cv=CV,
        solver=solver,
        precondition=precondition,
        max_iter=2000,
    ).fit(X_IRIS, Y_IRIS)
    assert asked == refit == [expected]


def test_the_race_chooses_a_rate_converged_everywhere_and_the_refit_converges_on_wine():
    X, y = _standardized(load_wine)
    # No ConvergenceWarning, from the search or the refit (the configuration
    # makes it an error).
    model = GradientDescentLogisticRegressionCV(learning_rates=8, Cs=[1.0]).fit(X, y)
    c, r = model.best_index_
    assert model.converged_[:, c, r].all()
    auto = GradientDescentLogisticRegression(solver="gd", max_iter=1, tol=0).fit(X, y)
    assert model.learning_rate_ == pytest.approx(2**r * auto.learning_rate_)
    assert model.n_iter_[0] < model.max_iter


def test_ties_in_score_go_to_the_rate_with_the_fewest_iterations():
    model = GradientDescentLogisticRegressionCV(Cs=[0.1, 1.0])
    model.scores_ = np.array([[[0.8, 0.9, 0.9, 0.9]], [[0.8, 0.9, 0.9, 0.9]]])
    model.scores_ = np.concatenate([model.scores_, model.scores_], axis=1)
    model.converged_ = np.ones(model.scores_.shape, dtype=bool)
    model.n_iters_ = np.tile([50, 400, 90, 120], (2, 2, 1))
    # The first C of the best score, as LogisticRegressionCV; then the fastest.
    assert model._best_combination() == (0, 2)
