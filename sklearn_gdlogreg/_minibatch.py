"""MiniBatchLogisticRegression: scikit-learn glue around mini-batch descent."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._messages import (
    ParameterConvergenceWarning,
    ParameterError,
    epochs_diverged,
    epochs_not_converged,
    epochs_rose,
    features_overflow,
)
from ._namespace import as_numpy, sum_dtype
from ._predict import LinearPredictionsMixin
from ._problem import TrainingProblem
from ._rows import gathered
from ._solvers.epochs import SCHEDULES, Epochs, NoImprovement, Schedule
from ._solvers.stochastic import UPDATE_RULES, make_update_rule

#: The largest rate "auto" gives RMSprop and Adam: a step per coordinate
#: (their steps are scaled by the gradients' root mean square) that moves
#: coefficients of standardized data, of order 1, in a few hundred updates.
ADAPTIVE_AUTO_RATE = 0.01
#: decay_rate "auto" halves the rate after this many updates: a decay per
#: update, not per epoch (an epoch of breast_cancer is 3 updates, of 10^6
#: rows 5,000). Measured (README of the user guide's "Learning-rate decay"):
#: on 2 x 10^5 x 100 synthetic rows it reaches a held-out log-loss within 1 %
#: of the optimum's in 3 epochs (binary) and 10 (10 classes), where the
#: constant rate levels off at 1.03 and 1.07 times it.
DECAY_UPDATES = 1000
#: A fit whose objective ends this share above its start's is refused: the
#: divergences seen end 2 to 160 times the zero model's (a rate too large for
#: the rows), a constant rate's noise near an optimum as close as the zero
#: model (random labels) a few thousandths above it.
RISE_SLACK = 0.1
#: The batch size "auto" gives: MLPClassifier's.
AUTO_BATCH_SIZE = 200


class MiniBatchLogisticRegression(LinearPredictionsMixin, BaseEstimator):
    """Logistic regression trained by mini-batch descent: momentum, RMSprop, Adam.

    The course's chapter on optimization methods, as a scikit-learn
    classifier: each epoch shuffles the rows, cuts them into mini-batches, and
    updates the coefficients after each batch by the update rule of
    ``solver``. The model, the loss, the penalty and the predictions are those
    of :class:`GradientDescentLogisticRegression`: sigmoid output and binary
    log-loss for two classes, softmax and multinomial log-loss for more (not
    one-vs-rest), an L1 part by its proximal step. The objective is the same
    (with ``s_i`` the sample weights times the class weights, ``S = sum_i
    s_i`` and ``r = l1_ratio``)::

        J(w, b) = sum_i s_i loss(y_i, x_i w^T + b) / S
                  + (r ||w||_1 + (1 - r) ||w||^2 / 2) / (C S)

    and each mini-batch ``B`` of a pass over ``n`` rows descends an unbiased
    sample of it: its loss terms weigh ``n / |B|`` times more, the penalty is
    the same. With a decaying ``schedule``, the descent converges to the
    minimiser of ``J``, that of :class:`~sklearn.linear_model.
    LogisticRegression` with the same ``C`` and ``l1_ratio``.

    Parameters
    ----------
    solver : {"sgd", "rmsprop", "adam"}, default="adam"
        The update rule. "sgd": ``w <- w - learning_rate * v`` with the
        velocity ``v <- momentum * v + (1 - momentum) * g`` of the batch
        gradients ``g`` (Nesterov's look-ahead with ``nesterovs_momentum``;
        ``momentum=0`` is plain stochastic gradient descent). "rmsprop": each
        coordinate's step divided by the root of the average of its squared
        gradients, ``s <- beta_2 * s + (1 - beta_2) * g**2``, bias-corrected
        as Adam's: ``w <- w - learning_rate * g / (sqrt(s / (1 - beta_2**t))
        + epsilon)`` at the ``t``-th update. "adam": both, with their bias
        corrections.
    learning_rate : float or "auto", default="auto"
        The initial step, which ``schedule`` changes between epochs. "auto":
        for "sgd", ``1 / L`` with ``L`` the bound of the Lipschitz constant of
        the mean loss's gradient from the features' mean squared norm (the
        step with which full-batch descent never diverges); for "rmsprop" and
        "adam", whose steps are per coordinate, 0.01. The rate used last is
        in ``learning_rate_``.
    schedule : {"constant", "decay", "invscaling", "adaptive"}, \
default="decay"
        How the rate changes with the epochs done, ``e``. "constant":
        ``learning_rate``. "decay": the course's learning-rate decay,
        ``learning_rate / (1 + decay_rate * e)``. "invscaling":
        ``learning_rate / (1 + e) ** power_t`` (per epoch, where
        ``MLPClassifier``'s counts samples). "adaptive": as
        ``SGDClassifier``'s, the rate is divided by 5 each time the stopping
        rule is met instead of stopping, until it is at most 1e-6.
    decay_rate : float or "auto", default="auto"
        For ``schedule="decay"``. "auto": the updates of an epoch (``ceil(
        n_samples / batch_size)``; with ``partial_fit``, of the first call's)
        divided by 1000, so that the rate is ``learning_rate / (1 + t /
        1000)`` after ``t`` updates: halved after 1,000 updates, whatever
        the number of rows. A constant rate leaves the model a noise of the
        rate's size around the optimum (a held-out log-loss 1.03 times the
        optimum's on 2 x 10^5 x 100 standardized rows, 1.07 with 10
        classes); this decay reaches 1.01 times it in 3 epochs (10 with 10
        classes), and on small data (a few updates per epoch) keeps the rate
        nearly constant.
    power_t : float, default=0.5
        For ``schedule="invscaling"``.
    batch_size : int or "auto", default="auto"
        Rows per mini-batch; "auto" is ``min(200, n_samples)``. Larger than
        the number of rows: all of them (full-batch descent).
    max_iter : int, default=200
        Largest number of epochs (passes over the rows).
    tol : float or None, default=1e-4
        ``fit`` refuses a model whose training objective ends more than 10 %
        above its start's (or ``tol``, if more): a ``ValueError``
        naming the rate from the zero model, a ``ConvergenceWarning`` from a
        warm start (which may be near the optimum, where a constant rate's
        noise alone lifts the objective); for rows in memory (NumPy, sparse,
        array-API arrays; not a streamed file nor a Dask array), at the cost
        of a pass over them (two with a warm start). The stopping rule: stop when for
        ``n_iter_no_change`` epochs in a row
        the epoch's mean training objective (``loss_curve_``) has not fallen
        below its best minus ``tol`` (with ``early_stopping``: the validation
        score has not risen above its best plus ``tol``). None: no stopping
        rule; ``max_iter`` epochs are run, with no convergence warning.
    n_iter_no_change : int, default=10
        See ``tol``.
    shuffle : bool, default=True
        Shuffle the rows before each epoch; False visits them in order.
    random_state : int, RandomState instance or None, default=None
        The shuffling and the validation split.
    early_stopping : bool, default=False
        Set ``validation_fraction`` of the rows aside, score the model on them
        after each epoch (accuracy, weighted by the sample weights), apply the
        stopping rule to that score, and keep the model of the best score;
        the update rule's memory (velocity, averages, its ``t``) is then
        reset, as it belonged to the later epochs' models, so a
        ``partial_fit`` after the fit continues from the kept model with a
        fresh memory (``t_`` and the schedule's epochs go on). Ignored by
        ``partial_fit``.
    validation_fraction : float, default=0.1
        With ``early_stopping``: the share of the rows held out, drawn from
        ``random_state``. Rows in memory: that share of them, stratified by
        class. An ``h5py.Dataset`` or a Dask array: whole blocks (the file's
        chunks of about 64 MB, the array's row blocks), not stratified, that
        share of them rounded (at least one, and one left to train on; a
        ``ValueError`` where there are too few), so that the epochs read the
        other blocks only and each score reads the held-out ones, a block at
        a time (a Dask array's on its workers: only the predicted classes
        come back).
    momentum : float, default=0.9
        For "sgd": the weight of the past in the velocity (``beta`` of the
        course).
    nesterovs_momentum : bool, default=True
        For "sgd" with momentum: step along ``momentum * v + (1 - momentum) *
        g``, the velocity's next value, instead of ``v``.
    beta_1 : float, default=0.9
        For "adam": the weight of the past in the gradients' average.
    beta_2 : float, default=0.999
        For "rmsprop" and "adam": the weight of the past in the squared
        gradients' average.
    epsilon : float, default=1e-8
        For "rmsprop" and "adam": added to the root mean square.
    C : float, default=1.0
        Inverse of the penalty's strength, as in ``LogisticRegression``;
        ``np.inf`` means no penalty. The intercept is not penalised.
    l1_ratio : float, default=0.0
        Share of L1 in the penalty (0: L2, 1: L1); the L1 part is applied by a
        proximal (soft-thresholding) step after each update, per coordinate
        for "rmsprop" and "adam", which sets coefficients exactly to zero.
    fit_intercept : bool, default=True
        Whether to fit an intercept.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplying the sample weights. "balanced"
        uses ``n_samples / (n_classes * np.bincount(y))`` (not with
        ``partial_fit``, whose rows are a part of the data).
    warm_start : bool, default=False
        ``fit`` starts from the previous fit's ``coef_`` and ``intercept_``
        (with a new update rule's memory and schedule).
    verbose : int, default=0
        Print the mean objective of each epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    n_iter_ : ndarray of shape (1,), int32
        Epochs run (over ``fit`` and the ``partial_fit`` calls after it, each
        call an epoch), as an array like
        :class:`GradientDescentLogisticRegression`'s.
    t_ : int
        Updates made (mini-batches), Adam's ``t``.
    loss_curve_ : ndarray of shape (``n_iter_[0]``,)
        Each epoch's mean of its mini-batches' objectives at the parameters
        entering their updates, weighted by their rows (as
        ``MLPClassifier``'s): an estimate of the training objective that costs
        no extra pass.
    best_loss_ : float or None
        The lowest of ``loss_curve_``; None with ``early_stopping``.
    validation_scores_ : list of float or None
        With ``early_stopping``, the validation score of each epoch.
    best_validation_score_ : float or None
        With ``early_stopping``, the best validation score, that of the model
        kept.
    learning_rate_ : float
        The rate of the last epoch.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (``n_features_in_``,)

    See Also
    --------
    GradientDescentLogisticRegression : The same model by full-batch descent.
    sklearn.linear_model.SGDClassifier : One sample per update, one-vs-rest.
    sklearn.neural_network.MLPClassifier : Adam for neural networks.

    Notes
    -----
    ``partial_fit`` makes one epoch over the rows it is given, as ``fit``'s
    epochs over its rows: the penalty of each call is ``/ (C S)`` with ``S``
    the call's weight sum. Over a stream of chunks of ``m`` rows out of ``N``,
    ``C * N / m`` gives the penalty that ``C`` gives ``fit`` on all the rows;
    with ``shuffle=False`` and chunks of a multiple of ``batch_size`` rows,
    the calls make the updates of one epoch of ``fit`` over the chunks one
    under the other.

    Data that does not fit in memory is read where it lives: an
    ``h5py.Dataset`` in chunks of about 64 MB, shuffled chunk by chunk, two
    chunks in memory at a time; a Dask array block by block (persisted on a
    ``distributed`` cluster, else computed from its graph at each epoch).
    Batches are then cut within each chunk or block: with ``shuffle=False``
    and blocks of a multiple of ``batch_size`` rows (a file's chunks are),
    they are the batches of the same rows in memory; shuffled, each row is
    still in one batch per epoch, but a batch never mixes chunks or blocks.
    ``early_stopping`` holds out whole chunks or blocks there (see
    ``validation_fraction``).

    On a C-ordered NumPy array, the passes after a descent's first 2,000
    updates are made by a compiled kernel (numba), a pass per call, with the
    same maths to rounding: it is compiled on its first use on a machine (a
    line on stderr says so, a few seconds), then loaded from a disk cache.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_gdlogreg import MiniBatchLogisticRegression
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(
    ...     StandardScaler(), MiniBatchLogisticRegression(random_state=0)
    ... )
    >>> model.fit(X, y).score(X, y) > 0.98
    True
    """

    _parameter_constraints: dict = {
        "solver": [StrOptions(set(UPDATE_RULES))],
        "learning_rate": [
            Interval(Real, 0, None, closed="neither"),
            StrOptions({"auto"}),
        ],
        "schedule": [StrOptions(set(SCHEDULES))],
        "decay_rate": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        solver="adam",
        learning_rate="auto",
        schedule="decay",
        decay_rate="auto",
        power_t=0.5,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        shuffle=True,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        C=1.0,
        l1_ratio=0.0,
        fit_intercept=True,
        class_weight=None,
        warm_start=False,
        verbose=0,
    ):
        self.solver = solver
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.decay_rate = decay_rate
        self.power_t = power_t
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by mini-batch descent, up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix, h5py.Dataset, dask array} of shape \
(n_samples, n_features)
            Training data; float32 is computed in float32, sparse stays
            sparse (each batch's rows taken from it). An ``h5py.Dataset`` is
            streamed: chunks in shuffled order, rows shuffled within each,
            the next chunk read while the current one is computed. A Dask
            array is read block by block, blocks in shuffled order, rows
            shuffled within each. With ``sklearn.set_config(
            array_api_dispatch=True)``, an array of another array-API
            namespace (PyTorch, CuPy) is fitted there, on its device; the
            fitted arrays live there too.
        y : array-like of shape (n_samples,)
            Class labels: two or more classes, of any type.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        problem = TrainingProblem(self, X, y, sample_weight, batches=True)
        self._rng = check_random_state(self.random_state)
        validation = None
        if self.early_stopping:
            train, held_out = problem.rows.held_out_split(
                self.validation_fraction, self._rng, problem.y_index
            )
            objective = problem.objective(self.C, self.l1_ratio, rows=train)
            validation = _Validation(problem, held_out)
        else:
            objective = problem.objective(self.C, self.l1_ratio)
        warm = self.warm_start and hasattr(self, "coef_")
        params = self._start(problem, objective, warm)
        # The end compared with the start, for rows in memory (a streamed
        # file or Dask blocks would pay a pass, and a pass's buffers).
        start = None
        if problem.rows.in_memory:
            start = _objective_value(objective, params) if warm else (
                math.log(max(2, problem.loss.n_outputs))
            )  # fmt: skip
        self._descend(
            problem, objective, params, self.max_iter, validation, fit=(start, warm)
        )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch of mini-batch descent over the rows given.

        The first call starts the descent (from zeros); the next ones, and the
        calls after a ``fit``, continue it: the same update rule's memory, the
        schedule's epochs, ``t_``, ``n_iter_`` and ``loss_curve_`` go on. A
        ``fit`` over the same rows makes the same epochs: ``k`` calls on
        ``(X, y)``, from a first one, end where ``fit(X, y)`` with
        ``max_iter=k`` and ``tol=None`` ends (the same shuffles from the same
        ``random_state``). ``early_stopping`` is not applied here. The
        stopping rule never stops a call, but it still counts each call's
        epoch: with ``schedule="adaptive"``, the rate is divided by 5 each time
        ``n_iter_no_change`` calls in a row gained less than ``tol`` (the mean
        objectives of different chunks compared), down to 1e-6. Nor does a
        call check that its objective ended below its start's, as ``fit``
        does (it would cost a pass over the call's rows).

        Parameters
        ----------
        X : {array-like, sparse matrix, h5py.Dataset, dask array} of shape \
(n_samples, n_features)
            The rows of this epoch, as in :meth:`fit`: an ``h5py.Dataset`` or
            a Dask array makes one pass over the file or the array, in
            mini-batches.
        y : array-like of shape (n_samples,)
            Labels among ``classes``, some of them only if so.
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream: needed in the first call, and if given
            later, the same.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        first = not hasattr(self, "_update_rule")
        if classes is not None:
            classes = np.unique(np.asarray(classes))
        if first and classes is None:
            raise ValueError(
                "classes must be passed on the first call to partial_fit: every "
                "class of the stream, as its chunks may hold some only."
            )
        if (
            not first
            and classes is not None
            and not np.array_equal(classes, self.classes_)
        ):
            raise ValueError(
                f"classes={classes.tolist()} is not the same as in the previous "
                f"calls, {self.classes_.tolist()}."
            )
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' needs the whole data and is not supported "
                "by partial_fit; pass class_weight as a dict computed on it (with "
                "sklearn.utils.compute_class_weight)."
            )
        problem = TrainingProblem(
            self,
            X,
            y,
            sample_weight,
            classes=classes if first else self.classes_,
            reset=first,
            batches=True,
        )
        objective = problem.objective(self.C, self.l1_ratio)
        if first:
            self._rng = check_random_state(self.random_state)
            params = self._start(problem, objective, warm=False)
        else:
            params = _packed(self.coef_, self.intercept_, problem.X.dtype, objective)
            params = params[:, :, : objective.n_params]
        self._descend(problem, objective, params, 1, None, fit=None)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

    def _start(self, problem, objective, warm):
        """Start a descent: the parameters (zeros, or the last fit's), and a
        new update rule, schedule, stopping rule and history."""
        n_outputs = problem.loss.n_outputs
        n_params = objective.n_params
        if warm:
            if self.coef_.shape != (n_outputs, objective.n_features) or not (
                np.array_equal(self.classes_, problem.classes)
            ):
                raise ValueError(
                    "warm_start=True but the previous fit had classes "
                    f"{self.classes_.tolist()} and coef_ of shape "
                    f"{self.coef_.shape}, while this data has classes "
                    f"{problem.classes.tolist()} and {objective.n_features} "
                    "features. Set warm_start=False to start afresh."
                )
            params = _packed(self.coef_, self.intercept_, problem.X.dtype, objective)
            params = params[:, :, :n_params]
        else:
            params = objective.xp.zeros(
                (1, n_outputs, n_params), dtype=problem.X.dtype, device=objective.device
            )
        self._update_rule = self._new_update_rule()
        decay_rate = self.decay_rate
        if decay_rate == "auto":
            n_samples = objective.data.shape[0]
            decay_rate = -(-n_samples // self._batch_size(n_samples)) / DECAY_UPDATES
        self._schedule = Schedule(
            self.schedule, self._initial_rate(objective), decay_rate, self.power_t
        )
        self._stopping = NoImprovement(self.tol, self.n_iter_no_change)
        self._epochs, self._updates, self._loss_curve = 0, 0, []
        self._scores = [] if self.early_stopping else None
        return params

    def _new_update_rule(self):
        return make_update_rule(
            self.solver,
            momentum=self.momentum,
            nesterovs_momentum=self.nesterovs_momentum,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
        )

    def _batch_size(self, n_samples):
        size = AUTO_BATCH_SIZE if self.batch_size == "auto" else self.batch_size
        return min(size, n_samples)

    def _initial_rate(self, objective):
        if self.learning_rate != "auto":
            return float(self.learning_rate)
        if self.solver != "sgd":
            return adaptive_auto_rate(objective)
        return float(1 / objective.lipschitz_constant(exact=False))

    def _descend(self, problem, objective, params, epochs, validation, fit):
        """``epochs`` epochs at most from ``params``; sets the fitted attributes.

        ``fit``: None for ``partial_fit`` (all the epochs run); for ``fit``,
        the start's objective and whether it is a warm start: the stopping
        rule stops the descent, and an end above the start is refused.
        """
        n_samples = objective.data.shape[0]
        batch_size = self._batch_size(n_samples)
        passes = Epochs(objective, batch_size, self._rng if self.shuffle else None)
        stopping, schedule = self._stopping, self._schedule
        best_params, met = None, False
        for _ in range(epochs):
            rate = schedule.rate(self._epochs)
            mean, updates = passes.run(params, self._update_rule, rate, self._updates)
            self._epochs += 1
            self._updates += updates
            if not np.isfinite(mean):
                raise ParameterError(epochs_diverged(schedule.initial, self._epochs))
            self._loss_curve.append(mean)
            if validation is not None:
                self._scores.append(validation.score(params))
                if stopping.update(-self._scores[-1]):
                    best_params = objective.xp.asarray(params, copy=True)
            else:
                stopping.update(mean)
            if self.verbose:
                print(f"Epoch {self._epochs}, loss = {mean:.8f}")
            if stopping.met:
                stopping.restart()
                if schedule.stop() and fit:
                    met = True
                    break
        if best_params is not None:
            # The best epoch's model, and a fresh memory of the update rule
            # (the last epoch's velocity and averages belong to later
            # parameters); t_ and the schedule's epochs go on.
            params = best_params
            self._update_rule = self._new_update_rule()
        if fit and self._rose(objective, params, schedule.initial, *fit):
            met = True  # warned: no second warning
        if fit and not met and self.tol is not None:
            warnings.warn(
                ParameterConvergenceWarning(
                    epochs_not_converged(
                        type(self).__name__,
                        self.max_iter,
                        self.n_iter_no_change,
                        self.tol,
                        validation=validation is not None,
                    )
                ),
                stacklevel=4,  # the caller of fit, past fit and _fit_context's
            )
        self._set_fitted(problem, objective, params, rate, validation is not None)

    def _rose(self, objective, params, rate, start, warm):
        """Refuse a fit whose training objective ends above its start's by
        more than ``RISE_SLACK`` of it (or ``tol``, if more): an error from the zero
        model (nothing was learnt: the rate is too large for the data), a
        warning from a warm start (which may be the optimum, where a
        constant rate's noise alone lifts the objective). Returns whether it
        warned."""
        if start is None:
            return False
        end = _objective_value(objective, params)
        margin = max(1e-4 if self.tol is None else self.tol, RISE_SLACK * start)
        if not end > start + margin:
            return False
        message = epochs_rose(rate, start, end, self._epochs, warm=warm)
        if not warm:
            raise ParameterError(message)
        warnings.warn(
            ParameterConvergenceWarning(message),
            stacklevel=5,  # the caller of fit, past fit, _fit_context's, _descend
        )
        return True

    def _set_fitted(self, problem, objective, params, rate, early_stopping):
        """The fitted attributes: arrays in the namespace and on the device of
        X, but ``classes_`` (NumPy)."""
        n_features = objective.n_features
        xp, device = objective.xp, objective.device
        self.classes_ = problem.classes
        self.coef_ = xp.asarray(params[0, :, :n_features], copy=True)
        self.intercept_ = (
            xp.asarray(params[0, :, n_features], copy=True)
            if self.fit_intercept
            else xp.zeros(params.shape[1], dtype=params.dtype, device=device)
        )
        self.n_iter_ = xp.asarray([self._epochs], dtype=xp.int32, device=device)
        self.t_ = self._updates
        self.loss_curve_ = xp.asarray(
            self._loss_curve, dtype=sum_dtype(xp, device), device=device
        )
        self.learning_rate_ = rate
        if early_stopping:
            self.validation_scores_ = list(self._scores)
            self.best_validation_score_ = max(self._scores)
            self.best_loss_ = None
        else:
            self.validation_scores_ = self.best_validation_score_ = None
            self.best_loss_ = float(min(self._loss_curve))


def adaptive_auto_rate(objective):
    """The rate "auto" of RMSprop and Adam: ``min(0.01, 1 / sqrt(n_params *
    mean_i ||[x_i, 1]||^2))``.

    Their first updates move every coordinate by about the rate at once, so a
    raw prediction ``x_i w + b`` moves by up to the rate times ``||[x_i,
    1]||_1``. The rate bounds that move by 1 on average over the rows: by
    Cauchy-Schwarz, ``mean_i ||[x_i, 1]||_1 <= sqrt(n_params mean_i ||[x_i,
    1]||^2)`` (the squared norms of the step bound, one pass over ``X``).
    Standardized data of up to 100 features keeps 0.01; 12,288 pixels / 255
    get about 2e-4.
    """
    squared_norm = float(np.max(objective.squared_norm(exact=False)))
    if not np.isfinite(squared_norm):
        raise ParameterError(features_overflow())
    bound = math.sqrt(objective.n_params * squared_norm)
    return ADAPTIVE_AUTO_RATE if bound == 0 else min(ADAPTIVE_AUTO_RATE, 1 / bound)


class _Validation:
    """The rows set aside for early stopping, and the model's score on them.

    The rows are ``problem.rows.take(rows)``: in memory, or the held-out
    blocks of a streamed file or a Dask array, whose predictions
    (``map_raw``) are made a chunk at a time, or on the workers; only each
    row's predicted class reaches the host, as its label is there.
    """

    def __init__(self, problem, rows):
        self.rows = problem.rows.take(rows)
        self.y_index = problem.y_index[rows]
        weight = problem.sample_weight
        self.weight = None if weight is None or not weight[rows].any() else (
            weight[rows]
        )  # fmt: skip
        self.n_features = problem.rows.n_features

    def score(self, params):
        """The accuracy of the packed ``params`` (weighted by the samples')."""
        p = self.n_features
        coef = params[0, :, :p]
        intercept = params[0, :, p] if params.shape[2] > p else 0.0
        predicted = self.rows.map_raw(_predicted_index, coef, intercept, None, np.intp)
        predicted = as_numpy(gathered(predicted))
        return float(np.average(predicted == self.y_index, weights=self.weight))


def _predicted_index(raw, xp):
    """Each row's predicted class index (True for the second of two) from its
    raw predictions."""
    return raw[:, 0] > 0 if raw.shape[1] == 1 else xp.argmax(raw, axis=1)


def _objective_value(objective, params):
    """The training objective at ``params``, a float (one pass over the
    rows); infinite where it overflows, with no RuntimeWarning."""
    with np.errstate(over="ignore", invalid="ignore"):
        return float(objective.value(params)[0])


def _packed(coef, intercept, dtype, objective):
    """``[coef, intercept]`` as parameters of shape (1, n_outputs, p + 1), in
    ``dtype``, in the objective's namespace and on its device."""
    xp, device = objective.xp, objective.device
    if sp.issparse(coef):  # a sparsified coef_
        coef = coef.toarray()
    coef = xp.asarray(coef, dtype=dtype, device=device)
    intercept = xp.reshape(xp.asarray(intercept, dtype=dtype, device=device), (-1, 1))
    params = xp.concat([coef, intercept], axis=1)
    return xp.reshape(params, (1, *params.shape))
