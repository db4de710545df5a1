"""The course's cat classifier, reproduced on the real files (skipped without them)."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    ImageFlattener,
    PixelScaler,
)

# What the course's model() prints: "Cost after iteration 0: 0.693147", ...
COURSE_COSTS = [
    0.693147, 0.584508, 0.466949, 0.376007, 0.331463, 0.303273, 0.279880,
    0.260042, 0.242941, 0.228004, 0.214820, 0.203078, 0.192544, 0.183033,
    0.174399, 0.166521, 0.159305, 0.152667, 0.146542, 0.140872,
]  # fmt: skip


@pytest.fixture(scope="module")
def course_run(catvnoncat):
    model = make_pipeline(
        ImageFlattener(),
        PixelScaler(),
        GradientDescentLogisticRegression(
            learning_rate=0.005, max_iter=2000, tol=0, C=np.inf
        ),
    )
    return model.fit(catvnoncat.X_train, catvnoncat.y_train)


def test_starts_at_log_2_and_prints_the_course_costs(course_run):
    loss_curve = course_run[-1].loss_curve_
    assert len(loss_curve) == 2000
    assert loss_curve[0] == pytest.approx(np.log(2), abs=1e-12)
    printed = [float(f"{cost:f}") for cost in loss_curve[::100]]
    assert printed == COURSE_COSTS


def test_printed_costs_decrease_and_the_late_curve_is_monotone(course_run):
    loss_curve = course_run[-1].loss_curve_
    # The course's step oscillates for its first ~300 iterations (period two),
    # so only the printed costs, and the curve after that, strictly decrease.
    assert np.all(np.diff(loss_curve[::100]) < 0)
    assert np.all(np.diff(loss_curve[400:]) < 0)
    assert np.any(np.diff(loss_curve[:300]) > 0)


def test_accuracies_match_the_course(course_run, catvnoncat):
    # The course: train accuracy 99.04306220095694 %, test accuracy 70.0 %.
    train = course_run.score(catvnoncat.X_train, catvnoncat.y_train)
    test = course_run.score(catvnoncat.X_test, catvnoncat.y_test)
    assert train == pytest.approx(207 / 209) and train > 0.99
    assert test == 0.70


def test_predictions_are_the_course_formula(course_run, catvnoncat):
    # The course's predict(): A = sigmoid(w.T X + b) > 0.5, in the course layout.
    w = course_run[-1].coef_.T
    b = course_run[-1].intercept_[0]
    X = catvnoncat.X_test.reshape(len(catvnoncat.X_test), -1).T / 255
    A = 1 / (1 + np.exp(-(w.T @ X + b)))
    np.testing.assert_array_equal(
        course_run.predict(catvnoncat.X_test), (A[0] > 0.5).astype(int)
    )
    np.testing.assert_allclose(
        course_run.predict_proba(catvnoncat.X_test)[:, 1], A[0], rtol=1e-12
    )
