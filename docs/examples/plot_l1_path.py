"""
An L1 regularization path
=========================

With ``l1_ratio=1`` the penalty is ``||w||_1 / C``: each descent step is
followed by soft thresholding, so coefficients become exactly zero, more of
them as ``C`` shrinks. The path below is fitted on standardized
breast_cancer from the strongest penalty to the weakest, each fit
warm-started from the previous one (the tests check such fits against
scikit-learn's ``saga`` solver on the same objective).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from sklearn_gdlogreg import GradientDescentLogisticRegression

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)
Cs = np.logspace(-2.5, 0, 20)

model = GradientDescentLogisticRegression(
    l1_ratio=1.0, tol=1e-6, max_iter=10_000, warm_start=True
)
path = np.array([model.set_params(C=C).fit(X, y).coef_.ravel() for C in Cs])
non_zero = (path != 0).sum(axis=1)
print("non-zero coefficients:", non_zero)

fig, (coefs, counts) = plt.subplots(
    2, 1, figsize=(6, 6), sharex=True, height_ratios=[3, 1]
)
coefs.semilogx(Cs, path, lw=1)
coefs.set_ylabel("coefficient")
coefs.set_title("L1 path on standardized breast_cancer")
counts.semilogx(Cs, non_zero, "o-")
counts.set_xlabel("C")
counts.set_ylabel("non-zero")
fig.tight_layout()
plt.show()
