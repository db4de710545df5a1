"""
Optimization methods: batch, mini-batch, momentum, Adam, learning-rate decay
============================================================================

The course's chapter on optimization methods trains one model four ways and
plots the cost after each epoch: batch gradient descent (one step per pass
over the data), mini-batch gradient descent (one step per batch of 64 rows),
mini-batch descent with momentum, and Adam; then it decays the learning rate
as the epochs go by. :class:`~sklearn_gdlogreg.MiniBatchLogisticRegression`
runs each of them by its parameters (:doc:`the user guide
</user_guide/minibatch>` maps the course's formulas onto them). Here the
model is the course's one neuron, on scikit-learn's digits as images, odd
against even, pixels divided by their largest value (16), with ``C=1``.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    ImageFlattener,
    MiniBatchLogisticRegression,
    PixelScaler,
    logistic_objective,
)
from sklearn_gdlogreg.datasets import load_digits_odd_even

data = load_digits_odd_even()
X = make_pipeline(ImageFlattener(), PixelScaler(max_value=16)).fit_transform(
    data.X_train
)
y = data.y_train
n_samples = len(y)
# The lowest cost, from the full-batch estimator run to a tight tolerance.
best = GradientDescentLogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
optimum = logistic_objective(best, X, y)
print(f"{n_samples} images of {X.shape[1]} pixels; lowest cost {optimum:.6f}")

# %%
# Four methods, one learning rate
# -------------------------------
#
# As in the course, every method steps with the same learning rate (0.01
# here) from zero weights for 100 epochs (``tol=None``: no stopping rule).
# Batch gradient descent is ``solver="sgd"`` with one batch of all the rows
# and no momentum; the course's momentum is the classical one
# (``nesterovs_momentum=False``) with :math:`\beta = 0.9`. ``loss_curve_``
# holds what the course plots: each epoch's cost, averaged over its
# mini-batches at the weights each of them was given.
#
# On the right, each method at its default rate (``learning_rate="auto"``):
# :math:`1/L` for ``"sgd"``, the step with which batch gradient descent never
# diverges, and 0.01 for Adam, whose steps are per coordinate.

methods = {
    "batch gradient descent": dict(
        solver="sgd", batch_size=n_samples, momentum=0.0, shuffle=False
    ),
    "mini-batch gradient descent": dict(solver="sgd", batch_size=64, momentum=0.0),
    "mini-batch with momentum": dict(
        solver="sgd", batch_size=64, momentum=0.9, nesterovs_momentum=False
    ),
    "Adam": dict(solver="adam", batch_size=64),
}
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
for ax, rate in zip(axes, [0.01, "auto"], strict=True):
    for name, parameters in methods.items():
        model = MiniBatchLogisticRegression(
            learning_rate=rate, max_iter=100, tol=None, random_state=0, **parameters
        ).fit(X, y)
        ax.plot(np.arange(1, 101), model.loss_curve_, lw=1.2, label=name)
        print(
            f"learning_rate={rate}, {name}: {model.t_} updates at "
            f"{model.learning_rate_:.3g}, cost after 100 epochs "
            f"{logistic_objective(model, X, y):.6f}"
        )
    ax.axhline(optimum, color="grey", ls=":", label="lowest cost")
    ax.set_xlabel("epoch")
    ax.set_title(
        "one rate for all: 0.01" if rate != "auto" else 'each at learning_rate="auto"'
    )
axes[0].set_ylabel("cost (mean over the epoch's mini-batches)")
axes[0].legend()
fig.tight_layout()
plt.show()

# %%
# In 100 epochs batch gradient descent makes 100 steps and the mini-batch
# methods 2,200 (22 batches per epoch): at one rate, they go down much faster
# per pass over the data. Momentum changes little at this small rate, as the
# course found: its velocity :math:`v \leftarrow \beta v + (1 - \beta)\, dW`
# is an average of the gradients, of their size, so its steps are the plain
# ones', smoothed. Adam divides each coordinate's step by the root mean square
# of its gradients, which moves the weights of the rarely lit pixels as fast
# as the others: at a rate of 0.01 it gets closest.
#
# At their default rates the picture changes: mini-batch descent at
# :math:`1/L`, 25 times larger here, goes down as fast as Adam. On a convex
# problem such as this one, Adam's advantage is that its default rate needs no
# bound of the data.
#
# Learning-rate decay
# -------------------
#
# At a constant rate, mini-batch descent does not converge: each step follows
# one batch's gradient, and once the weights are near the optimum these steps
# jostle them around it, by an amount that scales with the rate. The course
# decays the rate with the epochs, :math:`\alpha = \alpha_0 / (1 + d \cdot
# \text{epoch})` (``schedule="decay"``, ``decay_rate=d``). The estimator also
# offers ``"invscaling"`` (:math:`\alpha_0 / (1 + \text{epoch})^{0.5}`) and
# ``"adaptive"`` (the rate divided by 5 each time the cost has not fallen by
# ``tol`` for ``n_iter_no_change`` epochs, as in ``SGDClassifier``).
#
# Here Adam starts ten times above its default rate, at 0.1. Each epoch is a
# call of ``partial_fit``, which goes on with the same schedule: after each,
# the exact cost at the current weights and the rate used (``learning_rate_``).

schedules = {
    "constant": {},
    "decay (decay_rate=0.1)": dict(schedule="decay", decay_rate=0.1),
    "invscaling (power_t=0.5)": dict(schedule="invscaling"),
    "adaptive": dict(schedule="adaptive"),
}
fig, (gaps, rates) = plt.subplots(1, 2, figsize=(11, 4.2))
epochs = np.arange(1, 101)
for name, parameters in schedules.items():
    model = MiniBatchLogisticRegression(
        solver="adam", learning_rate=0.1, batch_size=64, random_state=0, **parameters
    )
    gap, rate = [], []
    for _ in epochs:
        model.partial_fit(X, y, classes=[0, 1])
        gap.append(logistic_objective(model, X, y) - optimum)
        rate.append(model.learning_rate_)
    gaps.semilogy(epochs, gap, lw=1, label=name)
    rates.semilogy(epochs, rate, lw=1.5, label=name)
    print(f"{name}: cost - lowest after 100 epochs {gap[-1]:.1e}, rate {rate[-1]:.2g}")
gaps.set_xlabel("epoch")
gaps.set_ylabel("cost - lowest cost")
gaps.set_title("Adam from a rate of 0.1")
rates.set_xlabel("epoch")
rates.set_ylabel("learning rate of the epoch")
rates.set_title("the rate each schedule gives")
rates.legend()
fig.tight_layout()
plt.show()

# %%
# At a constant rate of 0.1 Adam's cost jumps up and down, mostly ten times
# or more further from the lowest than with a decaying rate. The course's
# decay and ``"invscaling"`` shrink the rate at a pace fixed in advance;
# ``"adaptive"`` keeps it until the cost stalls, then cuts it, and ends
# closest here, where its rate has become too small to move the weights. A
# ``fit`` stops by itself when the cost stalls (``tol``,
# ``n_iter_no_change``); with ``schedule="adaptive"``, when it stalls at a
# rate of at most 1e-6.
