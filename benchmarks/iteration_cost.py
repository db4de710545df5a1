"""Cost of one gradient-descent iteration against the memory floor ``X @ w``.

Any method that reads X pays at least one pass over it per iteration; one
``X @ w`` over the same X is that floor. The ratio (seconds per iteration over
seconds per ``X @ w``) is what later speed work is judged by.

Seconds per iteration come from the public API: two fits with a fixed learning
rate and ``tol=0``, ``k1`` and ``k0`` iterations, ``(T(k1) - T(k0)) / (k1 - k0)``,
so that validation and set-up cancel out.
"""

import statistics

import numpy as np

from sklearn_gdlogreg import GradientDescentLogisticRegression

from ._common import Result, Table, fmt, timed

N_FEATURES = 256
FULL_MEGABYTES = (10, 100, 1000, 2000)
QUICK_MEGABYTES = (2, 8)


def _per_iteration(X, y, repeats):
    """Median seconds per iteration, from fits of k0 and k1 iterations."""
    k0, k1 = (2, 12) if X.nbytes < 5e8 else (2, 8)

    def fit(k):
        model = GradientDescentLogisticRegression(learning_rate=1e-3, max_iter=k, tol=0)
        return model.fit(X, y)

    fit(k0)  # warm caches and BLAS threads
    seconds = []
    for _ in range(repeats):
        t0 = timed(lambda: fit(k0), 1)[1].median
        t1 = timed(lambda: fit(k1), 1)[1].median
        seconds.append((t1 - t0) / (k1 - k0))
    return statistics.median(seconds), seconds


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
            "ratio",
        ],  # fmt: skip
        note="Medians of repeated runs in one process; the ratio is the headline, "
        "the milliseconds are this machine's.",
    )
    rng = np.random.RandomState(0)
    sizes = QUICK_MEGABYTES if config.quick else FULL_MEGABYTES
    for megabytes in sizes:
        n_rows = int(megabytes * 1e6 / (8 * N_FEATURES))
        X64 = rng.standard_normal((n_rows, N_FEATURES))
        y = (X64[:, 0] + rng.standard_normal(n_rows) > 0).astype(int)
        for X in (X64, X64.astype(np.float32)):
            w = rng.standard_normal(N_FEATURES).astype(X.dtype)
            X @ w  # warm up
            floor = timed(lambda X=X, w=w: X @ w, max(config.repeats, 5) * 2)[1]
            per_iteration, runs = _per_iteration(X, y, config.repeats)
            ratio = per_iteration / floor.median
            key = f"{X.dtype}-{megabytes}MB"
            result.raw[key] = {
                "dtype": str(X.dtype),
                "nbytes": X.nbytes,
                "shape": list(X.shape),
                "matvec_seconds": floor.as_dict(),
                "iteration_seconds": {"median": per_iteration, "runs": runs},
                "ratio": ratio,
            }
            table.rows.append(
                [
                    str(X.dtype),
                    fmt(X.nbytes / 1e6, 3),
                    f"{n_rows:,}",
                    fmt(floor.median * 1e3, 3),
                    fmt(per_iteration * 1e3, 3),
                    fmt(ratio, 3),
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
            f"{record['ratio']:.2f}× one X @ w."
        )
    f64, f32 = (
        largest[d]["iteration_seconds"]["median"] for d in ("float64", "float32")
    )
    result.headline.append(
        f"float32 iteration / float64 iteration on the same rows: {f32 / f64:.2f}."
    )
    return result
