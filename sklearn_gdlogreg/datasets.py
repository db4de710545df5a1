"""Image data: HDF5 files (the course's cats), bundled digits, image files."""

import contextlib
import os
import re
from pathlib import Path

import h5py
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

from ._messages import (
    ParameterError,
    labels_not_vector,
    no_dataset,
    no_obvious_dataset,
)

#: Environment variable naming the folder of the course's two HDF5 files.
DATA_HOME_ENV = "SKLEARN_GDLOGREG_DATA"
CATVNONCAT_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")

_IMAGE_KEY = re.compile(r"(^|_)(x|images?|data)$", re.IGNORECASE)
_LABEL_KEY = re.compile(r"(^|_)(y|labels?|targets?)$", re.IGNORECASE)
_CLASS_NAMES_KEYS = ("list_classes", "classes", "target_names", "class_names")


def load_h5(path, *, x_key=None, y_key=None, return_X_y=False, in_memory=True):
    """Load images and labels from one HDF5 file.

    Parameters
    ----------
    path : str or path-like
        The HDF5 file.
    x_key, y_key : str, default=None
        Names of the datasets holding the images and the labels. By default they
        are found from their names when there is one obvious pair: a name ending
        in ``x``, ``images`` or ``data`` and one ending in ``y``, ``labels`` or
        ``target`` (such as ``train_set_x`` and ``train_set_y``).
    return_X_y : bool, default=False
        Return ``(images, target)`` instead of a Bunch.
    in_memory : bool, default=True
        Read the images into memory. With False, ``images`` is the open
        ``h5py.Dataset`` itself (the labels are still read): a 2-D dataset can
        be given to ``GradientDescentLogisticRegression.fit`` and ``predict``,
        which stream it in chunks. Close it with ``images.file.close()``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``images`` (ndarray, as stored, e.g. (m, 64, 64, 3) uint8), ``target``
        (ndarray of shape (m,)), ``target_names`` (ndarray of str: the class
        names stored in the file as ``list_classes``, else the labels as
        text), and ``filename``.
    (images, target) : tuple of ndarray
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a readable HDF5 file, a key is missing or ambiguous,
        the labels are not a vector, or images and labels differ in number.

    Examples
    --------
    >>> from sklearn_gdlogreg.datasets import load_h5
    >>> data = load_h5("train_catvnoncat.h5")  # doctest: +SKIP
    >>> data.images.shape, data.target.shape, data.target_names  # doctest: +SKIP
    ((209, 64, 64, 3), (209,), array(['non-cat', 'cat'], dtype='<U7'))
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No HDF5 file at {path}.")
    file, read = None, False
    try:
        file = h5py.File(path, "r")
        with file if in_memory else contextlib.nullcontext():
            datasets = {
                name: item
                for name, item in file.items()
                if isinstance(item, h5py.Dataset)
            }
            x_key = _find_key(path, datasets, x_key, _IMAGE_KEY, "x_key", "images")
            y_key = _find_key(path, datasets, y_key, _LABEL_KEY, "y_key", "labels")
            images = datasets[x_key][()] if in_memory else datasets[x_key]
            target = datasets[y_key][()]
            names_key = next((k for k in _CLASS_NAMES_KEYS if k in datasets), None)
            stored_names = None if names_key is None else datasets[names_key][()]
            read = True
    except (OSError, RuntimeError) as error:  # h5py: unreadable or corrupted
        raise ValueError(
            f"Cannot read {path} as HDF5 ({error}). Check that it is an HDF5 file "
            "and that it was copied completely."
        ) from error
    finally:
        if file is not None and not in_memory and not read:
            file.close()  # the dataset is not handed out: do not leak the file
    try:
        target = _as_vector(path, y_key, target)
        if np.ndim(images) < 2:
            raise ValueError(
                f"{path}: '{x_key}' holds an array of shape {np.shape(images)}, "
                "not images: it needs one image per row (2 or more dimensions)."
            )
        if len(images) != len(target):
            raise ValueError(
                f"{path}: '{x_key}' holds {len(images)} images of shape "
                f"{images.shape[1:]} but '{y_key}' holds {len(target)} labels; "
                "they must be equal in number."
            )
    except BaseException:
        if not in_memory:
            file.close()
        raise
    if stored_names is None:
        target_names = np.unique(target).astype(str)
    else:
        target_names = np.array([_as_text(name) for name in np.ravel(stored_names)])

    if return_X_y:
        return images, target
    return Bunch(
        images=images,
        target=target,
        target_names=target_names,
        filename=str(path),
    )


def load_catvnoncat(data_home=None):
    """Load the course's cat vs non-cat images.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding ``train_catvnoncat.h5`` and ``test_catvnoncat.h5`` (or a
        ``catvnoncat`` folder holding them). Default: the folder named by the
        environment variable ``SKLEARN_GDLOGREG_DATA``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X_train`` (209, 64, 64, 3) uint8, ``y_train`` (209,), ``X_test`` (50,
        64, 64, 3), ``y_test`` (50,), ``target_names`` (``['non-cat', 'cat']``),
        ``max_value`` (255.0) and ``data_home``.

    Raises
    ------
    FileNotFoundError
        If no folder was named, or it does not hold the two files; the message
        says where they go.

    Examples
    --------
    >>> from sklearn_gdlogreg.datasets import load_catvnoncat
    >>> data = load_catvnoncat("datasets/catvnoncat")  # doctest: +SKIP
    >>> data.X_train.shape, data.X_test.shape  # doctest: +SKIP
    ((209, 64, 64, 3), (50, 64, 64, 3))
    """
    folder = catvnoncat_home(data_home)
    data = load_train_test_h5(*(folder / name for name in CATVNONCAT_FILES))
    data.data_home = str(folder)
    return data


def load_train_test_h5(train_path, test_path, *, x_key=None, y_key=None):
    """Load a training file and a test file of 8-bit images, as :func:`load_h5`.

    Parameters
    ----------
    train_path, test_path : str or path-like
        HDF5 files whose keys :func:`load_h5` finds by itself.
    x_key, y_key : str, default=None
        The images' and labels' dataset names in both files, as in
        :func:`load_h5`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X_train``, ``y_train``, ``X_test``, ``y_test``, ``target_names`` (from
        the training file) and ``max_value`` (255.0, the largest 8-bit pixel).
    """
    train = load_h5(train_path, x_key=x_key, y_key=y_key)
    test = load_h5(test_path, x_key=x_key, y_key=y_key)
    return Bunch(
        X_train=train.images,
        y_train=train.target,
        X_test=test.images,
        y_test=test.target,
        target_names=train.target_names,
        max_value=255.0,
    )


def catvnoncat_home(data_home=None):
    """The folder holding the course's two files, or a FileNotFoundError.

    Parameters
    ----------
    data_home : str or path-like, default=None
        As in :func:`load_catvnoncat`.

    Returns
    -------
    pathlib.Path
    """
    where = (
        f"Put {' and '.join(CATVNONCAT_FILES)} in one folder and pass it as "
        f"data_home, or set the environment variable {DATA_HOME_ENV} to it."
    )
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV)
        if not data_home:
            raise FileNotFoundError(f"No folder for the cat data was given. {where}")
    for folder in (Path(data_home), Path(data_home) / "catvnoncat"):
        if all((folder / name).is_file() for name in CATVNONCAT_FILES):
            return folder
    raise FileNotFoundError(f"{data_home} does not hold the cat data. {where}")


def _find_key(path, datasets, key, pattern, argument, what):
    """The dataset name for ``what``: the given one, or the one obvious match."""
    available = sorted(datasets)
    if key is not None:
        if key not in datasets:
            raise ParameterError(no_dataset(path, key, available, argument))
        return key
    matches = [name for name in available if pattern.search(name)]
    if len(matches) != 1:
        found = "no" if not matches else f"several ({matches})"
        raise ParameterError(no_obvious_dataset(path, found, what, available, argument))
    return matches[0]


def _as_vector(path, key, target):
    """Labels as a vector; (1, m) and (m, 1) are accepted as vectors."""
    if target.ndim != 1 and sum(size > 1 for size in target.shape) <= 1:
        target = target.reshape(-1)
    if target.ndim != 1:
        raise ParameterError(labels_not_vector(path, key, target.shape))
    return target


def _as_text(name):
    return name.decode() if isinstance(name, bytes) else str(name)


def load_digits_odd_even(*, test_size=0.25, random_state=0):
    """scikit-learn's bundled 8x8 digit images as a binary task: odd or even.

    A real image data set that needs no download, split like the course's data.

    Parameters
    ----------
    test_size : float, default=0.25
        Share of the images held out for testing (stratified).
    random_state : int, default=0
        Seed of the split.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X_train``, ``X_test`` (images of shape (8, 8), values 0 to 16),
        ``y_train``, ``y_test`` (0 = even, 1 = odd), ``target_names``
        (``['even', 'odd']``), ``max_value`` (16.0) and ``description``.

    Examples
    --------
    >>> from sklearn_gdlogreg.datasets import load_digits_odd_even
    >>> data = load_digits_odd_even()
    >>> data.X_train.shape, data.X_test.shape, data.target_names.tolist()
    ((1347, 8, 8), (450, 8, 8), ['even', 'odd'])
    """
    digits = load_digits()
    y = digits.target % 2
    X_train, X_test, y_train, y_test = train_test_split(
        digits.images, y, test_size=test_size, random_state=random_state, stratify=y
    )
    return Bunch(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        target_names=np.array(["even", "odd"]),
        max_value=16.0,
        description="scikit-learn's digits (8x8 images, values 0-16), odd vs even",
    )


def load_image_files(paths, image_shape):
    """Read PNG, JPEG or other image files, resized to ``image_shape``.

    Parameters
    ----------
    paths : list of str or path-like
        The image files.
    image_shape : tuple of int
        ``(height, width)`` for grey images, ``(height, width, channels)`` with
        1, 3 or 4 channels (grey, RGB, RGBA).

    Returns
    -------
    ndarray of shape ``(len(paths), *image_shape)``, uint8
        Pixels 0 to 255.

    Raises
    ------
    FileNotFoundError, ValueError
        If a file is missing or is not an image; the message names it.

    Warns
    -----
    UserWarning
        For an image whose size, or colour (grey against colour), differs from
        ``image_shape``: it is resized or converted to match, and a model's
        prediction on it may mean little.
    """
    import warnings

    from PIL import Image, UnidentifiedImageError

    modes = {2: "L", 3: {1: "L", 3: "RGB", 4: "RGBA"}}
    if len(image_shape) not in modes or (
        len(image_shape) == 3 and image_shape[2] not in modes[3]
    ):
        raise ValueError(
            f"Cannot read image files for a model of input shape {image_shape}: it "
            "takes (height, width) or (height, width, 1, 3 or 4 channels)."
        )
    mode = modes[2] if len(image_shape) == 2 else modes[3][image_shape[2]]
    height, width = image_shape[:2]
    images = []
    for path in map(Path, paths):
        if not path.is_file():
            raise FileNotFoundError(f"No image file at {path}.")
        try:
            with Image.open(path) as image:
                mismatch = _image_mismatch(image, height, width, mode)
                if mismatch:
                    warnings.warn(
                        f"{path} {mismatch}: it was resized or converted to "
                        "match, so a prediction on it may mean little.",
                        UserWarning,
                        stacklevel=2,
                    )
                image = image.convert(mode).resize(
                    (width, height), Image.Resampling.LANCZOS
                )
                images.append(np.asarray(image, dtype=np.uint8).reshape(image_shape))
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"Cannot read {path} as an image ({error}).") from error
    return np.stack(images)


def _image_mismatch(image, height, width, mode):
    """How a PIL image differs from (height, width) pixels in ``mode``, or ""."""
    grey_modes = {"1", "L", "LA", "I", "I;16", "F"}
    colour = "grey" if mode == "L" else "colour"
    differences = []
    if image.size != (width, height):
        differences.append(
            f"is {image.size[0]}x{image.size[1]} pixels, not {width}x{height}"
        )
    if (image.mode in grey_modes) != (colour == "grey"):
        kind = "grey" if image.mode in grey_modes else "colour"
        differences.append(f"is {kind}, not {colour}")
    if not differences:
        return ""
    return " and ".join(differences) + " as the training images"
