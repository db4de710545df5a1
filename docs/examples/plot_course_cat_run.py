"""
The course's run, iteration by iteration
========================================

The course trains its one-neuron cat classifier with 2,000 plain gradient
descent steps of 0.005 from zero weights, on pixels divided by 255, and prints
the cost every 100 iterations. The same call here reproduces those costs to
the last digit, and ``loss_curve_`` keeps every iteration's: at this learning
rate the cost goes up and down for the first few hundred iterations, which the
printed costs hide.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline

from sklearn_gdlogreg import (
    GradientDescentLogisticRegression,
    ImageFlattener,
    PixelScaler,
)
from sklearn_gdlogreg.datasets import load_catvnoncat

data = load_catvnoncat()  # the folder named by SKLEARN_GDLOGREG_DATA
model = make_pipeline(
    ImageFlattener(),
    PixelScaler(),
    GradientDescentLogisticRegression(
        learning_rate=0.005, max_iter=2000, tol=0, C=np.inf, verbose=1
    ),
)
model.fit(data.X_train, data.y_train)
print(f"train accuracy {model.score(data.X_train, data.y_train):.4f}")
print(f"test accuracy  {model.score(data.X_test, data.y_test):.4f}")

# %%
# Every iteration's cost, and the course's printed ones
# ------------------------------------------------------

costs = model[-1].loss_curve_
fig, (whole, start) = plt.subplots(1, 2, figsize=(10, 4))
for axes, last in ((whole, len(costs)), (start, 400)):
    axes.plot(np.arange(last), costs[:last], lw=1, label="every iteration")
    every_100 = np.arange(0, last, 100)
    axes.plot(every_100, costs[every_100], "o", label="printed by the course")
    axes.set_xlabel("iteration")
    axes.set_ylabel("cost")
whole.set_title("2,000 iterations at learning rate 0.005")
start.set_title("the first 400: the cost oscillates")
whole.legend()
fig.tight_layout()
plt.show()
