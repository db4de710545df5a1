"""Choosing C and the learning rate: the CV estimator against scikit-learn's.

Two searches, 5 stratified folds, every library timed at one thread and at
its best thread setting (the faster of one thread and the defaults):

- over 10 values of C: ``GradientDescentLogisticRegressionCV(Cs=10)`` against
  ``LogisticRegressionCV(Cs=10)`` and ``GridSearchCV`` over
  ``GradientDescentLogisticRegression``'s C, on standardized breast_cancer
  and wine, digits / 16 and the cats / 255; the C each chooses;
- over 8 learning rates (1, 2, ..., 128 times 1 / L, plain steps) at C = 1:
  the CV estimator against five single fits at the rate it chose (one per
  training fold) and ``GridSearchCV`` over the same 8 rates.

The timings are interleaved (one run of each contender in turn, ``repeats``
times) and the median kept, so that a slow spell of the machine hits all.
"""

import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
)

from ._common import (
    Result,
    Table,
    Timing,
    cat_data,
    flat_pixels,
    fmt,
    limit_threads,
    quiet_convergence,
    standardized,
    timed,
)

N_CS = 10
N_RATES = 8
THREADS = {"one thread": 1, "default threads": None}


def datasets(config):
    """The search's data sets: scaled as their users scale them."""
    sets = {}
    for name, loader in (("breast_cancer", load_breast_cancer), ("wine", load_wine)):
        sets[f"{name} (standardized)"] = standardized(loader)
    if config.quick:  # a smoke test: two small sets
        return sets
    X, y = load_digits(return_X_y=True)
    sets["digits 10 classes (/16)"] = (X / 16.0, y)
    cats = None if config.quick else cat_data(config)
    if cats is not None:
        sets["cats (/255)"] = (flat_pixels(cats.X_train), cats.y_train)
    return sets


def interleaved(contenders, repeats, threads):
    """Each contender run ``repeats`` times in turn, at ``threads``: the last
    results and a Timing per contender."""
    runs = {name: [] for name in contenders}
    results = {}
    with limit_threads(threads), warnings.catch_warnings():
        # LogisticRegressionCV's legacy attributes will change in 1.10.
        warnings.simplefilter("ignore", FutureWarning)
        for _ in range(repeats):
            for name, function in contenders.items():
                results[name], timing = timed(function, 1)
                runs[name] += timing.runs
    return results, {name: Timing(seconds) for name, seconds in runs.items()}


def _best(timings):
    """Per contender, the faster of its thread settings' medians."""
    names = next(iter(timings.values()))
    return {name: min(t[name].median for t in timings.values()) for name in names}


def search_C(X, y, config):
    """Times and choices of the three searches over C."""
    Cs = np.logspace(-4, 4, N_CS)
    cv = StratifiedKFold(5)
    max_iter = 10_000
    contenders = {
        "ours": lambda: GradientDescentLogisticRegressionCV(
            Cs=Cs, cv=cv, max_iter=max_iter
        ).fit(X, y),
        "LogisticRegressionCV": lambda: LogisticRegressionCV(Cs=Cs, cv=cv).fit(X, y),
        "GridSearchCV(ours)": lambda: GridSearchCV(
            GradientDescentLogisticRegression(max_iter=max_iter), {"C": Cs}, cv=cv
        ).fit(X, y),
    }
    timings = {}
    for label, threads in _threads(config).items():
        fitted, timings[label] = interleaved(contenders, config.repeats, threads)
    chosen = {
        "ours": fitted["ours"].C_,
        "LogisticRegressionCV": float(np.ravel(fitted["LogisticRegressionCV"].C_)[0]),
        "GridSearchCV(ours)": fitted["GridSearchCV(ours)"].best_params_["C"],
    }
    return timings, chosen, fitted["ours"]


def search_rates(X, y, config):
    """Times of the learning-rate grid, five single fits, GridSearchCV."""
    cv = StratifiedKFold(5)
    ours = GradientDescentLogisticRegressionCV(
        learning_rates=N_RATES, Cs=[1.0], cv=cv
    ).fit(X, y)
    step = ours.learning_rate_
    # GridSearchCV's grid: the same multiples of 1 / L, of all the data.
    auto = GradientDescentLogisticRegression(solver="gd", max_iter=1, tol=0).fit(X, y)
    rates = [2.0**i * auto.learning_rate_ for i in range(N_RATES)]
    folds = list(cv.split(X, y))

    def five_single_fits():
        with quiet_convergence():  # reported by the CV's converged_ instead
            _five_single_fits()

    def _five_single_fits():
        for train, _ in folds:
            GradientDescentLogisticRegression(learning_rate=step, solver="gd").fit(
                X[train], y[train]
            )

    contenders = {
        "ours": lambda: GradientDescentLogisticRegressionCV(
            learning_rates=N_RATES, Cs=[1.0], cv=cv
        ).fit(X, y),
        "five single fits": five_single_fits,
        "GridSearchCV(ours)": lambda: _quiet_grid_search(X, y, rates, cv),
    }
    timings = {}
    for label, threads in _threads(config).items():
        _, timings[label] = interleaved(contenders, config.repeats, threads)
    return timings, ours


def _threads(config):
    """The thread settings timed: one thread only in quick mode."""
    return {"one thread": 1} if config.quick else THREADS


def _quiet_grid_search(X, y, rates, cv):
    from sklearn.exceptions import ConvergenceWarning, FitFailedWarning

    with warnings.catch_warnings():
        for category in (ConvergenceWarning, FitFailedWarning, UserWarning):
            warnings.simplefilter("ignore", category)
        return GridSearchCV(
            GradientDescentLogisticRegression(solver="gd"),
            {"learning_rate": rates},
            cv=cv,
        ).fit(X, y)


def run(config):
    result = Result(
        name="cv_search",
        title="Choosing C and the learning rate: the CV estimator against "
        "LogisticRegressionCV and GridSearchCV",
    )
    table = Table(
        title=f"Over {N_CS} values of C, 5 folds: seconds (median of "
        f"{config.repeats}), ours / LogisticRegressionCV",
        columns=["data", "threads", "ours", "LogisticRegressionCV", "ratio",
                 "GridSearchCV(ours)", "C ours", "C LogisticRegressionCV"],
        note="'best' is each library's faster median of one thread and the "
        "default threads. Ours: GradientDescentLogisticRegressionCV(Cs=10, "
        "max_iter=10_000), the defaults otherwise; GridSearchCV over "
        "GradientDescentLogisticRegression(max_iter=10_000)'s C.",
    )  # fmt: skip
    sets = datasets(config)
    for name, (X, y) in sets.items():
        timings, chosen, ours = search_C(X, y, config)
        rows = {**timings, "best": None}
        for label, timing in rows.items():
            medians = (
                _best(timings)
                if timing is None
                else {key: value.median for key, value in timing.items()}
            )
            ratio = medians["ours"] / medians["LogisticRegressionCV"]
            table.rows.append([
                name, label, fmt(medians["ours"], 3),
                fmt(medians["LogisticRegressionCV"], 3), f"{ratio:.2f}",
                fmt(medians["GridSearchCV(ours)"], 3), fmt(chosen["ours"], 4),
                fmt(chosen["LogisticRegressionCV"], 4),
            ])  # fmt: skip
        best = _best(timings)
        one = {key: value.median for key, value in timings["one thread"].items()}
        result.headline.append(
            f"{name}: over {N_CS} Cs, ours / LogisticRegressionCV "
            f"{one['ours'] / one['LogisticRegressionCV']:.2f} at one thread, "
            f"{best['ours'] / best['LogisticRegressionCV']:.2f} at "
            f"each one's best; C {chosen['ours']:.4g} (LogisticRegressionCV "
            f"{chosen['LogisticRegressionCV']:.4g}); GridSearchCV(ours) / ours "
            f"{best['GridSearchCV(ours)'] / best['ours']:.2f}; "
            f"{'all' if ours.converged_.all() else 'not all'} fold models converged."
        )
        result.raw[name] = {
            "timings": {t: {k: v.as_dict() for k, v in timing.items()}
                        for t, timing in timings.items()},
            "chosen": chosen,
            "iterations": int(ours.n_iters_.sum()),
        }  # fmt: skip
    result.tables.append(table)
    rates_table = Table(
        title=f"Over {N_RATES} learning rates at C = 1, 5 folds: seconds (median "
        f"of {config.repeats})",
        columns=["data", "threads", "ours", "five single fits", "ours / five",
                 "GridSearchCV(ours)", "GridSearchCV / ours", "chosen rate"],
        note="Five single fits: GradientDescentLogisticRegression(solver='gd') at "
        "the chosen rate on each training fold. GridSearchCV: the same 8 "
        "multiples of 1 / L (of all the data), plain steps.",
    )  # fmt: skip
    for name in ("breast_cancer (standardized)", "digits 10 classes (/16)"):
        if name not in sets:
            continue
        X, y = sets[name]
        timings, ours = search_rates(X, y, config)
        for label, timing in timings.items():
            medians = {key: value.median for key, value in timing.items()}
            rates_table.rows.append([
                name, label, fmt(medians["ours"], 3),
                fmt(medians["five single fits"], 3),
                f"{medians['ours'] / medians['five single fits']:.2f}",
                fmt(medians["GridSearchCV(ours)"], 3),
                f"{medians['GridSearchCV(ours)'] / medians['ours']:.2f}",
                ours.learning_rates_[ours.best_index_[1]],
            ])  # fmt: skip
        one = {key: value.median for key, value in timings["one thread"].items()}
        result.headline.append(
            f"{name}: {N_RATES} learning rates x 5 folds cost "
            f"{one['ours'] / one['five single fits']:.2f}x five single fits at the "
            f"chosen rate ({ours.learning_rates_[ours.best_index_[1]]}); "
            f"GridSearchCV over the same rates "
            f"{one['GridSearchCV(ours)'] / one['ours']:.2f}x slower (one thread)."
        )
        result.raw[f"rates: {name}"] = {
            t: {k: v.as_dict() for k, v in timing.items()}
            for t, timing in timings.items()
        }
    result.tables.append(rates_table)
    return result
