"""Save and load fitted models with skops, trusting only this package's types.

skops is imported when a model is saved or read (importing it imports every
scikit-learn estimator, seconds): a missing or foreign file is refused first.
"""

import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._files import write_atomically
from ._logistic import GradientDescentLogisticRegression
from ._minibatch import MiniBatchLogisticRegression

#: The estimators a saved pipeline may end in.
ESTIMATORS = (GradientDescentLogisticRegression, MiniBatchLogisticRegression)
#: The types a model of ours holds that skops does not trust by default: this
#: package's (a mini-batch model keeps its descent's state, so that
#: ``partial_fit`` can go on: its update rule, schedule and stopping rule), and
#: SciPy's CSR matrices (``coef_`` after ``sparsify()``).
TRUSTED_TYPES = frozenset(
    {
        "sklearn_gdlogreg._logistic.GradientDescentLogisticRegression",
        "sklearn_gdlogreg._minibatch.MiniBatchLogisticRegression",
        "sklearn_gdlogreg._solvers.stochastic.MomentumSGD",
        "sklearn_gdlogreg._solvers.stochastic.RMSprop",
        "sklearn_gdlogreg._solvers.stochastic.Adam",
        "sklearn_gdlogreg._solvers.epochs.Schedule",
        "sklearn_gdlogreg._solvers.epochs.NoImprovement",
        "sklearn_gdlogreg.preprocessing.ImageFlattener",
        "sklearn_gdlogreg.preprocessing.PixelScaler",
        "scipy.sparse._csr.csr_matrix",
        "scipy.sparse._csr.csr_array",
        "scipy.sparse._arrays.csr_array",  # where SciPy 1.10 keeps it
    }
)
#: Every type a model saved by ``gdlogreg train`` may hold: this package's, the
#: pipeline and scaler around them, the containers and arrays of their
#: attributes, and the random generator a mini-batch model shuffles with.
#: Anything else (skops would trust any scikit-learn estimator or
#: NumPy function by default) is refused.
ALLOWED_TYPES = TRUSTED_TYPES | frozenset(
    {
        "sklearn.pipeline.Pipeline",
        "sklearn.preprocessing._data.StandardScaler",
        "numpy.random.mtrand.RandomState",
        *(f"builtins.{name}" for name in ("dict", "list", "tuple", "str", "int",
                                          "float", "bool", "NoneType")),
        *(f"numpy.{name}" for name in ("ndarray", "float64", "float32", "int64",
                                       "int32", "bool_", "str_", "dtype")),
    }
)  # fmt: skip
#: The most a model file may unpack to: a model of ours is a few MB at most
#: (one coefficient per feature and class), so a larger one is no model of
#: ours, and may be a zip bomb.
MAX_UNPACKED_BYTES = 256 << 20


def save_model(model, path):
    """Write ``model`` to ``path`` in skops format, completely or not at all.

    The file is written beside ``path`` under a temporary name and renamed into
    place, so an interruption leaves no partial file.

    Parameters
    ----------
    model : Pipeline
        A fitted pipeline ending in :class:`GradientDescentLogisticRegression`
        or :class:`MiniBatchLogisticRegression`.
    path : str or path-like
        Where to write (conventionally ``*.skops``).
    """
    import skops.io

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
        If the file is not a skops file (or a damaged one), holds types outside
        :data:`ALLOWED_TYPES`, or is not a fitted pipeline ending in
        :class:`GradientDescentLogisticRegression` or
        :class:`MiniBatchLogisticRegression` that predicts.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}.")
    not_ours = f"{path} is not a model saved by 'gdlogreg train --model'"
    try:
        _check_contents(path, not_ours)
        import skops.io

        untrusted = set(skops.io.get_untrusted_types(file=path))
        if untrusted - TRUSTED_TYPES:
            raise _Refused(
                f"{not_ours}: it holds types this package does not trust: "
                f"{sorted(untrusted - TRUSTED_TYPES)}."
            )
        model = skops.io.load(path, trusted=sorted(untrusted))
    except _Refused:
        raise
    except Exception as error:
        # A damaged file makes zipfile, json, skops or NumPy raise anything.
        raise ValueError(f"{not_ours} ({error or type(error).__name__}).") from error
    _check_fitted_model(model, not_ours)
    return model


class _Refused(ValueError):
    """A file refused for what it holds, said in the message as it stands."""


def _check_fitted_model(model, not_ours):
    """Refuse a loaded object that is no fitted pipeline of ours that predicts.

    An unfitted pipeline, or one a damaged file left without its steps or
    attributes, would fail later, far from the file's name.
    """
    if not isinstance(model, Pipeline):
        raise _Refused(f"{not_ours}: it holds a {type(model).__name__}.")
    steps = vars(model).get("steps")
    if not (
        isinstance(steps, list)
        and steps
        and all(isinstance(step, tuple) and len(step) == 2 for step in steps)
        and isinstance(steps[-1][1], ESTIMATORS)
    ):
        raise _Refused(
            f"{not_ours}: it holds a Pipeline that does not end in a "
            "GradientDescentLogisticRegression or a MiniBatchLogisticRegression."
        )
    try:
        check_is_fitted(model)
        # One prediction, from the shape the pipeline was fitted on, proves
        # that every fitted attribute a prediction reads is there and agrees.
        first = steps[0][1]
        shape = getattr(first, "image_shape_", None) or (model.n_features_in_,)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proba = model.predict_proba(np.zeros((1, *shape)))
            model.predict(np.zeros((1, *shape)))
        if proba.shape != (1, len(model.classes_)):
            raise ValueError("its classes do not match its coefficients")
    except NotFittedError as error:
        raise _Refused(f"{not_ours}: its pipeline is not fitted.") from error
    except Exception as error:
        raise _Refused(
            f"{not_ours}: it holds no fitted model that predicts "
            f"({error or type(error).__name__})."
        ) from error


def _check_contents(path, not_ours):
    """Refuse a file that unpacks too large or holds types outside the list."""
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise _Refused(
                f"{not_ours}: it would unpack to {unpacked / 2**20:.0f} MB, more "
                f"than a model holds ({MAX_UNPACKED_BYTES >> 20} MB at most)."
            )
        schema = json.loads(archive.read("schema.json"))
    found = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    if found - ALLOWED_TYPES:
        raise _Refused(
            f"{not_ours}: it holds types this package does not trust: "
            f"{sorted(found - ALLOWED_TYPES)}."
        )
