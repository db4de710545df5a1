"""The ``gdlogreg`` command: train, predict and compare, calling the library.

Only the standard library is imported before the arguments are parsed: the
library (scikit-learn, SciPy, h5py) is imported by the command that needs it,
inside :func:`main`'s handling of errors and Ctrl-C, so that ``--help``,
``--version`` and a mistyped option answer at once, and an interrupted
start-up says so in one line.
"""

import argparse
import contextlib
import csv
import io
import json
import math
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from . import __version__

PROG = "gdlogreg"


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line and exit status 2.

    An unknown option gets a pointer to the known one it is closest to
    (``--lr``: did you mean ``--learning-rate``?), said by the (sub)command
    that does not know it.
    """

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        unknown = [arg for arg in extras if arg.startswith("-") and arg != "-"]
        if unknown:
            hints = [
                f"did you mean {known}?"
                for known in map(self._closest_option, unknown)
                if known
            ]
            self.error(
                f"unrecognized arguments: {' '.join(extras)}"
                + (f" ({'; '.join(hints)})" if hints else "")
            )
        return namespace, extras

    def _closest_option(self, arg):
        """The known option ``arg`` (an unknown one) is likely a guess at."""
        import difflib

        option = arg.split("=", 1)[0]
        known = [name for name in self._option_string_actions if name.startswith("--")]
        guess = _COMMON_GUESSES.get(option.lower().replace("_", "-"))
        if guess in known:
            return guess
        closest = difflib.get_close_matches(option, known, n=1, cutoff=0.6)
        return closest[0] if closest else None


#: Options users of other tools type, and this command's option for each.
_COMMON_GUESSES = {
    "--lr": "--learning-rate",
    "--rate": "--learning-rate",
    "--alpha": "--learning-rate",
    "--eta": "--learning-rate",
    "--step": "--learning-rate",
    "--epochs": "--max-iter",
    "--num-epochs": "--max-iter",
    "--iterations": "--max-iter",
    "--num-iterations": "--max-iter",
    "--n-iter": "--max-iter",
    "--iter": "--max-iter",
    "-c": "--C",
    "--penalty": "--l1-ratio",
    "--output": "--model",
    "-o": "--model",
    "--optimizer": "--solver",
    "--mini-batch-size": "--batch-size",
    "--minibatch-size": "--batch-size",
    "--beta": "--momentum",
    "--beta1": "--beta-1",
    "--beta2": "--beta-2",
    "--seed": "--random-state",
    "--decay": "--decay-rate",
}


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for bad input (one line on stderr), 130 when
        interrupted.
    """
    written = []
    try:
        args = _parser().parse_args(argv)
        args.written = written
        with _interrupts_deferred():
            _load_library()
        args.run(args)
    except KeyboardInterrupt:
        done = f"wrote {', '.join(written)}" if written else "no file was written"
        print(f"\n{PROG}: interrupted; {done}.", file=sys.stderr)
        return 130
    except _USER_ERRORS as error:
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:
        # Pillow's errors (a decompression bomb, say) are the input's, too.
        if not type(error).__module__.startswith("PIL"):
            raise
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr)
        return 2
    return 0


@contextlib.contextmanager
def _interrupts_deferred():
    """Ctrl-C in this block takes effect at its end, as a KeyboardInterrupt.

    An import cut short leaves modules half initialised (NumPy then reports a
    broken installation, and the process may die of the signal after all), so
    the library is loaded whole, and the interrupt honoured after.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _load_library():
    """Import what every command uses (a second or two: scikit-learn, SciPy)."""
    import sklearn.linear_model  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.pipeline  # noqa: F401

    from . import _logistic, datasets, preprocessing  # noqa: F401


#: What bad input raises: files that cannot be read (h5py reports a corrupted
#: file as OSError or RuntimeError), values that make no sense, data that does
#: not fit in memory.
_USER_ERRORS = (OSError, ValueError, RuntimeError, MemoryError)


def _parser():
    parser = _Parser(
        prog=PROG,
        description="Logistic regression by gradient descent on images (full "
        "batches, or mini-batches with --solver sgd, rmsprop or adam): train, "
        "predict, and compare with scikit-learn's LogisticRegression. "
        "Without --train/--test, the data are scikit-learn's bundled digits "
        "(odd vs even); with them, HDF5 files such as the course's cat data.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="fit a model and report how it did")
    _add_data_options(train)
    _add_model_options(train)
    train.add_argument("--model", metavar="OUT", help="save the fitted model (skops)")
    train.add_argument(
        "--plot", metavar="OUT", help="write the cost curve (.png, .pdf or .svg)"
    )
    train.add_argument("--quiet", action="store_true", help="no live progress display")
    train.set_defaults(run=_train)

    predict = commands.add_parser("predict", help="classify images with a model")
    predict.add_argument("--model", required=True, help="a file from 'train --model'")
    predict.add_argument("--data", metavar="FILE.h5", help="an HDF5 file of images")
    _add_key_options(predict)
    predict.add_argument("images", nargs="*", metavar="IMAGE", help="PNG/JPEG files")
    predict.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default="table",
        help="table (default): aligned columns for reading, then the accuracy "
        "when --data holds labels; csv or json: one row (object) per input with "
        "its class and probabilities, and its label when --data holds labels "
        "(the accuracy then goes to stderr)",
    )
    predict.set_defaults(run=_predict)

    compare = commands.add_parser(
        "compare", help="this estimator against LogisticRegression (lbfgs)"
    )
    _add_data_options(compare)
    _add_model_options(compare)
    compare.set_defaults(run=_compare)
    return parser


def _add_data_options(parser):
    parser.add_argument("--train", metavar="FILE.h5", help="HDF5 training images")
    parser.add_argument("--test", metavar="FILE.h5", help="HDF5 test images")
    _add_key_options(parser)


def _add_key_options(parser):
    parser.add_argument(
        "--x-key",
        metavar="NAME",
        help="the images' dataset in the HDF5 files (default: found by its name)",
    )
    parser.add_argument(
        "--y-key",
        metavar="NAME",
        help="the labels' dataset in the HDF5 files (default: found by its name)",
    )


def _add_model_options(parser):
    _add_descent_options(parser)
    _add_mini_batch_options(
        parser.add_argument_group("mini-batch descent (--solver sgd, rmsprop or adam)")
    )


def _add_descent_options(parser):
    """The options of every descent: rate, budget, penalty, solver, scaler."""
    parser.add_argument(
        "--learning-rate",
        type=_learning_rate,
        default="auto",
        metavar="RATE|auto",
        help="fixed step (a mini-batch --solver: the first epoch's), or 'auto' "
        "(default)",
    )
    parser.add_argument(
        "--max-iter",
        type=_non_negative_int,
        default=None,
        metavar="N",
        help="the largest number of iterations, or of epochs with a mini-batch "
        "--solver (default: 1000 iterations, 200 epochs); 0: the starting model "
        "(zeros), full-batch solvers only",
    )
    parser.add_argument(
        "--tol",
        type=_non_negative_float,
        default=1e-4,
        metavar="T",
        help="stop when no gradient entry exceeds T (a mini-batch --solver: when "
        "the epoch's cost has not fallen by T for --n-iter-no-change epochs); "
        "0: run --max-iter iterations or epochs (default: 1e-4)",
    )
    parser.add_argument(
        "--C",
        type=_positive_or_inf,
        default=1.0,
        help="inverse penalty strength; inf: none (default: 1)",
    )
    parser.add_argument(
        "--l1-ratio", type=_unit_interval, default=0.0, help="share of L1 (0: L2)"
    )
    parser.add_argument(
        "--solver",
        choices=["auto", "gd", "nesterov", "bb", *MINI_BATCH_SOLVERS],
        default="auto",
        help="auto (default): gd with a fixed --learning-rate, else bb "
        "(spectral steps); gd, nesterov, bb: full-batch descent; sgd, rmsprop, "
        "adam: mini-batch descent (MiniBatchLogisticRegression, the options "
        "below)",
    )
    parser.add_argument(
        "--line-search",
        action="store_true",
        help="backtracking line search (gd, nesterov)",
    )
    parser.add_argument(
        "--scaler",
        choices=["pixel", "standard", "none"],
        default="pixel",
        help="pixel: divide by the largest pixel value (default)",
    )


def _add_mini_batch_options(mini_batch):
    """The options of MiniBatchLogisticRegression alone (their defaults, None,
    leave the estimator's): its batches and schedule, its update rules, its
    stopping and shuffles."""
    _add_schedule_options(mini_batch)
    _add_update_rule_options(mini_batch)
    _add_stopping_options(mini_batch)


def _add_schedule_options(mini_batch):
    """--batch-size and the learning rate by epoch."""
    mini_batch.add_argument(
        "--batch-size",
        type=_batch_size,
        metavar="N|auto",
        help="rows per mini-batch; auto (default): 200, or all the rows if fewer",
    )
    mini_batch.add_argument(
        "--schedule",
        choices=["constant", "decay", "invscaling", "adaptive"],
        help="the learning rate by epoch e: constant; decay (default): "
        "RATE / (1 + --decay-rate * e); invscaling: RATE / (1 + e) ** --power-t; "
        "adaptive: divided by 5 each time the cost stalls",
    )
    mini_batch.add_argument(
        "--decay-rate",
        type=_non_negative_float,
        metavar="D",
        help="for --schedule decay (default: the updates of an epoch / 1000)",
    )
    mini_batch.add_argument(
        "--power-t",
        type=_non_negative_float,
        metavar="P",
        help="for --schedule invscaling (default: 0.5)",
    )


def _add_update_rule_options(mini_batch):
    """The parameters of sgd's momentum and of RMSprop's and Adam's averages."""
    mini_batch.add_argument(
        "--momentum",
        type=_decay_weight,
        metavar="BETA",
        help="sgd: the weight of the past in the velocity v = BETA v + (1 - BETA) "
        "dW (default: 0.9); 0: plain steps",
    )
    mini_batch.add_argument(
        "--no-nesterov",
        action="store_true",
        help="sgd: the course's momentum, not Nesterov's (the default)",
    )
    mini_batch.add_argument(
        "--beta-1",
        type=_decay_weight,
        metavar="B1",
        help="adam: the weight of the past in the gradients' average (default: 0.9)",
    )
    mini_batch.add_argument(
        "--beta-2",
        type=_decay_weight,
        metavar="B2",
        help="rmsprop, adam: the weight of the past in the squared gradients' "
        "average (default: 0.999)",
    )
    mini_batch.add_argument(
        "--epsilon",
        type=_positive,
        metavar="EPS",
        help="rmsprop, adam: added to the root mean square (default: 1e-8)",
    )


def _add_stopping_options(mini_batch):
    """When the epochs stop, the held-out images, and the shuffles."""
    mini_batch.add_argument(
        "--n-iter-no-change",
        type=_positive_int,
        metavar="N",
        help="the epochs without gain that stop the descent (default: 10)",
    )
    mini_batch.add_argument(
        "--early-stopping",
        action="store_true",
        help="hold out --validation-fraction of the training images, stop when "
        "their accuracy stalls, keep the model of the best",
    )
    mini_batch.add_argument(
        "--validation-fraction",
        type=_open_unit_interval,
        metavar="F",
        help="for --early-stopping (default: 0.1)",
    )
    mini_batch.add_argument(
        "--no-shuffle",
        action="store_true",
        help="visit the rows in order (default: shuffled before each epoch)",
    )
    mini_batch.add_argument(
        "--random-state",
        type=_seed,
        metavar="SEED",
        help="the shuffles and the held-out images (default: 0, the same every run)",
    )


#: The ``--solver`` choices that train :class:`MiniBatchLogisticRegression`.
MINI_BATCH_SOLVERS = ("sgd", "rmsprop", "adam")

#: The options of mini-batch descent that are its estimator's parameters, by
#: destination (their defaults, None, leave the estimator's).
_MINI_BATCH_PARAMETERS = (
    "batch_size schedule decay_rate power_t momentum beta_1 beta_2 epsilon "
    "n_iter_no_change validation_fraction"
).split()
#: Every option of mini-batch descent, by destination: the flags too.
_MINI_BATCH_OPTIONS = [
    *_MINI_BATCH_PARAMETERS,
    *"no_nesterov early_stopping no_shuffle random_state".split(),
]
#: The options of mini-batch descent that apply to some of its solvers only:
#: each option's destination, and those solvers.
_SOLVER_OPTIONS = {
    "momentum": ("sgd",),
    "no_nesterov": ("sgd",),
    "beta_1": ("adam",),
    "beta_2": ("rmsprop", "adam"),
    "epsilon": ("rmsprop", "adam"),
}
#: The mini-batch options that apply to one choice of another: each option's
#: destination, and that choice as an option of the command.
_REQUIRES = {
    "decay_rate": ("schedule", "decay", "--schedule decay"),
    "power_t": ("schedule", "invscaling", "--schedule invscaling"),
    "validation_fraction": ("early_stopping", True, "--early-stopping"),
}


def _option(dest):
    """The command's option for an argument's destination: ``--beta-1``."""
    return "--" + dest.replace("_", "-")


def _check_options(args):
    """Refuse options that the chosen ``--solver`` (or another option) ignores.

    Raises
    ------
    ValueError
        Naming the option, and what it needs.
    """
    mini_batch = args.solver in MINI_BATCH_SOLVERS
    given = [
        dest for dest in _MINI_BATCH_OPTIONS if getattr(args, dest) not in (None, False)
    ]
    if not mini_batch:
        if given:
            raise ValueError(
                f"{_option(given[0])} is for mini-batch descent (--solver sgd, "
                f"rmsprop or adam), not --solver {args.solver}"
            )
        return
    if args.line_search:
        raise ValueError(
            f"--line-search is for --solver gd or nesterov, not --solver {args.solver}"
        )
    if args.max_iter == 0:
        raise ValueError(
            "--max-iter 0 (the starting model) is for the full-batch solvers: "
            f"--solver {args.solver} runs at least one epoch"
        )
    for dest in given:
        solvers = _SOLVER_OPTIONS.get(dest, MINI_BATCH_SOLVERS)
        if args.solver not in solvers:
            raise ValueError(
                f"{_option(dest)} is for --solver {' or '.join(solvers)}, not "
                f"--solver {args.solver}"
            )
        if dest in _REQUIRES:
            other, value, option = _REQUIRES[dest]
            current = getattr(args, other)
            if current is None:  # the estimator's default
                from ._minibatch import MiniBatchLogisticRegression

                current = MiniBatchLogisticRegression().get_params()[other]
            if current != value:
                raise ValueError(f"{_option(dest)} is for {option}")


def _learning_rate(text):
    if text == "auto":
        return text
    try:
        return _positive(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{error}, nor 'auto'") from None


def _number(kind, text):
    """``text`` as a number of ``kind``, or the error argparse reports."""
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _positive(text, *, infinite=False):
    """A positive, finite float (or infinity, when ``infinite``)."""
    value = _number(float, text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not positive")
    if value == math.inf and not infinite:
        raise argparse.ArgumentTypeError(f"{text} is not finite")
    return value


def _positive_or_inf(text):
    return _positive(text, infinite=True)


def _unit_interval(text):
    value = _number(float, text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _non_negative_int(text):
    value = _number(int, text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number >= 0")
    return value


def _positive_int(text):
    value = _number(int, text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number >= 1")
    return value


def _batch_size(text):
    if text == "auto":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{error}, nor 'auto'") from None


def _seed(text):
    value = _number(int, text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number in [0, 2**32)")
    return value


def _decay_weight(text):
    """A weight of the past in an average: in [0, 1)."""
    value = _number(float, text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not in [0, 1)")
    return value


def _open_unit_interval(text):
    value = _number(float, text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1 (excluded)")
    return value


def _non_negative_float(text):
    value = _number(float, text)
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"{text} is not a finite number >= 0")
    return value


def _load_data(args):
    """The training and test data: HDF5 files, or the bundled digits."""
    from . import datasets

    if (args.train is None) != (args.test is None):
        raise ValueError("give both --train and --test, or neither (bundled digits)")
    if args.train is None:
        return datasets.load_digits_odd_even()
    data = datasets.load_train_test_h5(
        args.train, args.test, x_key=args.x_key, y_key=args.y_key
    )
    data.description = f"{args.train} and {args.test}"
    return data


def _pipeline(args, data, estimator):
    """ImageFlattener, the chosen scaler, and ``estimator``."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from .preprocessing import ImageFlattener, PixelScaler

    scalers = {
        "pixel": [("scale", PixelScaler(max_value=data.max_value))],
        "standard": [("scale", StandardScaler())],
        "none": [],
    }
    return Pipeline(
        [("flatten", ImageFlattener()), *scalers[args.scaler], ("classify", estimator)]
    )


def _estimator(args):
    """The estimator the options ask for: full-batch or mini-batch descent."""
    if args.solver in MINI_BATCH_SOLVERS:
        return _mini_batch(args)
    from ._logistic import GradientDescentLogisticRegression

    return GradientDescentLogisticRegression(
        learning_rate=args.learning_rate,
        max_iter=1000 if args.max_iter is None else args.max_iter,
        tol=args.tol,
        C=args.C,
        l1_ratio=args.l1_ratio,
        solver=args.solver,
        line_search=args.line_search,
    )


def _mini_batch(args):
    """MiniBatchLogisticRegression with the options given (its defaults else)."""
    from ._minibatch import MiniBatchLogisticRegression

    given = {
        name: getattr(args, name)
        for name in ["max_iter", *_MINI_BATCH_PARAMETERS]
        if getattr(args, name) is not None
    }
    return MiniBatchLogisticRegression(
        solver=args.solver,
        learning_rate=args.learning_rate,
        tol=args.tol or None,  # 0: no stopping rule, all the epochs
        C=args.C,
        l1_ratio=args.l1_ratio,
        nesterovs_momentum=not args.no_nesterov,
        early_stopping=args.early_stopping,
        shuffle=not args.no_shuffle,
        random_state=0 if args.random_state is None else args.random_state,
        **given,
    )


def _method(args):
    """The descent, as the reports name it."""
    if args.solver in MINI_BATCH_SOLVERS:
        return f"mini-batch {args.solver}"
    return "gradient descent"


def _named(data):
    """Labels as class names, so that a saved model predicts names."""
    names = data.target_names
    if _indexes(data.y_train, names):
        return names[data.y_train], names[data.y_test]
    return data.y_train.astype(str), data.y_test.astype(str)


def _indexes(labels, names):
    """Whether ``labels`` are indexes into the class ``names``."""
    return (
        labels.dtype.kind in "iu"
        and labels.size > 0
        and 0 <= labels.min() <= labels.max() < len(names)
    )


def _label_names(labels, names):
    """A file's labels as the class names a saved model predicts (as ``_named``)."""
    return (names[labels] if _indexes(labels, names) else labels).astype(str)


def _fit(model, X, y, *, progress=False):
    """Fit, timing it; warnings become one-line notes on stderr."""
    from sklearn.exceptions import ConvergenceWarning

    from ._callbacks import CostProgress

    estimator = model[-1]
    show = progress and hasattr(estimator, "set_callbacks")
    if show:
        estimator.set_callbacks(CostProgress())
    try:
        with _warnings_as_notes(ConvergenceWarning):
            start = time.perf_counter()
            model.fit(X, y)
            seconds = time.perf_counter() - start
    finally:
        if show:
            estimator.set_callbacks()  # not saved with the model
    return seconds


@contextlib.contextmanager
def _warnings_as_notes(category):
    """Warnings in the block as one-line notes on stderr; ``category``: all."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category)
        yield
    for warning in caught:
        print(f"{PROG}: warning: {_one_line(warning.message)}", file=sys.stderr)


def _scores(model, X, y):
    from sklearn.metrics import accuracy_score, log_loss

    return accuracy_score(y, model.predict(X)), log_loss(
        y, model.predict_proba(X), labels=model.classes_
    )


def _train(args):
    _check_options(args)
    for output in (args.model, args.plot):
        if output and not Path(output).resolve().parent.is_dir():
            raise FileNotFoundError(
                f"Cannot write {output}: its folder does not exist."
            )
    if args.plot:
        from .plotting import plot_format

        plot_format(args.plot)  # an unknown extension fails before training
    data = _load_data(args)
    y_train, y_test = _named(data)
    model = _pipeline(args, data, _estimator(args))
    print(f"data: {data.description}")
    print(
        f"      {len(y_train)} training and {len(y_test)} test images of shape "
        f"{data.X_train.shape[1:]}, classes {data.target_names.tolist()}"
    )
    progress = not args.quiet and sys.stderr.isatty()
    seconds = _fit(model, data.X_train, y_train, progress=progress)
    estimator = model[-1]
    train_accuracy, train_loss = _scores(model, data.X_train, y_train)
    test_accuracy, test_loss = _scores(model, data.X_test, y_test)
    n_iter = int(estimator.n_iter_[0])
    mini_batch = args.solver in MINI_BATCH_SOLVERS
    if mini_batch or not n_iter:
        # Mini-batch descent's loss_curve_ holds estimates: J at the model kept.
        from ._logistic import logistic_objective

        X_train = model[:-1].transform(data.X_train)
        final_cost = f"{logistic_objective(estimator, X_train, y_train):.6f}"
    else:
        final_cost = f"{estimator.loss_curve_[-1]:.6f}"
    if mini_batch:
        print(
            f"epochs         {n_iter} ({estimator.t_} updates, "
            f"{estimator.t_ // n_iter} mini-batches per epoch)"
        )
    elif n_iter:
        print(f"iterations     {n_iter}")
    else:  # --max-iter 0: no step, the cost of the start
        print("iterations     0 (the starting model: zeros)")
    print(f"learning rate  {estimator.learning_rate_:.6g}{_rate_note(args, estimator)}")
    print(f"fit time       {seconds:.3f} s")
    print(f"final cost     {final_cost}")
    if mini_batch and args.early_stopping:
        print(
            f"validation     {estimator.best_validation_score_:.4f} (the best "
            f"accuracy on the {estimator.validation_fraction:.0%} of training "
            "images held out)"
        )
    print("               train    test")
    print(f"accuracy       {train_accuracy:.4f}   {test_accuracy:.4f}")
    print(f"log-loss       {train_loss:.4f}   {test_loss:.4f}")
    if args.model:
        from .persistence import save_model  # skops and matplotlib load slowly

        save_model(model, args.model)
        args.written.append(str(args.model))
        print(f"model saved to {args.model}")
    if args.plot:
        from .plotting import plot_cost_curves

        if mini_batch:
            labels = {
                "title": f"Cost during mini-batch descent ({args.solver})",
                "xlabel": "epoch",
                "ylabel": "cost (mean over the epoch's mini-batches)",
                "first": 1,
            }
        else:
            labels = {}
        plot_cost_curves({_method(args): estimator.loss_curve_}, args.plot, **labels)
        args.written.append(str(args.plot))
        print(f"cost curve saved to {args.plot}")


def _rate_note(args, estimator):
    """What the reported learning rate is, in parentheses (or nothing)."""
    if args.solver in MINI_BATCH_SOLVERS:
        if estimator.schedule != "constant":
            return f" (the last epoch's, by --schedule {estimator.schedule})"
        if args.learning_rate != "auto":
            return ""
        if args.solver == "sgd":
            return " (1/L, from the data)"
        return f" (the default of --solver {args.solver})"
    from ._logistic import resolved_solver

    solver = resolved_solver(args.solver, args.learning_rate)
    if not estimator.n_iter_[0]:
        return " (no step taken)"
    if solver == "bb":
        return " (the last spectral step)"
    if args.line_search:
        return " (the last accepted step of the line search)"
    if args.learning_rate == "auto":
        return " (1/L, from the data)"
    return ""


def _predict(args):
    if (args.data is None) == (not args.images):
        raise ValueError("give either --data FILE.h5 or image files, not both or none")
    from . import datasets
    from .persistence import load_model
    from .preprocessing import ImageFlattener

    model = load_model(args.model)
    if not isinstance(model[0], ImageFlattener):
        raise ValueError(
            f"{args.model} holds a model of rows, not of images: its pipeline does "
            "not start with an ImageFlattener, as 'gdlogreg train' saves it"
        )
    labels = None
    if args.data:
        data = datasets.load_h5(args.data, x_key=args.x_key, y_key=args.y_key)
        images = data.images
        names = [f"{Path(args.data).name}[{i}]" for i in range(len(images))]
        if data.get("target") is not None:
            labels = _label_names(data.target, data.target_names)
    else:
        with _warnings_as_notes(UserWarning):
            images = datasets.load_image_files(args.images, model[0].image_shape_)
        names = list(args.images)
    classes = model.classes_
    proba = model.predict_proba(images)
    predicted = classes[proba.argmax(axis=1)]
    rows = [
        {"input": name, "class": str(label)}
        | {f"p({cls})": float(p) for cls, p in zip(classes, row, strict=True)}
        for name, label, row in zip(names, predicted, proba, strict=True)
    ]
    if labels is not None and not set(labels) <= set(classes.astype(str)):
        print(
            f"{PROG}: warning: the labels in {args.data} "
            f"({sorted(map(str, set(labels)))[:5]}) are not the model's classes "
            f"({classes.tolist()}): no accuracy",
            file=sys.stderr,
        )
        labels = None
    if labels is not None:
        for row, label in zip(rows, labels, strict=True):
            row["label"] = str(label)
    print(_format_rows(rows, args.format), end="")
    if labels is not None:
        right = int((predicted.astype(str) == labels).sum())
        accuracy = (
            f"accuracy {right / len(labels):.4f} ({right} of {len(labels)} "
            f"labels in {args.data})"
        )
        print(accuracy, file=sys.stdout if args.format == "table" else sys.stderr)


def _format_rows(rows, format):
    if format == "json":
        return json.dumps(rows, indent=2) + "\n"
    out = io.StringIO()
    if format == "csv":
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    table = [list(rows[0])] + [
        [value if isinstance(value, str) else f"{value:.4f}" for value in row.values()]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        out.write(
            "  ".join(
                cell.ljust(width) for cell, width in zip(line, widths, strict=True)
            ).rstrip()
            + "\n"
        )
    return out.getvalue()


def _compare(args):
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from ._logistic import logistic_objective

    _check_options(args)
    data = _load_data(args)
    y_train, y_test = _named(data)
    C = args.C
    # lbfgs takes no L1 part; saga is scikit-learn's solver that does.
    solver = "lbfgs" if args.l1_ratio == 0 else "saga"
    contenders = {
        _method(args): _estimator(args),
        f"LogisticRegression ({solver})": LogisticRegression(
            C=C,
            l1_ratio=args.l1_ratio,
            solver=solver,
            tol=args.tol,
            max_iter=1000 if args.max_iter is None else max(args.max_iter, 100),
        ),
    }
    print(f"data: {data.description}; C={C:g}, scaler: {args.scaler}")
    results = {}
    for name, estimator in contenders.items():
        model = _pipeline(args, data, estimator)
        seconds = _fit(model, data.X_train, y_train)
        X_train = model[:-1].transform(data.X_train)
        train_accuracy, _ = _scores(model, data.X_train, y_train)
        test_accuracy, test_loss = _scores(model, data.X_test, y_test)
        results[name] = [
            f"{train_accuracy:.4f}",
            f"{test_accuracy:.4f}",
            f"{test_loss:.4f}",
            f"{logistic_objective(model[-1], X_train, y_train):.6f}",
            str(int(np.max(model[-1].n_iter_))),
            f"{seconds:.3f}",
        ]
    labels = [
        "train accuracy",
        "test accuracy",
        "test log-loss",
        "objective J (train)",
        "iterations (ours: epochs)"
        if args.solver in MINI_BATCH_SOLVERS
        else "iterations",
        "fit time (s)",
    ]
    width = max(map(len, labels)) + 2
    print(" " * width + "".join(name.rjust(28) for name in results))
    for i, label in enumerate(labels):
        print(label.ljust(width) + "".join(r[i].rjust(28) for r in results.values()))


#: The command's option for each parameter the library's messages name, as
#: its usage writes it: the option, and a placeholder for a value to choose.
_OPTIONS = {
    "learning_rate": "--learning-rate RATE|auto",
    "max_iter": "--max-iter N",
    "tol": "--tol T",
    "n_iter_no_change": "--n-iter-no-change N",
    "scaler": "--scaler {pixel,standard,none}",
    "x_key": "--x-key NAME",
    "y_key": "--y-key NAME",
}


def _one_line(error):
    """An error's or warning's message on one line, in the command's words.

    A structured message (see ``_messages``) names its parameters as fields:
    they are spelt as the command's options. Other messages are as written.
    """
    from ._messages import Structured

    if isinstance(error, Structured):
        message = error.message.spelt(_as_option)
    else:
        message = str(error)
    return " ".join(message.split()) or type(error).__name__


def _as_option(mention):
    """``--learning-rate auto`` for ``learning_rate='auto'``; else Python's words."""
    if mention.parameter not in _OPTIONS:
        return mention.in_python()
    option, placeholder = _OPTIONS[mention.parameter].split(" ", 1)
    if mention.value is None:
        return option
    return f"{option} {placeholder if mention.value is ... else mention.value_text}"
