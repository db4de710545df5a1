"""
Gradient descent against LogisticRegression
===========================================

Both estimators minimise the same objective
(:func:`~sklearn_gdlogreg.logistic_objective` evaluates it at either's
coefficients). Here, on standardized digits (10
classes) with ``C=1``: the distance to the optimum after each iteration for the
plain steps (``solver="gd"``), Nesterov's momentum and the default spectral
steps (``solver="bb"``), against what lbfgs reaches. The benchmarks
(``python -m benchmarks``) time them on one thread and at default threads.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression, logistic_objective

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
lbfgs = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
optimum = logistic_objective(lbfgs, X, y)

fig, ax = plt.subplots(figsize=(6, 4))
for solver in ["gd", "nesterov", "bb"]:
    model = GradientDescentLogisticRegression(solver=solver, max_iter=500, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    gap = (model.loss_curve_ - optimum) / optimum
    ax.semilogy(np.maximum(gap, 1e-16), label=f'solver="{solver}"')
    agree = np.abs(model.coef_ - lbfgs.coef_).max()
    print(f"{solver}: {model.n_iter_[0]} iterations, coef_ within {agree:.1e} of lbfgs")
ax.axhline(1e-6, color="grey", ls=":", label="1e-6")
ax.set_xlabel("iteration")
ax.set_ylabel("(cost - optimum) / optimum")
ax.set_title("Standardized digits, 10 classes, C=1")
ax.legend()
fig.tight_layout()
plt.show()
