"""Fitting a Dask array on a LocalCluster, against the in-memory fused kernel.

A float64 data set of 10^7 rows × 50 features (4 GB) is generated on a
LocalCluster of 2 worker processes (1 thread each) and persisted there in
40 blocks of 250,000 rows (100 MB); the same values are gathered into this
process for the in-memory fit. The time per iteration is that of one
evaluation of the objective's loss and gradient (an iteration of "gd" makes
one), the median of 15 rounds alternating between the cluster and memory.
Both then fit 8 iterations from the same start: same coefficients, and the
whole fit's time (set-up included: persisting, the NaN check, the step's Gram
pass).
"""

import time

import numpy as np

from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._problem import TrainingProblem
from sklearn_gdlogreg._rows.dask import block_futures

from ._common import Result, Table, fmt

N_FEATURES = 50
FULL_ROWS = 10_000_000
QUICK_ROWS = 100_000
N_BLOCKS = 40  # 250,000 rows (100 MB) each at full size
ITERATIONS = 8
ROUNDS = 15


def _evaluation(X, y):
    """One iteration's work: the objective's loss and gradient, as ``fit`` runs it."""
    problem = TrainingProblem(GradientDescentLogisticRegression(), X, y, None)
    objective = problem.objective(1.0, 0.0)
    params = np.zeros((1, problem.loss.n_outputs, objective.n_params), X.dtype)
    return lambda: objective.loss_gradient(params)


def _fit(X, y):
    start = time.perf_counter()
    model = GradientDescentLogisticRegression(max_iter=ITERATIONS, tol=0).fit(X, y)
    return time.perf_counter() - start, model


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


def _gathered(array):
    """A persisted Dask array's values in this process, its blocks left in place.

    (``array.compute()`` would concatenate them on one worker, and Dask's memory
    manager may then keep them all there: one worker would do all the work.)
    """
    from distributed import get_client

    return np.concatenate(get_client().gather(block_futures(array)))


def _blocks_per_worker(array):
    """How many of a persisted array's blocks each worker holds."""
    from distributed import futures_of, get_client

    holders = get_client().who_has(futures_of(array))
    return sorted(
        (sum(worker in held for held in holders.values()) for worker in
         {worker for held in holders.values() for worker in held}),
        reverse=True,
    )  # fmt: skip


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
        X, y = _gathered(X_dask), _gathered(y_dask)
        data = {"cluster": (X_dask, y_dask), "memory": (X, y)}
        # One evaluation is one iteration of "gd": timed in rounds that
        # alternate between the two, so that the machine's drift falls on both
        # (after a warm-up call: numba's cached kernel loads in each process).
        evaluations = {name: _evaluation(*pair) for name, pair in data.items()}
        seconds = {name: [] for name in data}
        for evaluate in evaluations.values():
            evaluate()
        for _ in range(ROUNDS):
            for name, evaluate in evaluations.items():
                start = time.perf_counter()
                evaluate()
                seconds[name].append(time.perf_counter() - start)
        fits = {name: _fit(*pair) for name, pair in data.items()}
        per_worker = _blocks_per_worker(X_dask)
    cluster_step, memory_step = (float(np.median(seconds[name])) for name in data)
    (cluster_fit, cluster_model), (memory_fit, memory_model) = fits.values()
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
        "blocks_per_worker": per_worker,
        "iterations": ITERATIONS,
        "cluster_seconds_per_iteration": float(cluster_step),
        "memory_seconds_per_iteration": float(memory_step),
        "cluster_fit_seconds": float(cluster_fit),
        "memory_fit_seconds": float(memory_fit),
        "evaluation_seconds": seconds,
        "coef_max_relative_difference": gap,
    }
    result.tables.append(
        Table(
            title=f"{n_rows:,} rows × {N_FEATURES} float64 features "
            f"({X.nbytes / 1e9:.2f} GB)",
            columns=["fit", "seconds per iteration", f"fit of {ITERATIONS} (s)"],
            rows=[
                [name, fmt(step, 3), fmt(fit, 2)]
                for name, step, fit in (
                    ("Dask array, LocalCluster 2 × 1", cluster_step, cluster_fit),
                    ("NumPy array in memory (fused)", memory_step, memory_fit),
                )
            ],
            note="Seconds per iteration: one loss-and-gradient evaluation, median "
            f"of {ROUNDS} alternating rounds. The fits include set-up: the "
            "cluster persists X, checks it for NaN and puts the labels beside X's "
            "blocks (one task per worker thread per evaluation); "
            "both make the step's Gram pass.",
        )
    )
    result.headline += [
        f"Seconds per iteration on a LocalCluster of 2 workers / in memory: "
        f"{ratio:.2f} ({cluster_step:.3f} s vs {memory_step:.3f} s, "
        f"{X.nbytes / 1e9:.2f} GB; X's {N_BLOCKS} blocks held "
        f"{' and '.join(map(str, per_worker))} by the workers).",
        f"Coefficients on the cluster vs in memory: largest relative difference "
        f"{gap:.1e}.",
    ]
    return result
