"""Command line: ``python -m sklearn_gdlogreg`` trains on a bundled data set."""

import argparse
import time

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._logistic import GradientDescentLogisticRegression


def main(argv=None):
    """Train on scikit-learn's bundled breast-cancer data and compare with lbfgs.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_gdlogreg",
        description="Fit gradient-descent logistic regression on the bundled "
        "breast-cancer data and compare it with LogisticRegression.",
    )
    parser.add_argument("--learning-rate", default="auto")
    parser.add_argument("--max-iter", type=int, default=5000)
    args = parser.parse_args(argv)
    learning_rate = (
        args.learning_rate
        if args.learning_rate == "auto"
        else float(args.learning_rate)
    )

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    models = {
        "gradient descent": GradientDescentLogisticRegression(
            learning_rate=learning_rate, max_iter=args.max_iter, verbose=1
        ),
        "LogisticRegression (lbfgs)": LogisticRegression(),
    }
    print(f"breast_cancer: {len(X_train)} training and {len(X_test)} test samples")
    for name, estimator in models.items():
        model = make_pipeline(StandardScaler(), estimator)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        print(
            f"{name}: {int(np.max(estimator.n_iter_))} iterations, "
            f"{seconds:.3f} s, train accuracy {model.score(X_train, y_train):.4f}, "
            f"test accuracy {model.score(X_test, y_test):.4f}"
        )
    return 0
