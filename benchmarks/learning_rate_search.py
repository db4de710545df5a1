"""Choosing the learning rate: GridSearchCV, and the course's own comparison."""

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg.plotting import plot_cost_curves

from ._common import Result, Table, cat_data, flat_pixels, fmt, quiet_convergence

PARAM = "gradientdescentlogisticregression__learning_rate"
COURSE_RATES = (0.01, 0.001, 0.0001)


def run(config):
    result = Result(
        name="learning_rate_search",
        title="Learning rate: GridSearchCV over a log grid, and the course's rates",
    )
    rates = list(np.logspace(-4, 1, 3 if config.quick else 11))
    X_bc, y_bc = load_breast_cancer(return_X_y=True)
    digits = load_digits()
    problems = {
        "breast_cancer": (X_bc, y_bc),
        "digits 10 classes": (digits.data, digits.target),
    }
    curves = {}
    for name, (X, y) in problems.items():
        search = GridSearchCV(
            make_pipeline(
                StandardScaler(),
                GradientDescentLogisticRegression(
                    max_iter=200 if config.quick else 1000
                ),
            ),
            {PARAM: [*rates, "auto"]},
            cv=3 if config.quick else 5,
            n_jobs=2,
        )
        with quiet_convergence(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FitFailedWarning)
            warnings.simplefilter("ignore", UserWarning)  # "some fits failed"
            start = time.perf_counter()
            search.fit(X, y)
            wall = time.perf_counter() - start
        scores = search.cv_results_["mean_test_score"]
        spreads = search.cv_results_["std_test_score"]
        best = search.best_params_[PARAM]
        table = Table(
            title=f"GridSearchCV on {name}: StandardScaler + GD, "
            f"{search.n_splits_}-fold, max_iter {search.estimator[-1].max_iter}",
            columns=["learning rate", "mean CV accuracy", "std"],
            note=f"Wall time {wall:.3g} s for {len(scores) * search.n_splits_} fits "
            "on 2 processes; – marks a rate that diverged (the estimator raised).",
        )
        for rate, score, spread in zip([*rates, "auto"], scores, spreads, strict=True):
            label = rate if rate == "auto" else f"{rate:.3g}"
            table.rows.append([label, fmt(score), fmt(spread, 2)])
        result.tables.append(table)
        curves[name] = (scores[:-1], spreads[:-1], scores[-1])
        best_label = best if best == "auto" else f"{best:.3g}"
        result.headline.append(
            f"{name}: best learning rate {best_label} (CV accuracy "
            f"{search.best_score_:.4f}), 'auto' scores {scores[-1]:.4f}; "
            f"{int(np.isnan(scores).sum())} of {len(scores)} rates diverged; "
            f"search wall time {wall:.3g} s."
        )
        result.raw[name] = {
            "rates": [*rates, "auto"],
            "mean_test_score": [None if np.isnan(s) else s for s in scores],
            "std_test_score": [None if np.isnan(s) else s for s in spreads],
            "best": best,
            "wall_seconds": wall,
        }
    _plot_scores(rates, curves, config, result)
    _course_rates(config, result)
    return result


def _plot_scores(rates, curves, config, result):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for index, (name, (scores, spreads, auto)) in enumerate(curves.items()):
        colour = f"C{index}"
        axes.errorbar(rates, scores, yerr=spreads, fmt="o-", color=colour, label=name)
        axes.axhline(auto, color=colour, linestyle="--", alpha=0.6,
                     label=f"{name}: 'auto'")  # fmt: skip
    axes.set_xscale("log")
    axes.set_xlabel("learning rate")
    axes.set_ylabel("mean CV accuracy")
    axes.set_title("CV accuracy against the learning rate (gaps: diverged)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.savefig(f"{config.results}/cv_score_vs_learning_rate.png", dpi=110)
    result.plots.append(
        {
            "title": "CV accuracy against the learning rate",
            "file": "cv_score_vs_learning_rate.png",
        }
    )


def _course_rates(config, result):
    """The course's closing comparison: three rates, 1500 iterations, on the cats."""
    cats = cat_data(config)
    if cats is None:
        result.headline.append("The course's rates: skipped, the cat data is absent.")
        return
    X_train, X_test = flat_pixels(cats.X_train), flat_pixels(cats.X_test)
    table = Table(
        title="The course's learning rates on the cats (1500 iterations, no penalty)",
        columns=["learning rate", "train accuracy", "test accuracy", "final cost"],
        note="The course reports 99.52/68, 88.99/64 and 68.42/36 (% train/test).",
    )
    curves = {}
    for rate in COURSE_RATES:
        model = GradientDescentLogisticRegression(
            learning_rate=rate, max_iter=150 if config.quick else 1500, tol=0, C=np.inf
        ).fit(X_train, cats.y_train)
        curves[f"learning rate {rate:g}"] = model.loss_curve_
        train, test = (
            model.score(X_train, cats.y_train),
            model.score(X_test, cats.y_test),
        )
        table.rows.append(
            [f"{rate:g}", fmt(100 * train), fmt(100 * test), fmt(model.loss_curve_[-1])]
        )
        result.raw[f"course rate {rate:g}"] = {
            "train_accuracy": train,
            "test_accuracy": test,
            "loss_curve_every_100": model.loss_curve_[::100].tolist(),
        }
    result.tables.append(table)
    plot_cost_curves(
        curves,
        f"{config.results}/course_learning_rates.png",
        title="The course's learning rates on the cat images",
    )
    result.plots.append(
        {
            "title": "Cost curves at the course's learning rates",
            "file": "course_learning_rates.png",
        }
    )
