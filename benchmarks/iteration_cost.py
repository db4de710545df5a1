"""Cost of one gradient-descent iteration against the memory floor ``X @ w``.

Any method that reads X pays at least one pass over it per iteration; one
``X @ w`` over the same X is that floor. The ratio (seconds per iteration over
seconds per ``X @ w``) is what the speed work is judged by.

Seconds per iteration come from the public API: two fits with a fixed learning
rate and ``tol=0``, ``k1`` and ``k0`` iterations, ``(T(k1) - T(k0)) / (k1 - k0)``,
so that validation and set-up cancel out. The two-pass NumPy evaluation (the
reference path: ``X @ w``, then ``X.T @ r``) is timed beside it. The machine is
shared, so each round times all three one after the other, and the ratios are
medians over rounds.
"""

import statistics
import time

import numpy as np

from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._objective import LinearObjective

from ._common import Result, Table, fmt

N_FEATURES = 256
FULL_MEGABYTES = (100, 1000, 2000)
QUICK_MEGABYTES = (2, 8)


def _seconds(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _rounds(X, y, repeats):
    """Per round: seconds of X @ w, of one iteration, of one NumPy evaluation."""
    k0, k1 = (2, 12) if X.nbytes < 5e8 else (2, 10)
    w = np.random.RandomState(1).standard_normal(X.shape[1]).astype(X.dtype)
    loss = loss_for_classes(2)
    numpy_path = LinearObjective(
        loss, X, loss.encode_target(y, X.dtype), None, np.inf, True, kernel="numpy"
    )
    params = np.zeros((1, 1, X.shape[1] + 1), X.dtype)

    def fit(k):
        model = GradientDescentLogisticRegression(learning_rate=1e-3, max_iter=k, tol=0)
        return model.fit(X, y)

    fit(k0), numpy_path.loss_gradient(params), X @ w  # warm up: compile, caches
    rounds = []
    for _ in range(repeats):
        matvec = min(_seconds(lambda: X @ w) for _ in range(3))
        iteration = (_seconds(lambda: fit(k1)) - _seconds(lambda: fit(k0))) / (k1 - k0)
        two_pass = min(
            _seconds(lambda: numpy_path.loss_gradient(params)) for _ in range(2)
        )
        rounds.append((matvec, iteration, two_pass))
    return rounds


def run(config):
    result = Result(
        name="iteration_cost",
        title="Cost of one iteration against the memory floor (one X @ w)",
    )
    table = Table(
        title="Seconds per iteration / seconds per X @ w (dense, binary, 256 features)",
        columns=[
            "dtype",
            "X size (MB)",
            "rows",
            "X @ w (ms)",
            "iteration (ms)",
            "iteration / X @ w",
            "NumPy two-pass evaluation / X @ w",
        ],  # fmt: skip
        note="Each round times X @ w (best of 3), one iteration (from two fits) and "
        "the two-pass NumPy evaluation (best of 2), one after the other; the "
        "ratios are medians over rounds. Milliseconds are this machine's.",
    )
    rng = np.random.RandomState(0)
    sizes = QUICK_MEGABYTES if config.quick else FULL_MEGABYTES
    for megabytes in sizes:
        n_rows = int(megabytes * 1e6 / (8 * N_FEATURES))
        X64 = rng.standard_normal((n_rows, N_FEATURES))
        y = (X64[:, 0] + rng.standard_normal(n_rows) > 0).astype(int)
        for X in (X64, X64.astype(np.float32)):
            rounds = _rounds(X, y, max(config.repeats, 3))
            columns = zip(*rounds, strict=True)
            matvec, iteration, two_pass = (statistics.median(c) for c in columns)
            ratio = statistics.median(r[1] / r[0] for r in rounds)
            two_pass_ratio = statistics.median(r[2] / r[0] for r in rounds)
            result.raw[f"{X.dtype}-{megabytes}MB"] = {
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
    largest = {
        dtype: max(
            (r for r in result.raw.values() if r["dtype"] == dtype),
            key=lambda r: r["nbytes"],
        )
        for dtype in ("float64", "float32")
    }
    for dtype, record in largest.items():
        result.headline.append(
            f"{dtype}, X of {record['nbytes'] / 1e9:.2g} GB: one iteration costs "
            f"{record['ratio']:.2f}× one X @ w (goal ≤ 1.25); the two-pass NumPy "
            f"evaluation {record['two_pass_ratio']:.2f}×."
        )
    f64, f32 = (largest[d]["iteration_seconds"] for d in ("float64", "float32"))
    result.headline.append(
        f"float32 iteration / float64 iteration on the same rows: {f32 / f64:.2f}."
    )
    return result
