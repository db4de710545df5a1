"""NumPy or SciPy-sparse rows in memory: two BLAS passes per evaluation.

``X @ coef.T``, then ``residual @ X``, written with NumPy's own functions and
no array-API indirection, so that a small problem pays for arithmetic, not for
Python calls: one model's raw predictions are one matrix-vector product. The
reference the other kinds are tested against.
"""

import numpy as np

from ._base import InMemoryRows


class NumpyRows(InMemoryRows):
    """NumPy or SciPy-sparse rows: ``X @ coef.T``, then ``residual @ X``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        float32 or float64, finite.
    """

    kernels = ("auto", "numpy")
    per_model_weights = True
    kernel_error = "The fused kernel needs a C-ordered dense array."

    def __init__(self, X):
        super().__init__(X)
        self.dense = X if isinstance(X, np.ndarray) else None

    def _bound(self):
        self.target = np.reshape(self.target, -1)

    def raw(self, params):
        """Raw predictions ``coef @ X.T + intercept``, shape (k, n_outputs, n)."""
        k, m, _ = params.shape
        p = self.n_features
        one = k * m == 1  # a matrix-vector product
        raw = (
            self.X @ params[0, 0, :p]
            if one
            else params[..., :p].reshape(k * m, p) @ self.X.T
        )
        if not isinstance(raw, np.ndarray):
            raw = np.asarray(raw)  # from a sparse product
        if self.fit_intercept:
            raw += params[0, 0, p] if one else params[..., p].reshape(-1, 1)
        return raw.reshape(k, m, -1)

    def value(self, params):
        return self.loss.mean_loss(self.raw(params), self.target, self.share)

    def loss_gradient(self, params):
        p = self.n_features
        if params.shape[0] * params.shape[1] == 1:
            # One model of one output, in as few calls as can be.
            coef = params[0, 0]
            raw = np.asarray(self.X @ coef[:p])
            if self.fit_intercept:
                raw += coef[p]
            share = self.share if self.share.ndim < 2 else self.share[0]
            values, residual = self.loss.mean_loss_residual(raw, self.target, share)
            gradient = np.empty_like(params)
            gradient[0, 0, :p] = residual @ self.X
            if self.fit_intercept:
                gradient[0, 0, p] = residual.sum()
            return np.array((values,)), gradient
        values, residual = self.loss_residual(params)
        k, m = params.shape[:2]
        flat = residual.reshape(k * m, -1)
        gradient = np.empty_like(params)
        gradient[..., :p] = np.asarray(flat @ self.X).reshape(k, m, -1)
        if self.fit_intercept:
            gradient[..., p] = flat.sum(axis=1).reshape(k, m)
        return values, gradient

    def loss_residual(self, params):
        """The values and each sample's share of the gradient, ``s_i (p_i - y_i)
        / S``: shape (k, n) for two classes, (k, n_outputs, n) for more.

        The gradient is ``residual @ X`` (and its sum, for the intercept).
        """
        return self.loss.mean_loss_residual(self.raw(params), self.target, self.share)
