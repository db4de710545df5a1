"""Rows of another array-API namespace (PyTorch, CuPy), computed there, on its device.

The same two passes as NumPy's rows, in the namespace's functions; only
per-model values reach the host.
"""

import numpy as np

from .._namespace import on_device
from ._base import InMemoryRows


class NamespaceRows(InMemoryRows):
    """An array of another array-API namespace, computed there, on its device.

    Parameters
    ----------
    X : array-API array of shape (n_samples, n_features)
        float32 or float64, finite (with ``array_api_dispatch``).
    """

    def _bound(self):
        xp, device = self.xp, self.device
        self.target = on_device(xp, np.reshape(self.target, -1), device)
        self.share = on_device(xp, self.share, device)

    def raw(self, params):
        """Raw predictions ``coef @ X.T + intercept``, shape (k, n_outputs, n)."""
        xp = self.xp
        k, m, _ = params.shape
        p = self.n_features
        raw = xp.reshape(params[..., :p], (k * m, p)) @ self.X.T
        if self.fit_intercept:
            raw += xp.reshape(params[..., p], (-1, 1))
        return xp.reshape(raw, (k, m, -1))

    def value(self, params):
        return self.loss.mean_loss(self.raw(params), self.target, self.share)

    def loss_gradient(self, params):
        xp = self.xp
        values, residual = self.loss.mean_loss_residual(
            self.raw(params), self.target, self.share
        )
        k, m, _ = params.shape
        flat = xp.reshape(residual, (k * m, -1))
        gradient = xp.empty_like(params)
        gradient[..., : self.n_features] = xp.reshape(flat @ self.X, (k, m, -1))
        if self.fit_intercept:
            gradient[..., self.n_features] = xp.reshape(xp.sum(flat, axis=1), (k, m))
        return values, gradient

    def take(self, indices):
        """The rows at ``indices`` (host integers), taken on X's device."""
        xp = self.xp
        indices = xp.asarray(np.asarray(indices), device=self.device)
        return type(self)(xp.take(self.X, indices, axis=0))

    def raw_block(self, X, coef, intercept):
        """Raw predictions in X's namespace; ``coef`` cast to X's dtype."""
        xp = self.xp
        if coef.dtype != X.dtype:
            coef, intercept = xp.astype(coef, X.dtype), xp.astype(intercept, X.dtype)
        with np.errstate(over="ignore"):
            return X @ coef.T + intercept
