"""Mini-batch descent on large data: time to a held-out log-loss near the optimum.

For each method, the least budget (epochs, or iterations for full-batch
descent and lbfgs) whose fit reaches a held-out log-loss within 1 % of the
optimum's (``LogisticRegression`` fitted to ``tol=1e-10`` on the same rows, the
same penalty ``C = 1``) is found by doubling then bisecting the budget; that
fit is then timed ``repeats`` times (median). Every fit starts from zero, so
the time includes everything a user's fit pays.

- In memory, binary and 10 classes: ``MiniBatchLogisticRegression(solver=
  "adam")``, the full-batch default ``GradientDescentLogisticRegression()``,
  ``SGDClassifier(loss="log_loss")`` (one-vs-rest for 10 classes) at the best
  of four learning-rate settings, ``LogisticRegression()``; every library on
  one thread, then all at their default threads.
- Streamed from an HDF5 file (the file in the page cache): each method in its
  own process, so that its peak resident memory (``VmHWM``) is its own;
  ``SGDClassifier`` by ``partial_fit`` over the file's chunks, as a user would
  stream it; ``LogisticRegression`` loads the file first (its loading is
  timed apart). The seconds of one mini-batch epoch from the file and from the
  same rows in memory give the stream's cost.
- A stream of 100 chunks (the file's rows in order, as a generator would hand
  them): ``MiniBatchLogisticRegression(solver="adam").partial_fit`` against
  ``SGDClassifier.partial_fit`` at the setting fastest in memory, the held-out
  log-loss after each pass over the stream and the seconds of each pass.
"""

import itertools
import os
import tempfile
import time
import warnings

import h5py
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import log_loss

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    MiniBatchLogisticRegression,
)

from ._common import Result, Table, child_report, fmt, limit_threads

#: Held-out log-loss at most this times the optimum's.
TARGET = 1.01
C = 1.0
#: Largest budget tried: iterations of the full-batch methods, epochs of the
#: stochastic ones (whose held-out loss can stall above the target for good:
#: SGDClassifier's adaptive rate only falls when its own tolerance stops it).
ITERATION_LIMIT, EPOCH_LIMIT = 4096, 32
#: (rows, features, classes) in memory; the file's (rows, features).
FULL = {"binary": (1_000_000, 100, 2), "multinomial": (1_000_000, 100, 10)}
QUICK = {"binary": (5_000, 10, 2), "multinomial": (5_000, 10, 10)}
FULL_FILE, QUICK_FILE = (10_000_000, 50), (20_000, 10)
HELD_OUT = 100_000
ADAM = "MiniBatchLogisticRegression(solver='adam')"
FULL_BATCH = "GradientDescentLogisticRegression()"
LBFGS = "LogisticRegression()"
#: Rows per chunk when SGDClassifier streams the file by partial_fit.
SGD_CHUNK = 100_000
#: Chunks of the stream fed to partial_fit, and the passes over it.
STREAM_CHUNKS, STREAM_PASSES, QUICK_STREAM_PASSES = 100, 5, 2
#: SGDClassifier's learning-rate settings; the fastest to the target is kept
#: (averaging, tried, was slower than "optimal" by 1.3-2x in epochs).
SGD_SETTINGS = {
    "optimal": {"learning_rate": "optimal"},
    "adaptive, eta0 0.01": {"learning_rate": "adaptive", "eta0": 0.01},
    "invscaling, eta0 0.01": {"learning_rate": "invscaling", "eta0": 0.01},
}


def _rows(rng, n_rows, coef):
    """Rows of standard normal features; labels drawn from the softmax (or
    sigmoid) of ``X @ coef.T``."""
    X = rng.standard_normal((n_rows, coef.shape[1]))
    raw = X @ coef.T
    if coef.shape[0] == 1:
        return X, (raw[:, 0] + rng.logistic(size=n_rows) > 0).astype(np.int64)
    return X, np.argmax(raw + rng.gumbel(size=raw.shape), axis=1)


def _coef(rng, n_features, n_classes):
    """True coefficients, standard normal as the out-of-core benchmark's: raw
    predictions of standard deviation ``sqrt(n_features)``, classes that
    overlap little, an optimum far from zero."""
    outputs = 1 if n_classes == 2 else n_classes
    return rng.standard_normal((outputs, n_features))


def _estimators(n_rows):
    """Each method: a function of the budget giving an unfitted estimator."""
    methods = {
        ADAM: lambda k: MiniBatchLogisticRegression(
            solver="adam", max_iter=k, tol=None, C=C, random_state=0
        ),
        FULL_BATCH: lambda k: GradientDescentLogisticRegression(max_iter=k, C=C),
        LBFGS: lambda k: LogisticRegression(max_iter=k, C=C),
    }
    for name, setting in SGD_SETTINGS.items():
        methods[f"SGDClassifier, {name}"] = lambda k, setting=setting: SGDClassifier(
            loss="log_loss",
            alpha=1 / (C * n_rows),
            max_iter=k,
            tol=None,
            random_state=0,
            **setting,
        )
    return methods


def _first_reaching(fit, good, limit):
    """The least budget ``k`` with ``good(fit(k))``: doubled, then bisected.

    Returns None when ``limit`` does not reach it.
    """
    bad, k = 0, 1
    while not good(fit(k)):
        if k >= limit:
            return None
        bad, k = k, min(2 * k, limit)
    while k - bad > 1:
        middle = (bad + k) // 2
        bad, k = (bad, middle) if good(fit(middle)) else (middle, k)
    return k


def _quietly(function):
    with warnings.catch_warnings():
        # The budgets below the target stop before their tolerance on purpose.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return function()


def time_to_target(make, fit, good, repeats, limit):
    """(budget, median seconds) of the least budget whose fit is ``good``.

    Parameters
    ----------
    make : callable
        ``make(k)``, an unfitted estimator with budget ``k``.
    fit : callable
        ``fit(estimator)`` fits it and returns it.
    good : callable
        Whether a fitted estimator reaches the target.
    repeats : int
        Timed fits at the budget found.
    limit : int
        The largest budget tried.
    """
    budget = _quietly(lambda: _first_reaching(lambda k: fit(make(k)), good, limit))
    if budget is None:
        return None, float("nan")
    seconds = []
    for _ in range(repeats):
        estimator = make(budget)
        start = time.perf_counter()
        _quietly(lambda estimator=estimator: fit(estimator))
        seconds.append(time.perf_counter() - start)
    return budget, float(np.median(seconds))


def _target_loss(X, y, X_test, y_test):
    """The held-out log-loss of the optimum, and the target from it."""
    optimum = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    best = log_loss(y_test, optimum.predict_proba(X_test), labels=optimum.classes_)
    return best, TARGET * best


def _limit(method):
    """The largest budget for ``method``: iterations, or epochs."""
    return ITERATION_LIMIT if method in (FULL_BATCH, LBFGS) else EPOCH_LIMIT


def _reaches(X_test, y_test, target):
    def good(model):
        proba = model.predict_proba(X_test)
        return bool(np.all(np.isfinite(proba))) and (
            log_loss(y_test, proba, labels=model.classes_) <= target
        )

    return good


def _in_memory(config, kind, rng, result):
    n_rows, n_features, n_classes = (QUICK if config.quick else FULL)[kind]
    coef = _coef(rng, n_features, n_classes)
    X, y = _rows(rng, n_rows, coef)
    X_test, y_test = _rows(rng, min(HELD_OUT, n_rows), coef)
    best, target = _target_loss(X, y, X_test, y_test)
    good = _reaches(X_test, y_test, target)
    table = Table(
        title=f"In memory, {n_rows:,} × {n_features}, {n_classes} classes: seconds "
        f"to a held-out log-loss ≤ {TARGET} × the optimum's ({best:.4f})",
        columns=["method", "threads", "budget", "seconds", "/ mini-batch Adam"],
        note="Budget: epochs (mini-batch, SGDClassifier) or iterations (full "
        "batch, lbfgs), the least that reaches the target, found by doubling "
        "then bisecting; seconds: median of the fits at that budget.",
    )
    records = {}
    # The quick mode (a smoke test) at default threads only.
    for threads in (None,) if config.quick else (1, None):
        label = "1" if threads else "default"
        with limit_threads(threads):
            for name, make in _estimators(n_rows).items():
                budget, seconds = time_to_target(
                    make, lambda e: e.fit(X, y), good, config.repeats, _limit(name)
                )
                records[(name, label)] = {"budget": budget, "seconds": seconds}
        adam = records[(ADAM, label)]["seconds"]
        for name in _estimators(n_rows):
            record = records[(name, label)]
            table.rows.append(
                [
                    name,
                    label,
                    record["budget"],
                    fmt(record["seconds"], 3),
                    fmt(record["seconds"] / adam, 3),
                ]
            )
    result.tables.append(table)
    result.raw[kind] = {
        "shape": [n_rows, n_features],
        "classes": n_classes,
        "optimum_log_loss": best,
        "records": {f"{name} | {label}": r for (name, label), r in records.items()},
    }
    for label in sorted({label for _, label in records}):
        seconds = {
            name: r["seconds"] for (name, lab), r in records.items() if lab == label
        }
        adam = seconds.pop(ADAM)
        result.headline.append(
            f"{kind.capitalize()}, {n_rows:,} × {n_features} in memory, "
            f"{'one thread' if label == '1' else 'default threads'}: seconds to "
            f"{TARGET} × the optimum's held-out log-loss, over mini-batch Adam's: "
            + _versus(seconds, adam)
        )


def _versus(seconds, adam):
    """Each other method's seconds over Adam's (its goal after it), the best
    SGDClassifier setting only; "not reached" where its budget fell short."""
    sgd = {n: s for n, s in seconds.items() if n.startswith("SGD")}
    reached = {n: s for n, s in sgd.items() if not np.isnan(s)}
    best_sgd = min(reached, key=reached.get) if reached else next(iter(sgd), None)
    goals = {FULL_BATCH: " (goal ≥ 3)", best_sgd: " (goal > 1)", LBFGS: ""}
    parts = []
    for name, goal in goals.items():
        if name not in seconds:
            continue
        ratio = seconds[name] / adam
        figure = "not reached" if np.isnan(ratio) else f"{ratio:.2f}"
        parts.append(f"{name} {figure}{goal}")
    return "; ".join(parts) + "."


def _write_file(path, rng, n_rows, n_features):
    """An HDF5 file of ``n_rows`` rows written in slabs; the true coefficients."""
    coef = _coef(rng, n_features, 2)
    with h5py.File(path, "w") as file:
        X = file.create_dataset("X", (n_rows, n_features), dtype=np.float64)
        y = file.create_dataset("y", (n_rows,), dtype=np.int8)
        step = 500_000
        for start in range(0, n_rows, step):
            block, labels = _rows(rng, min(step, n_rows - start), coef)
            X[start : start + len(block)] = block
            y[start : start + len(block)] = labels
    return coef


def _sgd_over_chunks(make, dataset, y, classes):
    """An SGDClassifier trained by partial_fit over the file's chunks, in a
    shuffled order each epoch."""

    def fit(estimator):
        epochs = estimator.max_iter
        order = np.random.RandomState(0)
        starts = np.arange(0, len(y), SGD_CHUNK)
        for _ in range(epochs):
            for start in order.permutation(starts):
                stop = start + SGD_CHUNK
                estimator.partial_fit(dataset[start:stop], y[start:stop], classes)
        return estimator

    return fit


_CHILD = """
import json, sys
from benchmarks.minibatch import _child_main
print(json.dumps(_child_main(*sys.argv[1:])))
"""


def _peak_rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return float("nan")


def _child_main(path, method, threads, repeats, target):
    """In a process of its own: one method on the file; budget, seconds, peak."""
    repeats, target = int(repeats), float(target)
    with h5py.File(path, "r") as file:
        y, held_out = file["y"][()], file["held_out"]
        good = _reaches(held_out["X"][()], held_out["y"][()], target)
        dataset, n_rows = file["X"], len(y)
        load_seconds = 0.0
        if method == LBFGS:
            start = time.perf_counter()
            dataset = dataset[()]
            load_seconds = time.perf_counter() - start
        make = _estimators(n_rows)[method]
        if method.startswith("SGD"):
            fit = _sgd_over_chunks(make, dataset, y, np.unique(y))
        else:
            fit = lambda estimator: estimator.fit(dataset, y)  # noqa: E731
        with limit_threads(None if threads == "default" else int(threads)):
            budget, seconds = time_to_target(make, fit, good, repeats, _limit(method))
            epoch = _epoch_seconds(dataset, y) if method == ADAM else None
    return {
        "budget": budget,
        "seconds": seconds,
        "load_seconds": load_seconds,
        "peak_rss_bytes": _peak_rss_bytes(),
        "epoch_seconds": epoch,
    }


def _epoch_seconds(X, y):
    """Seconds of one mini-batch epoch: a 3-epoch fit's time less a 1-epoch one's."""
    times = {}
    for epochs in (1, 3):
        model = MiniBatchLogisticRegression(max_iter=epochs, tol=None, random_state=0)
        start = time.perf_counter()
        model.fit(X, y)
        times[epochs] = time.perf_counter() - start
    return (times[3] - times[1]) / 2


def _child(path, method, threads, repeats, target):
    return child_report(_CHILD, path, method, threads, repeats, repr(target))


def _memory_epoch(path):
    """Seconds of one mini-batch epoch over the file's rows loaded in memory."""
    with h5py.File(path, "r") as file:
        X, y = file["X"][()], file["y"][()]
    seconds = _epoch_seconds(X, y)
    del X
    return seconds


def _streamed(config, rng, result):
    n_rows, n_features = QUICK_FILE if config.quick else FULL_FILE
    # SGDClassifier's setting fastest in memory (binary, default threads).
    sgd = min(
        (
            name.split(" | ")[0]
            for name in result.raw["binary"]["records"]
            if name.startswith("SGD") and name.endswith("| default")
        ),
        key=lambda name: np.nan_to_num(
            result.raw["binary"]["records"][f"{name} | default"]["seconds"],
            nan=np.inf,
        ),
    )
    methods = [ADAM, FULL_BATCH, sgd, LBFGS]
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as folder:
        path = os.path.join(folder, "big.h5")
        coef = _write_file(path, rng, n_rows, n_features)
        X_test, y_test = _rows(rng, min(HELD_OUT, n_rows), coef)
        with h5py.File(path, "a") as file:
            file["held_out/X"], file["held_out/y"] = X_test, y_test
            X, y = file["X"][()], file["y"][()]
        best, target = _target_loss(X, y, X_test, y_test)
        del X, y
        file_bytes = os.path.getsize(path)
        reports = {
            m: _child(path, m, "default", config.repeats, target) for m in methods
        }
        memory_epoch = _memory_epoch(path)
        curves = _partial_fit_curves(config, path, sgd, X_test, y_test)
    adam = reports[ADAM]
    table = Table(
        title=f"Streamed from an HDF5 file of {file_bytes / 1e9:.2f} GB "
        f"({n_rows:,} × {n_features} float64): seconds to a held-out log-loss ≤ "
        f"{TARGET} × the optimum's ({best:.4f}), default threads",
        columns=[
            "method",
            "budget",
            "seconds",
            "/ mini-batch Adam",
            "peak resident memory (GB)",
        ],
        rows=[
            [
                m
                + (" (loaded first)" if m.startswith("Logistic") else "")
                + (" (partial_fit over 10⁵-row chunks)" if m.startswith("SGD") else ""),
                r["budget"],
                fmt(r["seconds"], 3),
                fmt(r["seconds"] / adam["seconds"], 3),
                fmt(r["peak_rss_bytes"] / 1e9, 3),
            ]
            for m, r in reports.items()
        ],
        note="Each method in its own process (peak: its VmHWM). The file is stored "
        "whole (h5py's default): the streamed fits read its 64 MB chunks in place, "
        "views of the mapped file (a chunked file is copied into buffers: see the "
        "out-of-core section). LogisticRegression's "
        f"loading of the file took {reports[LBFGS]['load_seconds']:.3g} s, "
        "not counted in its seconds.",
    )
    result.tables.append(table)
    stream_ratio = adam["epoch_seconds"] / memory_epoch
    result.raw["streamed"] = {
        "shape": [n_rows, n_features],
        "file_bytes": file_bytes,
        "optimum_log_loss": best,
        "reports": reports,
        "memory_epoch_seconds": memory_epoch,
    }
    result.headline += [
        f"Streamed from a {file_bytes / 1e9:.2f} GB HDF5 file, default threads: "
        "seconds to the target over mini-batch Adam's: "
        + _versus({m: r["seconds"] for m, r in reports.items()}, adam["seconds"])
        + f" Adam's peak resident memory: {adam['peak_rss_bytes'] / 1e9:.2f} GB "
        "(goal < 1).",
        f"One mini-batch epoch from the file (page cache) / in memory: "
        f"{stream_ratio:.2f} (goal ≤ 1.5).",
    ]
    _report_curves(result, curves, best)


def _partial_fit_curves(config, path, sgd, X_test, y_test):
    """Held-out log-loss after each pass of partial_fit over the stream's
    chunks, and each pass's seconds, for Adam and ``sgd``."""
    passes = QUICK_STREAM_PASSES if config.quick else STREAM_PASSES
    curves = {}
    with h5py.File(path, "r") as file:
        dataset, y = file["X"], file["y"][()]
        classes = np.unique(y)
        bounds = np.linspace(0, len(y), STREAM_CHUNKS + 1).astype(int)
        models = {
            ADAM: MiniBatchLogisticRegression(solver="adam", C=C, random_state=0),
            sgd: _estimators(len(y))[sgd](1),
        }
        for name, model in models.items():
            losses, seconds = [], []
            for _ in range(passes):
                start = time.perf_counter()
                for lo, hi in itertools.pairwise(bounds):
                    model.partial_fit(dataset[lo:hi], y[lo:hi], classes=classes)
                seconds.append(time.perf_counter() - start)
                proba = model.predict_proba(X_test)
                losses.append(log_loss(y_test, proba, labels=model.classes_))
            curves[name] = {"log_loss": losses, "seconds": seconds}
    return curves


def _report_curves(result, curves, best):
    """The partial_fit table and headline."""
    (adam, sgd) = curves
    passes = len(curves[adam]["log_loss"])
    rows = [
        [
            p + 1,
            fmt(curves[adam]["log_loss"][p] / best, 4),
            fmt(curves[adam]["seconds"][p], 3),
            fmt(curves[sgd]["log_loss"][p] / best, 4),
            fmt(curves[sgd]["seconds"][p], 3),
        ]
        for p in range(passes)
    ]
    result.tables.append(
        Table(
            title=f"partial_fit over a stream of {STREAM_CHUNKS} chunks (the "
            "file's rows in order): held-out log-loss / the optimum's after "
            "each pass, and the pass's seconds (default threads)",
            columns=[
                "pass",
                f"{adam} log-loss",
                "seconds",
                f"{sgd} log-loss",
                "seconds",
            ],
            rows=rows,
            note="Each chunk is read from the file and given to partial_fit "
            "whole; Adam's calls make one epoch over the chunk in mini-batches, "
            "SGDClassifier's one pass over its rows.",
        )
    )
    result.raw["partial_fit"] = {"optimum_log_loss": best, "curves": curves}
    after = {n: c["log_loss"][0] / best for n, c in curves.items()}
    result.headline.append(
        f"partial_fit over {STREAM_CHUNKS} chunks, held-out log-loss / the "
        f"optimum's after one pass: Adam {after[adam]:.4f}, {sgd} "
        f"{after[sgd]:.4f}; after {passes}: Adam "
        f"{curves[adam]['log_loss'][-1] / best:.4f}, SGDClassifier "
        f"{curves[sgd]['log_loss'][-1] / best:.4f}."
    )


def run(config):
    result = Result(
        name="minibatch",
        title="Mini-batch descent on large data: time to the optimum's held-out "
        "log-loss",
    )
    rng = np.random.RandomState(0)
    for kind in ("binary", "multinomial"):
        _in_memory(config, kind, rng, result)
    _streamed(config, rng, result)
    return result
