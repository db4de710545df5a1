"""Save and load fitted models with skops, trusting only this package's types."""

import zipfile
from pathlib import Path

import skops.io
from sklearn.pipeline import Pipeline

from ._files import write_atomically
from ._logistic import GradientDescentLogisticRegression

#: Types outside skops' default trusted set that a model of ours may hold.
TRUSTED_TYPES = frozenset(
    {
        "sklearn_gdlogreg._logistic.GradientDescentLogisticRegression",
        "sklearn_gdlogreg.preprocessing.ImageFlattener",
        "sklearn_gdlogreg.preprocessing.PixelScaler",
    }
)


def save_model(model, path):
    """Write ``model`` to ``path`` in skops format, completely or not at all.

    The file is written beside ``path`` under a temporary name and renamed into
    place, so an interruption leaves no partial file.

    Parameters
    ----------
    model : Pipeline
        A fitted pipeline ending in :class:`GradientDescentLogisticRegression`.
    path : str or path-like
        Where to write (conventionally ``*.skops``).
    """
    write_atomically(path, lambda temporary: skops.io.dump(model, temporary))


def load_model(path):
    """Load a model saved by :func:`save_model`, refusing any other file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Pipeline

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a skops file, holds types other than scikit-learn's,
        numpy's and this package's, or is not a pipeline ending in
        :class:`GradientDescentLogisticRegression`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}.")
    not_ours = f"{path} is not a model saved by 'gdlogreg train --model'"
    try:
        untrusted = set(skops.io.get_untrusted_types(file=path))
        if untrusted - TRUSTED_TYPES:
            raise ValueError(
                f"{not_ours}: it holds types this package does not trust: "
                f"{sorted(untrusted - TRUSTED_TYPES)}."
            )
        model = skops.io.load(path, trusted=sorted(untrusted))
    except (zipfile.BadZipFile, KeyError, TypeError) as error:
        raise ValueError(f"{not_ours} ({error}).") from error
    if not (
        isinstance(model, Pipeline)
        and isinstance(model[-1], GradientDescentLogisticRegression)
    ):
        raise ValueError(f"{not_ours}: it holds a {type(model).__name__}.")
    return model
