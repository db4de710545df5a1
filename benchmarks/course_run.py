"""The course's cat run (2000 iterations at 0.005) against the course's own loop.

The course's loop is plain NumPy on X of shape (features, samples): per
iteration ``A = sigmoid(w.T @ X + b)``, the cost with ``log(A)`` and
``log(1 - A)``, ``dw = X @ (A - Y).T / m``. The estimator runs the same
iterations through the fused pass. Both are timed whole (wall time of the
run, validation included), one after the other in each round, and must give
the same costs and coefficients.
"""

import statistics
import time

import numpy as np

from sklearn_gdlogreg import GradientDescentLogisticRegression

from ._common import Result, Table, cat_data, flat_pixels, fmt

LEARNING_RATE = 0.005


def course_loop(X, Y, num_iterations, learning_rate):
    """The course's ``optimize`` with ``propagate``, as in the notebook."""
    w, b = np.zeros((X.shape[0], 1)), 0.0
    m = X.shape[1]
    costs = []
    for i in range(num_iterations):
        A = 1 / (1 + np.exp(-(np.dot(w.T, X) + b)))
        cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
        dw = np.dot(X, (A - Y).T) / m
        db = np.sum(A - Y) / m
        w = w - learning_rate * dw
        b = b - learning_rate * db
        if i % 100 == 0:
            costs.append(cost)
    return w, b, costs


def run(config):
    result = Result(
        name="course_run",
        title="The course's cat run: this package against the course's NumPy loop",
    )
    data = cat_data(config)
    if data is None:
        result.headline.append("Skipped: the cat HDF5 files were not found.")
        return result
    X = flat_pixels(data.X_train)
    y = data.y_train
    course_X, course_Y = np.ascontiguousarray(X.T), y.reshape(1, -1).astype(float)
    iterations = 200 if config.quick else 2000
    model = GradientDescentLogisticRegression(
        learning_rate=LEARNING_RATE, max_iter=iterations, tol=0, C=np.inf
    )
    model.fit(X, y)  # compile and warm caches
    rounds = []
    for _ in range(max(config.repeats, 3)):
        start = time.perf_counter()
        w, b, costs = course_loop(course_X, course_Y, iterations, LEARNING_RATE)
        course = time.perf_counter() - start
        start = time.perf_counter()
        model.fit(X, y)
        ours = time.perf_counter() - start
        rounds.append((course, ours))
    ratio = statistics.median(ours / course for course, ours in rounds)
    coef_gap = float(np.max(np.abs(model.coef_[0] - w[:, 0])) / np.max(np.abs(w)))
    cost_gap = float(np.max(np.abs(model.loss_curve_[::100] - np.array(costs))))
    result.raw = {
        "iterations": iterations,
        "rounds_seconds": rounds,
        "ratio": ratio,
        "coef_max_relative_difference": coef_gap,
        "intercept": [float(model.intercept_[0]), float(b)],
        "cost_max_abs_difference": cost_gap,
    }
    course_median = statistics.median(r[0] for r in rounds)
    ours_median = statistics.median(r[1] for r in rounds)
    result.tables.append(
        Table(
            title=f"{iterations} iterations at learning rate {LEARNING_RATE}, "
            f"{X.shape[0]} images of {X.shape[1]} values",
            columns=["run", "seconds", "per iteration (ms)"],
            rows=[
                [
                    "course's NumPy loop",
                    fmt(course_median),
                    fmt(course_median / iterations * 1e3),
                ],
                [
                    "GradientDescentLogisticRegression.fit",
                    fmt(ours_median),
                    fmt(ours_median / iterations * 1e3),
                ],
            ],  # fmt: skip
            note="Medians of rounds; each round runs both, one after the other.",
        )
    )
    result.headline += [
        f"Wall time of the fit / the course's loop: {ratio:.2f} (goal ≤ 0.5).",
        f"Same results: printed costs differ by at most {cost_gap:.1e}, "
        f"coefficients by {coef_gap:.1e} relative.",
    ]
    return result
