"""Where the rows live: :func:`make_rows` chooses once, for fit and for predict.

One class per kind of data, each in its module, all behind the protocol of
:class:`~sklearn_gdlogreg._rows._base.Rows`:

- ``numpy.NumpyRows``: NumPy or SciPy-sparse rows, two BLAS passes, lean: the
  reference the others are tested against;
- ``fused.FusedRows``: dense C-ordered rows in memory, one read per evaluation
  by the compiled kernel of ``_kernels``; ``fused.DeferredFusedRows``, the
  same after a descent's first GB of reading by NumPy's two passes (so that
  a short fit never compiles the kernel);
- ``hdf5.HDF5Rows``: an ``h5py.Dataset`` streamed in chunks into two reused
  buffers, the next chunk read in a thread while the current one is computed
  (``reading``), by the same kernel;
- ``namespace.NamespaceRows``: an array of another array-API namespace
  (PyTorch, CuPy), computed there, on its device;
- ``dask.DaskRows``: the blocks of a Dask array, summed on the workers (the
  module, and Dask, are imported only for a Dask array).

Every kind hands out mini-batches (``batches``): rows in memory at shuffled
indices, rows in blocks (a file's chunks, a Dask array's blocks) block by
block; and splits off early stopping's held-out rows (``held_out``): a
stratified sample in memory, whole blocks else, which ``take`` subsets. A new
kind of data is one new module with its class, and one line in ``_KINDS``.
The estimators ask :func:`rows_for_fit` and :func:`rows_for_predict` for
checked rows; the objective binds them (``make_rows(X).bind(...)``); the
step bound reads their chunks; nothing else tests what kind of X it has.
"""

import importlib
import sys

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._namespace import is_numpy, namespace_of
from ._base import KERNELS, Rows, computed_dtype, weight_shares

__all__ = [
    "KERNELS",
    "Rows",
    "check_subsettable",
    "computed_dtype",
    "gathered",
    "is_dask_array",
    "make_rows",
    "rows_for_fit",
    "rows_for_predict",
    "weight_shares",
]

# Below this size the fused pass gains too little to be worth its compilation.
_FUSED_MIN_BYTES = 1 << 20


def is_dask_array(X):
    """Whether ``X`` is a Dask array (without importing Dask)."""
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(X, module.Array)


def _is_hdf5_dataset(X, kernel):
    module = sys.modules.get("h5py")
    return module is not None and isinstance(X, module.Dataset)


def _is_other_namespace(X, kernel):
    return not is_numpy(namespace_of(X)[0])


def _dense(X):
    return isinstance(X, np.ndarray) and X.flags.c_contiguous


def _fused_asked(X, kernel):
    """Dense C-ordered NumPy data the fused kernel is asked for."""
    return kernel == "fused" and _dense(X)


def _fused_pays(X, kernel):
    """Dense C-ordered NumPy data of 1 MB or more, the kernel left to choose."""
    return kernel == "auto" and _dense(X) and X.nbytes >= _FUSED_MIN_BYTES


#: The kinds of rows, tried in order: (whether X is of the kind for a kernel,
#: the module, the class). A module is imported when its kind is first chosen.
_KINDS = (
    (lambda X, kernel: is_dask_array(X), ".dask", "DaskRows"),
    (_is_hdf5_dataset, ".hdf5", "HDF5Rows"),
    (_is_other_namespace, ".namespace", "NamespaceRows"),
    (_fused_asked, ".fused", "FusedRows"),
    (_fused_pays, ".fused", "DeferredFusedRows"),
    (lambda X, kernel: True, ".numpy", "NumpyRows"),
)


def _check_kernel_name(kernel):
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")


def kind_of(X, kernel="auto"):
    """The class of rows for ``X`` read by ``kernel``: see :func:`make_rows`."""
    _check_kernel_name(kernel)
    for belongs, module, name in _KINDS:
        if belongs(X, kernel):
            kind = getattr(importlib.import_module(module, __name__), name)
            kind.check_kernel(kernel)
            return kind
    raise AssertionError("the last kind takes anything")


def make_rows(X, *, kernel="auto"):
    """The rows of ``X``: the one place that chooses where the rows live.

    Parameters
    ----------
    X : {ndarray, sparse matrix, array-API array, h5py.Dataset, \
dask.array.Array, Rows}
        Checked data (see :func:`rows_for_fit`). Rows already made are kept
        if X is not in memory (a streamed file, a persisted Dask array); in
        memory, their kind is chosen again from their array (it depends on
        the array's size and on ``kernel``).
    kernel : {"auto", "fused", "numpy"}, default="auto"
        For dense in-memory NumPy data: "fused" (one pass), "numpy" (two BLAS
        passes) or "auto" (from 1 MB on, fused after a descent's first GB
        of reading, see ``fused.DeferredFusedRows``); "fused" raises for NumPy or
        sparse data that is not a C-ordered dense array. Streamed data is
        always fused ("numpy" raises). Another namespace and a Dask array are
        read their own way, whatever the kernel.

    Returns
    -------
    Rows
    """
    if isinstance(X, Rows):
        if not X.in_memory:
            _check_kernel_name(kernel)
            X.check_kernel(kernel)
            return X
        X = X.X
    return kind_of(X, kernel)(X)


def check_subsettable(X):
    """Raise ``ValueError`` for an ``X`` whose rows cannot be subset in memory
    (cross-validation's folds), before any of it is read."""
    kind = kind_of(X)
    if not kind.in_memory:
        raise ValueError(kind.take_error)


def gathered(array):
    """A Dask array's values in memory (labels, weights); anything else as is."""
    return array.compute() if is_dask_array(array) else array


def rows_for_fit(estimator, X, y, reset=True, *, batches=False):
    """The rows of ``X`` and ``y``, checked for ``estimator.fit``.

    In memory, ``validate_data`` in X's namespace (sparse accepted, float32 or
    float64); streamed or distributed, the shape and values of X as they are
    read, never loaded. Sets ``n_features_in_`` (and ``feature_names_in_``);
    with ``reset=False`` (a later ``partial_fit``), checks X against them.

    Parameters
    ----------
    batches : bool, default=False
        Whether the fit reads the rows in mini-batches rather than in full
        passes (see :meth:`~sklearn_gdlogreg._rows._base.Rows.for_fit`).

    Returns
    -------
    rows : Rows
    y : ndarray
    """
    data, y = kind_of(X).checked_for_fit(estimator, X, y, reset)
    return make_rows(data).for_fit(batches), y


def rows_for_predict(estimator, X, method):
    """The rows of ``X`` checked against the fitted ``estimator`` for ``method``.

    Their :meth:`~sklearn_gdlogreg._rows._base.Rows.map_raw` gives the
    predictions in the kind of X: NumPy arrays for NumPy, sparse or HDF5 data,
    lazy Dask arrays for a Dask array, arrays of X's namespace and device for
    another namespace.
    """
    check_is_fitted(estimator)
    return kind_of(X).checked_for_predict(estimator, X, method)
