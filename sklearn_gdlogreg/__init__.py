"""Logistic regression by from-scratch batch gradient descent, for scikit-learn."""

from ._logistic import GradientDescentLogisticRegression, logistic_objective
from ._logistic_cv import GradientDescentLogisticRegressionCV
from .preprocessing import ImageFlattener, PixelScaler

__version__ = "0.1.0"

__all__ = [
    "GradientDescentLogisticRegression",
    "GradientDescentLogisticRegressionCV",
    "ImageFlattener",
    "PixelScaler",
    "__version__",
    "logistic_objective",
]
