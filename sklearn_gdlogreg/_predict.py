"""Predictions of a fitted linear classifier, through X's rows of any kind."""

import functools

from sklearn.base import ClassifierMixin
from sklearn.externals import array_api_compat
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.utils._array_api import indexing_dtype

from ._loss import loss_for_classes
from ._namespace import as_numpy
from ._rows import rows_for_predict


class LinearPredictionsMixin(SparseCoefMixin, ClassifierMixin):
    """Predictions of a fitted linear model: ``coef_``, ``intercept_``, ``classes_``.

    ``sparsify()`` stores ``coef_`` as a SciPy CSR matrix (worth it when most
    coefficients are zero, as L1 makes them), ``densify()`` as an array again;
    predictions, warm starts and refits work either way.

    Sigmoid output for two classes, softmax for more, as the losses define. The
    outputs follow ``X``, whose rows (``_rows``) compute the raw predictions
    block by block: NumPy arrays for NumPy, sparse or HDF5 input (a file is
    read in chunks, never whole), lazy Dask arrays for a Dask array, and arrays
    of X's namespace and device for an array-API array (with
    ``array_api_dispatch``, the namespace of the fit; string labels stay NumPy).
    """

    def _predictions(self, X, method):
        """``method``'s values on X's rows: the raw predictions of each block of
        rows through ``method``'s function, assembled as the rows live (see
        ``_rows._base.Rows.map_raw``)."""
        rows = rows_for_predict(self, X, method)
        n_classes = len(self.classes_)
        function, n_columns, dtype = {
            "decision_function": (
                _decision,
                None if n_classes == 2 else n_classes,
                None,
            ),
            "predict": (
                functools.partial(_labels, self.classes_),
                None,
                self.classes_.dtype,
            ),
            "predict_proba": (functools.partial(_proba, n_classes), n_classes, None),
            "predict_log_proba": (
                functools.partial(_log_proba, n_classes),
                n_classes,
                None,
            ),
        }[method]
        return rows.map_raw(function, self.coef_, self.intercept_, n_columns, dtype)

    def decision_function(self, X):
        """Raw predictions ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix, h5py.Dataset, dask array} of shape \
(n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, positive values predict ``classes_[1]``.
        """
        return self._predictions(X, "decision_function")

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix, h5py.Dataset, dask array} of shape \
(n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._predictions(X, "predict")

    def predict_proba(self, X):
        """Class probabilities: sigmoid for two classes, softmax for more.

        Parameters
        ----------
        X : {array-like, sparse matrix, h5py.Dataset, dask array} of shape \
(n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        return self._predictions(X, "predict_proba")

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix, h5py.Dataset, dask array} of shape \
(n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._predictions(X, "predict_log_proba")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


# The functions of raw predictions (n, n_outputs) in namespace ``xp``: module
# level, so that Dask's workers can be sent them.


def _decision(raw, xp):
    return raw[:, 0] if raw.shape[1] == 1 else raw


def _proba(n_classes, raw, xp):
    return loss_for_classes(n_classes, xp).predict_proba(raw)


def _log_proba(n_classes, raw, xp):
    return loss_for_classes(n_classes, xp).predict_log_proba(raw)


def _labels(classes, raw, xp):
    """The predicted labels: numbers taken in X's namespace, on its device;
    other labels (strings) stay NumPy."""
    index = (
        xp.astype(raw[:, 0] > 0, indexing_dtype(xp))
        if raw.shape[1] == 1
        else xp.argmax(raw, axis=1)
    )
    if classes.dtype.kind in "biuf":
        device = array_api_compat.device(raw)
        return xp.take(xp.asarray(classes, device=device), index, axis=0)
    return classes[as_numpy(index)]
