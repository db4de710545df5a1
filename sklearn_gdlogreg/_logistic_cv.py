"""GradientDescentLogisticRegressionCV: a regularization path per fold, with
every learning rate of the grid in one descent."""

import copy
import inspect
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import (
    UNUSED,
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import _check_method_params

from ._logistic import (
    GradientDescentLogisticRegression,
    _fitted_attributes,
    resolved_precondition,
    resolved_solver,
)
from ._namespace import as_numpy, namespace_of
from ._planner import descend_path
from ._preconditioner import preconditioned
from ._predict import LinearPredictionsMixin, _labels
from ._problem import TrainingProblem
from ._rows import check_subsettable
from ._rows._base import numpy_raw
from ._solvers import Race, auto_step

# A fold's model whose objective makes no new low in this many iterations (and
# is above its lowest in half of them) cycles: it stops, and scores like divergence.
STALL_WINDOW = 100
# Mean scores this close (relative) are a tie, which the fewest iterations win:
# rates that converge to one model differ only by their rounding.
TIE_TOLERANCE = 1e-9

#: The parameters of GradientDescentLogisticRegression this estimator has too,
#: validated alike and passed on to the refit.
SHARED_PARAMETERS = (
    "max_iter",
    "tol",
    "l1_ratio",
    "solver",
    "precondition",
    "fit_intercept",
    "class_weight",
    "verbose",
)


class GradientDescentLogisticRegressionCV(LinearPredictionsMixin, BaseEstimator):
    """Gradient-descent logistic regression with C (and the learning rate) by CV.

    Like :class:`~sklearn.linear_model.LogisticRegressionCV`, and at its
    defaults the same search: 10 values of ``C``, 5 stratified folds, accuracy,
    the best C refitted on all the data. In each fold, a regularization path:
    from the strongest penalty (the smallest C) to the weakest, each C starting
    from the previous one's solution, with spectral steps for the "auto"
    learning rate. Give ``learning_rates`` a grid (``learning_rates=8``, say)
    to choose the step of plain gradient descent too: at each C, all the
    rates of the grid descend together (one ``X @ W`` and one ``X.T @ R`` per
    iteration for all of them) and race: once one has converged, those that
    need more than about twice its iterations stop, as they could not win (a
    tie in score goes to the rate with the fewest iterations). A rate that
    diverges, or that cycles (its objective makes no new low in 100
    iterations), stops there and scores NaN instead of stopping the search.
    The best combination, by mean score over the folds, is then refitted on
    all the data, from the folds' average model.

    Parameters
    ----------
    learning_rates : int or array-like of float or "auto", default=("auto",)
        The grid. The default, "auto" alone, is the learning rate of a single
        fit: spectral steps that size themselves, the fastest here, with
        nothing to choose. An int ``n`` means ``n`` steps ``2**i / L`` (``i =
        0 .. n - 1``) from the "auto" step ``1 / L`` of each fold's data: the
        first never diverges, the larger ones often go faster. A list may mix
        floats and "auto".
    Cs : int or array-like of float, default=10
        Inverse penalty strengths to try; an int ``n`` means ``n`` values from
        ``np.logspace(-4, 4, n)``, as in ``LogisticRegressionCV``.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn: None is 5-fold stratified.
    scoring : str or callable, default=None
        Score of a model on a validation fold; None is accuracy.
    refit : bool, default=True
        Refit the best combination on all the data; otherwise average the
        folds' coefficients of the best combination.
    max_iter, tol, l1_ratio, solver, precondition, fit_intercept, class_weight, \
verbose
        As in :class:`GradientDescentLogisticRegression` (``max_iter`` for
        each C of each fold, ``verbose`` only for the refit). ``solver="auto"``
        means spectral steps ("bb") for the one rate "auto", and plain steps
        ("gd") for a grid of steps, which spectral steps would not keep.
        ``precondition="auto"`` preconditions the spectral steps of the one
        rate "auto" (the default), as in a single fit, not a grid of steps
        (True: any); each fold's model in the metric of its own training
        rows' ``D``, rebuilt at each C.

    Attributes
    ----------
    classes_, coef_, intercept_, n_features_in_, feature_names_in_
        As in :class:`GradientDescentLogisticRegression`, from the refit.
    learning_rate_ : float
        The refit's ``learning_rate_`` (its last step, with spectral ones);
        without refit, the best rate's step on all the data.
    C_ : float
        The best C.
    best_index_ : tuple of (int, int)
        The indices of the best combination in ``Cs_`` and ``learning_rates_``.
    learning_rates_ : list
        The grid as tried: floats, "auto" or "auto*2", "auto*4", ...
    Cs_ : ndarray of shape (n_Cs,)
    scores_ : ndarray of shape (n_folds, n_Cs, n_learning_rates)
        Validation scores; NaN where the descent diverged.
    n_iters_ : ndarray of shape (n_folds, n_Cs, n_learning_rates)
        Iterations each model ran.
    converged_ : ndarray of shape (n_folds, n_Cs, n_learning_rates), bool
        Whether each model met ``tol``. With ``tol > 0``, the best combination
        is chosen among those converged in every fold (a step that cycles or
        stalls does not win by chance); if none did, among all, with a
        ``ConvergenceWarning``.
    loss_curves_ : ndarray of objects, shape (n_folds, n_Cs, n_learning_rates)
        The cost curve of each model.
    n_iter_ : ndarray of shape (1,), int32
        Iterations of the refit (an array, as in
        :class:`GradientDescentLogisticRegression`).
    loss_curve_ : ndarray
        Cost curve of the refit.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_gdlogreg import GradientDescentLogisticRegressionCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(
    ...     StandardScaler(), GradientDescentLogisticRegressionCV()
    ... ).fit(X, y)
    >>> model[-1].scores_.shape  # 5 folds, 10 Cs, 1 learning rate
    (5, 10, 1)
    >>> model.score(X, y) > 0.98
    True
    """

    _parameter_constraints: dict = {
        "learning_rates": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "refit": ["boolean"],
        **{
            name: GradientDescentLogisticRegression._parameter_constraints[name]
            for name in SHARED_PARAMETERS
        },
    }

    def __init__(
        self,
        *,
        learning_rates=("auto",),
        Cs=10,
        cv=None,
        scoring=None,
        refit=True,
        max_iter=1000,
        tol=1e-4,
        l1_ratio=0.0,
        solver="auto",
        precondition="auto",
        fit_intercept=True,
        class_weight=None,
        verbose=0,
    ):
        self.learning_rates = learning_rates
        self.Cs = Cs
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.max_iter = max_iter
        self.tol = tol
        self.l1_ratio = l1_ratio
        self.solver = solver
        self.precondition = precondition
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.verbose = verbose

    # As LogisticRegressionCV: score's sample_weight reaches the scorer by
    # routing (see get_metadata_routing), not by a request of this estimator.
    __metadata_request__score = {"sample_weight": UNUSED}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **params):
        """Cross-validate the grid, then fit the best combination.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Computed in NumPy: an array of another array-API namespace (a
            PyTorch tensor, say) is copied to NumPy first, and the fitted
            attributes are NumPy arrays. For a fit on a GPU, search the
            learning rate with ``GridSearchCV`` over
            :class:`GradientDescentLogisticRegression`.
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the descents and, as in
            ``LogisticRegressionCV``, in the validation scores: always without
            metadata routing; with routing, where the scorer requests them
            (``make_scorer(...).set_score_request(sample_weight=True)``).
        **params : dict
            With metadata routing enabled, metadata for the splitter's
            ``split`` (``groups``, say) and the scorer, as requested.

        Returns
        -------
        self : object
        """
        check_subsettable(X)  # the folds are row subsets
        _raise_for_params(params, self, "fit")
        problem = TrainingProblem(self, as_numpy(X), y, sample_weight)
        split_params, score_params = self._routed_params(sample_weight, params)
        rates, Cs = self._rate_grid(), self._C_grid()
        folds = list(
            check_cv(self.cv, problem.y, classifier=True).split(
                problem.X, problem.y, **split_params
            )
        )
        fold_params = self._search(problem, folds, rates, Cs, score_params)
        best_c, best_r = self.best_index_ = self._best_combination()
        self.Cs_, self.learning_rates_ = Cs, [label for label, _ in rates]
        self.C_ = float(Cs[best_c])
        full = problem.objective(self.C_, self.l1_ratio)
        solver, precondition = self._solver(rates), self._precondition(rates)
        variables = preconditioned(full) if precondition else full
        self.learning_rate_ = float(self._steps(rates, [best_r], variables, solver)[0])
        average = np.mean(list(fold_params[:, best_c, best_r]), axis=0)
        if self.refit:
            params, curve = self._refit(
                problem, full, average, rates[best_r][0], solver, precondition
            )
        else:
            params, curve = average, self.loss_curves_[0, best_c, best_r]
        for name, value in _fitted_attributes(
            params,
            problem.X.shape[1],
            self.fit_intercept,
            problem.classes,
            curve,
            self.learning_rate_,
        ).items():
            setattr(self, name, value)
        return self

    def _routed_params(self, sample_weight, params):
        """The metadata for the splitter's ``split`` and for the scorer."""
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            return routed.splitter.split, routed.scorer.score
        if sample_weight is None:
            return {}, {}
        return {}, {"sample_weight": sample_weight}

    def _C_grid(self):
        """The Cs to try, checked."""
        Cs = (
            np.logspace(-4, 4, self.Cs)
            if isinstance(self.Cs, Integral)
            else np.asarray(self.Cs, dtype=float)
        )
        if Cs.ndim != 1 or Cs.size == 0 or np.any(Cs <= 0) or np.any(np.isnan(Cs)):
            raise ValueError(f"Cs must be positive numbers, got {self.Cs!r}.")
        return Cs

    def _search(self, problem, folds, rates, Cs, score_params):
        """Every combination of the grid descended on each fold, and scored.

        A regularization path, from the strongest penalty (the smallest C)
        to the weakest, each C from the last one's solution, for the models
        of every fold and learning rate at once (over all the rows, each
        fold's model weighing its own); at each C, the rates of a fold race.
        Sets ``scores_``, ``n_iters_``, ``converged_`` and ``loss_curves_``;
        returns each model's parameters, an array of objects of their shape.
        """
        score = self._fold_scorer(problem, folds, score_params)
        shape = (len(folds), len(Cs), len(rates))
        self.scores_ = np.full(shape, np.nan)
        self.n_iters_ = np.zeros(shape, dtype=int)
        self.converged_ = np.zeros(shape, dtype=bool)
        self.loss_curves_ = np.empty(shape, dtype=object)
        fold_params = np.empty(shape, dtype=object)
        order = np.argsort(Cs, kind="stable")  # the strongest penalty first
        path = self._path(problem, [train for train, _ in folds], rates, Cs[order])
        for c, result in zip(order, path, strict=True):
            models = np.ndindex(len(folds), len(rates))
            for model, (fold, r) in enumerate(models):
                at = fold, c, r
                self.n_iters_[at] = result.n_iter[model]
                self.converged_[at] = result.converged[model]
                self.loss_curves_[at] = result.loss_curves[model]
                fold_params[at] = result.params[model]
                if result.diverged[model] is None:
                    self.scores_[at] = score(result.params[model], fold)
        return fold_params

    def _fold_scorer(self, problem, folds, score_params):
        """``score(params, fold)``: the score of a model on its validation fold.

        By the scorer; for accuracy (``scoring=None``), from the raw
        predictions directly, as the scorer computes it but without its
        checks of the data, which cost more than the fold's product.
        """
        tests = [
            (test, _check_method_params(problem.X, params=score_params, indices=test))
            for _, test in folds
        ]
        X, y, p = problem.X, problem.y, problem.X.shape[1]
        if self.scoring is not None:
            scorer = _with_labels(self._scorer(), problem.classes)

            def score(params, fold):
                test, extra = tests[fold]
                model = self._with_params(params, problem)
                return scorer(model, X[test], y[test], **extra)

            return score
        blocks = [
            (X[test], y[test], extra.get("sample_weight")) for test, extra in tests
        ]

        def accuracy(params, fold):
            X_test, y_test, weight = blocks[fold]
            raw = numpy_raw(
                X_test, params[:, :p], params[:, p] if p < params.shape[1] else 0
            )
            labels = _labels(problem.classes, raw, namespace_of(raw)[0])
            return float(np.average(labels == y_test, weights=weight))

        return accuracy

    def _path(self, problem, trains, rates, Cs):
        """The models of every fold and rate along the path of ``Cs``: a
        DescentResult per C, model ``fold * len(rates) + rate``."""
        objective = problem.folds_objective(Cs[0], self.l1_ratio, trains, len(rates))
        n_params = problem.X.shape[1] + int(self.fit_intercept)
        k = len(trains) * len(rates)
        start = np.zeros((k, problem.loss.n_outputs, n_params), problem.X.dtype)
        solver = self._solver(rates)
        indices = np.tile(np.arange(len(rates)), len(trains))
        return descend_path(
            objective,
            Cs,
            start,
            l1_ratio=self.l1_ratio,
            learning_rate=lambda at: self._steps(rates, indices, at, solver),
            # With tol=0 every model runs max_iter: there is no race.
            race=Race(
                groups=np.repeat(np.arange(len(trains)), len(rates)),
                lanes=np.tile(np.arange(len(rates)), len(trains)),
            )
            if self.tol > 0
            else None,
            precondition=self._precondition(rates),
            # Asked for by name, the preconditioner is not traded for the
            # row space's cheaper iterations (as in a single fit).
            allow_row_space=self.precondition is not True,
            max_iter=self.max_iter,
            tol=self.tol,
            solver=solver,
            stall_window=STALL_WINDOW,
        )

    def _solver(self, rates):
        """The solver "auto" stands for: spectral steps for the one rate
        "auto", plain ones for a grid of steps."""
        return resolved_solver(self.solver, self._rate_kind(rates))

    def _precondition(self, rates):
        """Whether the steps are preconditioned: by a single fit's rule, for
        the one rate "auto" or a grid of steps."""
        solver = self._solver(rates)
        return resolved_precondition(self.precondition, solver, self._rate_kind(rates))

    @staticmethod
    def _rate_kind(rates):
        """The single fit's ``learning_rate`` the grid stands for in its
        rules: "auto" for the one rate "auto", else a step."""
        return "auto" if [label for label, _ in rates] == ["auto"] else 0.0

    def _best_combination(self):
        """The indices (C, learning rate) of the best mean score over the folds.

        As ``LogisticRegressionCV``, the first C (in the grid's order) with
        the best score; at that C, of the learning rates tied at that score,
        the one with the fewest iterations over the folds.
        """
        mean = np.mean(self.scores_, axis=0)
        if np.all(np.isnan(mean)):
            raise ValueError(
                "Every learning rate diverged in some fold: include smaller "
                "learning_rates (or 'auto'), or scale the features."
            )
        # A model that did not converge (a step that cycles, or outpaced in
        # the race) must not win by chance: with tol > 0, only combinations
        # converged in every fold compete, if there are any; else those that
        # ran to max_iter in every fold (not outpaced early), with a warning.
        everywhere = self.converged_.all(axis=0)
        if self.tol > 0 and everywhere.any():
            mean = np.where(everywhere, mean, np.nan)
        elif self.tol > 0:
            ran = (self.converged_ | (self.n_iters_ == self.max_iter)).all(axis=0)
            if np.any(ran & np.isfinite(mean)):
                mean = np.where(ran, mean, np.nan)
            warnings.warn(
                "No combination of the grid converged in every fold: the best "
                "score among them was chosen. Raise max_iter, or include smaller "
                "learning_rates (or 'auto').",
                ConvergenceWarning,
                stacklevel=4,  # the caller of fit, past fit and _fit_context
            )
        best = np.nanmax(mean)
        tied = np.isclose(mean, best, rtol=TIE_TOLERANCE, atol=0)
        c = int(np.flatnonzero(tied.any(axis=1))[0])
        iterations = np.where(tied[c], self.n_iters_[:, c].sum(axis=0), np.inf)
        return c, int(np.argmin(iterations))

    def _refit(self, problem, objective, average, label, solver, precondition):
        """The best combination fitted on all the data: parameters, cost curve.

        With the search's solver and preconditioning (a step is one in its
        metric), and the "auto" rate as a single fit takes it, else the step.
        Fixed steps start from the folds' average model where its objective
        is below zero's (their iterations grow with the way to go, and the
        folds' models are near the refit's); spectral steps barely notice the
        start, and start from zero, so that the refit does not depend on the
        folds (weighting a sample by 2 is then repeating it, but for the
        rounding, which spectral steps amplify up to the stopping tolerance).
        """
        start = np.zeros_like(average)
        if solver != "bb" and _objective_at(objective, average) < _objective_at(
            objective, start
        ):
            start = average
        p = problem.X.shape[1]
        model = GradientDescentLogisticRegression(
            learning_rate="auto" if label == "auto" else self.learning_rate_,
            C=self.C_,
            **{name: getattr(self, name) for name in SHARED_PARAMETERS},
        ).set_params(
            solver=solver,
            # The search's choice; "auto" or True kept, for the row space.
            precondition=self.precondition if precondition else False,
        )
        model.fit(
            problem.X,
            problem.y,
            sample_weight=problem.sample_weight,
            coef_init=start[:, :p],
            intercept_init=start[:, p] if self.fit_intercept else None,
        )
        self.learning_rate_ = model.learning_rate_
        return np.column_stack([model.coef_, model.intercept_]), model.loss_curve_

    def score(self, X, y, sample_weight=None, **score_params):
        """Score of the refitted model on ``X``, ``y`` by ``scoring``.

        As ``LogisticRegressionCV.score``: the scorer the folds were scored
        with (accuracy when ``scoring`` is None), given ``sample_weight``
        (and, with metadata routing, what the scorer requests).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        **score_params : dict
            With metadata routing enabled, metadata for the scorer.

        Returns
        -------
        float
        """
        _raise_for_params(score_params, self, "score")
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        if _routing_enabled():
            score_params = process_routing(self, "score", **score_params).scorer.score
        elif score_params.get("sample_weight") is None:
            score_params = {}
        return self._scorer()(self, X, y, **score_params)

    def get_metadata_routing(self):
        """How ``fit`` and ``score`` route metadata, as ``LogisticRegressionCV``.

        ``fit``'s metadata go to the splitter's ``split`` and to the scorer,
        ``score``'s to the scorer.

        Returns
        -------
        MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
            .add(
                scorer=self._scorer(),
                method_mapping=MethodMapping()
                .add(caller="score", callee="score")
                .add(caller="fit", callee="score"),
            )
        )

    def _scorer(self):
        """The scorer of ``scoring`` (accuracy when None)."""
        return check_scoring(
            GradientDescentLogisticRegression(), self.scoring or "accuracy"
        )

    def _rate_grid(self):
        """The grid as (label, rate) pairs; a rate is a float or an auto multiple."""
        if isinstance(self.learning_rates, Integral):
            return [
                ("auto" if i == 0 else f"auto*{2**i}", ("auto", 2.0**i))
                for i in range(self.learning_rates)
            ]
        grid = []
        for rate in np.asarray(self.learning_rates, dtype=object).reshape(-1):
            if isinstance(rate, str) and rate == "auto":
                grid.append(("auto", ("auto", 1.0)))
            elif isinstance(rate, Real) and np.isfinite(rate) and rate > 0:
                grid.append((float(rate), ("fixed", float(rate))))
            else:
                raise ValueError(
                    "learning_rates must hold positive numbers or 'auto', got "
                    f"{rate!r}."
                )
        if not grid:
            raise ValueError("learning_rates is empty: give at least one rate.")
        return grid

    @staticmethod
    def _steps(rates, indices, objective, solver):
        """The step of each model: fixed, or a multiple of its 1 / L (the
        first step of spectral steps needs only the cheap bound)."""
        auto = np.broadcast_to(
            auto_step(objective, exact=solver != "bb"), (len(indices),)
        )
        return np.array(
            [
                auto[model] * value if kind == "auto" else value
                for model, (kind, value) in enumerate(rates[i][1] for i in indices)
            ]
        )

    def _with_params(self, params, problem):
        """A fitted GradientDescentLogisticRegression with ``params``, to score."""
        estimator = GradientDescentLogisticRegression(fit_intercept=self.fit_intercept)
        for name, value in _fitted_attributes(
            params, problem.X.shape[1], self.fit_intercept, problem.classes, [], 0.0
        ).items():
            setattr(estimator, name, value)
        estimator.n_features_in_ = problem.X.shape[1]
        return estimator


def _objective_at(objective, params):
    """The objective of one model at its packed ``params``, a float."""
    return float(objective.value(params[np.newaxis])[0])


def _with_labels(scorer, classes):
    """``scorer`` told every class, where its metric takes ``labels``.

    A validation fold may hold a single class; metrics on probabilities
    (log-loss, Brier) then need the classes to be named, as
    ``LogisticRegressionCV`` names them.
    """
    function = getattr(scorer, "_score_func", None)
    if function is None or "labels" not in inspect.signature(function).parameters:
        return scorer
    extra = dict(getattr(scorer, "_kwargs", {}))
    if len(classes) == 2 and "pos_label" in inspect.signature(function).parameters:
        extra.setdefault("pos_label", classes[-1])
    # A copy, so that the metadata the scorer requests still reach it.
    scorer = copy.copy(scorer)
    scorer._kwargs = {**extra, "labels": classes}
    return scorer
