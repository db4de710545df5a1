"""Faster to the answer: time to lbfgs's objective, and the learning-rate CV.

1. For each solver of the package (plain, Nesterov, each with and without the
   line search; learning_rate="auto"), the time to bring the objective within
   1e-6 (relative) of the value lbfgs ends at, over lbfgs's own fit time. The
   iterations needed come from ``loss_curve_`` (the objective entering each
   update); the time is then that of a fit stopped after exactly as many.
2. GradientDescentLogisticRegressionCV with 8 learning rates x 5 folds, against
   5 plain fits (one per fold, at the chosen rate) and against GridSearchCV
   over the same 8 rates (both on one process).
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
    logistic_objective,
)

from ._common import (
    Result,
    Table,
    cat_data,
    flat_pixels,
    fmt,
    quiet_convergence,
    timed,
    timed_fairly,
)

RELATIVE_GAP = 1e-6
LONG_FIT_SECONDS = 30
SOLVERS = {
    "bb (default)": {"solver": "bb"},
    "gd": {"solver": "gd"},
    "gd + line search": {"solver": "gd", "line_search": True},
    "nesterov": {"solver": "nesterov"},
    "nesterov + line search": {"solver": "nesterov", "line_search": True},
}


def problems(config):
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer (standardized)", StandardScaler().fit_transform(X), y
    if config.quick:
        return
    digits = load_digits()
    yield "digits 10 classes (/16)", digits.data / 16, digits.target
    cats = cat_data(config)
    if cats is not None:
        yield "cats (/255)", flat_pixels(cats.X_train), cats.y_train
    n = 20_000 if config.quick else 1_000_000
    X, y = make_classification(
        n_samples=n, n_features=100, n_informative=20, random_state=0
    )
    yield f"synthetic {n:,} × 100", StandardScaler().fit_transform(X), y


def run(config):
    result = Result(
        name="solvers",
        title="Faster to the answer: time to lbfgs's objective, and the CV estimator",
    )
    max_iter = 2_000 if config.quick else 100_000
    table = Table(
        title="Time to reach lbfgs's final objective within 1e-6 (relative), "
        "over lbfgs's fit time",
        columns=["data", "solver", "iterations", "seconds", "÷ lbfgs time"],
        note="lbfgs: LogisticRegression(C=1) with its defaults, timed with the default "
        "threads and with one BLAS thread, the faster kept; seconds are medians "
        f"(a single run for fits over {LONG_FIT_SECONDS} s); 'not reached' means not "
        f"within the iteration cap of {max_iter:,}.",
    )
    for name, X, y in problems(config):
        with quiet_convergence():
            lbfgs, lbfgs_time = timed_fairly(
                lambda X=X, y=y: LogisticRegression(max_iter=1000).fit(X, y),
                config.repeats,
            )
            target = logistic_objective(lbfgs, X, y) * (1 + RELATIVE_GAP)
            table.rows.append([name, "lbfgs", int(np.max(lbfgs.n_iter_)),
                               str(lbfgs_time), "1"])  # fmt: skip
            best = None
            raw = {"lbfgs_seconds": lbfgs_time.as_dict(), "target": target}
            for label, options in SOLVERS.items():
                probe = GradientDescentLogisticRegression(
                    tol=0, max_iter=max_iter, **options
                )
                start = time.perf_counter()
                reached = _iterations_to(probe, X, y, target)
                probe_seconds = time.perf_counter() - start
                if reached is None:
                    table.rows.append([name, label, "not reached", "–", "–"])
                    raw[label] = None
                    continue
                model = GradientDescentLogisticRegression(
                    tol=0, max_iter=reached, **options
                )
                # A fit that takes over half a minute is timed once.
                estimate = probe_seconds * reached / max(len(probe.loss_curve_), 1)
                repeats = 1 if estimate > LONG_FIT_SECONDS else config.repeats
                _, seconds = timed(lambda m=model, X=X, y=y: m.fit(X, y), repeats)
                ratio = seconds.median / lbfgs_time.median
                raw[label] = {"iterations": reached, "seconds": seconds.as_dict(),
                              "ratio": ratio}  # fmt: skip
                table.rows.append([name, label, reached, str(seconds), fmt(ratio, 3)])
                if best is None or ratio < best[1]:
                    best = (label, ratio)
        result.raw[name] = raw
        if best:
            result.headline.append(
                f"{name}: {best[0]} reaches lbfgs's objective in {best[1]:.2f}× "
                "lbfgs's fit time (goal ≤ 1)."
            )
    result.tables.append(table)
    _cross_validation(config, result)
    return result


class _StopAtTarget:
    """A scikit-learn fit callback that stops the descent once J <= target."""

    def __init__(self, target):
        self.target = target

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        curve = getattr(fitted_estimator, "loss_curve_", None)
        return curve is not None and len(curve) > 0 and curve[-1] <= self.target


def _iterations_to(model, X, y, target):
    """Updates after which the objective is within the target, or None."""
    if hasattr(model, "set_callbacks"):  # stop the probe there (scikit-learn 1.9+)
        model.set_callbacks(_StopAtTarget(target))
    try:
        curve = model.fit(X, y).loss_curve_
    except ValueError:  # diverged
        return None
    below = np.flatnonzero(curve <= target)
    if below.size:
        return int(below[0])
    final = logistic_objective(model, X, y)
    return len(curve) if final <= target else None


def _cross_validation(config, result):
    table = Table(
        title="GradientDescentLogisticRegressionCV: 8 learning rates × 5 folds",
        columns=[
            "data",
            "CV estimator (s)",
            "5 plain fits (s)",
            "GridSearchCV (s)",
            "CV ÷ plain",
            "GridSearchCV ÷ CV",
            "chosen rate (CV / GridSearchCV)",
        ],  # fmt: skip
        note="One process each (GridSearchCV n_jobs=1); max_iter 1000, tol 1e-4; "
        "the rates are 1, 2, 4, ..., 128 times the 'auto' step of all the data; "
        "plain fits use the chosen rate on each fold's training rows. Medians.",
    )
    X_bc, y_bc = load_breast_cancer(return_X_y=True)
    digits = load_digits()
    data = {
        "breast_cancer (standardized)": (StandardScaler().fit_transform(X_bc), y_bc),
        "digits 10 classes (/16)": (digits.data / 16, digits.target),
    }
    cats = cat_data(config)
    if cats is not None:
        data["cats (/255)"] = (flat_pixels(cats.X_train), cats.y_train)
    if config.quick:
        data = dict(list(data.items())[:1])
    repeats = config.repeats
    max_iter = 100 if config.quick else 1000
    for name, (X, y) in data.items():
        with quiet_convergence():
            auto = GradientDescentLogisticRegression(solver="gd", max_iter=1)
            auto = auto.fit(X, y)
        auto = auto.learning_rate_
        rates = [float(auto * 2**i) for i in range(8)]
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        with quiet_convergence(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FitFailedWarning)
            warnings.simplefilter("ignore", UserWarning)  # non-finite scores
            cv_model, cv_time = timed(
                lambda X=X, y=y, rates=rates, folds=folds: (
                    GradientDescentLogisticRegressionCV(
                        learning_rates=rates, cv=folds, max_iter=max_iter
                    ).fit(X, y)
                ),
                repeats,
            )
            chosen = cv_model.learning_rate_

            def plain_fits(X=X, y=y, chosen=chosen, folds=folds):
                for train, _ in folds.split(X, y):
                    GradientDescentLogisticRegression(
                        learning_rate=chosen, max_iter=max_iter
                    ).fit(X[train], y[train])

            _, plain_time = timed(plain_fits, repeats)
            search = GridSearchCV(
                GradientDescentLogisticRegression(max_iter=max_iter),
                {"learning_rate": rates},
                cv=folds,
                n_jobs=1,
            )
            _, search_time = timed(lambda s=search, X=X, y=y: s.fit(X, y), repeats)
        searched = search.best_params_["learning_rate"]
        cv_ratio = cv_time.median / plain_time.median
        search_ratio = search_time.median / cv_time.median
        table.rows.append(
            [
                name, str(cv_time), str(plain_time), str(search_time),
                fmt(cv_ratio, 3), fmt(search_ratio, 3),
                f"{chosen:.4g} / {searched:.4g}",
            ]
        )  # fmt: skip
        result.raw[f"cv {name}"] = {
            "rates": rates,
            "cv_seconds": cv_time.as_dict(),
            "plain_seconds": plain_time.as_dict(),
            "search_seconds": search_time.as_dict(),
            "chosen_cv": chosen,
            "chosen_search": searched,
        }
        result.headline.append(
            f"{name}: the CV estimator takes {cv_ratio:.2f}× five plain fits "
            "(goal ≤ 2) "
            f"and is {search_ratio:.2f}× faster than GridSearchCV (goal ≥ 4); "
            f"same rate chosen: {'yes' if chosen == searched else 'no'}."
        )
    result.tables.append(table)
