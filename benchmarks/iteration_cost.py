"""Cost of one gradient-descent iteration against the memory floor ``X @ w``.

Any method that reads X pays at least one pass over it per iteration; one
``X @ w`` over the same X is that floor. The ratio (seconds per iteration over
seconds per ``X @ w``) is what the speed work is judged by.

Seconds per iteration come from the public API: two fits with a fixed learning
rate and ``tol=0``, ``k1`` and ``k0`` iterations, ``(T(k1) - T(k0)) / (k1 - k0)``,
so that validation and set-up cancel out; the fits read X by the fused kernel
from their first evaluation (by default a fit leaves its first GB of reading
to NumPy's two passes, which a difference of two short fits would time). The
two-pass NumPy evaluation (the reference path: ``X @ w``, then ``X.T @ r``) is
timed beside it. The machine is
shared, so each round times all three one after the other, and the ratios are
medians over rounds.

Each size is timed with every library on one thread (OpenBLAS for ``X @ w``,
the kernel's threads) and with the default threads (both use both cores). A
short pause precedes each timed call: OpenBLAS's and OpenMP's threads keep
spinning after a call, and would otherwise take the cores from the next one
(seen: a 2-thread float32 pass timed right after a 2-thread ``X @ w`` took
1.5x its time alone).
"""

import math
import statistics
import time

import numpy as np

from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._objective import linear_objective
from sklearn_gdlogreg._rows.fused import DeferredFusedRows

from ._common import Result, Table, fmt, limit_threads

# (features, megabytes of the float64 X); float32 X has the same rows. A sweep
# of widths at 1 GB, and the course's width (64 x 64 x 3 pixels).
WIDTHS = (16, 64, 256, 1024, 4096, 16_384)
FULL_SHAPES = (*((width, 1000) for width in WIDTHS), (12_288, 1000))
QUICK_SHAPES = ((256, 2), (256, 8), (12_288, 8))
PAUSE_SECONDS = 0.05
# The least time between the two fits whose difference gives an iteration's.
RESOLVED_SECONDS = 0.1
_THREAD_WORDS = {"1": "every library on one thread", "default": "default threads"}


def _seconds(function):
    time.sleep(PAUSE_SECONDS)
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _rounds(X, y, repeats):
    """Per round: seconds of X @ w, of one iteration, of one NumPy evaluation."""
    k0, k1 = (2, 12) if X.nbytes < 5e8 else (2, 10)
    w = np.random.RandomState(1).standard_normal(X.shape[1]).astype(X.dtype)
    loss = loss_for_classes(2)
    numpy_path = linear_objective(
        loss, X, loss.encode_target(y, X.dtype), None, np.inf, True, kernel="numpy"
    )
    params = np.zeros((1, 1, X.shape[1] + 1), X.dtype)

    def fit(k):
        model = GradientDescentLogisticRegression(learning_rate=1e-3, max_iter=k, tol=0)
        deferred, DeferredFusedRows.numpy_bytes = DeferredFusedRows.numpy_bytes, 0
        try:
            return model.fit(X, y)
        finally:
            DeferredFusedRows.numpy_bytes = deferred

    fit(k0), numpy_path.loss_gradient(params), X @ w  # warm up: compile, caches
    # Enough iterations between the two fits that their difference stands
    # well above the timer's and the machine's noise.
    matvec = min(_seconds(lambda: X @ w) for _ in range(3))
    k1 = max(k1, k0 + math.ceil(RESOLVED_SECONDS / matvec))
    rounds = []
    for _ in range(repeats):
        matvec = min(_seconds(lambda: X @ w) for _ in range(3))
        iteration = (_seconds(lambda: fit(k1)) - _seconds(lambda: fit(k0))) / (k1 - k0)
        if iteration <= 0:  # the difference is noise: not a measurement
            iteration = math.nan
        two_pass = min(
            _seconds(lambda: numpy_path.loss_gradient(params)) for _ in range(2)
        )
        rounds.append((matvec, iteration, two_pass))
    return rounds


def _median_resolved(ratios):
    """The median of the ratios measured (NaN: below resolution), or NaN when
    half of them or more were not."""
    ratios = list(ratios)
    measured = [r for r in ratios if not math.isnan(r)]
    if 2 * len(measured) <= len(ratios):
        return math.nan
    return statistics.median(measured)


def run(config):
    result = Result(
        name="iteration_cost",
        title="Cost of one iteration against the memory floor (one X @ w)",
    )
    table = Table(
        title="Seconds per iteration / seconds per X @ w (dense, binary)",
        columns=[
            "threads",
            "features",
            "dtype",
            "X size (MB)",
            "rows",
            "X @ w (ms)",
            "iteration (ms)",
            "iteration / X @ w",
            "NumPy two-pass evaluation / X @ w",
        ],  # fmt: skip
        note="Threads: every library on one thread (threadpoolctl, the kernel's "
        "limit_threads), or all at their defaults (2). Each round times X @ w "
        "(best of 3), one iteration (from two fits) and the two-pass NumPy "
        "evaluation (best of 2), one after the other, each after a 50 ms pause; "
        "the ratios are medians over rounds. Milliseconds are this machine's. "
        "– : below resolution (the two fits' difference was not above the "
        "noise in most rounds).",
    )
    rng = np.random.RandomState(0)
    shapes = QUICK_SHAPES if config.quick else FULL_SHAPES
    for n_features, megabytes in shapes:
        n_rows = int(megabytes * 1e6 / (8 * n_features))
        X64 = rng.standard_normal((n_rows, n_features))
        y = (X64[:, 0] + rng.standard_normal(n_rows) > 0).astype(int)
        for X, threads in [
            (X, t) for X in (X64, X64.astype(np.float32)) for t in (1, None)
        ]:
            with limit_threads(threads):
                rounds = _rounds(X, y, max(config.repeats, 3))
            columns = zip(*rounds, strict=True)
            matvec, iteration, two_pass = (_median_resolved(c) for c in columns)
            ratio = _median_resolved(r[1] / r[0] for r in rounds)
            two_pass_ratio = statistics.median(r[2] / r[0] for r in rounds)
            label = "1" if threads else "default"
            result.raw[f"{label}-{n_features}-{X.dtype}-{megabytes}MB"] = {
                "threads": label,
                "n_features": n_features,
                "dtype": str(X.dtype),
                "nbytes": X.nbytes,
                "shape": list(X.shape),
                "rounds_seconds": rounds,
                "matvec_seconds": matvec,
                "iteration_seconds": iteration,
                "two_pass_seconds": two_pass,
                "ratio": ratio,
                "two_pass_ratio": two_pass_ratio,
            }
            table.rows.append(
                [
                    label,
                    f"{n_features:,}",
                    str(X.dtype),
                    fmt(X.nbytes / 1e6, 3),
                    f"{n_rows:,}",
                    fmt(matvec * 1e3, 3),
                    fmt(iteration * 1e3, 3),
                    fmt(ratio, 3),
                    fmt(two_pass_ratio, 3),
                ]
            )
        del X64
    result.tables.append(table)
    for threads in ("1", "default"):
        for dtype in ("float64", "float32"):
            result.headline.append(_sweep_line(result.raw.values(), threads, dtype))
    return result


def _sweep_line(records, threads, dtype):
    """One headline: the range of the ratio over the widths, and the worst."""
    ratios = {
        r["n_features"]: r["ratio"]
        for r in records
        if r["threads"] == threads and r["dtype"] == dtype
    }
    measured = {f: r for f, r in ratios.items() if not math.isnan(r)}
    widths = f"{min(ratios):,}–{max(ratios):,} features"
    if not measured:
        return f"{widths}, {dtype}, {_THREAD_WORDS[threads]}: below resolution."
    worst = max(measured, key=measured.get)
    unresolved = len(ratios) - len(measured)
    return (
        f"{widths}, {dtype}, {_THREAD_WORDS[threads]}: one iteration costs "
        f"{min(measured.values()):.2f}–{measured[worst]:.2f}× one X @ w (worst at "
        f"{worst:,} features; goal ≤ 1.25)"
        + (f"; {unresolved} width(s) below resolution." if unresolved else ".")
    )
