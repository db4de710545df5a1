"""GradientDescentLogisticRegression: scikit-learn glue around the loss and the loop."""

import inspect
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ._callbacks import CallbackSupportMixin, FitHooks
from ._loss import loss_for_classes
from ._messages import ParameterConvergenceWarning, ParameterError, not_converged
from ._namespace import as_numpy, namespace_of, sum_dtype
from ._objective import linear_objective
from ._planner import plan
from ._predict import LinearPredictionsMixin
from ._problem import TrainingProblem, _class_weighted
from ._solvers import SOLVERS, auto_step

_ACCEPT_SPARSE = ["csr", "csc"]
_DTYPES = [np.float64, np.float32]


class GradientDescentLogisticRegression(
    CallbackSupportMixin, LinearPredictionsMixin, BaseEstimator
):
    """Logistic regression trained by batch gradient descent.

    The one-neuron network of the course "logistic regression with a neural
    network mindset", as a scikit-learn classifier: each iteration is one forward
    pass ``X @ coef_.T + intercept_``, the log-loss from that pass, one backward
    pass for the gradient, and the update ``coef_ -= learning_rate * gradient``.
    Two classes use a sigmoid output and the binary log-loss; three or more use
    a softmax output and the multinomial log-loss.

    The objective, with ``s_i`` the sample weights times the class weights,
    ``S = sum_i s_i`` and ``r = l1_ratio``, is::

        J(w, b) = sum_i s_i loss(y_i, x_i w^T + b) / S
                  + (r ||w||_1 + (1 - r) ||w||^2 / 2) / (C S)

    which has the same minimiser as :class:`~sklearn.linear_model.
    LogisticRegression` with the same ``C`` and ``l1_ratio``.

    Parameters
    ----------
    learning_rate : float or "auto", default="auto"
        Step size of each update. A float is the fixed step of the course.
        "auto" uses ``1 / L``, with ``L`` an upper bound of the Lipschitz
        constant of the objective's gradient, a step with which every iteration
        decreases the objective on any data. The step used is in
        ``learning_rate_``.
    max_iter : int, default=1000
        Largest number of iterations; 0 leaves the starting point (zeros,
        probabilities 1 / n_classes), as ``LogisticRegression`` does.
    tol : float, default=1e-4
        Stop when the largest absolute entry of the objective's gradient (with
        an L1 part, of its gradient mapping) is at most ``tol``. With ``tol=0``,
        exactly ``max_iter`` iterations are run.
    C : float, default=1.0
        Inverse of the penalty's strength, as in ``LogisticRegression``;
        ``np.inf`` means no penalty. The intercept is not penalised.
    l1_ratio : float, default=0.0
        Share of L1 in the penalty, as in ``LogisticRegression``: 0 is L2 (ridge),
        1 is L1 (lasso), between is the elastic net. An L1 part is handled by a
        proximal (soft-thresholding) step after each gradient step, which sets
        coefficients exactly to zero.
    solver : {"auto", "gd", "nesterov", "bb"}, default="auto"
        "gd" is the course's plain gradient descent: every step is
        ``learning_rate``. "nesterov" adds Nesterov's momentum, restarted
        whenever the objective rises: the same cost per iteration, usually far
        fewer iterations. "bb" takes spectral (Barzilai-Borwein) steps, sized
        from how the gradient changed over the last step, with a non-monotone
        line search that keeps the objective going down over a few iterations
        (SpaRSA's proximal form with an L1 part): still one gradient per
        iteration, and the fastest here; ``learning_rate`` is only its first
        step. "auto" is "gd" when ``learning_rate`` is a number (the course's
        fixed steps, exactly) and "bb" when it is "auto" (the default: fit to
        the answer as fast as this package can, with ``precondition``).
    line_search : bool, default=False
        For "gd" and "nesterov": backtracking (Armijo) line search. The step
        starts at ``learning_rate`` (``1 / L`` for "auto"), is halved while the
        objective does not decrease as much as its quadratic model promises,
        and after an accepted step is tried 1.25 times larger, so a pessimistic
        ``1 / L`` does not hold the descent back. "bb" always searches its
        steps.
    precondition : bool or "auto", default="auto"
        Steps that see the scale of each coordinate: a diagonal preconditioner
        ``D``, the diagonal of the bound ``c [X, 1]^T W [X, 1]`` of the Hessian
        plus the L2 term (``W`` the samples' shares, ``c`` 1/4, or 1/2 for
        softmax), so that each update is ``w - step D^-1 gradient`` (the L1
        part soft-thresholds each coefficient with its own step ``step /
        d_j``). Features in very different units, or far from the intercept's
        scale, then no longer hold the descent back, and the iterates do not
        depend on the features' units (without a penalty). Still one gradient
        per iteration; ``learning_rate`` and ``learning_rate_`` are steps in
        ``D``'s metric ("auto": ``1 / L`` with ``L`` the bound in that metric).
        "auto" preconditions the spectral steps at ``learning_rate="auto"``
        (the default solver), not a number given as ``learning_rate`` (the
        course's steps), and not where few, wide rows are descended in their
        row space (cheaper iterations, which a preconditioner would leave);
        True preconditions any solver, everywhere; False never.
    fit_intercept : bool, default=True
        Whether to fit an intercept (the bias ``b`` of the course).
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights. "balanced" uses
        ``n_samples / (n_classes * np.bincount(y))``.
    warm_start : bool, default=False
        Start from the previous fit's ``coef_`` and ``intercept_``.
    verbose : int, default=0
        With 1, print the cost every 100 iterations as the course does
        ("Cost after iteration 100: 0.584508"); with 2, every iteration.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights; one row for two classes (that of ``classes_[1]``), else one
        row per class. The course's ``w`` is ``coef_.T``.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (the course's ``b``).
    n_iter_ : ndarray of shape (1,), int32
        Updates made, as ``LogisticRegression`` gives them (an array, for code
        written for it: ``n_iter_[0]``, ``n_iter_.max()``); a fit with
        ``tol=0, max_iter=n_iter_[0]`` ends at the same coefficients.
    loss_curve_ : ndarray of shape (``n_iter_[0]``,)
        The objective at the parameters entering each update:
        ``loss_curve_[0]`` is the starting cost (log 2 from zeros, two classes).
    learning_rate_ : float
        The step used (with ``line_search``, the last accepted one; with
        "bb", the last spectral step), in the preconditioner's metric where
        there is one.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : The same model fitted by
        second-order or quasi-Newton solvers.
    sklearn.linear_model.SGDClassifier : Stochastic gradient descent.

    Notes
    -----
    The course stores examples as columns, ``X`` of shape ``(n_features, m)``;
    scikit-learn stores them as rows, ``(m, n_features)``, so the course's
    ``w.T @ X + b`` is ``X @ coef_.T + intercept_`` here.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_gdlogreg import GradientDescentLogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), GradientDescentLogisticRegression())
    >>> model.fit(X, y).score(X, y) > 0.98
    True
    >>> print(f"{model[-1].loss_curve_[0]:.6f}")  # log 2: the cost of zero weights
    0.693147
    """

    _parameter_constraints: dict = {
        "learning_rate": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "solver": [StrOptions({"auto", *SOLVERS})],
        "line_search": ["boolean"],
        "precondition": ["boolean", StrOptions({"auto"})],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __new__(cls, *args, **kwargs):
        if "penalty" in kwargs:
            # LogisticRegression's habit: name the parameter that says it here.
            raise TypeError(
                f"{cls.__name__} has no penalty parameter: the penalty is chosen "
                "by l1_ratio, as in LogisticRegression since scikit-learn 1.8 "
                "(l1_ratio=0 for penalty='l2', l1_ratio=1 for penalty='l1', "
                "between for 'elasticnet'; C=np.inf for no penalty)."
            )
        return super().__new__(cls)

    @property
    def penalty(self):
        """The penalty ``l1_ratio`` and ``C`` make, read-only, as scikit-learn's
        tools read it (``SelectFromModel``'s default threshold is 1e-5 for
        "l1"): "l1", "l2", "elasticnet", or None for ``C=np.inf``."""
        if self.C == np.inf:
            return None
        return {0: "l2", 1: "l1"}.get(self.l1_ratio, "elasticnet")

    def __init__(
        self,
        *,
        learning_rate="auto",
        max_iter=1000,
        tol=1e-4,
        C=1.0,
        l1_ratio=0.0,
        solver="auto",
        line_search=False,
        precondition="auto",
        fit_intercept=True,
        class_weight=None,
        warm_start=False,
        verbose=0,
    ):
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.C = C
        self.l1_ratio = l1_ratio
        self.solver = solver
        self.line_search = line_search
        self.precondition = precondition
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, coef_init=None, intercept_init=None):
        """Fit the model by batch gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix, h5py.Dataset, dask array} of shape \
(n_samples, n_features)
            Training data. float32 is computed in float32; sparse stays sparse;
            a 2-D ``h5py.Dataset`` is streamed from its file in chunks of about
            64 MB each iteration, never loaded whole (``y`` and
            ``sample_weight`` are in memory). A Dask array is persisted on the
            workers and each iteration is computed there, block by block (``y``
            and ``sample_weight`` may be Dask arrays; they are gathered once).
            With ``sklearn.set_config(array_api_dispatch=True)``, an array of
            another array-API namespace (PyTorch, CuPy) is fitted in that
            namespace and on its device; the fitted arrays live there too.
        y : array-like of shape (n_samples,)
            Class labels: two or more classes, of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.
        coef_init : array-like of shape (n_outputs, n_features), default=None
            Starting coefficients (``n_outputs`` is 1 for two classes, else the
            number of classes). Default: zeros, or the last fit's with
            ``warm_start``.
        intercept_init : array-like of shape (n_outputs,), default=None
            Starting intercepts. Default: zeros, or the last fit's with
            ``warm_start``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        problem = TrainingProblem(self, X, y, sample_weight)
        X, classes = problem.X, problem.classes
        hooks = FitHooks(
            self,
            X,
            problem.y,
            None if sample_weight is None else {"sample_weight": problem.sample_weight},
            self.max_iter,
        )
        loss = problem.loss
        objective = problem.objective(self.C, self.l1_ratio)
        params = self._starting_params(
            objective, loss.n_outputs, X.dtype, classes, coef_init, intercept_init
        )
        solver = resolved_solver(self.solver, self.learning_rate)
        precondition = resolved_precondition(
            self.precondition, solver, self.learning_rate
        )
        start = objective.xp.reshape(params, (1, *params.shape))  # one model
        variables = plan(
            objective,
            start,
            self.max_iter,
            precondition=precondition,
            # Asked for by name, the preconditioner is not traded for the
            # row space's cheaper iterations.
            allow_row_space=self.precondition is not True,
        )
        learning_rate = (
            # Spectral steps size themselves: their first step needs no more
            # than a cheap bound.
            float(auto_step(variables, exact=solver != "bb"))
            if self.learning_rate == "auto"
            else float(self.learning_rate)
        )

        def fitted_attributes(params, loss_curve, step=learning_rate):
            return _fitted_attributes(
                params, X.shape[1], self.fit_intercept, classes, loss_curve, step
            )

        def report_iteration(iteration, values, params):
            return hooks.iteration(
                iteration,
                values[0],
                lambda curve: fitted_attributes(params[0, ...], curve),
            )

        if hooks.per_iteration:
            hooks.start(lambda curve: fitted_attributes(params, curve))
        result = variables.descend(
            start,
            learning_rate=learning_rate,
            max_iter=self.max_iter,
            tol=self.tol,
            solver=solver,
            line_search=self.line_search,
            verbose=self.verbose,
            callback=report_iteration if hooks.per_iteration else None,
        )
        if result.diverged[0]:
            raise ParameterError(result.diverged[0])
        if self.tol > 0 and not (result.converged[0] or result.stopped):
            self._warn_not_converged(result.gradient_max[0])
        attributes = fitted_attributes(
            result.params[0, ...], result.loss_curves[0], float(result.learning_rate[0])
        )
        for name, value in attributes.items():
            setattr(self, name, value)
        hooks.end()
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

    def _warn_not_converged(self, gradient_max):
        message = not_converged(
            type(self).__name__,
            self.max_iter,
            gradient_max,
            self.tol,
            fixed_rate=self.learning_rate != "auto",
        )
        warnings.warn(
            ParameterConvergenceWarning(message),
            stacklevel=4,  # the caller of fit, past fit and _fit_context's wrapper
        )

    def _starting_params(
        self, objective, n_outputs, dtype, classes, coef_init, intercept_init
    ):
        """Packed starting parameters, in the objective's namespace and device.

        Given, warm-started, or zeros.
        """
        xp, device = objective.xp, objective.device
        n_features = objective.n_features
        params = xp.zeros((n_outputs, objective.n_params), dtype=dtype, device=device)
        warm = self.warm_start and hasattr(self, "coef_")
        if warm and coef_init is None and intercept_init is None:
            if self.coef_.shape != (n_outputs, n_features) or not np.array_equal(
                self.classes_, classes
            ):
                raise ValueError(
                    "warm_start=True but the previous fit had classes "
                    f"{self.classes_.tolist()} and coef_ of shape {self.coef_.shape}"
                    f", while this data has classes {classes.tolist()} and "
                    f"{n_features} features. Set warm_start=False to start afresh."
                )
            coef_init = self.coef_
            intercept_init = self.intercept_ if self.fit_intercept else None
        if coef_init is not None:
            params[:, :n_features] = xp.asarray(
                _check_init("coef_init", coef_init, (n_outputs, n_features)),
                dtype=dtype,
                device=device,
            )
        if intercept_init is not None:
            if not self.fit_intercept:
                raise ValueError(
                    "intercept_init was given but fit_intercept=False; drop "
                    "intercept_init or set fit_intercept=True."
                )
            params[:, n_features] = xp.asarray(
                _check_init("intercept_init", intercept_init, (n_outputs,)),
                dtype=dtype,
                device=device,
            )
        return params


# The class's signature is its __init__'s, not __new__'s (which only catches
# penalty=): scikit-learn's checks build estimators from it.
_init = inspect.signature(GradientDescentLogisticRegression.__init__)
GradientDescentLogisticRegression.__signature__ = _init.replace(
    parameters=list(_init.parameters.values())[1:]
)


def resolved_solver(solver, learning_rate):
    """The solver "auto" stands for: plain steps at a fixed rate, else "bb"."""
    if solver != "auto":
        return solver
    return "bb" if learning_rate == "auto" else "gd"


def resolved_precondition(precondition, solver, learning_rate):
    """Whether the steps are preconditioned: "auto" is for the spectral steps
    at the "auto" learning rate (a number is a step in the coefficients)."""
    if precondition == "auto":
        return solver == "bb" and learning_rate == "auto"
    return precondition


def _fitted_attributes(params, n_features, fit_intercept, classes, loss_curve, step):
    """The fitted attributes of a model with packed ``params`` (n_outputs, p).

    In the namespace and on the device of ``params``, but ``classes_`` (NumPy).
    """
    xp, device = namespace_of(params)
    return {
        "classes_": classes,
        "coef_": xp.asarray(params[:, :n_features], copy=True),
        "intercept_": xp.asarray(params[:, n_features], copy=True)
        if fit_intercept
        else xp.zeros(params.shape[0], dtype=params.dtype, device=device),
        "n_iter_": xp.asarray([len(loss_curve)], dtype=xp.int32, device=device),
        "loss_curve_": xp.asarray(
            loss_curve, dtype=sum_dtype(xp, device), device=device
        ),
        "learning_rate_": step,
    }


def logistic_objective(estimator, X, y, sample_weight=None, *, C=None):
    """The objective J at a fitted linear classifier's coefficients.

    ``J(w, b) = sum_i s_i loss(y_i, x_i w^T + b) / S + ||w||^2 / (2 C S)``, the
    objective :class:`GradientDescentLogisticRegression` minimises, with ``C``
    and ``class_weight`` taken from the estimator. It applies to
    :class:`~sklearn.linear_model.LogisticRegression` too (same minimiser), so
    that solvers can be compared on one number.

    Parameters
    ----------
    estimator : fitted classifier
        With ``classes_``, ``coef_``, ``intercept_`` and ``C`` (sigmoid for two
        classes, softmax for more, as both estimators use).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data as the estimator sees it (after any pipeline steps before it).
    y : array-like of shape (n_samples,)
    sample_weight : array-like of shape (n_samples,), default=None
    C : float, default=None
        Inverse L2 strength; default ``estimator.C``. For an estimator without
        one, such as ``SGDClassifier(loss="log_loss", alpha=alpha)``, the same
        objective has ``C = 1 / (alpha * n_samples)``.

    Returns
    -------
    float

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_gdlogreg import logistic_objective
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> round(logistic_objective(LogisticRegression().fit(X, y), X, y), 6)
    0.209192
    """
    check_is_fitted(estimator)
    X = check_array(X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES)
    y = column_or_1d(y)
    check_consistent_length(X, y)
    classes = estimator.classes_
    y_index = np.searchsorted(classes, y).clip(0, len(classes) - 1)
    if not np.array_equal(classes[y_index], y):
        raise ValueError(
            f"y has labels the estimator was not fitted on: "
            f"{np.setdiff1d(y, classes).tolist()}."
        )
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
    weight = _class_weighted(estimator, classes, y, y_index, sample_weight, X.dtype)
    loss = loss_for_classes(len(classes))
    coef = estimator.coef_
    coef = np.asarray(coef.toarray() if sp.issparse(coef) else coef, dtype=X.dtype)
    intercept = np.broadcast_to(np.asarray(estimator.intercept_, X.dtype), len(coef))
    objective = linear_objective(
        loss,
        X,
        loss.encode_target(y_index, X.dtype),
        weight,
        estimator.C if C is None else C,
        True,
        getattr(estimator, "l1_ratio", None) or 0.0,
    )
    params = np.column_stack([coef, intercept])[np.newaxis]
    return float(objective.value(params)[0])


def _check_init(name, value, shape):
    """Check a starting value's shape; a vector is accepted for one output."""
    if sp.issparse(value):  # a sparsified coef_
        value = value.toarray()
    value = np.asarray(as_numpy(value), dtype=np.float64)
    if value.shape != shape and value.size == np.prod(shape) and shape[0] == 1:
        value = value.reshape(shape)
    if value.shape != shape:
        raise ValueError(
            f"{name} has shape {value.shape}, but this data needs shape {shape} "
            "(one row per output: 1 for two classes, else one per class)."
        )
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name} contains NaN or infinity; give finite values.")
    return value
