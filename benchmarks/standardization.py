"""Why standardize: cost curves with and without scaling the features."""

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression
from sklearn_gdlogreg.plotting import plot_cost_curves

from ._common import Result, Table, cat_data, flat_pixels, fmt, quiet_convergence


def _descend(X, y, learning_rate, max_iter):
    """The fitted model, or the divergence message."""
    model = GradientDescentLogisticRegression(
        learning_rate=learning_rate, max_iter=max_iter, tol=0, C=np.inf
    )
    try:
        with quiet_convergence():
            return model.fit(X, y), None
    except ValueError as error:
        return None, str(error).split(": ", 1)[1].split(". Use")[0]


def run(config):
    result = Result(name="standardization", title="Why standardize")
    max_iter = 100 if config.quick else 1000
    table = Table(
        title=f"Cost after {max_iter} iterations, with and without scaling "
        "(no penalty)",
        columns=[
            "data",
            "features",
            "learning rate",
            "step used",
            "final cost",
            "train accuracy",
        ],
    )
    X, y = load_breast_cancer(return_X_y=True)
    cases = {
        "breast_cancer, raw (features 0.001 to 4254)": X,
        "breast_cancer, StandardScaler": StandardScaler().fit_transform(X),
    }
    cats = cat_data(config)
    if cats is not None:
        raw = flat_pixels(cats.X_train, max_value=1.0)
        cases["cats, raw pixels 0-255"] = raw
        cases["cats, pixels / 255"] = raw / 255
        y_cats = cats.y_train
    curves = {"breast_cancer": {}, "cats": {}}
    for name, features in cases.items():
        target = y if name.startswith("breast") else y_cats
        rates = ["auto"] if name.startswith("breast") else ["auto", 0.005]
        for rate in rates:
            model, failure = _descend(features, target, rate, max_iter)
            scaling = name.split(", ", 1)[1]
            row = [name.split(",")[0], scaling, str(rate)]
            if model is None:
                row += ["–", f"diverged: {failure}", "–"]
            else:
                row += [
                    fmt(model.learning_rate_, 3),
                    fmt(model.loss_curve_[-1]),
                    fmt(model.score(features, target)),
                ]
                curves[name.split(",")[0]][f"{scaling}, learning rate {rate}"] = (
                    model.loss_curve_
                )
            table.rows.append(row)
            result.raw[f"{name} @ {rate}"] = {
                "diverged": failure,
                "learning_rate_used": None if model is None else model.learning_rate_,
                "loss_curve_every_10": None
                if model is None
                else model.loss_curve_[::10].tolist(),
            }
    result.tables.append(table)
    for data, data_curves in curves.items():
        if not data_curves:
            continue
        file = f"standardize_{data}.png"
        plot_cost_curves(
            data_curves,
            f"{config.results}/{file}",
            title=f"{data}: cost with and without scaling",
            log_y=True,
        )
        result.plots.append(
            {"title": f"{data}: with and without scaling", "file": file}
        )
    bc = {k: v for k, v in result.raw.items() if k.startswith("breast")}
    raw_cost = bc["breast_cancer, raw (features 0.001 to 4254) @ auto"][
        "loss_curve_every_10"
    ]
    scaled_cost = bc["breast_cancer, StandardScaler @ auto"]["loss_curve_every_10"]
    result.headline.append(
        f"breast_cancer, {max_iter} iterations at the 'auto' step: cost "
        f"{raw_cost[-1]:.3g} on raw features against {scaled_cost[-1]:.3g} "
        "standardized."
    )
    if cats is not None:
        failure = result.raw["cats, raw pixels 0-255 @ 0.005"]["diverged"]
        result.headline.append(
            "cats at the course's learning rate 0.005: "
            + (
                f"raw pixels diverge ({failure})."
                if failure
                else "raw pixels do not diverge."
            )
        )
    return result
