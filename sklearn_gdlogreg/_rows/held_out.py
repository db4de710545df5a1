"""Early stopping's held-out rows: a stratified sample in memory, whole blocks else.

Rows in memory are split by scikit-learn's stratified ``train_test_split`` of
their indices (:func:`stratified_split`). Rows read block by block (a streamed
file's chunks, a Dask array's row blocks) are split into whole blocks
(:func:`whole_blocks_split`), so that a training pass reads the training
blocks only and a score reads the held-out ones only, a block at a time; such
rows can be subset (``Rows.take``) by whole blocks only (:func:`blocks_taken`).
"""

import math

import numpy as np
from sklearn.model_selection import train_test_split

from .._messages import ParameterError, no_blocks_to_train

__all__ = ["blocks_taken", "stratified_split", "whole_blocks_split"]


def stratified_split(n_samples, fraction, random_state, y_index):
    """``(train, held_out)`` row indices: ``fraction`` of the rows held out,
    stratified by the labels' indices ``y_index``, drawn from ``random_state``."""
    return train_test_split(
        np.arange(n_samples),
        test_size=fraction,
        random_state=random_state,
        stratify=y_index,
    )


def whole_blocks_split(spans, fraction, random_state, blocks, fix):
    """``(train, held_out)`` row indices, each the rows of whole blocks.

    ``round(fraction * n_blocks)`` blocks are held out (at least one), drawn
    from ``random_state``; at least one is left for training. Both index
    arrays are sorted.

    Parameters
    ----------
    spans : list of (int, int)
        The ``(start, stop)`` of each block, in order, covering the rows.
    fraction : float
        ``validation_fraction``.
    random_state : numpy.random.RandomState
    blocks : str
        What the blocks are, for the error ("row blocks of the Dask array").
    fix : str
        What else to do when no split leaves blocks on both sides.

    Raises
    ------
    ParameterError
        With fewer than two blocks, or a fraction that would hold out all.
    """
    n_blocks = len(spans)
    n_held = max(1, math.floor(fraction * n_blocks + 0.5))
    if n_held >= n_blocks:
        raise ParameterError(no_blocks_to_train(fraction, n_blocks, blocks, fix))
    held = np.zeros(n_blocks, bool)
    held[random_state.permutation(n_blocks)[:n_held]] = True
    return _rows_of(spans, ~held), _rows_of(spans, held)


def _rows_of(spans, chosen):
    """The indices of the rows of the blocks where ``chosen`` is True, sorted."""
    return np.concatenate([
        np.arange(start, stop)
        for (start, stop), keep in zip(spans, chosen, strict=True)
        if keep
    ])  # fmt: skip


def blocks_taken(spans, indices, error):
    """The indices of the blocks whose rows ``indices`` are, in order.

    Raises ``ValueError(error)`` unless ``indices`` are the rows of whole
    blocks, sorted (as :func:`whole_blocks_split` gives them).
    """
    indices = np.asarray(indices)
    starts = np.array([start for start, _ in spans])
    taken = np.unique(np.searchsorted(starts, indices, side="right") - 1)
    chosen = np.zeros(len(spans), bool)
    chosen[taken] = True
    if len(indices) == 0 or not np.array_equal(indices, _rows_of(spans, chosen)):
        raise ValueError(error)
    return taken.tolist()
