"""
What the cat neuron looks at
============================

The model's weights have one entry per pixel value, 64 × 64 × 3 of them: shown
as an image, positive weights (pixels whose brightness argues for "cat") are
bright, negative ones dark (zero is mid-grey). The course's run (2,000 plain
steps, no penalty) and the defaults with ``C=1`` (spectral steps, an L2
penalty) learn much the same blobs, and neither looks like a cat: 209 images
are few for 12,288 weights, both models fit every training image, and both
classify about 70 % of the test images right.
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

data = load_catvnoncat()
shape = data.X_train.shape[1:]


def weights_as_image(coef):
    """The weights scaled to [0, 1] around 0.5 (zero is mid-grey)."""
    image = coef.reshape(shape)
    return 0.5 + image / (2 * np.abs(image).max())


settings = {
    "the course's run (C=inf)": dict(
        learning_rate=0.005, max_iter=2000, tol=0, C=np.inf
    ),
    "the defaults with C=1": dict(C=1.0),
}
fig, axes = plt.subplots(1, len(settings) + 1, figsize=(11, 4.4))
axes[0].imshow(data.X_train[np.flatnonzero(data.y_train == 1)[0]])
axes[0].set_title("a training cat")
for ax, (title, params) in zip(axes[1:], settings.items(), strict=True):
    model = make_pipeline(
        ImageFlattener(), PixelScaler(), GradientDescentLogisticRegression(**params)
    ).fit(data.X_train, data.y_train)
    accuracy = model.score(data.X_test, data.y_test)
    ax.imshow(weights_as_image(model[-1].coef_))
    ax.set_title(f"{title}\ntest accuracy {accuracy:.2f}")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()
plt.show()
