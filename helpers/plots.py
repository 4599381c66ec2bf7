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


def label_outer_axes(axes, n_used, ncols, xlabel, ylabel):
    """Axis labels on the outer panels of a grid only: x under each column's lowest used panel, y on the left."""
    for i, ax in enumerate(axes[:n_used]):
        if i + ncols >= n_used:
            ax.set_xlabel(xlabel)
        if i % ncols == 0:
            ax.set_ylabel(ylabel)


def plot_grid(panels, eval_name=None, ncols=4, title="", width=10.0, ylabel="accuracy", sharex=True):
    """One small accuracy plot per entry: panels = {panel title: {label: History}} (e.g. the 4x4 BN grid).
    sharex=False gives each panel its own epoch range (for runs of different lengths)."""
    nrows = int(np.ceil(len(panels) / ncols))
    fig = figure(width, 2.1 * nrows + 0.8)
    axes = fig.subplots(nrows, ncols, sharex=sharex, sharey=True, squeeze=False).ravel()
    for ax, (name, runs) in zip(axes, panels.items(), strict=False):
        for (label, history), color in zip(runs.items(), PALETTE, strict=False):
            draw_run(ax, history, label, color, eval_name)
        ax.set_title(name, fontsize="medium")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    label_outer_axes(axes, len(panels), ncols, "epoch", ylabel)
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


# --- Hyperparameter search -----------------------------------------------------------------------------------

VAL_COLOR, TRAIN_COLOR = "tab:blue", "tab:orange"  # the book's Best-n grid: validation solid, train dashed


def _short(name):
    return {"weight_decay": "wd"}.get(name, name)


def plot_split(train, val, n_images=12):
    """The validation split: how many images of each digit went to each part, and the first validation images.

    train, val: (x, t) pairs, x: (N, 784) images, t: (N,) labels."""
    fig = figure(9.0, 3.6)
    top, bottom = fig.subfigures(2, 1, height_ratios=(2.2, 1))
    ax = top.subplots()
    digits = np.arange(10)
    for offset, (name, (_, t)), color in ((-0.2, ("train", train), TRAIN_COLOR), (0.2, ("validation", val), VAL_COLOR)):
        counts = np.bincount(np.asarray(t), minlength=10)
        ax.bar(digits + offset, counts, width=0.4, color=color, label=f"{name}: {len(t)} images")
    ax.set_xticks(digits)
    ax.set_xlabel("digit")
    ax.set_ylabel("images")
    ax.set_ylim(0, 1.4 * ax.get_ylim()[1])  # room above the bars for the legend
    ax.legend(fontsize="small", loc="upper center", ncols=2)
    x_val, t_val = val
    n = min(n_images, len(x_val))
    for ax, image, label in zip(bottom.subplots(1, n), np.asarray(x_val)[:n], np.asarray(t_val)[:n], strict=True):
        ax.imshow(image.reshape(28, 28), cmap="gray_r")
        ax.set_title(str(label), fontsize="small")
        ax.axis("off")
    bottom.suptitle("the first validation images and their labels", fontsize="small")
    return fig


def plot_best_curves(results, n=20, ncols=5, title="", width=11.0):
    """The book's "Best-1 ... Best-n" grid: validation accuracy (solid) and train accuracy (dashed) per epoch
    of the n best trials, each titled with its rank and labelled with its values."""
    best = results.top(min(n, len(results)))
    nrows = int(np.ceil(len(best) / ncols))
    fig = figure(width, 1.75 * nrows + 1.1)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for rank, (ax, trial) in enumerate(zip(axes, best, strict=False), start=1):
        epochs = np.arange(len(trial.history.train_acc))
        ax.plot(epochs, trial.history.eval_acc["val"], color=VAL_COLOR, label="validation")
        ax.plot(epochs, trial.history.train_acc, "--", color=TRAIN_COLOR, label="train")
        values = "\n".join(f"{_short(name)} {value:.1e}" for name, value in trial.values.items())
        ax.text(0.04, 0.96, f"val {trial.val_acc:.2f}\n{values}", transform=ax.transAxes, va="top", fontsize=7)
        ax.set_title(f"Best-{rank}", fontsize="medium")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[len(best) :]:
        ax.set_visible(False)
    label_outer_axes(axes, len(best), ncols, "epoch", "accuracy")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    if title:
        fig.suptitle(title)
    return fig


def _draw_box(ax, ranges, x, y, **style):
    (x0, x1), (y0, y1) = ranges[x], ranges[y]
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], **style)


def draw_search_scatter(ax, results, x="lr", y="weight_decay", colorbar_fig=None, boxes=None):
    """Validation accuracy of every trial as a colour, over log x and log y; the best trial as a red star.
    boxes: {label: ranges} drawn as rectangles (the range searched, the range proposed next)."""
    points = ax.scatter(
        results.values(x),
        results.values(y),
        c=results.val_accs(),
        cmap="viridis",
        vmin=0,
        vmax=1,
        s=36,
        edgecolors="k",
        linewidths=0.4,
    )
    best = results.best
    ax.plot(
        best.values[x],
        best.values[y],
        marker="*",
        markersize=16,
        color="tab:red",
        markeredgecolor="k",
        linestyle="none",
        label=f"best: val {best.val_acc:.2f}",
    )
    for (label, ranges), style in zip(
        (boxes or {}).items(), ({"color": "0.4"}, {"color": "tab:red", "linestyle": "--"}), strict=False
    ):
        _draw_box(ax, ranges, x, y, label=label, linewidth=1.2, **style)
    ax.set_xscale("log")
    ax.set_yscale("log")
    for limits, name in ((ax.set_xlim, x), (ax.set_ylim, y)):
        low, high = results.ranges[name]
        limits(low / 10 ** (0.04 * np.log10(high / low)), high * 10 ** (0.04 * np.log10(high / low)))
    ax.set_xlabel("learning rate" if x == "lr" else x.replace("_", " "))
    ax.set_ylabel("weight decay λ" if y == "weight_decay" else y.replace("_", " "))
    ax.grid(alpha=0.3, which="major")
    # Below the axes: a legend inside would put a second red star among the points.
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False)
    if colorbar_fig is not None:
        colorbar_fig.colorbar(points, ax=ax, label="validation accuracy")
    return points


def plot_search_scatter(results, x="lr", y="weight_decay", title="", boxes=None):
    """One search as a scatter: each trial at (its lr, its weight decay), coloured by validation accuracy."""
    fig, ax = new_figure(6.4, 4.2)
    draw_search_scatter(ax, results, x, y, colorbar_fig=fig, boxes=boxes)
    if title:
        ax.set_title(title)
    return fig


def plot_coarse_to_fine(rounds, x="lr", y="weight_decay"):
    """One scatter per round of coarse-to-fine search, all on the same axes: the range searched (grey box)
    and the range `narrow` proposed for the next round (red dashed box)."""
    fig = figure(4.0 * len(rounds) + 1.0, 3.8)
    axes = fig.subplots(1, len(rounds), sharex=True, sharey=True, squeeze=False).ravel()
    for number, (ax, search_round) in enumerate(zip(axes, rounds, strict=True), start=1):
        boxes = {"searched": search_round.ranges, "proposed next": search_round.proposal}
        points = draw_search_scatter(ax, search_round.results, x, y, boxes=boxes)
        ax.set_title(f"round {number}: {len(search_round.results)} trials", fontsize="medium")
        if number > 1:
            ax.set_ylabel("")
    for limits, name in ((axes[0].set_xlim, x), (axes[0].set_ylim, y)):  # shared axes: one view of every round
        bounds = [b for r in rounds for ranges in (r.ranges, r.proposal) for b in ranges[name]]
        low, high = min(bounds), max(bounds)
        limits(low / 10 ** (0.04 * np.log10(high / low)), high * 10 ** (0.04 * np.log10(high / low)))
    fig.colorbar(points, ax=list(axes), label="validation accuracy")
    return fig


def plot_grid_vs_random(grid, random, important="lr", other="weight_decay"):
    """Grid search vs random search with the same number of trials. Left: where each tried its settings.
    Right: validation accuracy against the important hyperparameter alone - the grid tests only a few of its
    values (its points stack up), random search tests a new value in every trial."""
    fig = figure(10.0, 3.8)
    left, right = fig.subplots(1, 2)
    styles = (
        (grid, "grid", {"marker": "s", "color": "k", "fillstyle": "none", "markersize": 9}),
        (random, "random", {"marker": "o", "color": "tab:orange", "markersize": 7}),
    )
    for results, label, style in styles:
        n_values = len(np.unique(np.round(np.log10(results.values(important)), 9)))
        name = f"{label}: {n_values} {important} values, best val {results.best.val_acc:.2f}"
        left.plot(results.values(important), results.values(other), linestyle="none", label=label, **style)
        right.plot(results.values(important), results.val_accs(), linestyle="none", label=name, **style)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel(important)
    left.set_ylabel(other.replace("_", " "))
    left.set_title("the settings tried")
    left.legend(fontsize="small")
    right.set_xscale("log")
    right.set_xlabel(important)
    right.set_ylabel("validation accuracy")
    right.set_ylim(0, 1.02)
    right.set_title(f"validation accuracy against {important} only")
    right.legend(fontsize="small", loc="upper left")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return fig


def plot_best_so_far(curves, title="", log_x=False):
    """Best validation accuracy found so far against the epochs spent: curves = {label: (spent, best)},
    each from a search's .best_so_far(). The curve that rises further to the left spends its epochs better."""
    fig, ax = new_figure(7.0, 4.0)
    for (label, (spent, best)), color in zip(curves.items(), PALETTE, strict=False):
        spent, best = np.asarray(spent), np.asarray(best)
        ax.step(
            spent,
            best,
            where="post",
            color=color,
            linewidth=2,
            label=f"{label}: {best[-1]:.2f} after {spent[-1]} epochs",
        )
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel("epochs spent (all trials together)")
    ax.set_ylabel("best validation accuracy so far")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", fontsize="small")  # outside: inside it would hide a rising curve
    if title:
        ax.set_title(title)
    return fig


# --- Live panels ---------------------------------------------------------------------------------------------


def plot_small_runs(runs, epochs, title="", width=2.4, height=1.8):
    """One small accuracy plot of a few runs ({label: History}, in PALETTE's colours, no legend), e.g. one
    cell of the live 4x4 batch-norm grid. Fixed margins: sixteen of these are drawn while the grid trains."""
    fig = figure(width, height, layout=None)
    fig.subplots_adjust(left=0.17, right=0.97, bottom=0.16, top=0.86)
    ax = fig.add_subplot()
    for (label, history), color in zip(runs.items(), PALETTE, strict=False):
        draw_run(ax, history, label, color)
    ax.set_xlim(0, max(epochs, 1))
    ax.set_ylim(0, 1.02)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=8)
    return fig
