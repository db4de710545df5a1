"""Logistic regression by from-scratch batch gradient descent, for scikit-learn.

The public names are imported when first used (as SPEC 1 lazy loading does), so
that ``import sklearn_gdlogreg`` and the ``gdlogreg`` command's ``--help`` do
not wait for scikit-learn and SciPy.
"""

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Each public name and the module that defines it.
_SOURCES = {
    "GradientDescentLogisticRegression": "._logistic",
    "GradientDescentLogisticRegressionCV": "._logistic_cv",
    "ImageFlattener": ".preprocessing",
    "MiniBatchLogisticRegression": "._minibatch",
    "PixelScaler": ".preprocessing",
    "logistic_objective": "._logistic",
}

__all__ = [
    "GradientDescentLogisticRegression",
    "GradientDescentLogisticRegressionCV",
    "ImageFlattener",
    "MiniBatchLogisticRegression",
    "PixelScaler",
    "__version__",
    "logistic_objective",
]

if TYPE_CHECKING:  # what static tools see
    from ._logistic import GradientDescentLogisticRegression, logistic_objective
    from ._logistic_cv import GradientDescentLogisticRegressionCV
    from ._minibatch import MiniBatchLogisticRegression
    from .preprocessing import ImageFlattener, PixelScaler


def __getattr__(name):
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_SOURCES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *__all__})
