"""Cost-curve plots are written headless, as real PNG files."""

import numpy as np
from PIL import Image

from sklearn_gdlogreg.plotting import plot_cost_curves


def test_plot_writes_a_png_with_the_curves(tmp_path):
    curves = {"0.01": np.geomspace(0.7, 0.1, 50), "0.001": np.linspace(0.7, 0.4, 50)}
    plot_cost_curves(curves, tmp_path / "cost.png", log_y=True)
    with Image.open(tmp_path / "cost.png") as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[0] > 300 and pixels.shape[1] > 500
    # Two differently coloured curves: matplotlib's first two default colours.
    for colour in ([31, 119, 180], [255, 127, 14]):
        assert np.any(np.all(np.abs(pixels.astype(int) - colour) < 10, axis=-1))
    assert [p.name for p in tmp_path.iterdir()] == ["cost.png"]


def test_plot_of_epochs_names_its_axes_and_starts_at_epoch_1(tmp_path):
    plot_cost_curves(
        {"adam": [0.5, 0.3, 0.2]}, tmp_path / "cost.svg",
        xlabel="epoch", ylabel="mean cost", first=1,
    )  # fmt: skip
    svg = (tmp_path / "cost.svg").read_text()
    assert "epoch" in svg and "mean cost" in svg and "iteration" not in svg
