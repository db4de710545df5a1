"""The step bound: the largest eigenvalue of the weighted Gram matrix of ``[X, 1]``.

The Lipschitz constant of the log-loss's gradient is at most the loss's
curvature bound times ``||W^(1/2) X1||_2^2`` (``X1 = [X, 1]``, ``W`` the
samples' shares): computed exactly from the smaller Gram matrix when one side
has at most 256 entries, else by power iteration, over the row chunks any kind
of rows hands it (``rows.row_chunks``: arrays, sparse matrices, a streamed
file's buffer, array-API arrays), whatever the kind. With a ``column_scale``
``s``, the same for ``X1 diag(s)``: the bound in the coordinates of a diagonal
preconditioner (``_preconditioner``). The Gram matrix's diagonal, the weighted
squares of each column, is :func:`column_squares`.

Each function takes ``rows`` with ``shape``, ``xp``, ``device``, ``dtype``,
``in_memory`` and ``row_chunks(size)`` (see ``_rows._base.Rows``).
"""

import numpy as np
from scipy import sparse
from sklearn.externals import array_api_compat

from ._namespace import sum_dtype, to_host

#: Sizes up to which the largest singular value is computed exactly from a Gram
#: matrix; larger problems use power iteration.
EXACT_GRAM_MAX_SIDE = 256
_POWER_ITERATIONS = 50
_POWER_RTOL = 1e-6
_CHUNK_ROWS = 8192


def squared_spectral_norm(rows, weight, fit_intercept, column_scale=None):
    """Largest eigenvalue of ``X1^T diag(weight) X1`` with ``X1 = [X, 1]``.

    Exact (from the smaller Gram matrix, in float64) when one side of ``X1`` has at
    most 256 entries; otherwise by power iteration from a fixed start, 50 steps at
    most, which is exact in practice and within a factor below 2 of the exact value
    in all but contrived cases (the step 1 / L still decreases the objective while
    L is over half the true constant). Computed in X's namespace, on its device.

    Parameters
    ----------
    rows : Rows
        The rows of ``X``, shape (n_samples, n_features).
    weight : array of shape (n_samples,) or shape ()
        Non-negative weight of each sample (a scalar: the same for all), in
        X's namespace.
    fit_intercept : bool
        Whether to append a column of ones to ``X``.
    column_scale : ndarray of shape (n_features + fit_intercept,), default=None
        ``s``: the eigenvalue of ``diag(s) X1^T diag(weight) X1 diag(s)``
        instead (float64, on the host).

    Returns
    -------
    float
    """
    xp, device = rows.xp, rows.device
    n_samples, n_features = rows.shape
    dtype = sum_dtype(xp, device)
    weight = xp.broadcast_to(xp.astype(weight, dtype), (n_samples,))
    n_params = n_features + int(fit_intercept)
    # The Gram matrix of the samples needs them all at once: only in memory.
    if not rows.in_memory and n_params > EXACT_GRAM_MAX_SIDE:
        return _power_iteration(rows, weight, fit_intercept, column_scale)
    if min(n_samples, n_params) <= EXACT_GRAM_MAX_SIDE:
        if n_params <= n_samples:
            gram = scaled_gram(
                to_host(xp, feature_gram(rows, weight, fit_intercept)), column_scale
            )
        else:
            gram = to_host(xp, _sample_gram(rows, weight, fit_intercept, column_scale))
        if not np.all(np.isfinite(gram)):
            return np.inf  # overflowed: the caller says what to do
        return float(np.linalg.eigvalsh(gram)[-1])
    return _power_iteration(rows, weight, fit_intercept, column_scale)


def scaled_gram(gram, column_scale):
    """``diag(s) gram diag(s)`` of a host Gram matrix (``gram`` for None)."""
    if column_scale is None:
        return gram
    with np.errstate(over="ignore", invalid="ignore"):
        return gram * np.outer(column_scale, column_scale)


def _with_ones(xp, X, fit_intercept, dtype):
    """``[X, 1]`` in ``dtype`` (dense or sparse), or ``X`` in ``dtype``."""
    if sparse.issparse(X):
        X = sparse.csr_array(X, dtype=dtype)
        if fit_intercept:
            X = sparse.hstack([X, np.ones((X.shape[0], 1))], format="csr")
        return X
    X = xp.astype(xp.asarray(X), dtype)
    if fit_intercept:
        ones = xp.ones(
            (X.shape[0], 1), dtype=dtype, device=array_api_compat.device(xp.asarray(X))
        )
        X = xp.concat([X, ones], axis=1)
    return X


def feature_gram(rows, weight, fit_intercept):
    """``X1^T diag(weight) X1``, accumulated over row chunks to bound memory.

    In ``weight``'s dtype (of shape (n_samples,), in X's namespace).
    """
    xp = rows.xp
    n_params = rows.shape[1] + int(fit_intercept)
    gram = xp.zeros(
        (n_params, n_params), dtype=weight.dtype, device=array_api_compat.device(weight)
    )
    for start, chunk in rows.row_chunks(_CHUNK_ROWS):
        chunk_weight = xp.reshape(weight[start : start + chunk.shape[0]], (-1, 1))
        chunk = _with_ones(xp, chunk, fit_intercept, weight.dtype)
        weighted = (
            chunk.multiply(chunk_weight)
            if sparse.issparse(chunk)
            else (chunk * chunk_weight)
        )
        product = chunk.T @ weighted
        gram += product.toarray() if sparse.issparse(product) else product
    return gram


def _sample_gram(rows, weight, fit_intercept, column_scale=None):
    """``diag(w)^(1/2) X1 X1^T diag(w)^(1/2)``: same nonzero eigenvalues.

    For at most 256 samples, whose chunks are copied in ``weight``'s dtype
    (a streamed file's buffer is reused) and stacked; with ``column_scale``,
    of ``X1 diag(s)``.
    """
    xp = rows.xp
    pieces = [
        _with_ones(xp, chunk, fit_intercept, weight.dtype)
        for _, chunk in rows.row_chunks(rows.shape[0])
    ]
    X1 = pieces[0] if len(pieces) == 1 else _stacked(xp, pieces)
    if column_scale is not None:
        X1 = (
            sparse.csr_array(X1.multiply(np.reshape(column_scale, (1, -1))))
            if sparse.issparse(X1)
            else X1
            * xp.asarray(
                column_scale,
                dtype=weight.dtype,
                device=array_api_compat.device(weight),
            )
        )
    gram = X1 @ X1.T
    gram = gram.toarray() if sparse.issparse(gram) else gram
    root = xp.sqrt(weight)
    return gram * xp.reshape(root, (-1, 1)) * xp.reshape(root, (1, -1))


def _stacked(xp, pieces):
    """The chunks ``pieces`` one under the other (dense or sparse)."""
    if sparse.issparse(pieces[0]):
        return sparse.vstack(pieces, format="csr")
    return xp.concat(pieces, axis=0)


def _power_iteration(rows, weight, fit_intercept, column_scale=None):
    """Power iteration on ``X1^T diag(weight) X1`` from a fixed random start
    (on ``diag(s) X1^T diag(weight) X1 diag(s)`` with ``column_scale``)."""
    xp = rows.xp
    # Products run in X's dtype so that float32 X is never copied to float64.
    weight = xp.astype(weight, _namespace_dtype(rows))
    device = array_api_compat.device(weight)
    return largest_eigenvalue(
        xp,
        scaled_product(
            xp,
            lambda vector: gram_times(rows, weight, vector, fit_intercept),
            column_scale,
            device,
        ),
        rows.shape[1] + int(fit_intercept),
        device,
    )


def scaled_product(xp, gram_times, column_scale, device):
    """The product with ``diag(s) G diag(s)`` from the product with ``G``."""
    if column_scale is None:
        return gram_times
    scale = xp.asarray(column_scale, dtype=sum_dtype(xp, device), device=device)
    return lambda vector: scale * gram_times(scale * vector)


def _namespace_dtype(rows):
    """The rows' dtype in their namespace."""
    return getattr(rows.xp, rows.dtype.name)


def largest_eigenvalue(xp, gram_times, size, device):
    """Power iteration with the product ``gram_times(vector)`` of a PSD matrix."""
    start = np.random.RandomState(0).standard_normal(size)
    vector = xp.asarray(start, dtype=sum_dtype(xp, device), device=device)
    estimate = 0.0
    for _ in range(_POWER_ITERATIONS):
        vector = vector / xp.linalg.vector_norm(vector)
        new_vector = gram_times(vector)
        new_estimate = float(xp.sum(vector * new_vector))
        vector = new_vector
        if abs(new_estimate - estimate) <= _POWER_RTOL * new_estimate:
            return new_estimate
        estimate = new_estimate
    return estimate


def gram_times(rows, weight, vector, fit_intercept):
    """``X1^T diag(weight) X1 @ vector``, over row chunks, in ``vector``'s dtype.

    ``weight`` of shape (n_samples,) in the rows' dtype and namespace.
    """
    xp = rows.xp
    n_features = rows.shape[1]
    dtype = _namespace_dtype(rows)
    coef = xp.astype(vector[:n_features], dtype)
    intercept = xp.astype(vector[n_features:], dtype)
    new_vector = xp.zeros_like(vector)
    for start, chunk in rows.row_chunks(_CHUNK_ROWS):
        product = chunk @ coef
        if fit_intercept:
            product = product + intercept
        weighted = weight[start : start + chunk.shape[0]] * product
        new_vector[:n_features] += weighted @ chunk
        if fit_intercept:
            new_vector[n_features:] += xp.sum(weighted, dtype=vector.dtype)
    return new_vector


def column_squares(rows, weight, fit_intercept):
    """The diagonal of ``X1^T diag(weight) X1``: each column's weighted squares.

    ``sum_i weight_i x_ij^2`` per feature, then ``sum_i weight_i`` for the
    column of ones; one pass over ``X`` (row chunks), summed in float64 (float32
    squares overflow early). ``weight`` may be a list of weights, one per
    model: still one pass.

    Returns
    -------
    ndarray of shape (n_features + fit_intercept,), float64, on the host
        Of shape ``(k, ...)`` for a list of ``k`` weights.
    """
    if not isinstance(weight, list):
        return column_squares(rows, [weight], fit_intercept)[0]
    xp = rows.xp
    dtype = sum_dtype(xp, rows.device)
    n_samples, n_features = rows.shape
    weights = [xp.broadcast_to(xp.astype(w, dtype), (n_samples,)) for w in weight]
    total = np.zeros((len(weights), n_features))
    for start, chunk in rows.row_chunks(_CHUNK_ROWS):
        stop = start + chunk.shape[0]
        if sparse.issparse(chunk):
            chunk = sparse.csr_array(chunk, dtype=np.float64)
            squared = chunk.multiply(chunk).T
            squares = [squared @ to_host(xp, w[start:stop]) for w in weights]
        elif isinstance(chunk, np.ndarray):
            # Products then sums, not a matrix product: the same sums whether
            # the weights are one share for all or each sample's; in float64
            # with no copy of the chunk.
            squares = [
                np.einsum("ij,ij,i->j", chunk, chunk, w[start:stop], dtype=np.float64)
                for w in weights
            ]
        else:
            chunk = xp.astype(chunk, dtype)
            squared = chunk * chunk
            columns = [xp.reshape(w[start:stop], (-1, 1)) for w in weights]
            squares = [to_host(xp, xp.sum(squared * w, axis=0)) for w in columns]
        total += np.reshape(np.asarray(squares, dtype=np.float64), total.shape)
    if fit_intercept:
        sums = [[float(xp.sum(w))] for w in weights]
        total = np.concatenate([total, sums], axis=1)
    return total


def squared_frobenius_norm(rows, weight, fit_intercept):
    """``||diag(weight)^(1/2) X1||_F^2``: an upper bound of the squared spectral norm.

    One pass over ``X`` (row chunks), against the Gram matrix or the power
    iteration of :func:`squared_spectral_norm`: the bound for a first step
    that the step rule corrects at once (the spectral steps' "auto" start).
    """
    xp = rows.xp
    dtype = sum_dtype(xp, rows.device)
    n_samples = rows.shape[0]
    weight = xp.broadcast_to(xp.astype(weight, dtype), (n_samples,))
    total = float(xp.sum(weight)) if fit_intercept else 0.0
    for start, chunk in rows.row_chunks(_CHUNK_ROWS):
        if sparse.issparse(chunk):
            chunk = chunk.astype(np.float64)
            squares = np.asarray(chunk.multiply(chunk).sum(axis=1)).reshape(-1)
        elif isinstance(chunk, np.ndarray):  # no copy of the chunk
            squares = np.einsum("ij,ij->i", chunk, chunk, dtype=np.float64)
        else:
            chunk = xp.astype(chunk, dtype)  # float32 squares overflow early
            squares = xp.sum(chunk * chunk, axis=1)
        total += float(xp.sum(weight[start : start + chunk.shape[0]] * squares))
    return total
