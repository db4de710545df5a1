"""The training problem: validated data, classes and weights, and its objectives."""

from numbers import Real

import numpy as np
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight

from ._loss import loss_for_classes
from ._messages import ParameterError, weights_out_of_range
from ._namespace import as_numpy
from ._objective import linear_objective
from ._rows import gathered, rows_for_fit


class TrainingProblem:
    """Validated training data, as the loss and the objective need it.

    Parameters
    ----------
    estimator : estimator instance
        Its ``fit_intercept`` and ``class_weight`` are used; ``n_features_in_``
        and ``feature_names_in_`` are set on it, as scikit-learn's
        ``validate_data`` does.
    X, y, sample_weight
        As given to ``fit``.
    classes : ndarray, default=None
        The classes, known beforehand (``partial_fit``'s): ``y`` may then hold
        some of them only, even one. Default: those of ``y``.
    reset : bool, default=True
        False: check X's features against those the estimator has seen (a
        later ``partial_fit``) instead of setting them.
    batches : bool, default=False
        Whether the fit reads the rows in mini-batches (``_rows.rows_for_fit``).

    Attributes
    ----------
    rows : Rows
        Where X's rows live (``_rows``), checked.
    X : array or Rows
        X as ``fit`` sees it: the validated array where it is in memory, else
        the rows (with ``shape`` and the ``dtype`` computed in).
    y, classes, y_index, sample_weight
        The labels, the classes and each label's index among them, the
        checked sample weights.
    weight : ndarray or None
        The sample weights times the class weights.
    loss : BinaryLogLoss or MultinomialLogLoss
    target : ndarray
        ``y_index`` encoded by the loss.
    """

    def __init__(self, estimator, X, y, sample_weight, *, classes=None, reset=True,
                 batches=False):  # fmt: skip
        # Labels and weights are prepared on the host; the rows move them to
        # X's device (or its Dask workers).
        y = as_numpy(gathered(y))
        sample_weight = as_numpy(gathered(sample_weight))
        rows, y = rows_for_fit(estimator, X, y, reset, batches=batches)
        check_classification_targets(y)
        dtype = rows.dtype
        self.rows, self.y = rows, y
        self.X = rows.X if rows.in_memory else rows
        if classes is None:
            # The classes, then each label's index by a binary search among
            # them: np.unique's inverse sorts all the labels (1.27 s for 10^7
            # labels, against 0.23 s so).
            self.classes = np.unique(y)
            self.y_index = np.searchsorted(self.classes, y)
        else:
            self.classes, self.y_index = classes, _indices_in(classes, y)
        if sample_weight is not None:
            # Checked in float64, then brought to the dtype: weights beyond it
            # are refused with the fix, not cast to infinity with a warning
            # (or all to 0, "one class with positive weight").
            sample_weight = _in_dtype(
                _check_sample_weight(
                    sample_weight,
                    np.empty((rows.shape[0], 0)),
                    dtype=np.float64,
                    ensure_non_negative=True,
                ),
                dtype,
            )
        self.sample_weight = sample_weight
        self.weight = _class_weighted(
            estimator,
            self.classes,
            y,
            self.y_index,
            sample_weight,
            dtype,
            min_classes=2 if classes is None else 1,
        )
        self.loss = loss_for_classes(len(self.classes), rows.xp)
        self.target = self.loss.encode_target(self.y_index, dtype)
        self.fit_intercept = estimator.fit_intercept

    def objective(self, C, l1_ratio, rows=None):
        """The objective over all samples, or over the samples at index ``rows``.

        A subset of rows not in memory is whole blocks (``Rows.take`` says so
        otherwise), as ``Rows.held_out_split`` gives them.
        """
        data, target, weight = self.rows, self.target, self.weight
        if rows is not None:
            data, target = data.take(rows), target[..., rows]
            weight = None if weight is None else weight[rows]
        return linear_objective(
            self.loss, data, target, weight, C, self.fit_intercept, l1_ratio
        )

    def folds_objective(self, C, l1_ratio, folds, repeat=1):
        """The objective of one model per training fold (each ``repeat``
        times, in a row), over all the rows: each model weighs its fold's
        rows only, so that an iteration for every fold is one read of X.

        Parameters
        ----------
        folds : list of ndarray
            The rows of each training fold.
        """
        weight = np.ones(self.rows.shape[0]) if self.weight is None else self.weight
        in_fold = np.zeros((len(folds) * repeat, len(weight)), weight.dtype)
        for model, rows in enumerate(np.repeat(np.arange(len(folds)), repeat)):
            in_fold[model, folds[rows]] = weight[folds[rows]]
        return linear_objective(
            self.loss, self.rows.X, self.target, in_fold, C, self.fit_intercept,
            l1_ratio, kernel="numpy",
        )  # fmt: skip


def _indices_in(classes, y):
    """Each label's index among the known ``classes``; labels outside refused."""
    y_index = np.searchsorted(classes, y).clip(0, len(classes) - 1)
    if not np.array_equal(classes[y_index], y):
        raise ValueError(
            f"y has labels that are not among the classes {classes.tolist()}: "
            f"{np.setdiff1d(y, classes).tolist()}. Give every class in the "
            "first call's classes."
        )
    return y_index


def _class_weighted(estimator, classes, y, y_index, sample_weight, dtype,
                    min_classes=2):  # fmt: skip
    """Check that ``min_classes`` classes have weight (two for a fit; one for
    a chunk of a stream, whose classes are known); multiply in
    ``estimator.class_weight``."""
    class_totals = np.bincount(y_index, weights=sample_weight, minlength=len(classes))
    present = class_totals > 0
    if len(classes) < 2 or present.sum() < min_classes:
        kept = classes[present].tolist()
        got = f"one class: {kept}" if kept else "none"
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least {min_classes} "
            f"class{'es' if min_classes > 1 else ''} with positive weight, but got "
            f"{got}. Give it samples of another class (or non-zero sample_weight "
            "for them)."
        )
    class_weight = getattr(estimator, "class_weight", None)
    if class_weight is None:
        return sample_weight
    if isinstance(class_weight, dict):
        bad = {
            label: weight
            for label, weight in class_weight.items()
            if not (isinstance(weight, Real) and np.isfinite(weight) and weight >= 0)
        }
        if bad:
            raise ValueError(
                f"class_weight must map classes to finite non-negative numbers, got "
                f"{bad}. Give each class a weight >= 0 (0 leaves it out)."
            )
    positive = slice(None) if sample_weight is None else sample_weight > 0
    relative = None
    if sample_weight is not None:
        # "balanced" depends on the weights' ratios only (a dict on none), and
        # weights near the dtype's largest would overflow its sums.
        relative = sample_weight[positive] / np.max(sample_weight)
    per_class = np.zeros(len(classes))
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        per_class[present] = compute_class_weight(
            class_weight,
            classes=classes[present],
            y=y[positive],
            sample_weight=relative,
        )
        weights = per_class[y_index]
        if sample_weight is not None:
            weights = weights * sample_weight
    return _in_dtype(weights, dtype)


def _in_dtype(weight, dtype):
    """``weight`` in ``dtype``, refused where it is beyond its range: all of
    it rounded to 0, or some of it to infinity."""
    largest = float(np.max(weight, initial=0.0))
    too_large = not largest <= float(np.finfo(dtype).max)
    if too_large or (0 < largest and np.asarray(largest, dtype=dtype) == 0):
        raise ParameterError(
            weights_out_of_range(np.dtype(dtype).name, largest, too_large)
        )
    return weight.astype(dtype, copy=False)
