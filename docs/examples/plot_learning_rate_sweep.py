"""
A learning-rate sweep
=====================

Plain gradient descent on standardized breast_cancer with fixed learning rates
from 0.01 to 64. Small rates crawl; larger ones get down faster, until the
step is too long for the curvature: then the cost no longer falls at every
step, it oscillates and settles above the optimum. ``learning_rate="auto"`` is
1/L, from a bound of the curvature: no tuning, and a cost that falls at every
step. :class:`~sklearn_gdlogreg.GradientDescentLogisticRegressionCV` runs such
a sweep by cross-validation, all the rates of a fold at once, and stops the
rates that cycle early.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression

X_raw, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X_raw)

fig, ax = plt.subplots(figsize=(8, 4))
for rate in [0.01, 0.1, 1.0, 8.0, 64.0, "auto"]:
    model = GradientDescentLogisticRegression(
        learning_rate=rate, solver="gd", max_iter=300, tol=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    label = f"auto (1/L = {model.learning_rate_:.3g})" if rate == "auto" else rate
    ax.semilogy(model.loss_curve_, lw=1, label=f"learning_rate={label}")
    print(f"learning_rate={label}: cost after 300 steps {model.loss_curve_[-1]:.6f}")
ax.set_xlabel("iteration")
ax.set_ylabel("cost")
ax.set_title("Plain steps on standardized breast_cancer")
ax.legend(fontsize="small", bbox_to_anchor=(1.02, 1), loc="upper left")
fig.tight_layout()
plt.show()

# %%
# A rate too large for unscaled features
# --------------------------------------
#
# On the raw features (up to 4,254) a rate of 1 makes the cost explode at the
# first step: the fit stops with a ``ValueError`` that names the rate and the
# fix, and never returns NaN coefficients.

try:
    GradientDescentLogisticRegression(learning_rate=1.0, solver="gd").fit(X_raw, y)
except ValueError as error:
    print(error)
