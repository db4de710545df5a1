"""Speed to the answer: defaults, per-iteration overhead, time to 1e-6 vs lbfgs.

1. ``GradientDescentLogisticRegression()`` with no arguments on standardized or
   scaled data sets: warning or not, iterations, objective gap to lbfgs's
   optimum of the same objective, fit time over ``LogisticRegression()``'s.
2. One iteration of plain ``solver="gd"`` at a fixed rate over one iteration
   of a minimal NumPy loop doing the same work (forward pass, stable cost,
   gradient with the L2 term, update).
3. Time to bring the objective within 1e-6 (relative) of the optimum, per
   solver, over lbfgs's time to do the same; everything on one thread, then
   everything at its default threads. The iterations each needs come from a
   long run (``loss_curve_`` for ours; a sweep of ``max_iter`` with a tiny
   ``tol`` for lbfgs); the time is that of a fit stopped after exactly as many.
"""

import time
import warnings

import numpy as np
import threadpoolctl
from scipy.special import expit
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression, logistic_objective

from . import preconditioning
from ._common import (
    Result,
    Table,
    cat_data,
    flat_pixels,
    fmt,
    limit_threads,
    quiet_convergence,
    standardized,
    timed,
)

RELATIVE_GAP = 1e-6
DEFAULT = "default (spectral, preconditioned where it pays)"
SOLVERS = {
    DEFAULT: {},
    "spectral, no preconditioner": {"solver": "bb", "precondition": False},
    "nesterov + line search": {"solver": "nesterov", "line_search": True},
}


def default_sets(config):
    yield "breast_cancer (standardized)", *standardized(load_breast_cancer)
    yield "iris (standardized)", *standardized(load_iris)
    yield "wine (standardized)", *standardized(load_wine)
    digits = load_digits()
    yield "digits/16 odd vs even", digits.data / 16, digits.target % 2
    yield "digits/16 10 classes", digits.data / 16, digits.target
    cats = None if config.quick else cat_data(config)
    if cats is not None:
        yield "cats/255", flat_pixels(cats.X_train), cats.y_train


def hard_sets(config):
    """Data, labels and options for the time-to-1e-6 comparison: scaled data
    with an intercept, benchopt's ``benchmark_logreg_l2`` problems (no
    intercept, lambda in {1, 0.01}) and raw features with an intercept, as the
    preconditioning study has them."""
    yield "breast_cancer (standardized)", *standardized(load_breast_cancer), {}
    if config.quick:
        return
    digits = load_digits()
    yield "digits/16 odd vs even", digits.data / 16, digits.target % 2, {}
    yield "digits/16 10 classes", digits.data / 16, digits.target, {}
    cats = cat_data(config)
    if cats is not None:
        yield "cats/255", flat_pixels(cats.X_train), cats.y_train, {}
    X, y = make_classification(
        n_samples=1_000_000, n_features=100, n_informative=20, random_state=0
    )
    yield "synthetic 10⁶×100 (standardized)", StandardScaler().fit_transform(X), y, {}
    for name, X, y, C, fit_intercept, _ in preconditioning.problems(config):
        if "make_classification" in name or "/16" in name or "/255" in name:
            continue  # scaled data is above; benchopt's simulated sets stand in
        if "standardized" in name:
            continue
        yield name, X, y, {"C": C, "fit_intercept": fit_intercept}


def _median_seconds(function, repeats):
    """Median seconds of ``repeats`` runs of ``function()`` (``_common.timed``)."""
    return timed(function, repeats)[1].median


def _lbfgs(options, **more):
    return LogisticRegression(
        C=options.get("C", 1.0),
        fit_intercept=options.get("fit_intercept", True),
        **more,
    )


def run_defaults(config, result):
    table = Table(
        title="Defaults: GradientDescentLogisticRegression() with no arguments",
        columns=["data", "warning", "iterations", "objective gap",
                 "÷ lbfgs time, default threads", "÷ lbfgs time, one thread"],
        note="objective gap: (J - J*) / J* with J* from lbfgs at tol=1e-12; time "
        "over LogisticRegression()'s, both at default threads, then both on one "
        "thread (threadpoolctl; the kernel one thread); medians.",
    )  # fmt: skip
    for name, X, y in default_sets(config):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = GradientDescentLogisticRegression().fit(X, y)
        warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        best = logistic_objective(
            _lbfgs({}, tol=1e-12, max_iter=100_000).fit(X, y), X, y
        )
        gap = (logistic_objective(model, X, y) - best) / best
        ratios = []
        for limit in (None, 1):
            with limit_threads(limit), quiet_convergence():
                ours = _median_seconds(
                    lambda X=X, y=y: GradientDescentLogisticRegression().fit(X, y),
                    config.repeats,
                )
                theirs = _median_seconds(
                    lambda X=X, y=y: LogisticRegression().fit(X, y), config.repeats
                )
            ratios.append(ours / theirs)
        table.rows.append(
            [name, "yes" if warned else "no", int(model.n_iter_[0]), fmt(gap, 3),
             fmt(ratios[0], 3), fmt(ratios[1], 3)]
        )  # fmt: skip
        result.raw.setdefault("defaults", {})[name] = {
            "warned": warned, "n_iter": int(model.n_iter_[0]), "gap": gap,
            "ratio_default_threads": ratios[0], "ratio_one_thread": ratios[1],
        }  # fmt: skip
    result.tables.append(table)


def minimal_loop(X, y, learning_rate, n_iter, C=1.0):
    """Plain gradient descent in a few lines of NumPy: the overhead-free floor."""
    n, p = X.shape
    classes = np.unique(y)
    lam = 1 / (C * n)
    if len(classes) == 2:
        w, b, t = np.zeros(p), 0.0, (y == classes[1]).astype(X.dtype)
        for _ in range(n_iter):
            z = X @ w + b
            cost = np.mean(np.logaddexp(0, z) - t * z) + 0.5 * lam * (w @ w)
            r = (expit(z) - t) / n
            w -= learning_rate * (X.T @ r + lam * w)
            b -= learning_rate * r.sum()
        return cost
    W, b = np.zeros((p, len(classes))), np.zeros(len(classes))
    Y = np.eye(len(classes))[np.searchsorted(classes, y)]
    for _ in range(n_iter):
        Z = X @ W + b
        Z -= Z.max(axis=1, keepdims=True)
        E = np.exp(Z)
        S = E.sum(axis=1, keepdims=True)
        cost = np.mean(np.log(S[:, 0]) - np.sum(Y * Z, axis=1))
        cost += 0.5 * lam * np.sum(W * W)
        R = (E / S - Y) / n
        W -= learning_rate * (X.T @ R + lam * W)
        b -= learning_rate * R.sum(axis=0)
    return cost


def run_iteration_overhead(config, result):
    table = Table(
        title="Per-iteration cost of plain gd at a fixed rate / a minimal NumPy loop",
        columns=["data", "µs / iteration", "minimal loop µs", "ratio"],
        note="learning_rate=0.1, tol=0, C=1, 2,000 iterations (200 in quick mode), "
        "one thread, medians of interleaved rounds.",
    )
    digits = load_digits()
    sets = [
        ("breast_cancer (standardized)", *standardized(load_breast_cancer)),
        ("digits/16 odd vs even", digits.data / 16, digits.target % 2),
        ("digits/16 10 classes", digits.data / 16, digits.target),
    ]
    n_iter = 200 if config.quick else 2000
    with threadpoolctl.threadpool_limits(1):
        for name, X, y in sets:
            ours, floor = [], []
            model = GradientDescentLogisticRegression(
                solver="gd", learning_rate=0.1, max_iter=n_iter, tol=0
            )
            for _ in range(config.repeats):
                start = time.perf_counter()
                model.fit(X, y)
                ours.append(time.perf_counter() - start)
                start = time.perf_counter()
                minimal_loop(X, y, 0.1, n_iter)
                floor.append(time.perf_counter() - start)
            a, b = np.median(ours) / n_iter, np.median(floor) / n_iter
            table.rows.append([name, fmt(a * 1e6, 3), fmt(b * 1e6, 3), fmt(a / b, 3)])
            result.raw.setdefault("iteration_overhead", {})[name] = {
                "seconds": a,
                "minimal_seconds": b,
                "ratio": a / b,
            }
    result.tables.append(table)


def _lbfgs_iterations_to(X, y, options, target):
    """Fewest lbfgs iterations reaching ``target`` (doubling, then bisection)."""

    def reaches(k):
        model = _lbfgs(options, max_iter=k, tol=1e-14).fit(X, y)
        return logistic_objective(model, X, y) <= target

    high = 1
    while not reaches(high):
        high *= 2
        if high > 100_000:
            return None
    low = high // 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if reaches(middle) else (middle, high)
    return high


def _our_iterations_to(X, y, options, solver, target, max_iter):
    """Fewest iterations whose objective reaches ``target`` (runs of doubling length).

    A run of n iterations is the first n of any longer one, so the answer is
    read off the loss curve of the first run that reaches the target.
    """
    n = 32
    while True:
        model = GradientDescentLogisticRegression(
            tol=0, max_iter=n, **solver, **options
        ).fit(X, y)
        reached = np.flatnonzero(model.loss_curve_ <= target)
        if reached.size:
            return int(reached[0])
        if logistic_objective(model, X, y) <= target:
            return n  # after the last update (not in loss_curve_)
        if n >= max_iter:
            return None
        n = min(2 * n, max_iter)


def run_time_to_answer(config, result):
    max_iter = 2_000 if config.quick else 20_000
    tables = {}
    for threads in ("one thread", "default threads"):
        tables[threads] = Table(
            title=f"Time to 1e-6 relative suboptimality / lbfgs's time, {threads}",
            columns=["data", "solver", "iterations", "seconds", "÷ lbfgs"],
            note="J* from lbfgs at tol=1e-14; each solver's time is that of a fit "
            "stopped after the fewest iterations reaching (1 + 1e-6) J*; lbfgs "
            "(tol=1e-14) likewise. Medians. One thread: threadpoolctl limits "
            "BLAS and OpenMP, the kernel runs one thread.",
        )
    for name, X, y, options in hard_sets(config):
        with quiet_convergence():
            best = logistic_objective(
                _lbfgs(options, tol=1e-14, max_iter=100_000).fit(X, y), X, y
            )
            target = best * (1 + RELATIVE_GAP)
            lbfgs_iter = _lbfgs_iterations_to(X, y, options, target)
            iterations = {
                label: _our_iterations_to(X, y, options, solver, target, max_iter)
                for label, solver in SOLVERS.items()
            }
            repeats = 1 if X.size > 10**7 else config.repeats
            for threads, table in tables.items():
                limit = 1 if threads == "one thread" else None
                with limit_threads(limit):
                    lbfgs = _lbfgs(options, max_iter=lbfgs_iter, tol=1e-14)
                    lbfgs_seconds = _median_seconds(
                        lambda m=lbfgs, X=X, y=y: m.fit(X, y), repeats
                    )
                    table.rows.append(
                        [name, "lbfgs", lbfgs_iter, fmt(lbfgs_seconds, 3), "1"]
                    )
                    raw = result.raw.setdefault("time_to_answer", {}).setdefault(
                        name, {}
                    )
                    raw[threads] = {"lbfgs": [lbfgs_iter, lbfgs_seconds]}
                    for label, solver in SOLVERS.items():
                        n = iterations[label]
                        if n is None:
                            table.rows.append([name, label, "not reached", "–", "–"])
                            continue
                        model = GradientDescentLogisticRegression(
                            tol=0, max_iter=max(n, 1), **solver, **options
                        )
                        seconds = _median_seconds(
                            lambda m=model, X=X, y=y: m.fit(X, y), repeats
                        )
                        ratio = seconds / lbfgs_seconds
                        table.rows.append(
                            [name, label, n, fmt(seconds, 3), fmt(ratio, 3)]
                        )
                        raw[threads][label] = [n, seconds, ratio]
    result.tables.extend(tables.values())
    records = result.raw.get("time_to_answer", {})
    groups = {
        "all sets": lambda name: True,
        "benchopt's logreg_l2 problems (no intercept, λ = 1 and 0.01)": lambda name: (
            "λ=" in name
        ),
    }
    for threads in tables:
        for group, member in groups.items():
            ratios = {
                name: record[threads][DEFAULT][2]
                for name, record in records.items()
                if member(name) and DEFAULT in record[threads]
            }
            if not ratios:
                continue
            worst = max(ratios, key=ratios.get)
            missed = sum(DEFAULT not in r[threads] for n, r in records.items()
                         if member(n))  # fmt: skip
            result.headline.append(
                f"Defaults, {threads}, {group}: time to 1e-6 / lbfgs's from "
                f"{min(ratios.values()):.2f}× to {ratios[worst]:.2f}× ({worst}) over "
                f"{len(ratios)} sets" + (f"; {missed} not reached." if missed else ".")
            )


def run(config):
    result = Result(
        name="speed_to_answer",
        title="Speed to the answer: defaults, per-iteration overhead, time to 1e-6",
    )
    run_defaults(config, result)
    run_iteration_overhead(config, result)
    run_time_to_answer(config, result)
    return result
