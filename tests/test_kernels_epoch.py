"""The compiled mini-batch epoch against the Python path of ``run_epoch``."""

import numpy as np
import pytest
from scipy import sparse

from sklearn_gdlogreg import _kernels, _kernels_epoch
from sklearn_gdlogreg._kernels import limit_threads
from sklearn_gdlogreg._kernels_epoch import RULES, CompiledEpochs, _update
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._namespace import namespace_of
from sklearn_gdlogreg._objective import LinearObjective, linear_objective
from sklearn_gdlogreg._penalty import penalty_for
from sklearn_gdlogreg._solvers.epochs import run_epoch
from sklearn_gdlogreg._solvers.stochastic import make_update_rule

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: The update rules, as MiniBatchLogisticRegression's parameters make them.
RULE_PARAMS = {
    "sgd": dict(solver="sgd", momentum=0.0),
    "momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
    "nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
    "rmsprop": dict(solver="rmsprop"),
    "adam": dict(solver="adam"),
}
#: Agreement of the two paths: the sums go in another order.
TOLERANCE = {
    np.float64: dict(rtol=1e-10, atol=1e-12),
    np.float32: dict(rtol=1e-5, atol=1e-5),
}


def objective_of(X, y, n_classes, weight=None, C=1.0, l1_ratio=0.0, fit_intercept=True):
    loss = loss_for_classes(n_classes)
    target = loss.encode_target(y, X.dtype)
    return linear_objective(loss, X, target, weight, C, fit_intercept, l1_ratio)


def small_objective(n_classes, dtype, case, n_samples=61, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y = rng.randint(n_classes, size=n_samples)
    if case == "l2":
        return objective_of(X, y, n_classes)
    if case == "l1 and weights":
        weight = rng.uniform(0, 3, n_samples).astype(dtype)
        return objective_of(X, y, n_classes, weight, C=0.02, l1_ratio=0.6)
    # no penalty, no intercept
    return objective_of(X, y, n_classes, C=np.inf, fit_intercept=False)


def python_epochs(objective, rule, lr, batch_size, epochs, seed=0):
    """``epochs`` passes of ``run_epoch``: params, means, the rule."""
    data, random_state = objective.data, np.random.RandomState(seed)
    params = np.zeros((1, data.loss.n_outputs, objective.n_params), data.dtype)
    means = []
    for _ in range(epochs):
        batches = (
            (
                LinearObjective(batch, objective.penalty, objective.fit_intercept),
                batch.shape[0] / data.shape[0],
            )
            for batch in data.mini_batches(batch_size, random_state)
        )
        means.append(run_epoch(batches, params, rule, lr))
    return params, means, rule


def compiled_epochs(objective, rule, lr, batch_size, epochs, seed=0):
    """The same passes, compiled."""
    data, random_state = objective.data, np.random.RandomState(seed)
    params = np.zeros((1, data.loss.n_outputs, objective.n_params), data.dtype)
    compiled = CompiledEpochs(objective, batch_size)
    means = [
        compiled.run(params, rule, lr, data.epoch_blocks(batch_size, random_state))
        for _ in range(epochs)
    ]
    return params, means, rule


def assert_same_epochs(python, compiled, dtype):
    (params, means, rule), (params_c, means_c, rule_c) = python, compiled
    # The absolute tolerance on the parameters' scale (a small entry next to
    # large ones has their rounding).
    tolerance = dict(TOLERANCE[dtype])
    tolerance["atol"] *= max(1.0, float(np.max(np.abs(params), initial=0.0)))
    assert params_c.dtype == params.dtype == dtype
    np.testing.assert_allclose(params_c, params, **tolerance)
    tolerance = TOLERANCE[dtype]
    # Losses near 0 (a separable batch) are differences of margins: to the
    # margins' rounding.
    np.testing.assert_allclose(
        [mean for mean, _ in means_c], [mean for mean, _ in means], **tolerance
    )
    assert [updates for _, updates in means_c] == [updates for _, updates in means]
    assert rule_c.t == rule.t
    for name in ("velocity", "mean", "squares"):
        state, state_c = getattr(rule, name, None), getattr(rule_c, name, None)
        assert (state is None) == (state_c is None)
        if state is not None:
            assert state_c.dtype == dtype
            np.testing.assert_allclose(state_c, state, **tolerance)


@pytest.mark.parametrize("rule", list(RULE_PARAMS))
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", ["l2", "l1 and weights", "no penalty, no intercept"])
def test_compiled_epochs_equal_python_epochs(rule, n_classes, dtype, case):
    # Three shuffled passes of batches of 16 rows out of 61 (the last of 13).
    objective = small_objective(n_classes, dtype, case)
    params = dict(RULE_PARAMS[rule])
    lr = 0.05 if rule in ("rmsprop", "adam") else 0.5
    python = python_epochs(objective, make_update_rule(**params), lr, 16, 3)
    compiled = compiled_epochs(objective, make_update_rule(**params), lr, 16, 3)
    assert_same_epochs(python, compiled, dtype)
    if case == "l1 and weights":
        assert np.any(python[0] == 0) and np.any(compiled[0] == 0)


@pytest.mark.parametrize("rule", list(RULE_PARAMS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("l1", [0.0, 0.3])
def test_update_rules_step_bit_for_bit_as_numpy(rule, dtype, l1):
    # The update and the prox, compiled without fast-math, round as NumPy's
    # array expressions do.
    rng = np.random.RandomState(1)
    n_features = 3
    python_rule = make_update_rule(**RULE_PARAMS[rule])
    compiled_rule = make_update_rule(**RULE_PARAMS[rule])
    # l1 / (C S) with C S = 1 / l1.
    # NumPy through its array-API wrapper, as the package computes (NumPy 1.24's
    # own clip takes no min=).
    xp = namespace_of(np.zeros(1))[0]
    penalty = penalty_for(1 / l1 if l1 else np.inf, 1.0, 1.0, n_features, xp)
    params = rng.standard_normal((1, 2, n_features + 1)).astype(dtype)
    compiled = params.copy()
    for t in range(1, 6):
        gradient = rng.standard_normal(params.shape).astype(dtype)
        steps = python_rule.step(params, gradient, 0.1)
        if l1:
            penalty.prox(params, steps)
        name, constants, (first, second) = compiled_rule.compiled_state(compiled)
        none = np.zeros((0, 0), dtype)
        _update(
            RULES[name], compiled[0], gradient[0],
            none if first is None else first[0],
            none if second is None else second[0],
            np.asarray(constants), t, 0.1, l1, n_features,
        )  # fmt: skip
        compiled_rule.t += 1
        # The same bits when _update is compiled on its own; a few units in the
        # last place apart when its specialisation comes from the epoch's
        # compile in the same process (seen with a cold cache): within 8 eps.
        np.testing.assert_allclose(
            compiled, params, rtol=8 * np.finfo(dtype).eps, atol=0
        )
    assert compiled.dtype == dtype


@st.composite
def epoch_problems(draw):
    n_samples = draw(st.integers(1, 40))
    n_features = draw(st.integers(1, 5))
    n_classes = draw(st.integers(2, 4))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    scale = draw(st.sampled_from([1e-3, 1.0, 10.0]))
    X = (rng.standard_normal((n_samples, n_features)) * scale).astype(dtype)
    y = rng.randint(n_classes, size=n_samples)
    weight = None
    if draw(st.booleans()):
        weight = rng.uniform(0, 3, n_samples) * (rng.uniform(size=n_samples) > 0.3)
        weight = weight.astype(dtype) if weight.any() else None
    objective = objective_of(
        X,
        y,
        n_classes,
        weight,
        C=draw(st.sampled_from([0.01, 1.0, np.inf])),
        l1_ratio=draw(st.sampled_from([0.0, 0.5, 1.0])),
        fit_intercept=draw(st.booleans()),
    )
    rule = draw(st.sampled_from(list(RULE_PARAMS)))
    lr = draw(st.sampled_from([1e-3, 0.01, 0.1]))
    # Rates that move the margins by at most about 1 a step (for "sgd", up to
    # 1 / L): larger ones make the descent chaotic, and any rounding grows
    # until the paths part.
    if rule in ("sgd", "momentum", "nesterov"):
        lr = lr * 10 / float(objective.lipschitz_constant(exact=False))
    else:
        lr = lr / max(scale, 1.0)
    return objective, rule, lr, draw(st.integers(1, n_samples)), dtype


@settings(max_examples=60, deadline=None)
@given(epoch_problems())
def test_compiled_epochs_equal_python_epochs_on_random_problems(problem):
    objective, rule, lr, batch_size, dtype = problem
    params = dict(RULE_PARAMS[rule])
    if rule in ("rmsprop", "adam"):
        # These rules divide by the root mean square of the gradient entries
        # plus epsilon: where an entry is of the order of epsilon=1e-8 (a
        # softmax's intercepts near their optimum), its rounding is scaled up
        # by lr / epsilon, and in float32 an entry of rounding noise alone
        # makes a step of lr in either path's direction. A larger epsilon
        # keeps the steps of rounding small.
        params["epsilon"] = 1e-3
    python = python_epochs(objective, make_update_rule(**params), lr, batch_size, 2)
    compiled = compiled_epochs(objective, make_update_rule(**params), lr, batch_size, 2)
    assert_same_epochs(python, compiled, dtype)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_margins_stay_finite_without_warnings(n_classes, dtype):
    # Margins of 1e5 and more: the stable losses and sigmoid/softmax give
    # finite objectives and steps (pytest's settings make a RuntimeWarning an
    # error, and the compiled epoch gives none).
    rng = np.random.RandomState(0)
    X = (rng.standard_normal((50, 3)) * 1e4).astype(dtype)
    y = rng.randint(n_classes, size=50)
    objective = objective_of(X, y, n_classes)
    rule = make_update_rule("sgd", momentum=0.0)
    params, means, _ = compiled_epochs(objective, rule, 10.0, 10, 2)
    assert np.all(np.isfinite(params))
    assert all(np.isfinite(mean) and mean > 1e3 for mean, _ in means)
    python = python_epochs(
        objective, make_update_rule("sgd", momentum=0.0), 10.0, 10, 2
    )
    np.testing.assert_allclose(params, python[0], rtol=1e-4)


def test_a_diverging_pass_ends_at_the_first_non_finite_objective():
    # Steps of 1e300 overflow the parameters: the pass ends at the first
    # batch whose objective is not finite, unstepped, as run_epoch's.
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 3)) * 1e10
    objective = objective_of(X, rng.randint(2, size=40), 2)
    compiled = compiled_epochs(
        objective, make_update_rule("sgd", momentum=0.0), 1e300, 5, 1
    )
    with np.errstate(over="ignore", invalid="ignore"):  # NumPy's overflows
        python = python_epochs(
            objective, make_update_rule("sgd", momentum=0.0), 1e300, 5, 1
        )
    (mean, updates), (mean_python, updates_python) = compiled[1][0], python[1][0]
    assert mean == mean_python == np.inf
    assert updates == updates_python < 8
    assert compiled[2].t == python[2].t == updates - 1


def test_the_result_does_not_depend_on_the_threads():
    objective = small_objective(3, np.float64, "l1 and weights")
    results = []
    for threads in (1, None):
        with limit_threads(threads):
            params, means, _ = compiled_epochs(
                objective, make_update_rule("adam"), 0.1, 8, 2
            )
        results.append((params, means))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]


def test_parameters_and_state_not_contiguous_are_written_back():
    # partial_fit without an intercept slices the packed parameters.
    objective = small_objective(3, np.float64, "no penalty, no intercept")
    n_params = objective.n_params
    packed = np.zeros((1, 3, n_params + 1))
    params = packed[:, :, :n_params]
    assert not params[0].flags.c_contiguous
    rule = make_update_rule("adam")
    blocks = [(0, objective.data.dense, np.arange(61))]
    CompiledEpochs(objective, 16).run(params, rule, 0.1, blocks)
    reference = np.zeros((1, 3, n_params))
    CompiledEpochs(objective, 16).run(reference, make_update_rule("adam"), 0.1, blocks)
    np.testing.assert_array_equal(params, reference)
    assert np.all(packed[..., n_params] == 0) and rule.t == 4


def test_the_rows_the_compiled_epoch_reads():
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((30, 3)), rng.randint(2, size=30)
    assert objective_of(X, y, 2).data.compiled_epochs
    assert objective_of(X.astype(np.float32), y, 2).data.compiled_epochs
    assert not objective_of(np.asfortranarray(X), y, 2).data.compiled_epochs
    assert not objective_of(sparse.csr_array(X), y, 2).data.compiled_epochs
    loss = loss_for_classes(2)
    folds = linear_objective(
        loss, X, loss.encode_target(y, X.dtype), np.ones((2, 30)), 1.0, True,
        kernel="numpy",
    )  # fmt: skip
    assert not folds.data.compiled_epochs  # one model per fold's weights


def test_the_cache_key_changes_with_the_kernels_and_vecmath_sources(monkeypatch):
    class Codegen:
        def magic_tuple(self):
            return ("target", "cpu", "features")

    cache = _kernels_epoch._epoch._cache
    assert isinstance(cache, _kernels_epoch._EpochCache)
    key = cache._index_key((), Codegen())
    monkeypatch.setattr(_kernels_epoch._EpochCache, "_KERNELS", "another source")
    assert cache._index_key((), Codegen()) != key
    monkeypatch.undo()
    monkeypatch.setattr(_kernels._KernelCache, "_VECMATH", "another source")
    assert cache._index_key((), Codegen()) != key


def test_a_slow_compile_is_said_once_on_stderr(first_call, monkeypatch, capsys):
    import threading

    said = threading.Event()
    say = _kernels._say_compiling

    def say_and_record(*args):
        say(*args)
        said.set()

    def slow_compile(function, args):
        first_call.append(function)
        assert said.wait(60)  # the "compile" lasts until the line is out

    monkeypatch.setattr(_kernels, "_say_compiling", say_and_record)
    monkeypatch.setattr(_kernels, "_compile", slow_compile)
    monkeypatch.setattr(_kernels, "_SAY_AFTER", 0.01)
    objective = small_objective(2, np.float64, "l2")
    for _ in range(2):
        compiled_epochs(objective, make_update_rule("adam"), 0.1, 16, 1)
    assert first_call == [_kernels_epoch._epoch]
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith(
        "sklearn_gdlogreg: compiling the mini-batch epoch kernel for float64 data, "
        "a few seconds, "
    )


def test_one_variant_per_dtype_for_every_rule_and_loss(first_call, monkeypatch, capsys):
    monkeypatch.setattr(_kernels, "_SAY_AFTER", 3600.0)
    for dtype in (np.float64, np.float32):
        for n_classes in (2, 3):
            objective = small_objective(n_classes, dtype, "l1 and weights")
            for params in RULE_PARAMS.values():
                compiled_epochs(objective, make_update_rule(**params), 0.1, 16, 1)
    assert first_call == [_kernels_epoch._epoch] * 2
    assert capsys.readouterr().err == ""
