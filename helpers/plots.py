"""Static matplotlib figures of training runs. Every function draws on a Figure it makes itself
(the object-oriented API, no pyplot state), so it works in notebooks, scripts and threads alike."""

import io

import numpy as np
from matplotlib.figure import Figure

TRAIN_STYLE = {"linestyle": "-"}
EVAL_STYLE = {"linestyle": "--"}
PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def to_png(fig):
    """The figure as PNG bytes (fast, low compression: this runs for every live frame)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


class NotebookFigure(Figure):
    """A Figure that shows itself as a PNG when it is the last value of a notebook cell, with no pyplot."""

    def _repr_png_(self):
        return to_png(self)


def figure(width, height, dpi=80, layout="constrained"):
    return NotebookFigure(figsize=(width, height), dpi=dpi, layout=layout)


def new_figure(width=7.0, height=3.6, dpi=80, fixed_margins=False):
    """A fresh Figure with one Axes: (fig, ax). fixed_margins=True skips the layout engine: a live frame
    then renders in about half the time."""
    fig = figure(width, height, dpi, layout=None if fixed_margins else "constrained")
    if fixed_margins:
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.92)
    return fig, fig.add_subplot()


def draw_run(ax, history, label, color, eval_name=None, faint=False):
    """Accuracy per epoch of one run: train solid, the eval set dashed. A diverged run ends with an x."""
    alpha, width = (0.35, 1.0) if faint else (1.0, 2.0)
    epochs = np.arange(len(history.train_acc))
    style = {"color": color, "alpha": alpha, "linewidth": width}
    ax.plot(epochs, history.train_acc, label=f"{label} train" if eval_name else label, **style, **TRAIN_STYLE)
    if eval_name:
        ax.plot(epochs, history.eval_acc[eval_name], label=f"{label} {eval_name}", **style, **EVAL_STYLE)
    if history.diverged and len(epochs):
        ax.plot(epochs[-1], history.train_acc[-1], marker="x", markersize=10, color=color, alpha=alpha)


def format_accuracy_axes(ax, epochs, title=""):
    ax.set_xlim(0, max(epochs, 1))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)


def plot_runs(runs, epochs=None, eval_name=None, title="", previous=(), fig_ax=None):
    """Accuracy curves of several runs on one Axes.

    runs: {label: History}, drawn bold in distinct colours.
    previous: [(label, History)] of earlier runs, drawn faint in grey so the current ones stand out.
    eval_name: the eval set to draw dashed beside train ("test", "val"), or None for train only.
    Returns the Figure.
    """
    fig, ax = fig_ax or new_figure()
    for label, history in previous:
        draw_run(ax, history, label, "0.55", eval_name, faint=True)
    for (label, history), color in zip(runs.items(), PALETTE * 3, strict=False):
        draw_run(ax, history, label, color, eval_name)
    longest = max([h.epochs for h in runs.values()] + [h.epochs for _, h in previous] + [1])
    format_accuracy_axes(ax, epochs or longest, title)
    if runs or previous:
        ax.legend(loc="lower right", fontsize="small", ncols=2 if len(runs) + len(previous) > 4 else 1)
    return fig


def plot_grid(panels, eval_name=None, ncols=4, title="", width=10.0):
    """One small accuracy plot per entry: panels = {panel title: {label: History}} (e.g. the 4x4 BN grid)."""
    nrows = int(np.ceil(len(panels) / ncols))
    fig = figure(width, 2.1 * nrows + 0.6)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax, (name, runs) in zip(axes, panels.items(), strict=False):
        for (label, history), color in zip(runs.items(), PALETTE, strict=False):
            draw_run(ax, history, label, color, eval_name)
        ax.set_title(name, fontsize="medium")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels))
    if title:
        fig.suptitle(title)
    return fig


def plot_histograms(rows, bins=30, value_range=(0, 1), skip_zeros=False):
    """Histograms of each hidden layer's activations, one row per setting.

    rows: {row title: [layer 1 activations, layer 2 activations, ...]} (arrays of any shape).
    value_range: (low, high) for every histogram, or None for a range fitted to each row.
    skip_zeros: leave out exact zeros (ReLU switches half of its units off; that spike hides the rest).
    """
    n_layers = max(len(layers) for layers in rows.values())
    fig = figure(1.8 * n_layers + 1.2, 1.6 * len(rows) + 0.4)
    axes = fig.subplots(len(rows), n_layers, squeeze=False)
    for row_axes, (name, layers) in zip(axes, rows.items(), strict=True):
        values = [np.ravel(layer) for layer in layers]
        if skip_zeros:
            values = [v[v != 0] for v in values]
        row_range = value_range or (0, max(float(np.percentile(v, 99.5)) if v.size else 0 for v in values) or 1)
        for i, (ax, v) in enumerate(zip(row_axes, values, strict=False)):
            ax.hist(v, bins=bins, range=row_range, color="tab:blue")
            ax.set_yticks([])
            if i == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center")
    for i, ax in enumerate(axes[0]):
        ax.set_title(f"layer {i + 1}", fontsize="medium")
    return fig
