"""scikit-learn's fit callbacks on the estimator, and the CostProgress display."""

import io

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg._callbacks import CostProgress

callback = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)


class Recorder:
    """Keeps what each iteration's fitted estimator says; stops at ``stop_at``."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.seen = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name == "iteration":
            self.seen.append(
                (
                    int(fitted_estimator.n_iter_[0]),
                    fitted_estimator.loss_curve_[-1],
                    fitted_estimator.predict_proba(X[:2]),
                )
            )
            return fitted_estimator.n_iter_[0] == self.stop_at
        return False


def test_each_iteration_reports_a_usable_fitted_estimator():
    recorder = Recorder()
    model = GradientDescentLogisticRegression(max_iter=30, tol=0)
    model.set_callbacks(recorder).fit(X, y)
    assert [n for n, _, _ in recorder.seen] == list(range(1, 31))
    np.testing.assert_array_equal([c for _, c, _ in recorder.seen], model.loss_curve_)
    np.testing.assert_array_equal(recorder.seen[-1][2], model.predict_proba(X[:2]))
    fresh = GradientDescentLogisticRegression(max_iter=30, tol=0).fit(X, y)
    np.testing.assert_array_equal(model.coef_, fresh.coef_)  # callbacks change nothing


def test_a_callback_can_stop_the_descent_without_a_warning(recwarn):
    model = GradientDescentLogisticRegression(max_iter=1000)
    model.set_callbacks(Recorder(stop_at=7)).fit(X, y)
    assert model.n_iter_ == 7 and len(model.loss_curve_) == 7
    assert not recwarn.list


def test_scoring_monitor_logs_a_score_per_iteration():
    pytest.importorskip("pandas")
    monitor = callback.ScoringMonitor(scoring="accuracy")
    model = GradientDescentLogisticRegression(max_iter=20, tol=0)
    model.set_callbacks(monitor).fit(X, y)
    log = monitor.get_logs()
    data = (
        log.data_as_pandas if hasattr(log, "data_as_pandas") else log[0].data_as_pandas
    )
    iterations = data[data["task_name"] == "iteration"]
    assert len(iterations) == 20
    assert iterations["accuracy"].iloc[-1] == pytest.approx(model.score(X, y))


def test_progress_bar_runs_in_a_pipeline():
    pytest.importorskip("rich")
    pipeline = make_pipeline(StandardScaler(), GradientDescentLogisticRegression())
    pipeline.set_callbacks(callback.ProgressBar(max_propagation_depth=None))
    assert pipeline.fit(X, y).score(X, y) > 0.9


def test_cost_progress_writes_one_updating_line():
    stream = io.StringIO()
    model = GradientDescentLogisticRegression(max_iter=50, tol=0)
    model.set_callbacks(CostProgress(stream=stream, min_interval=0))
    model.fit(X, y)
    text = stream.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    updates = text.strip("\n").split("\r")[1:]
    assert len(updates) == 50
    assert updates[0].startswith("iteration 1/50  cost 1.098612")
    assert updates[-1].startswith(f"iteration 50/50  cost {model.loss_curve_[-1]:.6f}")


class BeginRecorder(Recorder):
    """Keeps the model each iteration begins from and the one it ends with."""

    def __init__(self):
        super().__init__()
        self.begins = []

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        if context.task_name == "iteration":
            self.begins.append(
                (int(fitted_estimator.n_iter_[0]), fitted_estimator.coef_.copy())
            )

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name == "iteration":
            self.seen.append(
                (int(fitted_estimator.n_iter_[0]), fitted_estimator.coef_.copy())
            )
        return False


def test_each_iteration_begins_from_the_model_the_last_one_ended_with():
    recorder = BeginRecorder()
    GradientDescentLogisticRegression(max_iter=5, tol=0).set_callbacks(recorder).fit(
        X, y
    )
    assert [n for n, _ in recorder.begins] == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(recorder.begins[0][1], 0)  # from zeros
    for (_, begun), (_, ended) in zip(
        recorder.begins[1:], recorder.seen[:-1], strict=True
    ):
        np.testing.assert_array_equal(begun, ended)
