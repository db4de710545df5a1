"""Array namespaces: where the data and the parameters live, and the host side.

With ``sklearn.set_config(array_api_dispatch=True)``, ``X`` may be a PyTorch
tensor, a CuPy array or any array-API array; the raw predictions, the
parameters and the gradients then stay in that namespace and on that device.
What crosses to the host (NumPy) during a fit is only what steers the loop:
per model, the objective's value and the largest gradient entry.
"""

import numpy as np
from sklearn.externals import array_api_compat
from sklearn.utils._array_api import (
    _convert_to_numpy,
    _is_numpy_namespace,
    _max_precision_float_dtype,
    get_namespace_and_device,
)


def namespace_of(X):
    """``(xp, device)`` of ``X``: NumPy's for sparse and streamed data."""
    if not array_api_compat.is_array_api_obj(X):
        X = np.empty(0)
    xp, _, device = get_namespace_and_device(X)
    return xp, device


def is_numpy(xp):
    """Whether ``xp`` is NumPy (plain, or its array-API wrapper)."""
    return _is_numpy_namespace(xp)


def to_host(xp, array):
    """``array`` as a float64 NumPy array (a few values: one per model)."""
    if not is_numpy(xp):
        array = _convert_to_numpy(array, xp)
    return np.asarray(array, dtype=np.float64)


def sum_dtype(xp, device):
    """The most precise float of ``device``, for accumulating sums."""
    return _max_precision_float_dtype(xp, device)


def model_sums(xp, array):
    """Sums over all but the first axis, per model, on the host in float64."""
    axes = tuple(range(1, array.ndim))
    if is_numpy(xp):  # no namespace round trip: NumPy sums in float64 directly
        return np.asarray(array).sum(axis=axes, dtype=np.float64)
    dtype = sum_dtype(xp, getattr(array, "device", None))
    return to_host(xp, xp.sum(array, axis=axes, dtype=dtype))


_FLOAT32_TINY = float(np.finfo(np.float32).tiny)
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _flushed_in_float32(values):
    """Where float32 would turn a value to 0 or infinity (0 and inf stay)."""
    size = np.abs(values)
    return ((size > 0) & (size < _FLOAT32_TINY)) | (
        (size > _FLOAT32_MAX) & (size < np.inf)
    )


def per_model(xp, values, like):
    """Per-model host ``values`` shaped and typed to scale the (k, ...) ``like``.

    In ``like``'s dtype, but for NumPy float32 values outside float32's normal
    range (a step of 1e-45 for data of 1e22, say), which stay float64 so that
    the product is computed, not flushed to zero or infinity: cast it back.
    """
    if is_numpy(xp):
        single = like.dtype == np.float32
        if isinstance(values, np.ndarray) and values.size == 1:
            value = values.item()  # a Python float keeps like's dtype...
            if single and _flushed_in_float32(value):
                # ...where float32 would flush it: an array (not a scalar,
                # which NumPy 1's value-based casting would make float32).
                return np.full((1,) * like.ndim, value, dtype=np.float64)
            return value
        values = np.reshape(values, (-1,) + (1,) * (like.ndim - 1))
        if single and _flushed_in_float32(values).any():
            return values.astype(np.float64)
        return values.astype(like.dtype)
    values = np.reshape(np.asarray(values), (-1,) + (1,) * (like.ndim - 1))
    return xp.asarray(values, dtype=like.dtype, device=like.device)


def on_device(xp, array, device):
    """A host (NumPy) ``array`` in ``xp`` on ``device``; None stays None."""
    if array is None or is_numpy(xp):
        return array
    return xp.asarray(array, device=device)


def as_numpy(array):
    """An array of any array-API namespace as a NumPy array; anything else as is.

    For labels, sample weights and starting values, which are prepared on the
    host whatever the configuration.
    """
    if isinstance(array, np.ndarray) or not array_api_compat.is_array_api_obj(array):
        return array
    return _convert_to_numpy(array, array_api_compat.array_namespace(array))


def dots(xp, a, b):
    """Per-model dot products of two (k, ...) arrays, float64 on the host."""
    if not is_numpy(xp):
        return model_sums(xp, a * b)
    k = a.shape[0]
    a, b = a.reshape(k, -1), b.reshape(k, -1)
    if a.dtype != np.float64:
        a, b = a.astype(np.float64), b.astype(np.float64)
    if k == 1:
        return np.array((a[0] @ b[0],))
    return np.einsum("ij,ij->i", a, b)


def max_abs(xp, array):
    """Largest absolute entry per model of a (k, ...) array, on the host."""
    if is_numpy(xp):
        return np.abs(array).reshape(array.shape[0], -1).max(axis=1)
    flat = xp.reshape(xp.abs(array), (array.shape[0], -1))
    return to_host(xp, xp.max(flat, axis=1))
