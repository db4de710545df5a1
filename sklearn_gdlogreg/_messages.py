"""Messages that name parameters as fields, so that each caller can spell them.

The library says ``learning_rate='auto'`` and ``StandardScaler``; the
``gdlogreg`` command says ``--learning-rate auto`` and ``--scaler standard``.
A :class:`Message` is text with :class:`Mention` parts: as a ``str`` it is the
library's (Python's) text, and :meth:`Message.spelt` writes it with another
spelling of the mentions, without reading the text. :class:`ParameterError`
and :class:`ParameterConvergenceWarning` carry one, and the parameters it
names. The builders below write the library's messages that name parameters.
"""

from dataclasses import dataclass
from numbers import Integral, Real

from sklearn.exceptions import ConvergenceWarning


@dataclass(frozen=True)
class Mention:
    """A parameter named in a message, with the value it names, if any.

    Parameters
    ----------
    parameter : str
        The parameter's name in Python (``"learning_rate"``); also a setting
        outside the estimator, such as ``"scaler"``.
    value : str, int, float or None, default=None
        None: the parameter itself ("a smaller learning_rate"). ``...``: some
        value to choose ("x_key=..."). Otherwise the value: a choice such as
        ``"auto"``, or a number (an int as is, a float in ``:g`` format).
    python : str, default=None
        Python's spelling, where it is not ``parameter=value``
        (``"StandardScaler"`` for the scaler ``"standard"``).
    """

    parameter: str
    value: object = None
    python: str | None = None

    @property
    def value_text(self):
        """The value as both spellings write it: ``auto``, ``300``, ``1e+06``."""
        if isinstance(self.value, Integral):
            return str(self.value)
        if isinstance(self.value, Real):
            return format(self.value, "g")
        return str(self.value)

    def in_python(self):
        """``learning_rate``, ``learning_rate='auto'``, ``max_iter=300``, ..."""
        if self.python is not None:
            return self.python
        if self.value is None:
            return self.parameter
        if self.value is ...:
            return f"{self.parameter}=..."
        value = repr(self.value) if isinstance(self.value, str) else self.value_text
        return f"{self.parameter}={value}"


class Message(str):
    """Text and :class:`Mention` parts; as a ``str``, the text Python reads.

    Parameters
    ----------
    *parts : str or Mention
        The message in order.

    Examples
    --------
    >>> message = Message("Use ", Mention("learning_rate", "auto"), ".")
    >>> str(message)
    "Use learning_rate='auto'."
    >>> message.spelt(lambda mention: f"--learning-rate {mention.value}")
    'Use --learning-rate auto.'
    >>> message.parameters
    ('learning_rate',)
    """

    def __new__(cls, *parts):
        self = super().__new__(cls, _joined(parts, Mention.in_python))
        self.parts = parts
        return self

    def __getnewargs__(self):
        return self.parts

    @property
    def parameters(self):
        """The parameters mentioned, each once, in order of first mention."""
        names = (part.parameter for part in self.parts if isinstance(part, Mention))
        return tuple(dict.fromkeys(names))

    def spelt(self, spell):
        """The text with each mention written as ``spell(mention)`` says.

        Parameters
        ----------
        spell : callable
            Takes a :class:`Mention`, returns its text.

        Returns
        -------
        str
        """
        return _joined(self.parts, spell)


def _joined(parts, spell):
    text = ""
    for part in parts:
        piece = part if isinstance(part, str) else spell(part)
        if text.endswith("...") and piece.startswith("."):
            piece = piece[1:]  # an ellipsis ends the sentence: "use x_key=..."
        text += piece
    return text


class Structured:
    """An error or warning whose message is a :class:`Message`.

    Parameters
    ----------
    message : Message or str

    Attributes
    ----------
    message : Message
    parameters : tuple of str
        The parameters the message names, the one it is about first.
    parameter : str or None
        The one it is about: the first it names.
    """

    def __init__(self, message):
        if not isinstance(message, Message):
            message = Message(message)  # text that names no parameter
        super().__init__(message)
        self.message = message
        self.parameters = message.parameters

    @property
    def parameter(self):
        return self.parameters[0] if self.parameters else None


class ParameterError(Structured, ValueError):
    """A ``ValueError`` about the parameters its :class:`Message` names."""


class ParameterConvergenceWarning(Structured, ConvergenceWarning):
    """A ``ConvergenceWarning`` whose :class:`Message` names what to change."""


def _scalers():
    """The scalers, as messages name them ("StandardScaler, or PixelScaler...")."""
    return (
        Mention("scaler", "standard", python="StandardScaler"),
        ", or ",
        Mention("scaler", "pixel", python="PixelScaler"),
        " for pixel values",
    )


def divergence(step, iteration, what):
    """Gradient descent diverged at ``step``, and what to change.

    Parameters
    ----------
    step : float
        The learning rate that diverged.
    iteration : int
    what : str
        What was seen ("the objective is no longer finite").

    Returns
    -------
    Message
    """
    return Message(
        "Gradient descent diverged with ",
        Mention("learning_rate", step),
        f": {what} at iteration {iteration}. Use a smaller ",
        Mention("learning_rate"),
        ", or ",
        Mention("learning_rate", "auto"),
        " (a step that cannot diverge), and scale the features (",
        *_scalers(),
        ").",
    )


def not_converged(estimator, max_iter, gradient_max, tol, *, fixed_rate):
    """The descent ran ``max_iter`` iterations without meeting ``tol``.

    Parameters
    ----------
    estimator : str
        The estimator's class name.
    max_iter : int
    gradient_max : float
        The largest gradient entry at the end.
    tol : float
    fixed_rate : bool
        Whether the learning rate was a number (then "auto" is suggested).

    Returns
    -------
    Message
    """
    fixes = [
        "Scale the features (",
        *_scalers(),
        "), raise ",
        Mention("max_iter"),
    ]
    if fixed_rate:
        fixes += [", or use ", Mention("learning_rate", "auto")]
    return Message(
        f"{estimator} did not converge in ",
        Mention("max_iter", max_iter),
        f" iterations: the largest gradient entry is {gradient_max:.3g} > ",
        Mention("tol", float(tol)),
        ". ",
        *fixes,
        ".",
    )


def epochs_not_converged(estimator, max_iter, n_iter_no_change, tol, *, validation):
    """A mini-batch descent ran ``max_iter`` epochs without meeting its
    stopping rule.

    Parameters
    ----------
    estimator : str
        The estimator's class name.
    max_iter : int
    n_iter_no_change : int
    tol : float
    validation : bool
        Whether the rule watched the validation score (early stopping).

    Returns
    -------
    Message
    """
    watched = (
        "the validation score still rose by more than "
        if validation
        else "the training objective still fell by more than "
    )
    return Message(
        f"{estimator} did not converge in ",
        Mention("max_iter", max_iter),
        f" epochs: {watched}",
        Mention("tol", float(tol)),
        " within the last ",
        Mention("n_iter_no_change", n_iter_no_change),
        " epochs. Scale the features (",
        *_scalers(),
        "), or raise ",
        Mention("max_iter"),
        ".",
    )


def epochs_diverged(rate, epoch):
    """A mini-batch descent diverged at ``rate`` in epoch ``epoch``.

    Returns
    -------
    Message
    """
    return Message(
        "Mini-batch descent diverged with ",
        Mention("learning_rate", rate),
        f": the objective is no longer finite in epoch {epoch}. Use a smaller ",
        Mention("learning_rate"),
        ", or ",
        Mention("learning_rate", "auto"),
        ", and scale the features (",
        *_scalers(),
        ").",
    )


def epochs_rose(rate, start, end, epochs, *, warm):
    """A mini-batch descent ended with its objective above its start's.

    Parameters
    ----------
    rate : float
        The initial learning rate (``learning_rate``, or the one "auto" gave).
    start, end : float
        The training objective at the start (the zero model, or the warm
        start) and at the end.
    epochs : int
    warm : bool
        Whether the start was the previous fit's model.

    Returns
    -------
    Message
    """
    started = "the previous fit's model" if warm else "the zero model"
    return Message(
        "Mini-batch descent diverged with ",
        Mention("learning_rate", rate),
        f": after {epochs} epochs the training objective is {end:.6g}, above "
        f"its start's ({started}), {start:.6g}. Use a smaller ",
        Mention("learning_rate"),
        ", or ",
        Mention("learning_rate", "auto"),
        ", and scale the features (",
        *_scalers(),
        ").",
    )


def features_overflow():
    """The squared norm of the features overflows float64.

    Returns
    -------
    Message
    """
    return Message(
        "The features are too large for float64 arithmetic: the squared norm of "
        "X, which sets the step, overflows. Scale the features (",
        *_scalers(),
        ").",
    )


def features_underflow(dtype, lipschitz):
    """The step ``1 / L`` that the features call for is beyond ``dtype``.

    Returns
    -------
    Message
    """
    return Message(
        f"The features are too small for {dtype} arithmetic: the step 1 / L "
        f"they call for (L = {lipschitz:.3g}) and the coefficients that fit "
        f"them are beyond {dtype}'s range. Scale the features (",
        *_scalers(),
        ").",
    )


def no_blocks_to_train(fraction, n_blocks, blocks, fix):
    """Early stopping cannot hold out whole blocks and leave one to train on.

    Parameters
    ----------
    fraction : float
        ``validation_fraction``.
    n_blocks : int
        The blocks the rows are read in.
    blocks : str
        What they are ("row blocks of the Dask array").
    fix : str
        The way out for this kind of rows, a sentence.

    Returns
    -------
    Message
    """
    held = (f"these rows are one block. To stop early, {fix}",)
    if n_blocks > 1:
        held = (
            Mention("validation_fraction", fraction),
            f" of their {n_blocks} blocks leaves none to train on. Use a smaller ",
            Mention("validation_fraction"),
            f", or {fix}",
        )
    return Message(
        Mention("early_stopping", True),
        f" holds out whole {blocks}, at least one, and trains on the others; ",
        *held,
    )


def weights_out_of_range(dtype, largest, too_large):
    """The sample weights (times the class weights) are beyond ``dtype``.

    Parameters
    ----------
    dtype : str
        The data's dtype, which the weights are computed in.
    largest : float
        The largest weight.
    too_large : bool
        Whether it is beyond the largest number of ``dtype`` (or infinite),
        else so small that ``dtype`` rounds it to 0.

    Returns
    -------
    Message
    """
    reach, where, down, up = (
        ("reach", "beyond", "Divide", "multiply")
        if too_large
        else ("reach at most", "below", "Multiply", "divide")
    )
    return Message(
        f"The sample weights (times the class weights, if any) {reach} "
        f"{largest:.3g}, {where} {dtype}'s range. {down} ",
        Mention("sample_weight"),
        f" by a constant and {up} ",
        Mention("C"),
        " by it: the model is the same.",
    )


def no_dataset(path, key, available, parameter):
    """The file has no dataset ``key``, given as ``parameter``.

    Parameters
    ----------
    path : str or path-like
    key : str
    available : list of str
        The file's datasets.
    parameter : {"x_key", "y_key"}

    Returns
    -------
    Message
    """
    return Message(
        f"{path} has no dataset '{key}'; it has {available}. Pass one of them as ",
        Mention(parameter),
        ".",
    )


def no_obvious_dataset(path, found, what, available, parameter):
    """No one dataset's name says it holds ``what``: name it with ``parameter``.

    Parameters
    ----------
    path : str or path-like
    found : str
        "no", or "several ([...])".
    what : str
        "images" or "labels".
    available : list of str
    parameter : {"x_key", "y_key"}

    Returns
    -------
    Message
    """
    return Message(
        f"{path}: found {found} datasets that look like {what} among "
        f"{available}. Name the one to use with ",
        Mention(parameter, ...),
        ".",
    )


def labels_not_vector(path, key, shape):
    """The labels' dataset is not a vector: pass another as ``y_key``.

    Parameters
    ----------
    path : str or path-like
    key : str
        The dataset read as labels.
    shape : tuple of int

    Returns
    -------
    Message
    """
    return Message(
        f"{path}: labels '{key}' have shape {shape}; expected a vector of one "
        "label per image. Pass the right dataset as ",
        Mention("y_key"),
        ".",
    )
