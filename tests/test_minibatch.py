"""MiniBatchLogisticRegression against full-batch descent, scikit-learn and itself."""

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_breast_cancer, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    MiniBatchLogisticRegression,
    logistic_objective,
)
from sklearn_gdlogreg._messages import ParameterError


def standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def small_problem(n_classes=2, n_samples=120, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=5,
        n_informative=3,
        n_classes=n_classes,
        random_state=seed,
    )
    return X, y


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_one_batch_of_all_rows_is_full_batch_descent(n_classes, l1_ratio):
    # batch_size = n_samples, plain steps, no shuffle: the iterates of
    # GradientDescentLogisticRegression(solver="gd") at the same rate.
    X, y = small_problem(n_classes)
    common = dict(learning_rate=0.3, max_iter=25, C=0.5, l1_ratio=l1_ratio)
    full = GradientDescentLogisticRegression(solver="gd", tol=0, **common).fit(X, y)
    mini = MiniBatchLogisticRegression(
        solver="sgd",
        momentum=0.0,
        schedule="constant",
        batch_size=len(y),
        shuffle=False,
        tol=None,
        **common,
    ).fit(X, y)
    np.testing.assert_allclose(mini.coef_, full.coef_, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(mini.intercept_, full.intercept_, rtol=1e-10)
    np.testing.assert_allclose(mini.loss_curve_, full.loss_curve_, rtol=1e-12)
    assert mini.n_iter_.dtype == np.int32 and mini.n_iter_.shape == (1,)
    assert mini.n_iter_[0] == 25 and mini.t_ == 25


@pytest.mark.parametrize(
    ("loader", "params"),
    [
        (load_breast_cancer, dict(schedule="invscaling", learning_rate=0.05)),
        (load_iris, dict(schedule="decay", decay_rate=0.01, learning_rate=0.05)),
    ],
)
def test_decaying_adam_converges_to_logistic_regression(loader, params):
    X, y = standardized(loader)
    reference = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(X, y)
    model = MiniBatchLogisticRegression(
        solver="adam", batch_size=32, max_iter=500, tol=None, random_state=0, **params
    ).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=0.03)
    # Softmax intercepts are defined up to a shift shared by the classes.
    shift = lambda b: b - b.mean() if len(b) > 1 else b  # noqa: E731
    np.testing.assert_allclose(
        shift(model.intercept_), shift(reference.intercept_), atol=0.03
    )
    best = logistic_objective(reference, X, y)
    assert logistic_objective(model, X, y) == pytest.approx(best, rel=1e-3)


@pytest.mark.parametrize("solver", ["sgd", "rmsprop", "adam"])
def test_partial_fit_calls_are_the_epochs_of_fit(solver):
    X, y = small_problem(3)
    params = dict(solver=solver, batch_size=16, random_state=0, l1_ratio=0.3)
    fitted = MiniBatchLogisticRegression(max_iter=4, tol=None, **params).fit(X, y)
    streamed = MiniBatchLogisticRegression(**params)
    streamed.partial_fit(X, y, classes=np.unique(y))
    for _ in range(3):
        streamed.partial_fit(X, y)
    np.testing.assert_array_equal(streamed.coef_, fitted.coef_)
    np.testing.assert_array_equal(streamed.intercept_, fitted.intercept_)
    np.testing.assert_array_equal(streamed.loss_curve_, fitted.loss_curve_)
    assert streamed.t_ == fitted.t_ == 4 * 8
    assert streamed.n_iter_[0] == fitted.n_iter_[0] == 4


def test_partial_fit_over_chunks_is_fit_over_the_same_batches():
    # A stream of chunks of m rows, one batch each, in order: fit's epoch with
    # batches of m rows, shuffle off; C scaled by N / m gives fit's penalty.
    X, y = small_problem(2, n_samples=120)
    m = 30
    # A constant rate: decay_rate="auto" counts the updates of an epoch,
    # which a chunk's call and fit's epoch do not share.
    fitted = MiniBatchLogisticRegression(
        batch_size=m, shuffle=False, max_iter=1, tol=None, C=0.1, schedule="constant"
    ).fit(X, y)
    streamed = MiniBatchLogisticRegression(
        batch_size=m, shuffle=False, C=0.1 * 4, schedule="constant"
    )
    for start in range(0, 120, m):
        chunk = slice(start, start + m)
        streamed.partial_fit(X[chunk], y[chunk], classes=[0, 1])
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, fitted.intercept_, rtol=1e-12)
    assert streamed.t_ == fitted.t_ == 4
    assert streamed.n_iter_[0] == 4  # one epoch per call


def test_partial_fit_takes_chunks_of_one_class():
    X, y = small_problem(3)
    model = MiniBatchLogisticRegression()
    model.partial_fit(X[y == 0], y[y == 0], classes=[0, 1, 2])
    model.partial_fit(X[y == 2], y[y == 2])
    assert model.coef_.shape == (3, 5)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])


def test_partial_fit_refusals():
    X, y = small_problem(2)
    with pytest.raises(ValueError, match="classes must be passed on the first"):
        MiniBatchLogisticRegression().partial_fit(X, y)
    model = MiniBatchLogisticRegression().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not the same as in the previous"):
        model.partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not among the classes"):
        model.partial_fit(X, y + 5)
    with pytest.raises(ValueError, match="balanced"):
        MiniBatchLogisticRegression(class_weight="balanced").partial_fit(
            X, y, classes=[0, 1]
        )


def test_partial_fit_continues_a_fit():
    X, y = small_problem(2)
    model = MiniBatchLogisticRegression(max_iter=3, tol=None, random_state=0)
    model.fit(X, y)
    before = model.coef_.copy()
    model.partial_fit(X, y)
    assert model.n_iter_[0] == 4 and len(model.loss_curve_) == 4
    assert not np.array_equal(model.coef_, before)


def held_out(y, fraction, random_state):
    """The rows fit sets aside for early stopping."""
    y_index = np.unique(y, return_inverse=True)[1]
    return train_test_split(
        np.arange(len(y)),
        test_size=fraction,
        random_state=check_random_state(random_state),
        stratify=y_index,
    )[1]


def test_early_stopping_keeps_the_best_validation_model():
    # Noisy labels and large constant steps: the validation score wanders, and
    # the model kept is that of its best epoch, not the last.
    X, y = make_classification(n_samples=400, n_features=10, flip_y=0.3, random_state=1)
    model = MiniBatchLogisticRegression(
        solver="sgd",
        momentum=0.0,
        learning_rate=2.0,
        batch_size=8,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=8,
        random_state=0,
        C=np.inf,
    ).fit(X, y)
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_[0] == len(model.loss_curve_)
    assert model.best_validation_score_ == max(scores)
    assert scores[-1] < model.best_validation_score_  # the last was not the best
    assert model.best_loss_ is None
    rows = held_out(y, 0.25, 0)
    assert model.score(X[rows], y[rows]) == pytest.approx(model.best_validation_score_)
    # Stopped by the rule: n_iter_no_change epochs after the best one.
    assert len(scores) - 1 - int(np.argmax(scores)) >= 8


def test_without_early_stopping_no_validation_scores():
    X, y = small_problem(2)
    model = MiniBatchLogisticRegression(max_iter=5, tol=None).fit(X, y)
    assert model.validation_scores_ is None and model.best_validation_score_ is None
    assert model.best_loss_ == min(model.loss_curve_)


@pytest.mark.parametrize("solver", ["sgd", "rmsprop", "adam"])
@pytest.mark.parametrize("container", [np.asarray, sparse.csr_matrix, sparse.csc_array])
def test_float32_stays_float32_and_sparse_works(solver, container):
    X, y = small_problem(3)
    X32 = container(X.astype(np.float32))
    params = dict(solver=solver, max_iter=5, tol=None, random_state=0, l1_ratio=0.5)
    model = MiniBatchLogisticRegression(**params).fit(X32, y)
    assert model.coef_.dtype == np.float32 and model.intercept_.dtype == np.float32
    assert model.predict_proba(X32).dtype == np.float32
    # The same batches as dense float64, to float32's precision (which Adam
    # and RMSprop amplify where a gradient entry is near 0).
    dense = MiniBatchLogisticRegression(**params).fit(X, y)
    np.testing.assert_allclose(model.coef_, dense.coef_, atol=0.01)


def test_sparse_equals_dense():
    X, y = small_problem(2)
    params = dict(max_iter=5, tol=None, random_state=3)
    dense = MiniBatchLogisticRegression(**params).fit(X, y)
    for matrix in (sparse.csr_matrix(X), sparse.csc_matrix(X)):
        model = MiniBatchLogisticRegression(**params).fit(matrix, y)
        np.testing.assert_allclose(model.coef_, dense.coef_, rtol=1e-12)


def test_random_state_decides_the_shuffles():
    X, y = small_problem(2)
    fit = lambda seed: MiniBatchLogisticRegression(  # noqa: E731
        max_iter=3, tol=None, batch_size=10, random_state=seed
    ).fit(X, y)
    np.testing.assert_array_equal(fit(0).coef_, fit(0).coef_)
    assert not np.array_equal(fit(0).coef_, fit(1).coef_)


def test_l1_sets_coefficients_exactly_to_zero():
    X, y = standardized(load_breast_cancer)
    model = MiniBatchLogisticRegression(
        l1_ratio=1.0, C=0.05, max_iter=50, tol=None, random_state=0
    ).fit(X, y)
    assert np.sum(model.coef_ == 0) >= 10
    assert model.score(X, y) > 0.9


def test_sample_and_class_weights_match_repeated_rows_in_one_batch():
    # One batch of all rows: weights are repeated rows, and class weights
    # multiply the sample weights.
    X, y = small_problem(2, n_samples=40)
    weight = np.arange(40) % 3
    params = dict(solver="sgd", momentum=0.0, batch_size=1000, max_iter=10, tol=None)
    weighted = MiniBatchLogisticRegression(**params).fit(X, y, sample_weight=weight)
    repeated = MiniBatchLogisticRegression(**params).fit(
        np.repeat(X, weight, axis=0), np.repeat(y, weight)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10)
    by_class = MiniBatchLogisticRegression(class_weight={0: 2.0, 1: 1.0}, **params)
    by_sample = MiniBatchLogisticRegression(**params)
    by_class.fit(X, y)
    by_sample.fit(X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    np.testing.assert_allclose(by_class.coef_, by_sample.coef_, rtol=1e-12)


def test_convergence_warning_only_when_max_iter_ends_the_fit():
    X, y = standardized(load_breast_cancer)
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=2"):
        MiniBatchLogisticRegression(max_iter=2).fit(X, y)
    # tol=None runs max_iter epochs, with no warning (pytest's config makes
    # one an error).
    MiniBatchLogisticRegression(max_iter=2, tol=None).fit(X, y)
    # The stopping rule met: no warning.
    model = MiniBatchLogisticRegression(random_state=0).fit(X, y)
    assert model.n_iter_[0] < model.max_iter


def test_adaptive_schedule_cuts_the_rate_instead_of_stopping():
    X, y = standardized(load_breast_cancer)
    params = dict(n_iter_no_change=3, random_state=0, max_iter=500)
    constant = MiniBatchLogisticRegression(schedule="constant", **params).fit(X, y)
    adaptive = MiniBatchLogisticRegression(schedule="adaptive", **params).fit(X, y)
    assert adaptive.n_iter_[0] > constant.n_iter_[0]
    assert adaptive.learning_rate_ <= 1e-6
    assert constant.learning_rate_ == 0.01


def test_auto_rate_of_sgd_is_one_over_the_frobenius_bound():
    X, y = small_problem(2)
    model = MiniBatchLogisticRegression(solver="sgd", max_iter=1, tol=None).fit(X, y)
    squared_rows = (np.sum(X**2, axis=1) + 1).mean()  # [X, 1] per row
    bound = 0.25 * squared_rows + 1 / len(y)  # curvature, and the L2 part 1 / (C S)
    assert model.learning_rate_ == pytest.approx(1 / bound)


def test_divergence_is_an_error_naming_the_rate():
    X, y = small_problem(2)
    model = MiniBatchLogisticRegression(
        solver="sgd", momentum=0.0, learning_rate=1e300, max_iter=5
    )
    # No RuntimeWarning on the way (pytest's settings make one an error).
    with pytest.raises(ParameterError, match="diverged with learning_rate=1e"):
        model.fit(X * 1e10, y)


def test_warm_start_starts_from_the_last_fit():
    X, y = standardized(load_breast_cancer)
    params = dict(max_iter=3, tol=None, random_state=0)
    cold = MiniBatchLogisticRegression(**params).fit(X, y)
    warm = MiniBatchLogisticRegression(warm_start=True, **params).fit(X, y)
    warm.fit(X, y)
    assert warm.loss_curve_[0] < cold.loss_curve_[0]
    assert warm.n_iter_[0] == 3  # this fit's epochs


@pytest.mark.parametrize(
    ("params", "name"),
    [
        (dict(solver="lbfgs"), "solver"),
        (dict(batch_size=0), "batch_size"),
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(learning_rate="optimal"), "learning_rate"),
        (dict(schedule="cosine"), "schedule"),
        (dict(momentum=1.0), "momentum"),
        (dict(beta_2=1.0), "beta_2"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(max_iter=0), "max_iter"),
        (dict(tol=-1.0), "tol"),
    ],
)
def test_bad_parameters_are_clear_value_errors(params, name):
    X, y = small_problem(2)
    with pytest.raises(ValueError, match=f"The '{name}' parameter"):
        MiniBatchLogisticRegression(**params).fit(X, y)
    with pytest.raises(ValueError, match=f"The '{name}' parameter"):
        MiniBatchLogisticRegression(**params).partial_fit(X, y, classes=[0, 1])


def test_shuffled_partial_fit_over_chunks_is_fit_over_the_same_batches():
    # Each call shuffles its chunk's rows (drawn from random_state in turn):
    # fit over the chunks so shuffled, one under the other, not shuffled
    # again, makes the same updates.
    X, y = small_problem(3, n_samples=120)
    m, seed = 40, 3
    params = dict(
        batch_size=10,
        solver="sgd",
        learning_rate=0.2,
        l1_ratio=0.3,
        schedule="constant",
    )
    streamed = MiniBatchLogisticRegression(random_state=seed, C=0.1 * 3, **params)
    for start in range(0, 120, m):
        streamed.partial_fit(X[start : start + m], y[start : start + m], [0, 1, 2])
    rng = np.random.RandomState(seed)
    order = np.concatenate([start + rng.permutation(m) for start in range(0, 120, m)])
    fitted = MiniBatchLogisticRegression(
        shuffle=False, max_iter=1, tol=None, C=0.1, **params
    ).fit(X[order], y[order])
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, fitted.intercept_, rtol=1e-12)
    assert streamed.t_ == fitted.t_ == 12


@pytest.mark.parametrize("shuffle", [False, True])
def test_partial_fit_makes_one_pass_over_an_hdf5_dataset(tmp_path, shuffle):
    h5py = pytest.importorskip("h5py")
    X, y = small_problem(2, n_samples=200)
    weight = np.random.RandomState(0).uniform(0.5, 2, 200)
    params = dict(batch_size=20, shuffle=shuffle, random_state=0)
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file["X"] = X
    with h5py.File(tmp_path / "data.h5", "r") as file:
        streamed = MiniBatchLogisticRegression(**params)
        for _ in range(2):
            streamed.partial_fit(file["X"], y, classes=[0, 1], sample_weight=weight)
    # A file of one chunk: its rows shuffled as in memory.
    in_memory = MiniBatchLogisticRegression(**params)
    for _ in range(2):
        in_memory.partial_fit(X, y, classes=[0, 1], sample_weight=weight)
    np.testing.assert_array_equal(streamed.coef_, in_memory.coef_)
    np.testing.assert_array_equal(streamed.loss_curve_, in_memory.loss_curve_)
    assert streamed.t_ == 2 * 10 and streamed.n_iter_[0] == 2


def test_early_stopping_on_a_file_of_too_few_chunks_is_refused_with_the_fix(
    tmp_path, monkeypatch
):
    h5py = pytest.importorskip("h5py")
    from sklearn_gdlogreg._rows import hdf5

    X, y = small_problem(2)  # 120 rows of 40 bytes: one chunk of 64 MB
    with h5py.File(tmp_path / "data.h5", "w") as file:
        file["X"] = X
    with h5py.File(tmp_path / "data.h5", "r") as file:
        with pytest.raises(
            ParameterError,
            match=r"early_stopping=True holds out whole chunks of the file "
            r"\(1,677,721 rows each.*these rows are one block. To stop early, pass "
            r"dataset\[\(\)\]",
        ) as error:
            MiniBatchLogisticRegression(early_stopping=True).fit(file["X"], y)
        assert error.value.parameter == "early_stopping"
        monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 8 * 5 * 60)  # two chunks
        with pytest.raises(
            ParameterError,
            match="validation_fraction=0.8 of their 2 blocks leaves none to train on",
        ):
            MiniBatchLogisticRegression(
                early_stopping=True, validation_fraction=0.8
            ).fit(file["X"], y)


@pytest.fixture
def compiled_runs(monkeypatch):
    """The calls of the compiled epoch, recorded (each still run)."""
    from sklearn_gdlogreg._kernels_epoch import CompiledEpochs

    calls = []
    run = CompiledEpochs.run

    def recorded(self, *args):
        calls.append(self.dtype)
        return run(self, *args)

    monkeypatch.setattr(CompiledEpochs, "run", recorded)
    return calls


def python_updates(monkeypatch, count):
    from sklearn_gdlogreg._solvers import epochs

    monkeypatch.setattr(epochs, "PYTHON_UPDATES", count)


@pytest.fixture(params=["in memory", "a file's chunks"])
def rows_of(request, tmp_path, monkeypatch):
    """X as a fit takes it: itself, or a dataset of a file read in chunks of
    640 bytes (one or two batches of 16 rows), views of the mapped file."""
    if request.param == "in memory":
        yield lambda X: X
        return
    h5py = pytest.importorskip("h5py")
    from sklearn_gdlogreg._rows import hdf5

    monkeypatch.setattr(hdf5, "_CHUNK_BYTES", 32 * 5 * 4)
    with h5py.File(tmp_path / "data.h5", "w") as file:

        def stored(X):
            file.create_dataset(f"X{len(file)}", data=X)
            return file[f"X{len(file) - 1}"]

        yield stored


@pytest.mark.parametrize("solver", ["sgd", "rmsprop", "adam"])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_epochs_fit_as_the_python_epochs(
    solver, n_classes, dtype, monkeypatch, compiled_runs, rows_of
):
    X, y = small_problem(n_classes)
    X = rows_of(X.astype(dtype))
    weight = np.random.RandomState(0).uniform(0, 2, len(y))
    params = dict(solver=solver, batch_size=16, max_iter=4, tol=None, random_state=0,
                  l1_ratio=0.3, C=0.1, class_weight={0: 2.0, 1: 1.0})  # fmt: skip
    python_updates(monkeypatch, 10**9)
    python = MiniBatchLogisticRegression(**params).fit(X, y, sample_weight=weight)
    assert compiled_runs == []
    python_updates(monkeypatch, 0)
    compiled = MiniBatchLogisticRegression(**params).fit(X, y, sample_weight=weight)
    assert compiled_runs == [dtype] * 4
    tolerance = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(
        rtol=1e-5, atol=1e-5
    )  # fmt: skip
    assert compiled.coef_.dtype == dtype
    np.testing.assert_allclose(compiled.coef_, python.coef_, **tolerance)
    np.testing.assert_allclose(compiled.intercept_, python.intercept_, **tolerance)
    np.testing.assert_allclose(compiled.loss_curve_, python.loss_curve_, **tolerance)
    assert compiled.t_ == python.t_ == 4 * 8


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_is_fit_across_the_switch_to_the_compiled_epoch(
    solver, monkeypatch, compiled_runs
):
    # 8 updates a pass: two passes in Python, then compiled ones, the same
    # in fit and in partial_fit calls, bit for bit.
    python_updates(monkeypatch, 20)
    X, y = small_problem(3)
    params = dict(solver=solver, batch_size=16, random_state=0, l1_ratio=0.3)
    fitted = MiniBatchLogisticRegression(max_iter=5, tol=None, **params).fit(X, y)
    assert len(compiled_runs) == 3
    streamed = MiniBatchLogisticRegression(**params)
    streamed.partial_fit(X, y, classes=np.unique(y))
    for _ in range(4):
        streamed.partial_fit(X, y)
    assert len(compiled_runs) == 6
    np.testing.assert_array_equal(streamed.coef_, fitted.coef_)
    np.testing.assert_array_equal(streamed.intercept_, fitted.intercept_)
    np.testing.assert_array_equal(streamed.loss_curve_, fitted.loss_curve_)


def test_the_compiled_epoch_reads_c_ordered_dense_rows_only(monkeypatch, compiled_runs):
    python_updates(monkeypatch, 0)
    X, y = small_problem(2)
    params = dict(max_iter=2, tol=None, random_state=0)
    for data in (sparse.csr_matrix(X), sparse.csc_array(X), np.asfortranarray(X)):
        MiniBatchLogisticRegression(**params).fit(data, y)
    assert compiled_runs == []
    MiniBatchLogisticRegression(**params).fit(X, y)
    assert compiled_runs == [np.float64] * 2


def test_a_short_fit_never_runs_the_compiled_epoch(compiled_runs):
    # 8 updates a pass: 2,000 updates are 250 passes.
    X, y = small_problem(2)
    MiniBatchLogisticRegression(batch_size=16, max_iter=250, tol=None).fit(X, y)
    assert compiled_runs == []
    MiniBatchLogisticRegression(batch_size=16, max_iter=251, tol=None).fit(X, y)
    assert compiled_runs == [np.float64]


def test_auto_rate_of_rmsprop_and_adam_bounds_the_move_of_raw_predictions():
    # min(0.01, 1 / sqrt(n_params * mean ||[x, 1]||^2)): 0.01 on standardized
    # data of 30 features, less on wide rows of large entries.
    X, y = standardized(load_breast_cancer)
    narrow = MiniBatchLogisticRegression(max_iter=1, tol=None, schedule="constant")
    assert narrow.fit(X, y).learning_rate_ == 0.01
    rng = np.random.RandomState(0)
    wide = rng.uniform(0, 1, size=(60, 2000))
    labels = (wide[:, 0] > 0.5).astype(int)
    squared_rows = (np.sum(wide**2, axis=1) + 1).mean()
    for solver in ("rmsprop", "adam"):
        model = MiniBatchLogisticRegression(
            solver=solver, max_iter=1, tol=None, schedule="constant"
        ).fit(wide, labels)
        assert model.learning_rate_ == pytest.approx(1 / np.sqrt(2001 * squared_rows))


def test_defaults_on_wide_pixels_descend_below_the_zero_model():
    # 2,000 pixel-like features in [0, 1]: at the rate 0.01 each update moved
    # the raw predictions by hundreds and the fit ended above log(2).
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 1, size=(150, 2000))
    y = (X[:, :10].sum(axis=1) > 5).astype(int)
    for solver in ("rmsprop", "adam"):
        model = MiniBatchLogisticRegression(
            solver=solver, max_iter=30, tol=None, random_state=0
        ).fit(X, y)
        assert model.loss_curve_[-1] < np.log(2)


def wide_pixels():
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 1, size=(150, 2000))
    return X, (X[:, :10].sum(axis=1) > 5).astype(int)


def test_a_fit_ending_above_the_zero_model_is_a_divergence_error():
    X, y = wide_pixels()
    model = MiniBatchLogisticRegression(
        learning_rate=0.01, schedule="constant", max_iter=3, tol=None, random_state=0
    )
    with pytest.raises(ParameterError, match=r"above its start's \(the zero model\)"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_a_warm_fit_ending_above_its_start_warns():
    X, y = wide_pixels()
    params = dict(schedule="constant", max_iter=3, tol=None, random_state=0)
    model = MiniBatchLogisticRegression(max_iter=30, tol=None, random_state=0)
    model.fit(X, y)
    # From a model better than zero, a rate too large for these rows makes
    # it worse: a warning (the start may be the optimum), the model kept.
    model.set_params(warm_start=True, learning_rate=0.01, **params)
    with pytest.warns(ConvergenceWarning, match="previous fit's model"):
        model.fit(X, y)
    assert np.all(np.isfinite(model.coef_))


def test_decay_auto_halves_the_rate_after_1000_updates():
    X, y = standardized(load_breast_cancer)  # 569 rows: 3 updates an epoch
    model = MiniBatchLogisticRegression(max_iter=7, tol=None, random_state=0)
    model.fit(X, y)
    assert model.schedule == "decay" and model.t_ == 21
    assert model.learning_rate_ == pytest.approx(0.01 / (1 + 6 * 3 / 1000))


def test_early_stopping_resets_the_update_rule_s_memory():
    X, y = standardized(load_breast_cancer)
    model = MiniBatchLogisticRegression(
        early_stopping=True, n_iter_no_change=3, random_state=0
    ).fit(X, y)
    rule = model._update_rule
    assert rule.t == 0 and rule.mean is None and rule.squares is None
    assert model.t_ > 0
