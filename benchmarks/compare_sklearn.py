"""Gradient descent against LogisticRegression (lbfgs) and SGDClassifier."""

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression, logistic_objective

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

C = 1.0
MAX_ITER = 5000
RATE_MULTIPLES = (1, 2, 4, 8, 16)
PROBE_ITER = 100
SGD_EPOCHS = 50


def datasets(config):
    """(name, X_train, y_train, X_test, y_test), preprocessed once, untimed."""
    cats = cat_data(config)
    if cats is not None:
        yield (
            "cats (64×64×3, /255)",
            flat_pixels(cats.X_train),
            cats.y_train,
            flat_pixels(cats.X_test),
            cats.y_test,
        )
    X, y = load_breast_cancer(return_X_y=True)
    yield ("breast_cancer (standardized)", *_split(X, y, standardize=True))
    digits = load_digits()
    pixels = digits.data / 16
    yield ("digits odd/even (/16)", *_split(pixels, digits.target % 2))
    yield ("digits 10 classes (/16)", *_split(pixels, digits.target))
    sizes = [1_000, 10_000] if config.quick else [1_000, 10_000, 100_000, 1_000_000]
    for n in sizes:
        X, y = make_classification(
            n_samples=n + n // 3,
            n_features=100,
            n_informative=20,
            random_state=0,
        )
        yield (f"synthetic {n:,} × 100", *_split(X, y, standardize=True, test=n // 3))


def _split(X, y, *, standardize=False, test=0.25):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test, random_state=0, stratify=y
    )
    if standardize:
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return X_train, y_train, X_test, y_test


def good_fixed_rate(X, y, probe_iter):
    """The multiple of the "auto" step with the lowest objective after a probe.

    A cheap stand-in for a tuned fixed learning rate, chosen among 1, 2, 4, 8
    and 16 times the "auto" step; its cost is not part of the timings.
    """
    auto = GradientDescentLogisticRegression(C=C, max_iter=1, tol=0).fit(X, y)
    best_rate, best_value = None, np.inf
    for multiple in RATE_MULTIPLES:
        rate = multiple * auto.learning_rate_
        model = GradientDescentLogisticRegression(
            learning_rate=rate, C=C, max_iter=probe_iter, tol=0
        )
        try:
            value = logistic_objective(model.fit(X, y), X, y)
        except ValueError:  # diverged
            continue
        if value < best_value:
            best_rate, best_value = rate, value
    return best_rate


def contenders(X, y, quick):
    max_iter = 300 if quick else MAX_ITER
    rate = good_fixed_rate(X, y, 20 if quick else PROBE_ITER)
    return {
        "GD auto": GradientDescentLogisticRegression(C=C, max_iter=max_iter),
        "GD fixed": GradientDescentLogisticRegression(
            learning_rate=rate, C=C, max_iter=max_iter
        ),
        "lbfgs": LogisticRegression(C=C, max_iter=1000),
        # The same objective needs alpha = 1 / (C n): tiny for large n, where SGD's
        # default schedule crawls; its epochs are capped at SGD_EPOCHS.
        "SGD": SGDClassifier(
            loss="log_loss", alpha=1 / (C * len(y)), max_iter=SGD_EPOCHS, random_state=0
        ),
    }


def run(config):
    result = Result(
        name="compare_sklearn",
        title="Against scikit-learn: LogisticRegression (lbfgs) and SGDClassifier",
    )
    columns = [
        "method", "train acc", "test acc", "test log-loss", "objective gap",
        "iterations", "fit time s, median (min–max)", "time / lbfgs",
    ]  # fmt: skip
    scaling = {}
    for name, X_train, y_train, X_test, y_test in datasets(config):
        with quiet_convergence():
            optimum = LogisticRegression(C=C, tol=1e-10, max_iter=10_000)
            best = logistic_objective(optimum.fit(X_train, y_train), X_train, y_train)
            fitted, timings = {}, {}
            for method, estimator in contenders(X_train, y_train, config.quick).items():
                # lbfgs gets the better of two thread setups (see timed_fairly).
                clock = timed_fairly if method == "lbfgs" else timed
                fitted[method], timings[method] = clock(
                    lambda e=estimator, X=X_train, y=y_train: e.fit(X, y),
                    config.repeats,
                )
        table = Table(
            title=name,
            columns=columns,
            note=f"{len(y_train):,} training rows, {X_train.shape[1]:,} features, "
            f"{len(np.unique(y_train))} classes; lbfgs timed with the default threads "
            "and with one BLAS thread, the faster kept; objective gap = "
            "(J − J*) / J* with "
            f"J* = {best:.6g} from lbfgs at tol 1e-10.",
        )
        raw = {}
        for method, model in fitted.items():
            one_vs_rest = method == "SGD" and len(model.classes_) > 2
            value = (
                None
                if one_vs_rest
                else logistic_objective(model, X_train, y_train, C=C)
            )
            record = {
                "train_accuracy": accuracy_score(y_train, model.predict(X_train)),
                "test_accuracy": accuracy_score(y_test, model.predict(X_test)),
                "test_log_loss": log_loss(
                    y_test, model.predict_proba(X_test), labels=model.classes_
                ),
                "objective": value,
                "objective_gap": None if value is None else (value - best) / best,
                "n_iter": int(np.max(model.n_iter_)),
                "fit_seconds": timings[method].as_dict(),
                "time_ratio_to_lbfgs": timings[method].median / timings["lbfgs"].median,
            }
            raw[method] = record
            if method == "GD fixed":
                record["learning_rate"] = model.learning_rate_
            table.rows.append(
                [
                    f"GD fixed {model.learning_rate_:.3g}"
                    if method == "GD fixed"
                    else method,
                    fmt(record["train_accuracy"]),
                    fmt(record["test_accuracy"]),
                    fmt(record["test_log_loss"]),
                    "one-vs-rest" if one_vs_rest else fmt(record["objective_gap"], 2),
                    record["n_iter"],
                    str(timings[method]),
                    fmt(record["time_ratio_to_lbfgs"], 3),
                ]
            )
        result.tables.append(table)
        result.raw[name] = {"optimum": best, "methods": raw}
        auto = raw["GD auto"]
        result.headline.append(
            f"{name}: GD (auto) takes {auto['time_ratio_to_lbfgs']:.3g}× lbfgs's fit "
            f"time, {auto['n_iter']} iterations, objective gap "
            f"{auto['objective_gap']:.2g}."
        )
        if name.startswith("synthetic"):
            scaling[len(y_train)] = {m: timings[m].median for m in timings}
    result.raw["synthetic_fit_seconds"] = scaling
    _plot_scaling(scaling, config, result)
    return result


def _plot_scaling(scaling, config, result):
    """Fit time against n on the synthetic data, one line per method."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sizes = sorted(scaling)
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for method in scaling[sizes[0]]:
        axes.loglog(sizes, [scaling[n][method] for n in sizes], "o-", label=method)
    axes.set_xlabel("training rows (100 features)")
    axes.set_ylabel("fit time, s (median)")
    axes.set_title("Fit time against data size")
    axes.grid(alpha=0.3, which="both")
    axes.legend()
    figure.savefig(f"{config.results}/fit_time_vs_n.png", dpi=110)
    result.plots.append({"title": "Fit time against n", "file": "fit_time_vs_n.png"})
