"""Mini-batches: unbiased samples of the data term, from rows in memory or in blocks.

:func:`bound_batch` makes one batch of any kind of rows: the batch's rows (an
array in memory) bound to their targets and weights, each share scaled so that
the batch's mean loss is, in expectation over a pass, the whole data's. For
rows that are read block by block (a streamed file's chunks, a Dask array's
blocks), :func:`block_batches` cuts the batches of a pass: blocks in shuffled
order, rows shuffled within each block, batches cut within each block, so
that one block (and one batch) is in memory at a time.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["batch_shares", "block_batches", "bound_batch", "visiting_order"]


def visiting_order(n_items, random_state):
    """``range(n_items)`` shuffled by ``random_state`` (None: in order)."""
    if random_state is None:
        return np.arange(n_items)
    return random_state.permutation(n_items)


def bound_batch(rows, X, indices):
    """The batch of bound ``rows`` at ``indices``, whose rows are ``X``.

    Each sample's share is ``s_i / S * n / |B|`` (``S`` the whole data's weight
    sum, ``n`` its number of rows): its mean loss is an unbiased sample of
    the data term. A NumPy batch is read by NumPy's two passes, as in-memory
    rows read theirs; another namespace's its own way.

    Parameters
    ----------
    rows : Rows
        Bound (:meth:`~sklearn_gdlogreg._rows._base.Rows.bind`), with
        ``host_target`` and ``sample_weight`` on the host.
    X : {ndarray, sparse matrix, array-API array} of shape (len(indices), \
n_features)
        The rows at ``indices``.
    indices : ndarray of int
    """
    from . import kind_of

    # NumPy's two passes for a NumPy batch, whatever its size (as in-memory
    # rows read theirs: the same batches give the same sums).
    kernel = "numpy" if isinstance(X, np.ndarray) or sp.issparse(X) else "auto"
    weight = None if rows.sample_weight is None else rows.sample_weight[indices]
    weight_sum, share = batch_shares(rows, indices)
    return kind_of(X, kernel)(X).bind(
        rows.loss,
        rows.host_target[..., indices],
        weight,
        rows.fit_intercept,
        weight_sum=weight_sum,
        share=share,
    )


def batch_shares(rows, indices):
    """The weight sum and each sample's share of the batch at ``indices``.

    ``S |B| / n`` and ``1 / (S |B| / n)`` for all without weights, else each
    sample's share of the whole data times ``n / |B|``, rounded to the rows'
    dtype: the shares of the compiled epoch (``_kernels_epoch``) too, so that
    every kind of rows makes the same batches.

    Parameters
    ----------
    rows : Rows
        Bound; without ``host_share`` (rows whose blocks keep theirs), the
        shares are None: ``bind`` makes them from the batch's weights.
    indices : ndarray of int
    """
    size, n_samples = len(indices), rows.shape[0]
    weight_sum = rows.weight_sum * size / n_samples
    if rows.sample_weight is None:
        share = 1 / weight_sum
    elif getattr(rows, "host_share", None) is None:
        return weight_sum, None  # shares kept by blocks (Dask): from the weights
    else:
        share = rows.host_share[indices].astype(np.float64) * (n_samples / size)
    return weight_sum, np.asarray(share, dtype=rows.dtype)


def block_batches(rows, blocks, batch_size, random_state):
    """Yield the bound batches of one pass over ``blocks``, cut within each.

    Parameters
    ----------
    rows : Rows
        Bound.
    blocks : iterable of (int, ndarray)
        ``(start, block)``: the rows from ``start`` on, in the order the pass
        visits them (shuffled by the caller). A block may be a reused buffer:
        it is used before the next one is asked for.
    batch_size : int
    random_state : numpy.random.RandomState or None
        Shuffles the rows of each block, drawn as the block is reached; None
        cuts them in order.

    Each batch is valid until the next one is asked for (its rows are gathered
    into a reused buffer): the descent uses it, then asks for the next.
    """
    buffer = None
    for start, block in blocks:
        n_block = block.shape[0]
        order = visiting_order(n_block, random_state)
        for first in range(0, n_block, batch_size):
            local = order[first : first + batch_size]
            if random_state is None:  # consecutive rows: a view of the block
                X = block[first : first + len(local)]
            else:
                if buffer is None or buffer.dtype != block.dtype:
                    buffer = np.empty((batch_size, block.shape[1]), block.dtype)
                X = np.take(block, local, axis=0, out=buffer[: len(local)])
            yield bound_batch(rows, X, start + local)
