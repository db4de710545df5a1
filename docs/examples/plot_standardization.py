"""
Why standardize the features
============================

Plain gradient descent takes one step size for all directions, limited by the
direction in which the cost curves most. breast_cancer's features range from
0.001 to 4,254: unscaled, the safe step (``learning_rate="auto"``, 1/L) is tiny
along most directions and the cost crawls. After
:class:`~sklearn.preprocessing.StandardScaler` the same number of plain steps
gets close to the optimum. The gap is measured to the optimum of the same
objective found by :class:`~sklearn.linear_model.LogisticRegression`.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression, logistic_objective

X, y = load_breast_cancer(return_X_y=True)
cases = {"raw features": X, "StandardScaler": StandardScaler().fit_transform(X)}

fig, ax = plt.subplots(figsize=(6, 4))
for name, features in cases.items():
    optimum = logistic_objective(
        LogisticRegression(tol=1e-10, max_iter=100_000).fit(features, y), features, y
    )
    model = GradientDescentLogisticRegression(solver="gd", max_iter=1000, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, y)
    gap = model.loss_curve_ - optimum
    ax.semilogy(gap, label=f"{name} (step {model.learning_rate_:.2g})")
    print(f"{name}: cost {model.loss_curve_[-1]:.6f}, optimum {optimum:.6f}")
ax.set_xlabel("iteration")
ax.set_ylabel("cost - optimum")
ax.set_title("Plain steps of 1/L on breast_cancer")
ax.legend()
fig.tight_layout()
plt.show()
