"""Fitting a Dask array on a LocalCluster of 2 worker processes: as in memory.

Mini-batches of a Dask array: as in memory, one block at a time."""

import functools
import operator
import tracemalloc

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
    MiniBatchLogisticRegression,
)

da = pytest.importorskip("dask.array", reason="Dask is an optional extra: [dask]")
distributed = pytest.importorskip("distributed")

#: Tests on a LocalCluster of worker processes: slow (``pytest -m slow``; CI
#: runs them).
CLUSTER = pytest.mark.slow

CONFIGS = {
    "gd": dict(solver="gd", tol=0, max_iter=40),
    "nesterov-converges": dict(solver="nesterov", tol=1e-5),
    "balanced-elastic-net-line-search": dict(
        solver="gd",
        class_weight="balanced",
        l1_ratio=0.3,
        line_search=True,
        tol=0,
        max_iter=40,
    ),
}


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _data(n_classes, n_samples=2000, n_features=8, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=5,
        n_classes=n_classes,
        random_state=seed,
    )
    weight = np.random.RandomState(seed).uniform(0.1, 2.0, n_samples)
    return X, y, weight


def _assert_same_fit(model, reference, rtol=1e-8, atol=1e-14):
    assert model.n_iter_ == reference.n_iter_
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=rtol)
    np.testing.assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=rtol)
    assert model.learning_rate_ == pytest.approx(reference.learning_rate_, rel=rtol)


class _Placement:
    """A stand-in for a Client: where blocks are, and each worker's threads."""

    def __init__(self, holders, threads):
        self.holders, self.threads = holders, threads

    def who_has(self, blocks):
        return {block.key: self.holders[block.key] for block in blocks}

    def nthreads(self):
        return self.threads


def _rows_placed(holders, threads):
    from types import SimpleNamespace

    from sklearn_gdlogreg._rows.dask import DaskRows

    rows = DaskRows.__new__(DaskRows)  # only its placement is used
    rows._blocks = [SimpleNamespace(key=key) for key in sorted(holders)]
    rows.client = _Placement(holders, threads)
    return rows


def test_blocks_held_twice_go_to_the_worker_with_less_work():
    # As after X.compute(): every block on "a", half of them copied to "b".
    holders = {i: ["a"] if i % 2 == 0 else ["a", "b"] for i in range(8)}
    groups = _rows_placed(holders, {"a": 1, "b": 1})._worker_groups()
    assert sorted(groups) == [("a", [0, 2, 4, 6]), ("b", [1, 3, 5, 7])]


def test_a_worker_with_two_threads_gets_two_tasks_and_lost_blocks_one_more():
    holders = {0: ["a"], 1: ["a"], 2: ["a"], 3: ["b"], 4: [], 5: []}
    groups = _rows_placed(holders, {"a": 2, "b": 1})._worker_groups()
    assert sorted(groups, key=str) == [
        ("a", [0, 1]), ("a", [2]), ("b", [3]), (None, [4, 5])
    ]  # fmt: skip


@CLUSTER
def test_one_task_per_worker_thread_adds_the_blocks_in_block_order(client):
    from sklearn_gdlogreg._rows.dask import DaskRows

    rng = np.random.RandomState(0)
    # Magnitudes far apart: a different order of the sums changes the result.
    values = rng.standard_normal((4000, 3)) * 10.0 ** rng.uniform(-8, 8, (4000, 1))
    rows = DaskRows(da.from_array(values, chunks=(250, 3)))
    groups = rows._worker_groups()
    assert len(groups) == 2  # one per worker (one thread each), not per block
    assert sorted(i for _, indices in groups for i in indices) == list(range(16))
    parts = [values[start : start + 250].sum(axis=0) for start in range(0, 4000, 250)]
    expected = functools.reduce(operator.add, parts)
    by_halves = functools.reduce(operator.add, parts[0::2]) + functools.reduce(
        operator.add, parts[1::2]
    )
    assert not np.array_equal(by_halves, expected)  # the order shows
    assert np.array_equal(rows.map_sum(np.sum, [], 0), expected)


@CLUSTER
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("config", CONFIGS)
def test_cluster_fit_equals_in_memory_fit(client, n_classes, config):
    X, y, weight = _data(n_classes)
    params = CONFIGS[config]
    reference = GradientDescentLogisticRegression(**params).fit(X, y, weight)
    # Blocks of uneven sizes, columns split too: the fit joins them.
    X_dask = da.from_array(X, chunks=(600, 5))
    model = GradientDescentLogisticRegression(**params).fit(
        X_dask, da.from_array(y, chunks=600), da.from_array(weight, chunks=600)
    )
    _assert_same_fit(model, reference)
    assert model.n_features_in_ == X.shape[1]


@CLUSTER
def test_predictions_are_dask_arrays_equal_to_in_memory_ones(client):
    X, y, _ = _data(3)
    model = GradientDescentLogisticRegression(max_iter=50, tol=0).fit(X, y)
    X_dask = da.from_array(X, chunks=(700, 8))
    for method in (
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    ):
        lazy = getattr(model, method)(X_dask)
        assert isinstance(lazy, da.Array), method
        expected = getattr(model, method)(X)
        assert lazy.shape == expected.shape and lazy.dtype == expected.dtype
        np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-12, err_msg=method)


@CLUSTER
@pytest.mark.parametrize("n_classes", [2, 4])
def test_cluster_spectral_fit_reaches_the_in_memory_solution(client, n_classes):
    """Spectral steps are ratios of sums: summed in another order, the path may
    part from the in-memory one by rounding, but not the solution."""
    X, y, weight = _data(n_classes)
    # Along the direction the softmax does not see (one constant added to a
    # feature's coefficients of every class) only the L2 part, 0.7 / S (S =
    # 2,000 weights), curves the objective: two stops at tol may lie tol S /
    # 0.7 apart there (3e-6 at tol=1e-9, 3e-7 at 1e-10).
    params = dict(solver="bb", class_weight="balanced", l1_ratio=0.3, tol=1e-10)
    reference = GradientDescentLogisticRegression(**params).fit(X, y, weight)
    model = GradientDescentLogisticRegression(**params).fit(
        da.from_array(X, chunks=(500, 8)), y, weight
    )
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.coef_ == 0, reference.coef_ == 0)


@CLUSTER
def test_fused_blocks_float32_and_many_features_on_the_cluster(client):
    """Blocks above 1 MB run the fused kernel on the workers; float32 stays
    float32; 300 features take the power-iteration step on the cluster."""
    X, y, weight = _data(2, n_samples=3000, n_features=300)
    X = X.astype(np.float32)
    params = dict(solver="gd", tol=0, max_iter=15)
    reference = GradientDescentLogisticRegression(**params).fit(X, y, weight)
    model = GradientDescentLogisticRegression(**params).fit(
        da.from_array(X, chunks=(1500, 300)), y, weight
    )
    assert model.coef_.dtype == np.float32
    # The same float32 maths summed in another order: float32 tolerance.
    _assert_same_fit(model, reference, rtol=1e-5, atol=1e-6)


def test_any_scheduler_runs_the_fit():
    import dask

    X, y, weight = _data(2)
    reference = GradientDescentLogisticRegression(tol=0, max_iter=30).fit(X, y, weight)
    with dask.config.set(scheduler="threads"):
        model = GradientDescentLogisticRegression(tol=0, max_iter=30).fit(
            da.from_array(X, chunks=(500, 8)), y, weight
        )
    _assert_same_fit(model, reference)


def test_bad_dask_input_is_refused_with_the_reason():
    X, y, _ = _data(2, n_samples=200)
    X[17, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        GradientDescentLogisticRegression().fit(da.from_array(X, chunks=50), y)
    with pytest.raises(ValueError, match="2 dimensions"):
        GradientDescentLogisticRegression().fit(da.zeros((200, 2, 2)), y)
    with pytest.raises(ValueError, match="needs X in memory"):
        GradientDescentLogisticRegressionCV().fit(da.from_array(X, chunks=50), y)


def test_predictions_on_the_default_scheduler_are_lazy_and_checked():
    X, y, _ = _data(3, n_samples=300)
    model = GradientDescentLogisticRegression(max_iter=20, tol=0).fit(X, y)
    X_dask = da.from_array(X, chunks=(70, 8))
    for method in ("predict", "predict_proba", "decision_function"):
        lazy = getattr(model, method)(X_dask)
        expected = getattr(model, method)(X)
        assert isinstance(lazy, da.Array) and lazy.dtype == expected.dtype
        np.testing.assert_array_equal(lazy.compute(), expected)
    X[17, 3] = np.nan
    lazy = model.predict(da.from_array(X, chunks=(70, 8)))  # nothing read yet
    with pytest.raises(ValueError, match="NaN"):
        lazy.compute()
    with pytest.raises(ValueError, match="features"):
        model.predict(da.from_array(X[:, :5], chunks=70))


def test_dask_rows_cannot_be_subset_for_cross_validation():
    from sklearn_gdlogreg._rows import make_rows

    rows = make_rows(da.from_array(np.arange(20.0).reshape(10, 2), chunks=(4, 2)))
    with pytest.raises(ValueError, match="needs X in memory.*compute the Dask"):
        rows.take(np.arange(5))  # a block and a part of one
    # Whole blocks (early stopping's held-out rows) can be taken.
    taken = rows.take(np.r_[0:4, 8:10])
    assert taken.row_sizes == (4, 2) and taken.block_spans() == [(0, 4), (4, 6)]
    np.testing.assert_array_equal(
        taken.X.compute(), rows.X.compute()[[*range(4), 8, 9]]
    )


class _KillAWorker:
    """A fit callback that kills (SIGKILL) one worker process at an iteration."""

    def __init__(self, client, at_iteration):
        self.client, self.at_iteration = client, at_iteration
        self.killed = None

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        import os
        import signal

        if context.task_name == "iteration" and self.killed is None:
            if fitted_estimator.n_iter_ == self.at_iteration:
                address, pid = sorted(self.client.run(os.getpid).items())[0]
                os.kill(pid, signal.SIGKILL)
                self.killed = address
        return False


@CLUSTER
def test_a_fit_survives_a_worker_killed_mid_fit():
    """The worker's blocks, targets and weights are recomputed from their graph:
    the fit ends with the coefficients of an undisturbed one."""
    pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")
    X, y, weight = _data(3, n_samples=4000)
    params = dict(solver="gd", tol=0, max_iter=30)
    reference = GradientDescentLogisticRegression(**params).fit(X, y, weight)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        killer = _KillAWorker(client, at_iteration=10)
        model = GradientDescentLogisticRegression(**params).set_callbacks(killer)
        model.fit(
            da.from_array(X, chunks=(500, 8)),
            da.from_array(y, chunks=500),
            da.from_array(weight, chunks=500),
        )
        assert killer.killed is not None
        assert killer.killed not in client.scheduler_info()["workers"]
    _assert_same_fit(model, reference)


# -- mini-batches ------------------------------------------------------------


def block_order(row_sizes, random_state):
    """The rows in the order a shuffled pass over the blocks visits them."""
    rng = np.random.RandomState(random_state)
    starts = np.cumsum((0, *row_sizes[:-1]))
    return np.concatenate([
        starts[block] + rng.permutation(row_sizes[block])
        for block in rng.permutation(len(row_sizes))
    ])  # fmt: skip


MINI_CONFIGS = {
    "adam": dict(solver="adam"),
    "sgd-l1-class-weight": dict(
        solver="sgd", learning_rate=0.1, l1_ratio=0.5, class_weight={0: 2.0, 1: 0.5}
    ),
}


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("config", MINI_CONFIGS)
def test_unshuffled_minibatches_of_a_dask_array_are_those_in_memory(n_classes, config):
    # Blocks of uneven sizes, each a multiple of the batch size, columns split.
    X, y, weight = _data(n_classes, n_samples=1200)
    params = dict(batch_size=40, shuffle=False, max_iter=3, tol=None)
    params.update(MINI_CONFIGS[config])
    expected = MiniBatchLogisticRegression(**params).fit(X, y, weight)
    X_dask = da.from_array(X, chunks=((400, 200, 600), (5, 3)))
    model = MiniBatchLogisticRegression(**params).fit(
        X_dask, da.from_array(y, chunks=300), da.from_array(weight, chunks=300)
    )
    # The same batches in the same order. A Dask batch's shares come from its
    # weights and the whole sum, an in-memory batch's from the whole data's
    # shares (those of the compiled epoch): equal to rounding.
    close = dict(rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.coef_, expected.coef_, **close)
    np.testing.assert_allclose(model.intercept_, expected.intercept_, **close)
    np.testing.assert_allclose(model.loss_curve_, expected.loss_curve_, **close)
    assert model.t_ == expected.t_ == 3 * 30
    # partial_fit: one pass over the array, in mini-batches.
    streamed = MiniBatchLogisticRegression(**params).partial_fit(
        X_dask, y, classes=np.unique(y), sample_weight=weight
    )
    first = MiniBatchLogisticRegression(**{**params, "max_iter": 1})
    np.testing.assert_allclose(streamed.coef_, first.fit(X, y, weight).coef_, **close)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_shuffled_pass_visits_blocks_in_shuffled_order_rows_shuffled_within(
    n_classes,
):
    X, y, weight = _data(n_classes, n_samples=1200)
    sizes = (300, 600, 150, 150)
    params = dict(batch_size=50, max_iter=1, tol=None, l1_ratio=0.2)
    model = MiniBatchLogisticRegression(random_state=5, **params)
    model.fit(da.from_array(X, chunks=(sizes, 8)), y, weight)
    order = block_order(sizes, 5)
    expected = MiniBatchLogisticRegression(shuffle=False, **params).fit(
        X[order], y[order], weight[order]
    )
    # Equal to rounding: see the unshuffled test above.
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(model.loss_curve_, expected.loss_curve_, rtol=1e-12)


def test_minibatch_fits_are_deterministic_whatever_the_scheduler():
    import dask

    X, y, _ = _data(3, n_samples=1500)
    X_dask = da.from_array(X, chunks=(250, 8))
    params = dict(batch_size=32, max_iter=2, tol=None, random_state=0)

    def fit(**changed):
        return MiniBatchLogisticRegression(**{**params, **changed}).fit(X_dask, y).coef_

    reference = fit()
    for config in (
        dict(scheduler="threads", num_workers=1),
        dict(scheduler="threads", num_workers=4),
        dict(scheduler="synchronous"),
    ):
        with dask.config.set(**config):
            np.testing.assert_array_equal(fit(), reference)
    assert not np.array_equal(fit(random_state=1), reference)


def test_minibatches_compute_one_block_at_a_time_never_the_array():
    # A lazy array of 16 MB, made block by block (0.8 MB each) when computed:
    # the fit holds a block or two, not the array, and computes each block
    # once per epoch, as it reaches it.
    computed = []

    def block(block_id=None):
        computed.append(block_id[0])
        rng = np.random.RandomState(block_id[0])
        return rng.standard_normal((2000, 50))

    X_dask = da.map_blocks(block, chunks=((2000,) * 20, (50,)), dtype=np.float64)
    y = (np.arange(40_000) % 3 == 0).astype(int)
    # A rate given: "auto" would read the blocks once more, on the workers as
    # full-batch descent does, for the rows' squared norms.
    model = MiniBatchLogisticRegression(
        batch_size=200, max_iter=2, tol=None, learning_rate=0.001
    )
    tracemalloc.start()
    try:
        model.fit(X_dask, y, sample_weight=np.ones(40_000))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sorted(computed) == sorted(2 * list(range(20)))
    assert peak < 4e6  # blocks and batches, and the labels and weights


def test_bad_values_of_a_lazy_array_are_refused_as_reached():
    X, y, _ = _data(2, n_samples=400)
    X[317, 3] = np.inf
    X_dask = da.from_array(X, chunks=100)
    for solver in ("adam", "sgd"):  # sgd's rate: a pass over the blocks first
        with pytest.raises(ValueError, match="NaN or infinity"):
            MiniBatchLogisticRegression(solver=solver, shuffle=False).fit(X_dask, y)


def recorded_blocks(X, row_size):
    """A lazy array of ``X`` in row blocks of ``row_size`` (which divides its
    rows), each made when computed; the list of ``(block, whether early
    stopping's score computed it)`` each time; the ``_Validation`` that says."""
    from sklearn_gdlogreg import _minibatch

    computed, scoring = [], []

    def block(block_id=None):
        computed.append((block_id[0], bool(scoring)))
        return X[block_id[0] * row_size : (block_id[0] + 1) * row_size]

    class Scored(_minibatch._Validation):
        def score(self, params):
            scoring.append(True)
            try:
                return super().score(params)
            finally:
                scoring.pop()

    chunks = ((row_size,) * (len(X) // row_size), (X.shape[1],))
    X_dask = da.map_blocks(block, chunks=chunks, dtype=X.dtype)
    return X_dask, computed, Scored


def test_early_stopping_on_a_dask_array_scores_whole_held_out_blocks(monkeypatch):
    from sklearn_gdlogreg import _minibatch

    X, y = make_classification(n_samples=1200, n_features=5, flip_y=0.3, random_state=1)
    weight = np.random.RandomState(0).uniform(0.5, 2, 1200)
    X_dask, computed, scored = recorded_blocks(X, 100)  # 12 blocks
    monkeypatch.setattr(_minibatch, "_Validation", scored)
    params = dict(solver="sgd", momentum=0.0, learning_rate=2.0, batch_size=20,
                  early_stopping=True, validation_fraction=0.25,
                  n_iter_no_change=5, C=np.inf, random_state=0)  # fmt: skip
    model = MiniBatchLogisticRegression(**params).fit(X_dask, y, weight)
    held = sorted({block for block, by_score in computed if by_score})
    trained = {block for block, by_score in computed if not by_score}
    # 3 whole blocks of 12 held out, each computed once per epoch by the
    # score alone; the epochs compute the 9 others only.
    epochs = int(model.n_iter_[0])
    assert len(held) == 3 and trained == set(range(12)) - set(held)
    assert sorted(b for b, by_score in computed if by_score) == sorted(held * epochs)
    scores = model.validation_scores_
    assert len(scores) == epochs and model.best_validation_score_ == max(scores)
    assert scores[-1] < model.best_validation_score_  # the best kept, not the last
    rows = np.concatenate([np.arange(100 * b, 100 * (b + 1)) for b in held])
    assert model.score(X[rows], y[rows], sample_weight=weight[rows]) == pytest.approx(
        model.best_validation_score_, rel=1e-12
    )
    # The same random_state, the same blocks held out and the same fit.
    computed.clear()
    again = MiniBatchLogisticRegression(**params).fit(X_dask, y, weight)
    assert sorted({block for block, by_score in computed if by_score}) == held
    assert again.validation_scores_ == scores
    np.testing.assert_array_equal(again.coef_, model.coef_)


def test_early_stopping_on_one_block_is_refused_with_the_fix():
    X, y, _ = _data(2, n_samples=200)
    with pytest.raises(
        ValueError,
        match=r"holds out whole row blocks of the Dask array.*one block.*rechunk",
    ):
        MiniBatchLogisticRegression(early_stopping=True).fit(
            da.from_array(X, chunks=(200, 8)), y
        )


@CLUSTER
def test_cluster_early_stopping_scores_the_held_out_blocks_on_the_workers(client):
    import dask

    X, y, weight = _data(3, n_samples=1200)
    params = dict(early_stopping=True, validation_fraction=0.25, random_state=0,
                  batch_size=40, max_iter=5)  # fmt: skip
    X_dask = da.from_array(X, chunks=(100, 8))
    model = MiniBatchLogisticRegression(**params)
    with pytest.warns(ConvergenceWarning):  # 5 epochs: the rule is not met
        model.fit(X_dask, y, weight)
    # The same blocks held out and the same batches as without a cluster.
    with dask.config.set(scheduler="synchronous"):
        expected = MiniBatchLogisticRegression(**params)
        with pytest.warns(ConvergenceWarning):
            expected.fit(da.from_array(X, chunks=(100, 8)), y, weight)
    np.testing.assert_allclose(
        model.validation_scores_, expected.validation_scores_, rtol=1e-12
    )
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-12, atol=1e-15)


@CLUSTER
@pytest.mark.parametrize("shuffle", [False, True])
def test_cluster_minibatches_fetch_the_blocks_from_the_workers(client, shuffle):
    X, y, weight = _data(3, n_samples=1200)
    sizes = (400, 200, 600)
    params = dict(batch_size=40, max_iter=1, tol=None, random_state=2)
    model = MiniBatchLogisticRegression(shuffle=shuffle, **params).fit(
        da.from_array(X, chunks=(sizes, 8)), y, weight
    )
    order = block_order(sizes, 2) if shuffle else np.arange(1200)
    expected = MiniBatchLogisticRegression(shuffle=False, **params).fit(
        X[order], y[order], weight[order]
    )
    # Equal to rounding: see test_unshuffled_minibatches_of_a_dask_array_...
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-12, atol=1e-15)
