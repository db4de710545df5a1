"""GradientDescentLogisticRegressionCV: every learning rate of a fold in one descent."""

import copy
import inspect
import itertools
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
)
from ._namespace import as_numpy
from ._planner import descend
from ._predict import LinearPredictionsMixin
from ._problem import TrainingProblem
from ._rows import check_subsettable
from ._solvers import auto_step

# A fold's model whose objective makes no new low in this many iterations (and
# is above its lowest in half of them) cycles: it stops, and scores like divergence.
STALL_WINDOW = 100

#: The parameters of GradientDescentLogisticRegression this estimator has too,
#: validated alike and passed on to the refit.
SHARED_PARAMETERS = (
    "max_iter",
    "tol",
    "l1_ratio",
    "solver",
    "fit_intercept",
    "class_weight",
    "verbose",
)


class GradientDescentLogisticRegressionCV(LinearPredictionsMixin, BaseEstimator):
    """Gradient-descent logistic regression with the learning rate (and C) by CV.

    Like :class:`~sklearn.linear_model.LogisticRegressionCV`, over
    ``learning_rates`` (and ``Cs``). In each fold, all the models of the grid
    descend together: one ``X @ W`` and one ``X.T @ R`` per iteration for all of
    them (a matrix product instead of one matrix-vector product per model), each
    model stopping on its own; a learning rate that diverges, or that cycles
    (its objective makes no new low in 100 iterations), stops there and
    scores NaN instead of stopping the search. The best combination, by mean
    score over the folds, is then refitted on all the data.

    Parameters
    ----------
    learning_rates : int or array-like of float or "auto", default=8
        The grid. An int ``n`` means ``n`` steps ``2**i / L`` (``i = 0 .. n - 1``)
        from the "auto" step ``1 / L`` of each fold's data: the first never
        diverges, the larger ones often go faster. A list may mix floats and
        "auto".
    Cs : int or array-like of float, default=(1.0,)
        Inverse penalty strengths to try; an int ``n`` means ``n`` values from
        ``np.logspace(-4, 4, n)``, as in ``LogisticRegressionCV``.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn: None is 5-fold stratified.
    scoring : str or callable, default=None
        Score of a model on a validation fold; None is accuracy.
    refit : bool, default=True
        Refit the best combination on all the data; otherwise average the
        folds' coefficients of the best combination.
    max_iter, tol, l1_ratio, solver, fit_intercept, class_weight, verbose
        As in :class:`GradientDescentLogisticRegression` (``verbose`` only
        applies to the refit); the grid is of steps, so ``solver="auto"``
        means plain steps ("gd") here.

    Attributes
    ----------
    classes_, coef_, intercept_, n_features_in_, feature_names_in_
        As in :class:`GradientDescentLogisticRegression`, from the refit.
    learning_rate_ : float
        The step of the best learning rate, on all the data.
    C_ : float
        The best C.
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
    ...     StandardScaler(), GradientDescentLogisticRegressionCV(max_iter=300)
    ... ).fit(X, y)
    >>> model[-1].scores_.shape  # 5 folds, 1 C, 8 learning rates
    (5, 1, 8)
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
        learning_rates=8,
        Cs=(1.0,),
        cv=None,
        scoring=None,
        refit=True,
        max_iter=1000,
        tol=1e-4,
        l1_ratio=0.0,
        solver="gd",
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
        best_c, best_r = self._best_combination()
        self.Cs_, self.learning_rates_ = Cs, [label for label, _ in rates]
        self.C_ = float(Cs[best_c])
        full = problem.objective(self.C_, self.l1_ratio)
        self.learning_rate_ = float(self._steps(rates, [best_r], full)[0])
        if self.refit:
            params, curve = self._refit(problem)
        else:
            params = np.mean(list(fold_params[:, best_c, best_r]), axis=0)
            curve = self.loss_curves_[0, best_c, best_r]
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

        Sets ``scores_``, ``n_iters_``, ``converged_`` and ``loss_curves_``;
        returns each model's parameters, an array of objects of their shape.
        """
        grid = list(itertools.product(range(len(Cs)), range(len(rates))))
        C_per_model = Cs[[c for c, _ in grid]]
        scorer = _with_labels(self._scorer(), problem.classes)
        shape = (len(folds), len(Cs), len(rates))
        self.scores_ = np.full(shape, np.nan)
        self.n_iters_ = np.zeros(shape, dtype=int)
        self.converged_ = np.zeros(shape, dtype=bool)
        self.loss_curves_ = np.empty(shape, dtype=object)
        fold_params = np.empty(shape, dtype=object)
        for fold, (train, test) in enumerate(folds):
            fold_score_params = _check_method_params(
                problem.X, params=score_params, indices=test
            )
            objective = problem.objective(C_per_model, self.l1_ratio, rows=train)
            steps = self._steps(rates, [r for _, r in grid], objective)
            result = self._descend_fold(problem, objective, steps)
            for model, (c, r) in enumerate(grid):
                at = fold, c, r
                self.n_iters_[at] = result.n_iter[model]
                self.converged_[at] = result.converged[model]
                self.loss_curves_[at] = result.loss_curves[model]
                fold_params[at] = result.params[model]
                if result.diverged[model] is None:
                    fitted = self._with_params(result.params[model], problem)
                    self.scores_[at] = scorer(
                        fitted, problem.X[test], problem.y[test], **fold_score_params
                    )
        return fold_params

    def _descend_fold(self, problem, objective, steps):
        """The models of one fold (one per step), in one descent from zeros."""
        n_params = problem.X.shape[1] + int(self.fit_intercept)
        start = np.zeros(
            (len(steps), problem.loss.n_outputs, n_params), problem.X.dtype
        )
        return descend(
            objective,
            start,
            learning_rate=steps,
            max_iter=self.max_iter,
            tol=self.tol,
            # The grid is of fixed steps: "auto" means plain ones here.
            solver="gd" if self.solver == "auto" else self.solver,
            stall_window=STALL_WINDOW,
        )

    def _best_combination(self):
        """The indices (C, learning rate) of the best mean score over the folds."""
        mean = np.mean(self.scores_, axis=0)
        if np.all(np.isnan(mean)):
            raise ValueError(
                "Every learning rate diverged in some fold: include smaller "
                "learning_rates (or 'auto'), or scale the features."
            )
        # A model that did not converge (a step that cycles, say) must not win
        # by chance: with tol > 0, only combinations converged in every fold
        # compete, if there are any.
        everywhere = self.converged_.all(axis=0)
        if self.tol > 0 and everywhere.any():
            mean = np.where(everywhere, mean, np.nan)
        elif self.tol > 0:
            warnings.warn(
                "No combination of the grid converged in every fold: the best "
                "score among them was chosen. Raise max_iter, or include smaller "
                "learning_rates (or 'auto').",
                ConvergenceWarning,
                stacklevel=4,  # the caller of fit, past fit and _fit_context
            )
        return np.unravel_index(np.nanargmax(mean), mean.shape)

    def _refit(self, problem):
        """The best combination fitted on all the data: parameters, cost curve."""
        model = GradientDescentLogisticRegression(
            learning_rate=self.learning_rate_,
            C=self.C_,
            **{name: getattr(self, name) for name in SHARED_PARAMETERS},
        ).fit(problem.X, problem.y, sample_weight=problem.sample_weight)
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
    def _steps(rates, indices, objective):
        """The step of each model: fixed, or a multiple of its 1 / L."""
        auto = np.broadcast_to(auto_step(objective), (len(indices),))
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
