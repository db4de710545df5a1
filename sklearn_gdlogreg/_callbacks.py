"""scikit-learn's fit callbacks (``sklearn.callback``, 1.9+) around the descent.

:class:`FitHooks` calls the callbacks' hooks for the whole fit and for each
iteration; with an older scikit-learn, or no callback set, it does nothing.
:class:`CostProgress` is a callback that shows the iteration and the cost on one
terminal line (the command line's progress display).
"""

import sys
import time

import numpy as np

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9 has no fit callbacks

    class CallbackSupportMixin:
        """Stand-in: fitting works unchanged, without callbacks."""


__all__ = ["CallbackSupportMixin", "CostProgress", "FitHooks"]


class FitHooks:
    """Call an estimator's fit callbacks for the fit and for each iteration.

    Parameters
    ----------
    estimator : estimator instance
        The estimator being fitted.
    X, y, metadata
        What the hooks receive (``metadata`` holds the sample weights).
    max_iter : int
        Largest number of iterations: the fit task's subtasks.
    """

    def __init__(self, estimator, X, y, metadata, max_iter):
        self.estimator = estimator
        self.arguments = {"X": X, "y": y, "metadata": metadata}
        init_context = getattr(estimator, "_init_callback_context", None)
        self.context = (
            None if init_context is None else init_context(max_subtasks=max_iter)
        )
        if self.context is not None:
            self.context.call_on_fit_task_begin(estimator=estimator, **self.arguments)
        # The history the fitted estimators of each iteration see; only kept when
        # a callback will look at it.
        self.loss_curve = np.empty(max_iter) if self.per_iteration else None
        self._begin_attributes = None

    @property
    def per_iteration(self):
        """Whether any callback is set, so that iterations are worth reporting."""
        return self.context is not None and bool(
            getattr(self.estimator, "_skl_callbacks", None)
        )

    def start(self, fitted_attributes):
        """The model the first iteration begins from.

        Parameters
        ----------
        fitted_attributes : callable
            Returns the estimator's fitted attributes at the start, given
            ``loss_curve`` (empty).
        """
        self._begin_attributes = fitted_attributes

    def iteration(self, iteration, value, fitted_attributes):
        """Report one iteration; return True if a callback asks to stop.

        Parameters
        ----------
        iteration : int
            The iteration, from 0.
        value : float
            The objective entering it.
        fitted_attributes : callable
            Returns the estimator's fitted attributes after it, given
            ``loss_curve`` (built only if a callback asks for a fitted estimator).
        """
        self.loss_curve[iteration] = value
        curve = self.loss_curve[: iteration + 1]
        context = self.context.subcontext(task_name="iteration")
        # The model the iteration starts from: the previous one's, as
        # LogisticRegression passes it.
        begin, before = self._begin_attributes, self.loss_curve[:iteration]
        context.call_on_fit_task_begin(
            estimator=self.estimator,
            **self.arguments,
            reconstruction_attributes=None
            if begin is None
            else lambda: begin(before.copy()),
        )
        self._begin_attributes = fitted_attributes
        return context.call_on_fit_task_end(
            estimator=self.estimator,
            **self.arguments,
            reconstruction_attributes=lambda: fitted_attributes(curve.copy()),
        )

    def end(self):
        """Report the end of the fit, the estimator being fitted."""
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator, **self.arguments, reconstruction_attributes={}
            )


class CostProgress:
    """Fit callback showing the iteration and the cost on one terminal line.

    Set it on :class:`~sklearn_gdlogreg.GradientDescentLogisticRegression` with
    ``set_callbacks(CostProgress())`` (scikit-learn 1.9 or newer).

    Parameters
    ----------
    stream : file-like, default=sys.stderr
        Where to write.
    min_interval : float, default=0.1
        Seconds between two updates of the line.
    """

    def __init__(self, stream=None, min_interval=0.1):
        self.stream = stream
        self.min_interval = min_interval

    def setup(self, estimator, context):
        self._start = self._shown = time.perf_counter()
        self._wrote = False

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        if context.task_name != "iteration" or fitted_estimator is None:
            return False
        now = time.perf_counter()
        n_iter = int(fitted_estimator.n_iter_[0])
        last = n_iter == context.parent.max_subtasks
        if now - self._shown >= self.min_interval or last:
            self._shown = now
            self._write(
                f"\riteration {n_iter}/{context.parent.max_subtasks}  cost "
                f"{fitted_estimator.loss_curve_[-1]:.6f}  {now - self._start:.1f} s"
            )
        return False

    def teardown(self, estimator, context):
        if self._wrote:
            self._write("\n")

    def _write(self, text):
        stream = self.stream or sys.stderr
        stream.write(text)
        stream.flush()
        self._wrote = True
