"""Fitting a Dask array on a LocalCluster, against the in-memory fused kernel.

A float64 data set of 10^7 rows × 50 features (4 GB) is generated on a
LocalCluster of 2 worker processes (1 thread each) and persisted there in
40 blocks of 250,000 rows (100 MB); the same values are gathered into this process
for the in-memory fit. Both fits run the same iterations from the same start;
the time per iteration is the difference between fits of 2 and 8 iterations
(divided by 6, median of 3 repeats), so that set-up (persisting, the NaN check,
the step's Gram pass) cancels out.
"""

import time

import numpy as np

from sklearn_gdlogreg import GradientDescentLogisticRegression

from ._common import Result, Table, fmt

N_FEATURES = 50
FULL_ROWS = 10_000_000
QUICK_ROWS = 100_000
N_BLOCKS = 40  # 250,000 rows (100 MB) each at full size
ITERATIONS = (2, 8)
REPEATS = 3


def _seconds_per_iteration(X, y):
    """Per-iteration time of a fit, from fits of two lengths; the longer model.

    After one warm-up fit (the fused kernel loads from numba's cache in each
    process); the median over repeats of the difference.
    """
    GradientDescentLogisticRegression(max_iter=1, tol=0).fit(X, y)
    differences, fits = [], []
    for _ in range(REPEATS):
        times = {}
        for k in ITERATIONS:
            model = GradientDescentLogisticRegression(max_iter=k, tol=0)
            start = time.perf_counter()
            model.fit(X, y)
            times[k] = time.perf_counter() - start
        k0, k1 = ITERATIONS
        differences.append((times[k1] - times[k0]) / (k1 - k0))
        fits.append(times[k1])
    return float(np.median(differences)), float(np.median(fits)), model


def _cluster_data(n_rows):
    import dask
    import dask.array as da

    rng = da.random.default_rng(0)
    block_rows = n_rows // N_BLOCKS
    X = rng.standard_normal((n_rows, N_FEATURES), chunks=(block_rows, N_FEATURES))
    true_coef = np.random.RandomState(0).standard_normal(N_FEATURES)
    noise = rng.logistic(size=n_rows, chunks=block_rows)
    y = (X @ true_coef + noise > 0).astype(np.int8)
    return dask.persist(X, y)


def run(config):
    from distributed import Client, LocalCluster

    result = Result(
        name="dask_cluster",
        title="Fitting a 4 GB Dask array on a LocalCluster, against in memory",
    )
    n_rows = QUICK_ROWS if config.quick else FULL_ROWS
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        X_dask, y_dask = _cluster_data(n_rows)
        X, y = X_dask.compute(), y_dask.compute()
        cluster_step, cluster_fit, cluster_model = _seconds_per_iteration(
            X_dask, y_dask
        )
    memory_step, memory_fit, memory_model = _seconds_per_iteration(X, y)
    gap = float(
        np.max(np.abs(cluster_model.coef_ - memory_model.coef_))
        / np.max(np.abs(memory_model.coef_))
    )
    ratio = cluster_step / memory_step
    result.raw = {
        "rows": n_rows,
        "features": N_FEATURES,
        "bytes": X.nbytes,
        "blocks": N_BLOCKS,
        "workers": 2,
        "threads_per_worker": 1,
        "iterations": ITERATIONS,
        "cluster_seconds_per_iteration": cluster_step,
        "memory_seconds_per_iteration": memory_step,
        "cluster_fit_seconds": cluster_fit,
        "memory_fit_seconds": memory_fit,
        "coef_max_relative_difference": gap,
    }
    result.tables.append(
        Table(
            title=f"{n_rows:,} rows × {N_FEATURES} float64 features "
            f"({X.nbytes / 1e9:.2f} GB), {ITERATIONS[1]} iterations",
            columns=["fit", "seconds per iteration", f"fit of {ITERATIONS[1]} (s)"],
            rows=[
                [name, fmt(step, 3), fmt(fit, 2)]
                for name, step, fit in (
                    ("Dask array, LocalCluster 2 × 1", cluster_step, cluster_fit),
                    ("NumPy array in memory (fused)", memory_step, memory_fit),
                )
            ],
            note="Same data, same iterations. The cluster's fit includes "
            "persisting X and checking it for NaN (one pass) beside the step's "
            "Gram pass; the per-iteration time is the difference of two fits.",
        )
    )
    result.headline += [
        f"Seconds per iteration on a LocalCluster of 2 workers / in memory: "
        f"{ratio:.2f} ({cluster_step:.3f} s vs {memory_step:.3f} s, "
        f"{X.nbytes / 1e9:.2f} GB).",
        f"Coefficients on the cluster vs in memory: largest relative difference "
        f"{gap:.1e}.",
    ]
    return result
