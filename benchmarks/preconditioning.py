"""Steps that see each coordinate's scale: a diagonal preconditioner or Anderson.

Iterations and gradient evaluations to bring the objective within 1e-6
(relative) of its minimum ``J*``, on benchopt's ``benchmark_logreg_l2``
problems (``sum_i log(1 + exp(-y_i x_i^T w)) + lam / 2 ||w||^2``, no
intercept, ``lam`` in {1, 0.01}; ``GradientDescentLogisticRegression(C=1 /
lam, fit_intercept=False)`` minimises the same divided by the number of
samples, so the relative gap is the same), on raw features with an
intercept, and on scaled data for contrast. Compared:

- ``lbfgs``: SciPy's L-BFGS-B on the same objective (as
  ``LogisticRegression(solver="lbfgs")`` runs it), the reference; its
  iterations and function evaluations (each one gradient);
- ``bb``: the spectral steps without a preconditioner (the default before it);
- ``bb + D``: the same in the metric of a diagonal ``D``: the Hessian bound's
  diagonal ``c sum_i w_i x_ij^2 + l2`` (the package's default), the same
  without the L2 term, and its square root (half-way to no scaling);
- ``nesterov`` with and without ``D`` (at ``1 / L``);
- Anderson acceleration (type II, depth 5 and 10, Tikhonov-regularised as in
  regularized nonlinear acceleration, safeguarded: the extrapolated point is
  kept only where it decreases the objective at least as much as the plain
  step from the same point is guaranteed to, else the plain step is taken) of
  plain steps at ``1 / L``, with and without ``D``;
- RNA of the spectral iterates: every 10 iterations, the regularised
  extrapolation of the last 11 iterates, kept if it lowers the objective.

Every count is deterministic (no clock): one gradient is one model's
evaluation of the loss and its gradient, wherever it happens (the start,
searches, a rejected extrapolation, Nesterov's second point). ``J*`` is
L-BFGS-B's at a tolerance of 1e-13 on the gradient. The 10^5 x 400 problem
(in a full run only) reports iterations only. Times can be read off later by
fitting each method for as many iterations as it needs here.
"""

import warnings

import numpy as np
import scipy.optimize
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression, logistic_objective
from sklearn_gdlogreg._preconditioner import (
    PreconditionedObjective,
    curvature_diagonal,
)
from sklearn_gdlogreg._problem import TrainingProblem
from sklearn_gdlogreg._solvers import auto_step, gradient_descent

from ._common import Result, Table, cat_data, flat_pixels, quiet_convergence

RELATIVE_GAP = 1e-6
ANDERSON_REGULARIZATION = 1e-10
RNA_REGULARIZATION = 1e-8


# -- the problems ---------------------------------------------------------------


def benchopt_simulated(n_samples, n_features, random_state=42):
    """benchopt's ``benchmark_logreg_l2`` simulated data (its
    ``datasets/simulated.py``): Gaussian X, ``y = sign(X beta)``."""
    rng = np.random.RandomState(random_state)
    beta = rng.randn(n_features)
    X = rng.randn(n_samples, n_features)
    return X, np.sign(X @ beta)


def problems(config):
    """``(name, X, y, C, fit_intercept, iterations_only)``."""
    breast_cancer = load_breast_cancer()
    digits = load_digits()
    for lam in (1.0, 0.01):
        C, tag = 1 / lam, f"λ={lam:g}"
        for n, p in ((1000, 10), (200, 500)):
            yield (
                f"simulated {n}×{p} (benchopt), {tag}",
                *benchopt_simulated(n, p),
                C,
                False,
                False,
            )
            if config.quick:
                continue
            X, y = make_classification(
                n, p, **({"n_informative": 20} if p > n else {}), random_state=0
            )
            yield f"make_classification {n}×{p}, {tag}", X, y, C, False, False
        if config.quick:
            continue
        yield (f"breast_cancer unscaled, {tag}", breast_cancer.data,
               breast_cancer.target, C, False, False)  # fmt: skip
        yield (f"digits odd/even raw 0–16, {tag}", digits.data, digits.target % 2,
               C, False, False)  # fmt: skip
        X, y = benchopt_simulated(100_000, 400)
        yield f"simulated 10⁵×400 (benchopt), {tag}", X, y, C, False, True
    yield (
        "breast_cancer unscaled, intercept, C=1",
        breast_cancer.data,
        breast_cancer.target,
        1.0,
        True,
        False,
    )
    if config.quick:
        return
    yield ("digits odd/even raw 0–16, intercept, C=1", digits.data,
           digits.target % 2, 1.0, True, False)  # fmt: skip
    yield ("digits 10 classes raw 0–16, intercept, C=1", digits.data,
           digits.target, 1.0, True, False)  # fmt: skip
    # Scaled data, where the features' units already agree.
    yield ("breast_cancer standardized, intercept, C=1",
           StandardScaler().fit_transform(breast_cancer.data),
           breast_cancer.target, 1.0, True, False)  # fmt: skip
    yield ("digits odd/even /16, intercept, C=1", digits.data / 16,
           digits.target % 2, 1.0, True, False)  # fmt: skip
    yield ("digits 10 classes /16, intercept, C=1", digits.data / 16,
           digits.target, 1.0, True, False)  # fmt: skip
    cats = cat_data(config)
    if cats is not None:
        yield ("cats /255, intercept, C=1", flat_pixels(cats.X_train),
               cats.y_train, 1.0, True, False)  # fmt: skip


def objective_of(X, y, C, fit_intercept):
    """The objective ``GradientDescentLogisticRegression(C=C)`` minimises."""
    model = GradientDescentLogisticRegression(C=C, fit_intercept=fit_intercept)
    return TrainingProblem(model, X, y, None).objective(C, 0.0)


def check_benchopt_objective(X, y, C, objective, params):
    """benchopt's value at ``params`` is this package's times ``n`` (and
    ``logistic_objective`` agrees): the same minimiser, the same gaps."""
    w = params.reshape(-1)
    signs = np.where(y == np.unique(y)[1], 1.0, -1.0)
    theirs = np.logaddexp(0, -signs * (X @ w)).sum() + 0.5 / C * (w @ w)
    ours = float(objective.value(params)[0])
    assert np.isclose(theirs, ours * len(y), rtol=1e-10), (theirs, ours)
    model = GradientDescentLogisticRegression(C=C, fit_intercept=False)
    model.classes_, model.coef_ = np.unique(y), w.reshape(1, -1)
    model.intercept_ = np.zeros(1)
    assert np.isclose(logistic_objective(model, X, y), ours, rtol=1e-10)


# -- counting gradients ---------------------------------------------------------


class Counted:
    """An objective that counts its gradients (one per model evaluated)."""

    def __init__(self, objective, counter=None):
        self._objective = objective
        self.counter = [0] if counter is None else counter

    def __getattr__(self, name):
        return getattr(self._objective, name)

    def loss_gradient(self, params):
        self.counter[0] += params.shape[0]
        return self._objective.loss_gradient(params)

    def select(self, models):
        return Counted(self._objective.select(models), self.counter)


def first_below(curve, evaluations, target):
    """``(iterations, gradients)`` to the first iterate at or below
    ``target``, or None. ``evaluations[t]``: gradients made by the end of
    iteration t, the start's included."""
    below = np.flatnonzero(np.asarray(curve) <= target)
    if not below.size:
        return None
    t = int(below[0])
    return t, int(evaluations[t - 1]) if t else 1


class _Reached(Exception):
    """Raised by L-BFGS's callback once the target is reached."""


def lbfgs(objective, target=None):
    """SciPy's L-BFGS-B from zeros: ``J*`` (target None) or the iterations and
    evaluations to ``target``.

    The callback takes the iterate alone and stops with its own exception, so
    that SciPy 1.10 (the oldest supported) and later versions behave alike.
    """
    shape = (1, objective.data.loss.n_outputs, objective.n_params)
    evaluations, seen, last = [0], [], {}

    def value_gradient(x):
        evaluations[0] += 1
        value, gradient = objective.loss_gradient(x.reshape(shape))
        last["x"], last["value"] = x.copy(), float(value[0])
        return last["value"], gradient.reshape(-1)

    def callback(xk):
        value = last["value"]
        if not np.array_equal(xk, last["x"]):
            value = float(objective.loss_gradient(xk.reshape(shape))[0][0])
        seen.append((value, evaluations[0]))
        if target is not None and value <= target:
            raise _Reached

    options = {
        "maxiter": 100_000,
        "maxfun": 200_000,
        "ftol": 0.0,
        "gtol": 1e-13 if target is None else 0.0,
    }
    try:
        found = scipy.optimize.minimize(
            value_gradient,
            np.zeros(int(np.prod(shape))),
            jac=True,
            method="L-BFGS-B",
            options=options,
            callback=callback,
        )
    except _Reached:
        found = None
    if target is None:
        return found.fun, found.x.reshape(shape)
    for iteration, (value, count) in enumerate(seen, start=1):
        if value <= target:
            return iteration, count
    return None


def descent(objective, solver, max_iter, target, diagonal=None):
    """The package's descent (in the metric of ``diagonal``, if given) from
    zeros, at the "auto" step, stopped at ``target``."""
    counter = [0]
    counted = Counted(objective, counter)
    variables = counted if diagonal is None else _metric(counted, diagonal)
    shape = (1, objective.data.loss.n_outputs, objective.n_params)
    evaluations = []

    def stop_at_target(iteration, values, params):
        evaluations.append(counter[0])
        return values[0] <= target

    result = gradient_descent(
        variables,
        np.zeros(shape, objective.data.dtype),
        learning_rate=auto_step(variables, exact=solver != "bb"),
        max_iter=max_iter,
        tol=0,
        solver=solver,
        callback=stop_at_target,
    )
    return first_below(result.loss_curves[0], [*evaluations, counter[0]], target)


def anderson(objective, max_iter, target, depth, diagonal=None):
    """Safeguarded, regularised type-II Anderson acceleration of the plain
    step ``G(x) = x - D^-1 gradient / L`` (``D`` the identity without
    ``diagonal``), in the coordinates where that step is plain."""
    counter = [0]
    variables = Counted(objective, counter)
    if diagonal is not None:
        variables = _metric(variables, diagonal)
    shape = (1, objective.data.loss.n_outputs, objective.n_params)
    step = float(auto_step(variables, exact=True))
    x = np.zeros(shape)
    value, gradient = variables.loss_gradient(x)
    value = float(value[0])
    images, residuals, curve, evaluations = [], [], [], []
    for _ in range(max_iter):
        curve.append(value)
        evaluations.append(counter[0])
        if value <= target:
            break
        image = x - step * gradient
        images.append(image.reshape(-1))
        residuals.append((image - x).reshape(-1))
        del images[: -depth - 1], residuals[: -depth - 1]
        promised = value - 0.5 * step * float(np.sum(gradient * gradient))
        candidate = _extrapolated(images, residuals)
        if candidate is not None:
            candidate = candidate.reshape(shape)
            new_value, new_gradient = variables.loss_gradient(candidate)
            if float(new_value[0]) <= promised:
                x, value, gradient = candidate, float(new_value[0]), new_gradient
                continue
        new_value, gradient = variables.loss_gradient(image)
        x, value = image, float(new_value[0])
    evaluations = evaluations[1:] + [counter[0]]
    return first_below(curve, evaluations, target)


def _extrapolated(images, residuals):
    """Anderson's point from the last images ``G(x_i)`` and residuals ``G(x_i) -
    x_i``: ``G(x_k) - dG gamma``, ``gamma`` the regularised least-squares fit of
    the residual by its differences; None before two points, or if singular."""
    if len(residuals) < 2:
        return None
    d_residuals = np.diff(np.array(residuals), axis=0).T
    d_images = np.diff(np.array(images), axis=0).T
    gram = d_residuals.T @ d_residuals
    gram += ANDERSON_REGULARIZATION * np.trace(gram) * np.eye(len(gram))
    try:
        gamma = np.linalg.solve(gram, d_residuals.T @ residuals[-1])
    except np.linalg.LinAlgError:
        return None
    candidate = images[-1] - d_images @ gamma
    return candidate if np.all(np.isfinite(candidate)) else None


def spectral_rna(objective, max_iter, target, every=10, diagonal=None):
    """Spectral steps, and every ``every`` iterations the regularised nonlinear
    extrapolation of the last ``every + 1`` iterates (kept if it lowers the
    objective, one gradient); the spectral steps go on from the point kept
    with their last step."""
    counter = [0]
    variables = Counted(objective, counter)
    if diagonal is not None:
        variables = _metric(variables, diagonal)
    x = np.zeros((1, objective.data.loss.n_outputs, objective.n_params))
    step = auto_step(variables, exact=False)
    curve, evaluations, iterates = [], [], []

    def kept(iteration, values, params):
        iterates.append(params.reshape(-1).copy())
        evaluations.append(counter[0])
        return values[0] <= target

    while len(curve) < max_iter:
        iterates[:] = [x.reshape(-1)]

        if curve:
            counter[0] -= 1  # a restart evaluates a start already evaluated
        result = gradient_descent(
            variables, x, learning_rate=step, max_iter=every, tol=0, solver="bb",
            callback=kept,
        )  # fmt: skip
        curve.extend(result.loss_curves[0])
        if result.stopped or len(result.loss_curves[0]) < every:
            break
        x, step = result.params, result.learning_rate
        value = float(result.objective[0])
        differences = np.diff(np.array(iterates), axis=0)
        gram = differences @ differences.T
        gram /= np.linalg.norm(gram)
        try:
            weights = np.linalg.solve(
                gram + RNA_REGULARIZATION * np.eye(len(gram)), np.ones(len(gram))
            )
        except np.linalg.LinAlgError:
            continue
        candidate = ((weights / weights.sum()) @ np.array(iterates[1:])).reshape(
            x.shape
        )
        candidate_value = float(variables.loss_gradient(candidate)[0][0])
        evaluations[-1] = counter[0]
        if candidate_value < value:
            x = candidate
    return first_below(curve, [*evaluations, counter[0]], target)


def _metric(objective, diagonal):
    """``objective`` in the coordinates of ``diagonal``, as the estimator
    builds them (the columns' squares known for the first spectral step)."""
    return PreconditionedObjective(
        objective, objective.data.column_squares(), lambda *_: diagonal
    )


def diagonals(objective):
    """The diagonals compared: the Hessian bound's (with the L2 term, the
    package's default), the same without the L2 term, and its square root."""
    hessian = curvature_diagonal(objective)
    without_l2 = hessian.copy()
    without_l2[..., : objective.n_features] -= np.reshape(
        objective.penalty.l2, (-1, 1, 1)
    )
    positive = without_l2 > 0
    without_l2[~positive] = without_l2[positive].min() if positive.any() else 1.0
    return {"D": hessian, "D without L2": without_l2, "D^½": np.sqrt(hessian)}


def methods(objective, max_iter, target):
    """Each method's ``(iterations, gradients)`` to the target, or None."""
    D = diagonals(objective)
    return {
        "bb": lambda: descent(objective, "bb", max_iter, target),
        "bb + D (default)": lambda: descent(objective, "bb", max_iter, target, D["D"]),
        "bb + D without L2": lambda: descent(
            objective, "bb", max_iter, target, D["D without L2"]
        ),
        "bb + D^½": lambda: descent(objective, "bb", max_iter, target, D["D^½"]),
        "nesterov": lambda: descent(objective, "nesterov", max_iter, target),
        "nesterov + D": lambda: descent(
            objective, "nesterov", max_iter, target, D["D"]
        ),
        "AA(5) gd": lambda: anderson(objective, max_iter, target, 5),
        "AA(10) gd": lambda: anderson(objective, max_iter, target, 10),
        "AA(5) gd + D": lambda: anderson(objective, max_iter, target, 5, D["D"]),
        "AA(10) gd + D": lambda: anderson(objective, max_iter, target, 10, D["D"]),
        "bb + RNA(10)": lambda: spectral_rna(objective, max_iter, target),
        "bb + D + RNA(10)": lambda: spectral_rna(
            objective, max_iter, target, diagonal=D["D"]
        ),
    }


def _cell(found, iterations_only):
    if found is None:
        return "not reached"
    return str(found[0]) if iterations_only else f"{found[0]} / {found[1]}"


def run(config):
    result = Result(
        name="preconditioning",
        title="Steps that see each coordinate's scale: preconditioner or Anderson",
    )
    max_iter = 2_000 if config.quick else 20_000
    names = None
    table = None
    wins = {}
    for name, X, y, C, fit_intercept, iterations_only in problems(config):
        objective = objective_of(X, y, C, fit_intercept)
        with quiet_convergence(), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # Anderson's overflows
            best, solution = lbfgs(objective)
            if not fit_intercept:
                check_benchopt_objective(X, y, C, objective, solution)
            target = best * (1 + RELATIVE_GAP)
            found = {"lbfgs": lbfgs(objective, target)}
            for label, method in methods(objective, max_iter, target).items():
                found[label] = method()
        if table is None:
            names = list(found)
            table = Table(
                title="Iterations / gradient evaluations to 1e-6 relative "
                "suboptimality (in bold: the fewest gradient evaluations but "
                "lbfgs's)",
                columns=["problem", *names],
                note="From zeros, 'auto' steps; lbfgs: SciPy's L-BFGS-B on the same "
                "objective (iterations / function evaluations). 'not reached': "
                f"not within {max_iter:,} iterations. The 10⁵×400 problem: "
                "iterations only. No clock is read: times can be measured later "
                "from these counts.",
            )
        ours = {k: v for k, v in found.items() if k != "lbfgs" and v is not None}
        fewest = min(ours.values(), key=lambda v: v[1])[1] if ours else None
        row = [name]
        for label in names:
            cell = _cell(found[label], iterations_only)
            if label != "lbfgs" and found[label] and found[label][1] == fewest:
                cell = f"**{cell}**"
                wins[label] = wins.get(label, 0) + 1
            row.append(cell)
        table.rows.append(row)
        result.raw[name] = {label: found[label] for label in names}
        cells = ", ".join(f"{k} {_cell(v, False)}" for k, v in found.items())
        print(f"   {name}: {cells}", flush=True)
    result.tables.append(table)
    result.headline += headline(result.raw)
    result.headline.append(
        "Fewest gradient evaluations (lbfgs aside): "
        + ", ".join(f"{label} on {n}" for label, n in sorted(wins.items()))
        + f" of {len(result.raw)} problems."
    )
    return result


def headline(raw, default="bb + D (default)"):
    """Each method's gradient evaluations over the default's (geometric mean
    where both reach the target), and where only one does."""
    names = list(next(iter(raw.values())))
    reached = sum(raw[name][default] is not None for name in raw)
    lines = [f"{default} reaches 1e-6 on {reached} of {len(raw)} problems."]
    parts = []
    for label in names:
        if label == default:
            continue
        pairs = [
            (record[label], record[default])
            for record in raw.values()
            if record[label] is not None and record[default] is not None
        ]
        missed = sum(
            record[label] is None and record[default] is not None
            for record in raw.values()
        )
        if not pairs:
            continue
        ratios = np.array([theirs[1] / ours[1] for theirs, ours in pairs])
        fewer = int(np.sum(ratios < 1))
        part = (
            f"{label} {np.exp(np.mean(np.log(ratios))):.2f}× (fewer on {fewer} "
            f"of {len(ratios)}"
        )
        parts.append(part + (f", not reached on {missed} more)" if missed else ")"))
    lines.append(
        f"Gradient evaluations over {default}'s, geometric mean where both reach "
        "1e-6: " + "; ".join(parts) + "."
    )
    return lines
