"""scikit-learn's estimator checks on every estimator of the package."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    GradientDescentLogisticRegressionCV,
    ImageFlattener,
    MiniBatchLogisticRegression,
    PixelScaler,
)


@parametrize_with_checks(
    [
        GradientDescentLogisticRegression(),
        GradientDescentLogisticRegression(
            solver="nesterov", line_search=True, l1_ratio=0.5
        ),
        # 3 folds, as scikit-learn checks LogisticRegressionCV: some checks fit
        # 3 samples per class. tol=1e-10: the weight checks compare fits on
        # weighted and on repeated rows to 1e-7, and their rounding, which
        # spectral steps amplify, parts the two refits' iterates by up to the
        # stopping tolerance (2e-5 in the probabilities at tol=1e-4).
        GradientDescentLogisticRegressionCV(cv=3, tol=1e-10),
        # The default batch size takes the checks' few rows in one batch:
        # weights are then repeated rows, as the weight checks ask.
        MiniBatchLogisticRegression(),
        MiniBatchLogisticRegression(solver="sgd", l1_ratio=0.5),
        MiniBatchLogisticRegression(solver="rmsprop", schedule="adaptive"),
        PixelScaler(),
        ImageFlattener(),
    ]
)
# Some checks fit tiny or odd data with the default max_iter: the estimators
# say they did not converge, as LogisticRegression does there.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
