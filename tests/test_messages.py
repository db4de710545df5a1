"""Messages that name parameters as fields: Python's text, and other spellings."""

import pickle

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_gdlogreg._messages import (
    Mention,
    Message,
    ParameterConvergenceWarning,
    ParameterError,
    divergence,
    features_overflow,
    features_underflow,
    labels_not_vector,
    no_dataset,
    no_obvious_dataset,
    not_converged,
    weights_out_of_range,
)

SCALERS = "StandardScaler, or PixelScaler for pixel values"


@pytest.mark.parametrize(
    ("message", "text"),
    [
        (
            divergence(np.float64(1e6), 3, "the objective is no longer finite"),
            "Gradient descent diverged with learning_rate=1e+06: the objective is "
            "no longer finite at iteration 3. Use a smaller learning_rate, or "
            "learning_rate='auto' (a step that cannot diverge), and scale the "
            f"features ({SCALERS}).",
        ),
        (
            not_converged("Model", 300, 0.0123456, 1e-4, fixed_rate=True),
            "Model did not converge in max_iter=300 iterations: the largest "
            "gradient entry is 0.0123 > tol=0.0001. Scale the features "
            f"({SCALERS}), raise max_iter, or use learning_rate='auto'.",
        ),
        (
            not_converged("Model", np.int64(0), 2.0, 0, fixed_rate=False),
            "Model did not converge in max_iter=0 iterations: the largest "
            f"gradient entry is 2 > tol=0. Scale the features ({SCALERS}), "
            "raise max_iter.",
        ),
        (
            features_overflow(),
            "The features are too large for float64 arithmetic: the squared norm "
            "of X, which sets the step, overflows. Scale the features "
            f"({SCALERS}).",
        ),
        (
            features_underflow("float32", 1e-80),
            "The features are too small for float32 arithmetic: the step 1 / L "
            "they call for (L = 1e-80) and the coefficients that fit them are "
            f"beyond float32's range. Scale the features ({SCALERS}).",
        ),
        (
            weights_out_of_range("float32", 4.2e38, too_large=True),
            "The sample weights (times the class weights, if any) reach 4.2e+38, "
            "beyond float32's range. Divide sample_weight by a constant and "
            "multiply C by it: the model is the same.",
        ),
        (
            weights_out_of_range("float32", 1e-300, too_large=False),
            "The sample weights (times the class weights, if any) reach at most "
            "1e-300, below float32's range. Multiply sample_weight by a constant "
            "and divide C by it: the model is the same.",
        ),
        (
            no_dataset("a.h5", "b", ["x", "y"], "x_key"),
            "a.h5 has no dataset 'b'; it has ['x', 'y']. Pass one of them as x_key.",
        ),
        (
            no_obvious_dataset("a.h5", "no", "labels", ["x"], "y_key"),
            "a.h5: found no datasets that look like labels among ['x']. Name the "
            "one to use with y_key=...",
        ),
        (
            labels_not_vector("a.h5", "y", (3, 2)),
            "a.h5: labels 'y' have shape (3, 2); expected a vector of one label "
            "per image. Pass the right dataset as y_key.",
        ),
    ],
)
def test_python_s_spelling_is_the_library_s_text(message, text):
    assert isinstance(message, str) and message == text
    assert str(ParameterError(message)) == text


def test_another_spelling_rewrites_the_mentions_only():
    message = divergence(0.5, 7, "the learning_rate in prose stays")

    def upper(mention):
        return mention.parameter.upper() + (
            "" if mention.value is None else f"<{mention.value_text}>"
        )

    assert message.spelt(upper) == (
        "Gradient descent diverged with LEARNING_RATE<0.5>: the learning_rate in "
        "prose stays at iteration 7. Use a smaller LEARNING_RATE, or "
        "LEARNING_RATE<auto> (a step that cannot diverge), and scale the features "
        "(SCALER<standard>, or SCALER<pixel> for pixel values)."
    )


def test_an_ellipsis_ends_the_sentence_only_where_it_is_spelt():
    message = Message("Name it with ", Mention("x_key", ...), ".")
    assert message == "Name it with x_key=..."
    assert message.spelt(lambda mention: "--x-key NAME") == "Name it with --x-key NAME."


def test_errors_carry_the_parameters_their_message_names():
    error = ParameterError(divergence(1.0, 1, "it rose"))
    assert isinstance(error, ValueError)
    assert error.parameters == ("learning_rate", "scaler")
    assert error.parameter == "learning_rate"
    assert error.message.parts[1] == Mention("learning_rate", 1.0)
    message = not_converged("M", 5, 1.0, 0.1, fixed_rate=True)
    warning = ParameterConvergenceWarning(message)
    assert isinstance(warning, ConvergenceWarning)
    assert warning.parameter == "max_iter"
    assert warning.parameters == ("max_iter", "tol", "scaler", "learning_rate")


def test_an_error_of_plain_text_names_no_parameter():
    error = ParameterError("learning_rate is too large")
    assert str(error) == "learning_rate is too large"
    assert error.parameters == () and error.parameter is None


def test_errors_survive_pickling_with_their_fields():
    error = pickle.loads(
        pickle.dumps(ParameterError(no_dataset("f", "k", [], "y_key")))
    )
    assert str(error) == "f has no dataset 'k'; it has []. Pass one of them as y_key."
    assert error.parameters == ("y_key",) and error.message.parts[-2] == Mention(
        "y_key"
    )
