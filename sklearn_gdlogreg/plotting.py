"""Cost-curve plots, drawn headless with matplotlib's Agg canvas."""

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ._files import write_atomically


def plot_cost_curves(
    curves,
    path,
    *,
    title="Cost during gradient descent",
    log_y=False,
    xlabel="iteration",
    ylabel="cost (objective J)",
    first=0,
):
    """Write a PNG of one or more cost curves.

    Parameters
    ----------
    curves : dict of str to array-like
        Label to cost per iteration (``loss_curve_``).
    path : str or path-like
        The PNG to write, completely or not at all.
    title : str, default="Cost during gradient descent"
    log_y : bool, default=False
        Logarithmic cost axis.
    xlabel : str, default="iteration"
        What the curves' values are per: "epoch" for mini-batch descent.
    ylabel : str, default="cost (objective J)"
    first : int, default=0
        The x of each curve's first value: 0 for the cost entering iteration
        0, 1 for the cost over epoch 1.
    """
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for label, curve in curves.items():
        axes.plot(range(first, first + len(curve)), curve, label=label, linewidth=1.5)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if log_y:
        axes.set_yscale("log")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if len(curves) > 1:
        axes.legend()
    kind = plot_format(path)
    write_atomically(
        path, lambda temporary: figure.savefig(temporary, format=kind, dpi=110)
    )


#: The formats a cost plot is written in, by the file's extension.
PLOT_FORMATS = ("png", "pdf", "svg")


def plot_format(path):
    """The format ``path``'s extension asks for; a ValueError for any other."""
    kind = Path(path).suffix.lower().lstrip(".")
    if kind not in PLOT_FORMATS:
        raise ValueError(
            f"Cannot write a plot to {path}: name it .png, .pdf or .svg, the "
            "formats it is written in."
        )
    return kind
