"""The fused pass against the NumPy two-pass reference of ``_loss``."""

import numpy as np
import pytest

from sklearn_gdlogreg._kernels import (
    FusedSums,
    _cache_bytes,
    block_rows,
    group_rows,
    limit_threads,
)
from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._objective import linear_objective
from sklearn_gdlogreg._rows.fused import FusedRows
from sklearn_gdlogreg._rows.numpy import NumpyRows


def objectives(n_samples, n_features, n_classes, dtype, weighted, fit_intercept, C):
    rng = np.random.RandomState(n_samples * 7 + n_features)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    y = rng.randint(n_classes, size=n_samples)
    y[: min(n_classes, n_samples)] = np.arange(min(n_classes, n_samples))
    weight = rng.uniform(0.1, 3, n_samples).astype(dtype) if weighted else None
    loss = loss_for_classes(n_classes)
    target = loss.encode_target(y, dtype)
    return [
        linear_objective(loss, X, target, weight, C, fit_intercept, kernel=kernel)
        for kernel in ("fused", "numpy")
    ]


def random_params(objective, k, dtype, scale=1.0):
    rng = np.random.RandomState(k)
    shape = (k, objective.data.loss.n_outputs, objective.n_params)
    return (scale * rng.standard_normal(shape)).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize(
    ("n_samples", "n_features"),
    # 7 rows of 140,000 float64 (1.1 MB): rows wider than a core's L2, in groups
    # of 4, then 2, then 1.
    [(1, 1), (17, 5), (1000, 3), (300, 700), (7, 140_000)],
)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_fused_pass_equals_the_numpy_reference(
    dtype, n_classes, n_samples, n_features, weighted, fit_intercept
):
    # Three models with their own penalties, evaluated at once.
    C = np.array([np.inf, 1.0, 0.01])
    fused, reference = objectives(
        n_samples, n_features, n_classes, dtype, weighted, fit_intercept, C
    )
    assert isinstance(fused.data, FusedRows)
    assert isinstance(reference.data, NumpyRows)
    params = random_params(fused, 3, dtype)
    values, gradient = fused.loss_gradient(params)
    expected_values, expected_gradient = reference.loss_gradient(params)
    assert gradient.dtype == dtype and gradient.shape == params.shape
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(values, expected_values, rtol=rtol)
    scale = np.abs(expected_gradient).max()
    np.testing.assert_allclose(gradient, expected_gradient, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fused_pass_is_finite_at_extreme_margins(n_classes):
    # Margins of about +-1e4: exp would overflow without the stable forms.
    fused, reference = objectives(50, 4, n_classes, np.float64, True, True, 1.0)
    params = random_params(fused, 1, np.float64, scale=3000.0)
    values, gradient = fused.loss_gradient(params)
    expected_values, expected_gradient = reference.loss_gradient(params)
    assert np.isfinite(values).all() and np.isfinite(gradient).all()
    np.testing.assert_allclose(values, expected_values, rtol=1e-12)
    np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-12, atol=1e-12)


def test_fused_pass_propagates_nan_for_divergence_checks():
    fused, _ = objectives(40, 3, 2, np.float64, False, True, np.inf)
    params = random_params(fused, 1, np.float64)
    params[0, 0, 0] = np.inf
    values, gradient = fused.loss_gradient(params)
    assert not np.isfinite(values).all()


@pytest.mark.parametrize(
    ("n_samples", "n_features", "n_outputs"),
    # narrow rows (several blocks of many groups); rows of 160 KB (blocks of
    # 128 rows, groups of 4); softmax over 3 outputs for two models.
    [(10_000, 37, 1), (300, 20_000, 1), (10_000, 37, 3)],
)
def test_sums_do_not_depend_on_threads_or_chunks(n_samples, n_features, n_outputs):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((n_samples, n_features))
    m = 2 * n_outputs
    if n_outputs == 1:
        target = (rng.rand(n_samples) > 0.5).astype(float)
    else:
        target = rng.randint(n_outputs, size=n_samples).astype(float)
    weight = rng.rand(n_samples)
    coef = rng.standard_normal((m, n_features)) / np.sqrt(n_features)
    intercept = rng.standard_normal(m)

    def sums(pieces, threads):
        with limit_threads(threads):
            total = FusedSums(n_features, X.dtype, coef, intercept, n_outputs)
            for rows in pieces:
                total.add(X[rows], target[rows], weight[rows], {})
        return total.loss, total.grad, total.intercept_grad

    block = block_rows(n_features, 8)
    assert n_samples > 2 * block
    whole = sums([slice(None)], None)
    one_thread = sums([slice(0, None)], 1)
    chunked = sums(
        [slice(0, block), slice(block, 2 * block), slice(2 * block, None)], 1
    )
    for a, b, c in zip(whole, one_thread, chunked, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_groups_are_multiples_of_four_rows_within_a_block():
    for n_features in (1, 3, 37, 256, 1024, 12_288, 140_000):
        for itemsize in (4, 8):
            group = group_rows(n_features, itemsize)
            assert group % 4 == 0 and group >= 4
            assert block_rows(n_features, itemsize) >= group


def _describe_cache(folder, index, level, kind, size):
    entry = folder / f"index{index}"
    entry.mkdir()
    for name, text in {"level": level, "type": kind, "size": size}.items():
        (entry / name).write_text(f"{text}\n")


def test_cache_sizes_come_from_the_data_caches_linux_describes(tmp_path):
    _describe_cache(tmp_path, 0, 1, "Data", "48K")
    _describe_cache(tmp_path, 1, 1, "Instruction", "64K")
    _describe_cache(tmp_path, 2, 2, "Unified", "2048K")
    _describe_cache(tmp_path, 3, 3, "Unified", "32M")
    assert _cache_bytes(1, 7, tmp_path) == 48 << 10
    assert _cache_bytes(2, 7, tmp_path) == 2 << 20
    assert _cache_bytes(3, 7, tmp_path) == 32 << 20
    assert _cache_bytes(4, 7, tmp_path) == 7
    assert _cache_bytes(1, 7, tmp_path / "absent") == 7


def test_kernel_choice():
    X = np.zeros((10, 3))
    loss = loss_for_classes(2)
    target = loss.encode_target(np.arange(10) % 2, X.dtype)
    evaluator = linear_objective(loss, X, target, None, 1.0, True).data
    assert not isinstance(evaluator, FusedRows)  # small
    with pytest.raises(ValueError, match="C-ordered dense"):
        linear_objective(
            loss, np.asfortranarray(X), target, None, 1.0, True, 0, "fused"
        )
    with pytest.raises(ValueError, match="kernel must be"):
        linear_objective(loss, X, target, None, 1.0, True, kernel="blas")


def test_float32_fit_never_copies_or_upcasts_X(fused_at_once):
    import tracemalloc

    from sklearn_gdlogreg import GradientDescentLogisticRegression

    rng = np.random.RandomState(0)
    X = rng.standard_normal((40_000, 64)).astype(np.float32)  # 10 MB
    y = (X[:, 0] > 0).astype(int)
    # A fixed step: the "auto" step's Gram matrix is built in float64 chunks.
    model = GradientDescentLogisticRegression(learning_rate=0.1, max_iter=3, tol=0)
    model.fit(X, y)  # compile first
    tracemalloc.start()
    try:
        model.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert model.coef_.dtype == np.float32
    assert peak < X.nbytes / 4


def test_fits_in_many_threads_at_once_equal_a_fit_alone(fused_at_once):
    # Six fits share the kernel's thread pool: each waits for its own ranges.
    import threading

    from sklearn_gdlogreg import GradientDescentLogisticRegression

    rng = np.random.RandomState(0)
    X = rng.standard_normal((2000, 100))  # 1.6 MB: the fused pass
    y = (X[:, 0] > 0).astype(int)

    def fit():
        model = GradientDescentLogisticRegression(max_iter=20, tol=0)
        return model.fit(X, y).coef_

    alone = fit()
    results = [None] * 6

    def run(i):
        results[i] = fit()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(r, alone) for r in results)


def _threaded_sums(queue=None):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((10_000, 37))  # 3 blocks: the pool's threads too
    sums = FusedSums(37, X.dtype, np.ones((1, 37)), np.zeros(1), 1)
    with limit_threads(None):
        sums.add(X, (X[:, 0] > 0).astype(float), np.full(1, 1e-4), {})
    if queue is not None:
        queue.put(sums.loss[0])
    return sums.loss[0]


# Python 3.12+ warns of fork() in a process with threads, which this test makes
# on purpose (the kernel's pool must be rebuilt in the child).
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"
)
def test_a_forked_child_runs_the_pass_in_threads_of_its_own():
    # The parent's pool exists; its threads do not in a forked child.
    import multiprocessing

    expected = _threaded_sums()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_threaded_sums, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=120) == expected
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()


def _sums_of_ones(dtype=np.float64):
    X = np.ones((300, 4), dtype)
    sums = FusedSums(4, X.dtype, np.zeros((1, 4), dtype), np.zeros(1, dtype), 1)
    sums.add(X, np.ones(300, dtype), np.full(1, 1 / 300, dtype), {})
    return sums


def test_a_compile_that_outlasts_a_second_is_said_on_stderr(
    first_call, monkeypatch, capsys
):
    import threading

    from sklearn_gdlogreg import _kernels

    said = threading.Event()
    say = _kernels._say_compiling

    def say_and_record(dtype):
        say(dtype)
        said.set()

    def slow_compile(function, args):
        first_call.append(function)
        assert said.wait(60)  # the "compile" lasts until the line is out

    monkeypatch.setattr(_kernels, "_say_compiling", say_and_record)
    monkeypatch.setattr(_kernels, "_compile", slow_compile)
    monkeypatch.setattr(_kernels, "_SAY_AFTER", 0.01)
    _sums_of_ones()
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith(
        "sklearn_gdlogreg: compiling the fused kernel for float64 data, a few "
        "seconds, once for this machine (cached in "
    )


def test_a_quick_first_call_says_nothing_and_a_variant_compiles_once(
    first_call, monkeypatch, capsys
):
    from sklearn_gdlogreg import _kernels

    monkeypatch.setattr(_kernels, "_SAY_AFTER", 3600.0)
    for _ in range(3):
        _sums_of_ones()
    assert first_call == [_kernels._block_sums, _kernels._add_blocks]
    _sums_of_ones(np.float32)
    assert len(first_call) == 4
    assert capsys.readouterr().err == ""


VARIANTS = """
import numpy as np
from sklearn_gdlogreg import GradientDescentLogisticRegression, _kernels
from sklearn_gdlogreg._rows import fused
fused.DeferredFusedRows.numpy_bytes = 0  # the kernel from the first evaluation
rng = np.random.default_rng(0)
X = rng.standard_normal((40_000, 10))  # 3.2 MB, 1.6 MB in float32
model = GradientDescentLogisticRegression(max_iter=3, tol=0)
def counts():
    return [len(f.signatures) for f in (_kernels._block_sums, _kernels._add_blocks)]
model.fit(X, X[:, 0] > 0)
print(*counts(), _kernels._block_sums.signatures[0][0].dtype)
model.fit(X, np.digitize(X[:, 0], [-0.5, 0.5]))  # multinomial: the same code
print(*counts())
model.fit(X.astype(np.float32), X[:, 0] > 0)
print(*counts())
"""


@pytest.mark.slow
def test_a_fit_compiles_the_variant_of_its_dtype_only():
    # Nothing is compiled when the package is imported, nor ahead of the
    # dtype a fit needs; binary and multinomial share one variant.
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", VARIANTS], capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines() == ["1 1 float64", "1 1", "2 2"]
