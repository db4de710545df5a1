"""make_rows, the one place that chooses where the rows live, and the contract
every kind of rows keeps: the loss written out, extreme margins included."""

import h5py
import numpy as np
import pytest
from scipy import sparse
from scipy.special import expit, log_softmax, softmax
from sklearn.base import config_context

from sklearn_gdlogreg._loss import loss_for_classes
from sklearn_gdlogreg._namespace import as_numpy, namespace_of
from sklearn_gdlogreg._rows import make_rows
from sklearn_gdlogreg._rows.fused import DeferredFusedRows, FusedRows
from sklearn_gdlogreg._rows.hdf5 import HDF5Rows
from sklearn_gdlogreg._rows.numpy import NumpyRows


def test_in_memory_numpy_is_fused_from_a_megabyte_unless_told():
    small, large = np.zeros((10, 3)), np.zeros((2000, 100))  # 1.6 MB
    assert type(make_rows(small)) is NumpyRows
    assert type(make_rows(large)) is DeferredFusedRows
    assert type(make_rows(large, kernel="fused")) is FusedRows
    assert type(make_rows(np.asfortranarray(large))) is NumpyRows
    assert type(make_rows(sparse.csr_array(large))) is NumpyRows
    assert type(make_rows(large, kernel="numpy")) is NumpyRows
    assert type(make_rows(small, kernel="fused")) is FusedRows


def test_kernel_errors_name_the_problem(tmp_path):
    X = np.zeros((10, 3))
    with pytest.raises(ValueError, match="kernel must be one of"):
        make_rows(X, kernel="blas")
    for not_dense in (np.asfortranarray(X), sparse.csr_array(X)):
        with pytest.raises(ValueError, match="fused kernel needs a C-ordered dense"):
            make_rows(not_dense, kernel="fused")
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file["X"] = X
        rows = make_rows(file["X"])
        assert type(rows) is HDF5Rows and make_rows(rows) is rows
        for data in (file["X"], rows):
            with pytest.raises(
                ValueError, match="streamed from a file needs the fused"
            ):
                make_rows(data, kernel="numpy")


def test_rows_in_memory_are_chosen_again_for_the_kernel_and_their_size():
    large = np.zeros((2000, 100))
    rows = make_rows(large)
    assert type(make_rows(rows, kernel="numpy")) is NumpyRows
    fold = rows.take(np.arange(100))  # 80 kB: below the fused pass's megabyte
    assert fold.shape == (100, 100) and type(make_rows(fold)) is NumpyRows


def test_dense_is_the_ndarray_only():
    X = np.zeros((10, 3))
    assert make_rows(X).dense is X
    assert make_rows(X, kernel="fused").dense is X
    assert make_rows(sparse.csr_array(X)).dense is None


def test_dask_is_imported_only_for_a_dask_array():
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from sklearn_gdlogreg import GradientDescentLogisticRegression as G\n"
        "X = np.random.RandomState(0).standard_normal((50, 3))\n"
        "G(max_iter=5).fit(X, X[:, 0] > 0).predict(X)\n"
        "assert 'dask' not in sys.modules, 'dask imported'\n"
        "assert 'sklearn_gdlogreg._rows.dask' not in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


# -- the contract: every kind against the loss written out --------------------


def reference(X, y, weight, params, n_classes, fit_intercept):
    """Weighted mean log-loss and its gradient, model by model, in float64."""
    X = np.asarray(X, np.float64)
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, np.float64)
    share = weight / weight.sum()
    values, gradients = [], []
    for model in np.asarray(params, np.float64):
        coef = model[:, : X.shape[1]]
        raw = X @ coef.T + (model[:, -1] if fit_intercept else 0.0)
        if n_classes == 2:
            raw = raw[:, 0]
            loss = np.logaddexp(0, raw) - y * raw
            residual = (expit(raw) - y)[:, None]
        else:
            loss = -log_softmax(raw, axis=1)[np.arange(len(y)), y]
            residual = softmax(raw, axis=1) - np.eye(n_classes)[y]
        residual = residual * share[:, None]
        gradient = residual.T @ X
        if fit_intercept:
            gradient = np.column_stack([gradient, residual.sum(axis=0)])
        values.append(share @ loss)
        gradients.append(gradient)
    return np.array(values), np.array(gradients)


def _namespace_kinds():
    """(name, namespace) of the array-API namespaces installed."""
    kinds = []
    try:
        import array_api_strict

        kinds.append(("array_api_strict", array_api_strict))
    except ImportError:
        pass
    try:
        import torch

        kinds.append(("torch", torch))
    except ImportError:
        pass
    return kinds


NAMESPACES = dict(_namespace_kinds())
KINDS = ["numpy", "sparse", "fused", "hdf5", "dask", *NAMESPACES]


@pytest.fixture
def bound_rows(tmp_path):
    """``bound_rows(kind, X, y, weight, n_classes, fit_intercept)``: the rows of
    ``kind`` bound to ``y`` (an HDF5 file in ``tmp_path``, closed after)."""
    files = []

    def bound(kind, X, y, weight, n_classes, fit_intercept):
        loss = loss_for_classes(n_classes)
        target = loss.encode_target(y, X.dtype)
        kernel = {"numpy": "numpy", "fused": "fused"}.get(kind, "auto")
        if kind == "sparse":
            X = sparse.csr_array(X)
        elif kind == "hdf5":
            files.append(h5py.File(tmp_path / "data.h5", "w"))
            files[-1]["X"] = X
            rows = make_rows(files[-1]["X"])
            rows.chunk_bytes = 128 * X.shape[1] * X.itemsize  # several chunks
            return rows.bind(loss, target, weight, fit_intercept)
        elif kind == "dask":
            da = pytest.importorskip("dask.array")
            X = da.from_array(X, chunks=(70, X.shape[1]))
        elif kind in NAMESPACES:
            with config_context(array_api_dispatch=True):
                try:
                    data = NAMESPACES[kind].asarray(X)
                    loss = loss_for_classes(n_classes, namespace_of(data)[0])
                    return make_rows(data).bind(loss, target, weight, fit_intercept)
                except ImportError:  # SciPy < 1.14 cannot dispatch the array API
                    pytest.skip("SciPy cannot dispatch the array API")
        return make_rows(X, kernel=kernel).bind(loss, target, weight, fit_intercept)

    yield bound
    for file in files:
        file.close()


def evaluate(kind, rows, params):
    """values, value-only values and the gradient as NumPy, for any kind."""
    if kind not in NAMESPACES:
        values, gradient = rows.loss_gradient(params)
        return values, rows.value(params), np.asarray(gradient)
    with config_context(array_api_dispatch=True):
        params = rows.xp.asarray(params, device=rows.device)
        values, gradient = rows.loss_gradient(params)
        value_only = rows.value(params)
        return values, value_only, as_numpy(gradient)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("scale", [1.0, 3000.0])
def test_every_kind_of_rows_matches_the_written_out_loss(
    kind, dtype, n_classes, k, weighted, fit_intercept, scale, bound_rows
):
    """Scale 3000: margins of about +-1e4, where exp overflows without the
    stable forms."""
    rng = np.random.RandomState(k + 7 * n_classes)
    X = rng.standard_normal((300, 7)).astype(dtype)
    y = rng.randint(n_classes, size=300)
    weight = rng.uniform(0.1, 3, 300).astype(dtype) if weighted else None
    n_outputs = 1 if n_classes == 2 else n_classes
    params = (scale * rng.standard_normal((k, n_outputs, 7 + fit_intercept))).astype(
        dtype
    )
    expected_values, expected_gradient = reference(
        X, y, weight, params, n_classes, fit_intercept
    )
    rows = bound_rows(kind, X, y, weight, n_classes, fit_intercept)
    values, value_only, gradient = evaluate(kind, rows, params)
    values, value_only = np.asarray(values), np.asarray(value_only)
    assert values.dtype == np.float64 and values.shape == (k,)
    assert gradient.dtype == dtype and gradient.shape == params.shape
    assert np.isfinite(values).all() and np.isfinite(gradient).all()
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    if scale > 1 and dtype == np.float32:
        rtol = 1e-4  # float32 margins of 1e4 hold 3 digits after the point
    np.testing.assert_allclose(values, expected_values, rtol=rtol)
    np.testing.assert_allclose(value_only, expected_values, rtol=rtol)
    atol = rtol * np.abs(expected_gradient).max()
    np.testing.assert_allclose(gradient, expected_gradient, rtol=0, atol=atol)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("exact", [True, False])
def test_every_kind_bounds_the_weighted_spectral_norm(kind, exact, bound_rows):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((50, 6))
    y = rng.randint(2, size=50)
    weight = rng.uniform(0.1, 2, 50)
    rows = bound_rows(kind, X, y, weight, 2, True)
    with config_context(array_api_dispatch=kind in NAMESPACES):
        got = rows.squared_norm(exact)
    X1 = np.column_stack([X, np.ones(50)]) * np.sqrt(weight / weight.sum())[:, None]
    spectral = np.linalg.norm(X1, 2) ** 2
    if exact:
        assert got == pytest.approx(spectral, rel=1e-10)
    else:
        assert got == pytest.approx(np.sum(X1**2), rel=1e-10) and got >= spectral


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_gives_column_squares_and_scaled_bounds(kind, bound_rows):
    # What the diagonal preconditioner asks of the rows: the diagonal of
    # X1^T W X1 and the norm of W^(1/2) X1 diag(s), in one pass or exactly.
    rng = np.random.RandomState(0)
    X = rng.standard_normal((50, 6)) * np.logspace(-1, 2, 6)
    y = rng.randint(2, size=50)
    weight = rng.uniform(0.1, 2, 50)
    scale = np.logspace(1, -2, 7)
    rows = bound_rows(kind, X, y, weight, 2, True)
    with config_context(array_api_dispatch=kind in NAMESPACES):
        squares = rows.column_squares()
        exact = rows.squared_norm(True, column_scale=scale)
        frobenius = rows.squared_norm(False, column_scale=scale)
    X1 = np.column_stack([X, np.ones(50)]) * np.sqrt(weight / weight.sum())[:, None]
    np.testing.assert_allclose(squares, np.sum(X1**2, axis=0), rtol=1e-10)
    assert exact == pytest.approx(np.linalg.norm(X1 * scale, 2) ** 2, rel=1e-10)
    assert frobenius == pytest.approx(np.sum((X1 * scale) ** 2), rel=1e-10)
