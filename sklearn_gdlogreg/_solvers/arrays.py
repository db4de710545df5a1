"""Array helpers of the loop: steps applied, rounding, the rows of chosen models.

The parameters live in the objective's namespace (NumPy, or another array-API
namespace on its device); the per-model numbers on the host.
"""

import numpy as np

from .._namespace import is_numpy

# Machine epsilon of float32 and float64.
_EPS = {name: float(np.finfo(name).eps) for name in ("float32", "float64")}


def moved(xp, y, scale, gradient):
    """``y - scale * gradient`` in y's dtype (``scale`` from ``per_model``)."""
    new = y - scale * gradient
    return new if new.dtype == y.dtype else xp.astype(new, y.dtype)


def rounding(xp, dtype, values):
    """The rounding error of objective values, about 8 eps |F|: searches and
    stall checks do not count a change of less."""
    single = dtype == getattr(xp, "float32", np.float32)
    return 8 * _EPS["float32" if single else "float64"] * np.abs(values)


def on_models(xp, mask, like):
    """A host per-model boolean ``mask`` shaped to select in the (k, ...) ``like``."""
    mask = np.reshape(mask, (-1,) + (1,) * (like.ndim - 1))
    return mask if is_numpy(xp) else xp.asarray(mask, device=like.device)


def take(xp, array, models):
    """The rows of ``array`` at the host indices ``models``."""
    if is_numpy(xp):
        return array[models]
    return xp.take(array, xp.asarray(models, device=array.device), axis=0)


def put(xp, array, models, values):
    """``array`` with its rows at ``models`` replaced by ``values``."""
    if is_numpy(xp) or isinstance(array, np.ndarray):
        array[models] = values
        return array
    rows = [array[j : j + 1, ...] for j in range(array.shape[0])]
    for row, model in enumerate(models):
        rows[model] = values[row : row + 1, ...]
    return xp.concat(rows)
