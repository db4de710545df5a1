"""Image transformers: flatten image arrays to rows, and scale pixels to [0, 1]."""

import operator
from numbers import Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils._array_api import get_namespace
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_array, check_is_fitted, validate_data


class PixelScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Divide by the largest pixel value: the course's ``X / 255``.

    Stateless: :meth:`fit` learns nothing, and :meth:`transform` works without
    it. Integer pixels become float64, float32 stays float32, sparse input stays
    sparse. With ``sklearn.set_config(array_api_dispatch=True)``, a PyTorch or
    CuPy array stays in its namespace and on its device, so the scaler can feed
    :class:`GradientDescentLogisticRegression` on a GPU. (It does not carry the
    ``array_api_support`` tag: being stateless, it has no fitted attribute to
    tie it to one namespace, which scikit-learn's array-API checks ask for.)

    Parameters
    ----------
    max_value : float, default=255.0
        The value that maps to 1.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when X has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_gdlogreg import PixelScaler
    >>> PixelScaler().transform(np.array([[0, 51, 255]], dtype=np.uint8))
    array([[0. , 0.2, 1. ]])
    """

    _parameter_constraints: dict = {
        "max_value": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, max_value=255.0):
        self.max_value = max_value

    def fit(self, X, y=None):
        """Check X and remember its number of features; nothing is learned.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        self._validate(X, reset=True)
        return self

    def transform(self, X):
        """Return ``X / max_value``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        {ndarray, sparse matrix} of shape (n_samples, n_features)
        """
        self._validate_params()
        return self._scale(self._validate(X, reset=False), operator.truediv)

    def inverse_transform(self, X):
        """Return ``X * max_value``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        {ndarray, sparse matrix} of shape (n_samples, n_features)
        """
        self._validate_params()
        return self._scale(self._validate(X, reset=False), operator.mul)

    def _validate(self, X, reset):
        xp, _ = get_namespace(X)
        return validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=["csr", "csc"],
            dtype=[xp.float64, xp.float32],
            copy=False,
        )

    def _scale(self, X, operation):
        value = float(self.max_value)  # a Python float keeps float32 as float32
        if sparse.issparse(X):
            X = X.copy()
            X.data = operation(X.data, value)
            return X
        return operation(X, value)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class ImageFlattener(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Flatten images of shape (h, w) or (h, w, c) into rows of ``h * w * c``.

    The element order is that of the course's ``X.reshape(m, -1)`` (row-major:
    row, then column, then channel). Two-dimensional input passes through
    unchanged, so the flattener can stay in a pipeline fed with rows.
    The dtype is kept: uint8 pixels stay uint8 (scale them with
    :class:`PixelScaler`).

    Attributes
    ----------
    image_shape_ : tuple of int
        Shape of one image seen during fit, such as ``(64, 64, 3)``; for 2-D
        input, ``(n_features,)``.
    n_features_in_ : int
        Number of values per image, ``prod(image_shape_)``.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, for 2-D input with string column
        names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_gdlogreg import ImageFlattener
    >>> images = np.arange(2 * 2 * 2 * 3).reshape(2, 2, 2, 3)  # 2 RGB images, 2x2
    >>> flattener = ImageFlattener().fit(images)
    >>> flattener.transform(images).shape, flattener.image_shape_
    ((2, 12), (2, 2, 3))
    >>> np.array_equal(flattener.inverse_transform(flattener.transform(images)), images)
    True
    """

    def fit(self, X, y=None):
        """Remember the shape of one image.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, h, w[, c]) or \
(n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        rows, image_shape = self._flatten(X, reset=True)
        self.image_shape_ = image_shape or (rows.shape[1],)
        return self

    def transform(self, X):
        """Flatten each image into a row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, h, w[, c]) or \
(n_samples, n_features)

        Returns
        -------
        {ndarray, sparse matrix} of shape (n_samples, h * w * c)
        """
        check_is_fitted(self)
        return self._flatten(X, reset=False)[0]

    def inverse_transform(self, X):
        """Turn rows back into images of shape ``image_shape_``.

        Parameters
        ----------
        X : array-like of shape ``(n_samples, prod(image_shape_))``

        Returns
        -------
        ndarray of shape ``(n_samples, *image_shape_)``
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=None, ensure_all_finite=False)
        return X.reshape((X.shape[0], *self.image_shape_))

    def _flatten(self, X, reset):
        """Rows of X, and the shape of one image (None for 2-D input)."""
        image_shape = None
        ndim = X.ndim if hasattr(X, "ndim") else np.asarray(X).ndim
        if ndim > 2 and not sparse.issparse(X):
            X = check_array(X, allow_nd=True, dtype="numeric", ensure_all_finite=False)
            image_shape = X.shape[1:]
            fitted_shape = getattr(self, "image_shape_", image_shape)
            if not reset and image_shape != fitted_shape:
                raise ValueError(
                    f"X has images of shape {image_shape}, but "
                    f"{type(self).__name__} was fitted on images of shape "
                    f"{fitted_shape}. Resize the images to that shape, or refit."
                )
            X = X.reshape(X.shape[0], -1)
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=True,
            dtype="numeric",
            ensure_all_finite=False,
        )
        return X, image_shape

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
