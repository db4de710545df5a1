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

__all__ = ["block_batches", "bound_batch", "visiting_order"]


def visiting_order(n_items, random_state):
    """``range(n_items)`` shuffled by ``random_state`` (None: in order)."""
    if random_state is None:
        return np.arange(n_items)
    return random_state.permutation(n_items)


def bound_batch(rows, X, indices):
    """The batch of bound ``rows`` at ``indices``, whose rows are ``X``.

    Each sample's share is ``s_i / S * n / |B|`` (``S`` the whole data's weight
    sum, ``n`` its number of rows): its mean loss is an unbiased sample of
    the data term. The kind of the batch's rows is chosen by ``make_rows`` for
    ``X`` (its size decides, as for any array in memory).

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
    from . import make_rows

    weight = None if rows.sample_weight is None else rows.sample_weight[indices]
    return make_rows(X).bind(
        rows.loss,
        rows.host_target[..., indices],
        weight,
        rows.fit_intercept,
        weight_sum=rows.weight_sum * len(indices) / rows.shape[0],
    )


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
