"""The descent in the row space of ``X``: for few, wide rows (n samples < p / 2).

From zero coefficients, every step the loop takes (plain, Nesterov's, spectral)
moves each output's coefficients by a combination of X's rows: the data term's
gradient is ``r X`` (``r`` each sample's share of the residual) and the L2
term's is ``l2 w``, itself such a combination. So ``w = a X`` all along, with
``a`` of n entries, and an iteration needs only ``K = X X^T`` (n x n, one
matrix product before the descent): the raw predictions are ``a K + b``, the L2
term ``l2 a K a^T / 2``, and the inner product of two such vectors ``u K
v^T``. An iteration costs O(n^2) instead of one (fused) or two passes over X,
O(n p): on the course's cats (209 x 12,288), 60 times fewer operations. It is
the same descent, step for step: only rounding differs.

:class:`RowSpaceObjective` is the objective of the loop in these coordinates.
Its "gradient" is the coordinates ``G = r + l2 a`` of the true gradient ``G X``
(so the loop's ``a - step G`` is the step ``w - step G X``), and it gives the
loop the two things the coordinates change: inner products (``inner``, in the
metric ``K``) and the stopping criterion (``gradient_max``, the largest entry
of ``G X``: it is bounded by ``sqrt(G K G^T)``, and computed exactly, one pass,
only where the bound cannot decide). The L1 part's soft-thresholding would leave
the row space: an objective with one is descended as it is. The fit's planner
(``_planner``) chooses it; :meth:`RowSpaceObjective.descend` runs the descent
in these coordinates and hands back the coefficients.
"""

import copy

import numpy as np

from ._protocols import Objective
from ._rows import make_rows
from ._solvers import gradient_descent

#: The most samples for which ``K`` is formed (128 MB in float64).
MAX_SAMPLES = 4096
#: Forming ``K`` (2 n^2 p operations, at matrix-product speed) costs about n / 25
#: reads of X (measured: 39 ms for 500 x 5,000, a read 1.5 ms), and each
#: iteration in the row space saves about one read: worth it from n / 8
#: iterations on. Below a megabyte of X, an iteration is too cheap for the
#: row space's own overhead to pay.
ITERATIONS_PER_SAMPLE = 1 / 8
MIN_BYTES = 1 << 20


def row_space(objective, params, max_iter):
    """The row-space objective for descending ``objective`` from ``params``.

    None where it does not apply (data not a dense in-memory NumPy array, an
    L1 part, a start with non-zero coefficients, products of rows that
    overflow) or does not pay (as many samples as half the features or more,
    more than ``MAX_SAMPLES``, ``max_iter`` below n / 8, X below 1 MB).
    """
    X = objective.data.dense
    if X is None or objective.has_prox or not isinstance(params, np.ndarray):
        return None
    n, p = X.shape
    if (
        X.nbytes < MIN_BYTES
        or n > MAX_SAMPLES
        or 2 * n > p
        or max_iter < ITERATIONS_PER_SAMPLE * n
        or np.any(params[..., :p])
    ):
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        gram = X @ X.T
    if not np.isfinite(gram).all():
        return None  # huge features: the primal descent copes, or says why
    return RowSpaceObjective(objective, gram)


class RowSpaceObjective(Objective):
    """A :class:`LinearObjective` (L2 only) in the coordinates ``w = a X``.

    Parameters are packed as the primal ones, with n coordinates in place of p
    coefficients: shape ``(k, n_outputs, n + fit_intercept)``.

    Parameters
    ----------
    objective : LinearObjective
        With dense NumPy ``X`` and no L1 part.
    gram : ndarray of shape (n_samples, n_samples)
        ``X X^T``.
    """

    def __init__(self, objective, gram):
        self._penalise(objective)
        data = objective.data
        self.rows = rows = data.dense
        self.gram = gram
        self.gram_rows = make_rows(gram, kernel="numpy").bind(
            data.loss, np.asarray(data.target), data.sample_weight,
            objective.fit_intercept, weight_sum=data.weight_sum,
        )  # fmt: skip
        self.n = rows.shape[0]
        self.fit_intercept = objective.fit_intercept
        # Bounds of the criterion ||G X||_inf: ||G X|| / sqrt(p) from below;
        # from above ||G X||, and ||G|| times the largest norm of a column of
        # X (Cauchy-Schwarz, entry by entry).
        self._sqrt_p = np.sqrt(rows.shape[1])
        with np.errstate(over="ignore"):
            self._column_norm = float(
                np.sqrt(np.einsum("ij,ij->j", rows, rows, dtype=np.float64).max())
            )
        # The smallest ratio ||G X||_inf / ||G X|| seen in an exact evaluation
        # (shared with the selections): it changes slowly, so the pass is made
        # only where that ratio says the criterion may be near tol.
        self._ratio = {"seen": None}

    def _penalise(self, objective):
        """Take the penalty of ``objective``, the primal objective."""
        self.primal = objective
        self._strength = np.reshape(objective.penalty.l2, (-1, 1, 1))
        self._has_l2 = objective.penalty.has_l2

    def with_strength(self, C, l1_ratio=0.0):
        """The same coordinates with the penalty of strengths ``C`` (an L2
        penalty: ``l1_ratio`` must be 0 here), as
        :meth:`LinearObjective.with_strength`."""
        penalised = copy.copy(self)
        penalised._penalise(self.primal.with_strength(C, l1_ratio))
        return penalised

    def descend(self, params, **options):
        """:func:`gradient_descent` from ``params`` in these coordinates, with
        every option; the result in the primal parameters."""
        return self.descend_from(self.start(params), **options)[0]

    def descend_from(self, coordinates, *, callback=None, **options):
        """:meth:`descend` from ``coordinates``: the result in the primal
        parameters, and the coordinates it ended at (a path's next start)."""

        def in_primal(iteration, values, coordinates):
            return callback(iteration, values, self.primal_params(coordinates))

        result = gradient_descent(
            self,
            coordinates,
            callback=None if callback is None else in_primal,
            **options,
        )
        coordinates = result.params
        # The exact criterion at the end (the loop may have needed only bounds).
        with np.errstate(over="ignore", invalid="ignore"):
            gradient = self.loss_gradient(result.params)[1]
            result.gradient_max = self.gradient_max(gradient, tol=0.0)
            result.params = self.primal_params(result.params)
        k = coordinates.shape[0]
        overflowed = ~np.isfinite(result.params).reshape(k, -1).all(axis=1)
        result.diverge_where(overflowed, ["the parameters overflowed"] * k)
        return result, coordinates

    def start(self, params):
        """The coordinates of ``params`` (zero coefficients), same intercepts."""
        start = np.zeros(
            params.shape[:2] + (self.n + self.fit_intercept,), params.dtype
        )
        if self.fit_intercept:
            start[..., -1] = params[..., -1]
        return start

    def primal_params(self, coordinates):
        """The packed parameters ``[a X, b]`` of the coordinates: one pass."""
        k, m, _ = coordinates.shape
        n, p = self.rows.shape
        params = np.empty((k, m, p + self.fit_intercept), coordinates.dtype)
        params[..., :p] = (coordinates[..., :n].reshape(k * m, n) @ self.rows).reshape(
            k, m, p
        )
        if self.fit_intercept:
            params[..., p] = coordinates[..., n]
        return params

    def select(self, models):
        """The same objective for the models at index ``models`` only."""
        selected = copy.copy(self)
        if self._strength.shape[0] > 1:
            selected._strength = self._strength[models]
        selected.gram_rows = self.gram_rows.select(models)
        return selected

    def running(self):
        """The context the descent runs in: the primal data's."""
        return self.primal.running()

    def loss_gradient(self, coordinates):
        """The smooth part and the coordinates of its gradient.

        Returns
        -------
        values : ndarray of shape (k,), float64
        gradient : ndarray shaped as ``coordinates``
        """
        values, residual = self.gram_rows.loss_residual(coordinates)
        k, m, _ = coordinates.shape
        n = self.n
        gradient = np.empty_like(coordinates)
        gradient[..., :n] = residual.reshape(k, m, n)
        if self.fit_intercept:
            gradient[..., n] = gradient[..., :n].sum(axis=-1)
        if self._has_l2:
            a = coordinates[..., :n]
            values = values + 0.5 * self._strength[:, 0, 0] * self._squared_norms(a)
            gradient[..., :n] += self._strength * a
        return values, gradient

    def value(self, coordinates):
        return self.loss_gradient(coordinates)[0]

    def inner(self, u, v):
        """Per-model inner products of the vectors ``u X`` and ``v X`` (and of
        the intercepts), float64."""
        n = self.n
        k = u.shape[0]
        u_rows = u[..., :n].reshape(-1, n).astype(np.float64, copy=False)
        v_rows = v[..., :n].reshape(-1, n).astype(np.float64, copy=False)
        products = np.einsum("ij,ij->i", u_rows @ self.gram, v_rows)
        products = products.reshape(k, -1).sum(axis=1)
        if self.fit_intercept:
            products += np.einsum(
                "ij,ij->i", u[..., n].astype(np.float64), v[..., n].astype(np.float64)
            )
        return products

    def _squared_norms(self, a):
        """``||a X||^2`` per model, summed over the outputs, float64."""
        k = a.shape[0]
        rows = a.reshape(-1, self.n).astype(np.float64, copy=False)
        return np.einsum("ij,ij->i", rows @ self.gram, rows).reshape(k, -1).sum(axis=1)

    def gradient_max(self, gradient, tol):
        """The largest absolute entry of the true gradient ``[G X, g_b]``.

        Exact (one pass over X) only for the models its bounds cannot decide
        and whose last seen ratio to ``||G X||`` puts within twice ``tol``: for
        the others, a value on the same side of ``tol`` as the exact one (the
        upper bound when it is below; when it is above, the lower bound or the
        estimate, so a stop is always decided on the exact value).
        """
        n = self.n
        k = gradient.shape[0]
        G = gradient[..., :n]
        rows = G.reshape(-1, n).astype(np.float64)
        norms = np.sqrt(np.einsum("ij,ij->i", rows @ self.gram, rows))
        upper = np.minimum(
            norms, self._column_norm * np.sqrt(np.einsum("ij,ij->i", rows, rows))
        )
        upper = upper.reshape(k, -1).max(axis=1)
        lower = norms.reshape(k, -1).max(axis=1) / self._sqrt_p
        intercepts = (
            np.abs(gradient[..., n]).reshape(k, -1).max(axis=1).astype(np.float64)
            if self.fit_intercept
            else np.zeros(k)
        )
        norms = norms.reshape(k, -1).max(axis=1)
        seen = self._ratio["seen"]
        estimate = lower if seen is None else np.maximum(lower, seen * norms)
        result = np.where(upper <= tol, upper, estimate)
        models = (
            np.arange(k)
            if tol <= 0
            else np.flatnonzero((upper > tol) & (estimate <= 2 * tol))
        )
        if models.size:
            exact = np.abs(G[models].reshape(-1, n) @ self.rows)
            result[models] = exact.reshape(len(models), -1).max(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios = result[models] / norms[models]
            ratios = ratios[np.isfinite(ratios)]
            if ratios.size:
                self._ratio["seen"] = float(ratios.min())
        return np.maximum(result, intercepts)

    def lipschitz_constant(self, exact=True):
        """The primal objective's bound: the same steps as in the primal."""
        return self.primal.lipschitz_constant(exact)
