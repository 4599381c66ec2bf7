"""Static matplotlib figures of training runs. Every function draws on a Figure it makes itself
(the object-oriented API, no pyplot state), so it works in notebooks, scripts and threads alike.
Titles, axis labels and legends are Korean (English with DL4_LANG=en, see helpers.lang); importing this
module registers the Korean font (helpers.fonts)."""

import io
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from helpers.checks import check_int, check_number
from helpers.fonts import use_korean_font
from helpers.lang import tr

use_korean_font()

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


def set_name(name):
    """How a figure calls a data set: 훈련 / 시험 / 검증 (train / test / validation), other names as given."""
    names = {"train": tr("훈련", "train"), "test": tr("시험", "test"), "val": tr("검증", "validation")}
    return names.get(name, name)


def epoch_label():
    return tr("에폭(epoch)", "epoch")


def accuracy_label():
    return tr("정확도(accuracy)", "accuracy")


def diverged_label():
    return tr("발산(diverged)", "diverged")


def check_eval_name(eval_name, label, history):
    """eval_name must be one of the run's evaluation sets (or None)."""
    if eval_name is not None and eval_name not in history.eval_acc:
        raise ValueError(
            f"eval_name={eval_name!r} is not an evaluation set of the run {label!r}: it has "
            f"{sorted(history.eval_acc) or 'none'} (pass eval_sets={{{eval_name!r}: (x, t)}} to fit, or eval_name=None)"
        )


def draw_run(ax, history, label, color, eval_name=None, faint=False):
    """Accuracy per epoch of one run: train solid, the eval set dashed. A diverged run ends with an x and
    says so in its legend."""
    check_eval_name(eval_name, label, history)
    alpha, width = (0.35, 1.0) if faint else (1.0, 2.0)
    epochs = np.arange(len(history.train_acc))
    style = {"color": color, "alpha": alpha, "linewidth": width}
    note = f" ({diverged_label()})" if history.diverged else ""
    train_label = f"{label} {set_name('train')}" if eval_name else label
    ax.plot(epochs, history.train_acc, label=f"{train_label}{note}".strip(), **style, **TRAIN_STYLE)
    if eval_name:
        eval_label = f"{label} {set_name(eval_name)}{note}".strip()
        ax.plot(epochs, history.eval_acc[eval_name], label=eval_label, **style, **EVAL_STYLE)
    if history.diverged and len(epochs):
        ax.plot(epochs[-1], history.train_acc[-1], marker="x", markersize=10, color=color, alpha=alpha)


def format_accuracy_axes(ax, epochs, title=""):
    ax.set_xlim(0, max(epochs, 1))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(epoch_label())
    ax.set_ylabel(accuracy_label())
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
    check_runs("runs", runs)
    if epochs is not None:
        epochs = check_int("epochs", epochs, low=0)  # 0 as None: the longest run's
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


def check_runs(name, runs):
    """runs: a dict {label: History}, e.g. {"lr=0.01": fit(...)}."""
    if not isinstance(runs, Mapping):
        raise TypeError(f"{name} must be a dict {{label: History}}, e.g. {{'run': history}}, got {type(runs).__name__}")
    for label, history in runs.items():
        if not hasattr(history, "train_acc"):
            hint = f" (use its .history: {{{label!r}: run.history}})" if hasattr(history, "history") else ""
            raise TypeError(
                f"{name}[{label!r}] must be a History (what fit returns), got {type(history).__name__}{hint}"
            )


def check_not_empty(name, value, example):
    """value: a non-empty dict, such as plot_grid's panels."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict, e.g. {example}, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} is empty: nothing to draw; give at least one entry, e.g. {example}")


def plot_grid(panels, eval_name=None, ncols=4, title="", width=10.0, ylabel=None, sharex=True):
    """One small accuracy plot per entry: panels = {panel title: {label: History}} (e.g. the 4x4 BN grid).
    ylabel: the y axis label (default: accuracy). sharex=False gives each panel its own epoch range (for runs
    of different lengths)."""
    check_not_empty("panels", panels, "{'std=0.01': {'BN': history}}")
    for name, runs in panels.items():
        check_not_empty(f"panels[{name!r}]", runs, "{'BN': history}")
        check_runs(f"panels[{name!r}]", runs)
    ncols = check_int("ncols", ncols, low=1)
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
    label_outer_axes(axes, len(panels), ncols, epoch_label(), ylabel or accuracy_label())
    handles = grid_legend(panels, eval_name)
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    if title:
        fig.suptitle(title)
    return fig


def grid_legend(panels, eval_name):
    """One legend for every panel: a line per run label (and set), an x if any run diverged."""
    labels = list(dict.fromkeys(label for runs in panels.values() for label in runs))
    handles = []
    for label, color in zip(labels, PALETTE, strict=False):
        handles.append(Line2D([], [], color=color, linewidth=2, label=label, **TRAIN_STYLE))
        if eval_name:
            handles[-1].set_label(f"{label} {set_name('train')}".strip())
            eval_label = f"{label} {set_name(eval_name)}".strip()
            handles.append(Line2D([], [], color=color, linewidth=2, label=eval_label, **EVAL_STYLE))
    if any(history.diverged for runs in panels.values() for history in runs.values()):
        handles.append(Line2D([], [], color="gray", marker="x", linestyle="none", label=diverged_label()))
    return handles


def plot_histograms(rows, bins=30, value_range=(0, 1), skip_zeros=False):
    """Histograms of each hidden layer's activations, one row per setting.

    rows: {row title: [layer 1 activations, layer 2 activations, ...]} (arrays of any shape).
    value_range: (low, high) for every histogram, or None for a range fitted to each row.
    skip_zeros: leave out exact zeros (ReLU switches half of its units off; that spike hides the rest).
    """
    check_not_empty("rows", rows, "{'std=0.01': [a1, a2, a3]}")
    for name, layers in rows.items():
        if not isinstance(layers, (list, tuple)):
            got = f"an array of shape {layers.shape}" if isinstance(layers, np.ndarray) else type(layers).__name__
            raise TypeError(
                f"rows[{name!r}] must be a list of activation arrays, one per layer, e.g. [a1, a2] ([a] for one "
                f"layer), got {got}"
            )
        if not layers:
            raise ValueError(f"rows[{name!r}] must be a non-empty list of activation arrays, one per layer")
    bins = check_int("bins", bins, low=1)
    if value_range is not None:
        if isinstance(value_range, (str, bytes)) or not hasattr(value_range, "__len__") or len(value_range) != 2:
            raise TypeError(f"value_range must be a pair (low, high) or None, got {value_range!r}")
        value_range = tuple(check_number("value_range", bound) for bound in value_range)
        if value_range[0] >= value_range[1]:
            raise ValueError(f"value_range must have low < high, got {value_range}")
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
        ax.set_title(tr(f"{i + 1}층", f"layer {i + 1}"), fontsize="medium")
    return fig


# --- Hyperparameter search -----------------------------------------------------------------------------------

VAL_COLOR, TRAIN_COLOR = "tab:blue", "tab:orange"  # the book's Best-n grid: validation solid, train dashed


def _short(name):
    return {"weight_decay": "wd"}.get(name, name)


def _digit_labels(name, t):
    """t as digit labels 0 .. 9: labels (N,) or one-hot (N, 10), read as its argmax."""
    t = np.asarray(t)
    if t.ndim == 2 and t.shape[1] == 10:
        t = t.argmax(axis=1)
    if t.ndim != 1 or t.dtype.kind not in "iu" or t.min() < 0 or t.max() > 9:
        raise ValueError(f"{name} must be digit labels 0 .. 9, shape (N,), or one-hot (N, 10), got {t.dtype} {t.shape}")
    return t


def plot_split(train, val, n_images=12):
    """The validation split: how many images of each digit went to each part, and the first validation images.

    train, val: (x, t) pairs, x: (N, 784) images, t: (N,) labels. n_images: validation images shown, 1 or more."""
    n_images = check_int("n_images", n_images, low=1)
    for name, pair in (("train", train), ("val", val)):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2 or len(pair[1]) == 0:
            raise ValueError(f"{name} must be a non-empty pair (x_{name}, t_{name}), e.g. from split_validation")
    fig = figure(9.0, 3.6)
    top, bottom = fig.subfigures(2, 1, height_ratios=(2.2, 1))
    ax = top.subplots()
    digits = np.arange(10)
    labels = {name: _digit_labels(f"t_{name}", pair[1]) for name, pair in (("train", train), ("val", val))}
    for offset, name, color in ((-0.2, "train", TRAIN_COLOR), (0.2, "val", VAL_COLOR)):
        t = labels[name]
        counts = np.bincount(t, minlength=10)
        label = tr(f"{set_name(name)} 데이터: {len(t)}장", f"{set_name(name)}: {len(t)} images")
        ax.bar(digits + offset, counts, width=0.4, color=color, label=label)
    ax.set_xticks(digits)
    ax.set_xlabel(tr("숫자(digit)", "digit"))
    ax.set_ylabel(tr("이미지 수", "images"))
    ax.set_ylim(0, 1.4 * ax.get_ylim()[1])  # room above the bars for the legend
    ax.legend(fontsize="small", loc="upper center", ncols=2)
    x_val, t_val = val
    n = min(n_images, len(x_val))
    image_axes = bottom.subplots(1, n, squeeze=False).ravel()
    for ax, image, label in zip(image_axes, np.asarray(x_val)[:n], labels["val"][:n], strict=True):
        ax.imshow(image.reshape(28, 28), cmap="gray_r")
        ax.set_title(str(label), fontsize="small")
        ax.axis("off")
    bottom.suptitle(
        tr("검증 데이터의 첫 이미지와 정답 레이블", "the first validation images and their labels"), fontsize="small"
    )
    return fig


def _check_trained(results):
    """The best trial of `results`; a clear ValueError when there is none (no trials, or all diverged)."""
    return results.best


def _diverged_note(results):
    n = len(results.diverged())
    return tr(f"발산(diverged)한 시행 {n}개는 빠짐", f"{n} diverged trials left out") if n else ""


def plot_best_curves(results, n=20, ncols=5, title="", width=11.0):
    """The book's "Best-1 ... Best-n" grid: validation accuracy (solid) and train accuracy (dashed) per epoch
    of the n best trials, each titled with its rank and labelled with its values. Diverged trials are never
    among them (a note under the grid counts them)."""
    n, ncols = check_int("n", n, low=1), check_int("ncols", ncols, low=1)
    _check_trained(results)
    best = results.top(n)
    nrows = int(np.ceil(len(best) / ncols))
    fig = figure(width, 1.75 * nrows + 1.1)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for rank, (ax, trial) in enumerate(zip(axes, best, strict=False), start=1):
        epochs = np.arange(len(trial.history.train_acc))
        ax.plot(epochs, trial.history.eval_acc["val"], color=VAL_COLOR, label=set_name("val"))
        ax.plot(epochs, trial.history.train_acc, "--", color=TRAIN_COLOR, label=set_name("train"))
        values = "\n".join(f"{_short(name)} {value:.1e}" for name, value in trial.values.items())
        score = tr(f"검증 {trial.val_acc:.2f}", f"val {trial.val_acc:.2f}")
        ax.text(0.04, 0.96, f"{score}\n{values}", transform=ax.transAxes, va="top", fontsize=7)
        ax.set_title(f"Best-{rank}", fontsize="medium")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[len(best) :]:
        ax.set_visible(False)
    label_outer_axes(axes, len(best), ncols, epoch_label(), accuracy_label())
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, title=_diverged_note(results) or None)
    if title:
        fig.suptitle(title)
    return fig


def _draw_box(ax, ranges, x, y, **style):
    (x0, x1), (y0, y1) = ranges[x], ranges[y]
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], **style)


def hyperparameter_label(name):
    """An axis label for a hyperparameter: 학습률(learning rate), 가중치 감소 λ(weight decay), else the name."""
    labels = {
        "lr": tr("학습률(learning rate)", "learning rate"),
        "weight_decay": tr("가중치 감소 λ(weight decay)", "weight decay λ"),
    }
    return labels.get(name, name.replace("_", " "))


def draw_search_scatter(ax, results, x="lr", y="weight_decay", colorbar_fig=None, boxes=None):
    """Validation accuracy of every trial as a colour, over log x and log y; the best trial as a red star,
    a diverged trial as a grey x. boxes: {label: ranges} drawn as rectangles (the range searched, the range
    proposed next)."""
    trained, diverged = results.trained(), results.diverged()
    points = ax.scatter(
        trained.values(x),
        trained.values(y),
        c=trained.val_accs(),
        cmap="viridis",
        vmin=0,
        vmax=1,
        s=36,
        edgecolors="k",
        linewidths=0.4,
    )
    if len(diverged):
        label = f"{diverged_label()}: {len(diverged)}"
        ax.plot(diverged.values(x), diverged.values(y), "x", color="0.45", markersize=6, label=label)
    if len(trained):
        best = trained.best
        ax.plot(
            best.values[x],
            best.values[y],
            marker="*",
            markersize=16,
            color="tab:red",
            markeredgecolor="k",
            linestyle="none",
            label=tr(f"최고: 검증 {best.val_acc:.2f}", f"best: val {best.val_acc:.2f}"),
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
    ax.set_xlabel(hyperparameter_label(x))
    ax.set_ylabel(hyperparameter_label(y))
    ax.grid(alpha=0.3, which="major")
    # Below the axes: a legend inside would put a second red star among the points.
    ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False)
    if colorbar_fig is not None:
        colorbar_fig.colorbar(points, ax=ax, label=tr("검증 정확도", "validation accuracy"))
    return points


def plot_search_scatter(results, x="lr", y="weight_decay", title="", boxes=None):
    """One search as a scatter: each trial at (its lr, its weight decay), coloured by validation accuracy."""
    if not len(results):
        raise ValueError("results is empty: the search has not finished any trial yet")
    fig, ax = new_figure(6.4, 4.2)
    draw_search_scatter(ax, results, x, y, colorbar_fig=fig, boxes=boxes)
    if title:
        ax.set_title(title)
    return fig


def plot_coarse_to_fine(rounds, x="lr", y="weight_decay"):
    """One scatter per round of coarse-to-fine search, all on the same axes: the range searched (grey box)
    and the range `narrow` proposed for the next round (red dashed box)."""
    if not rounds:
        raise ValueError("rounds is empty: give the list of rounds that experiments.coarse_to_fine returns")
    fig = figure(4.0 * len(rounds) + 1.0, 3.8)
    axes = fig.subplots(1, len(rounds), sharex=True, sharey=True, squeeze=False).ravel()
    for number, (ax, search_round) in enumerate(zip(axes, rounds, strict=True), start=1):
        boxes = {
            tr("탐색한 범위", "searched"): search_round.ranges,
            tr("다음 범위", "proposed next"): search_round.proposal,
        }
        points = draw_search_scatter(ax, search_round.results, x, y, boxes=boxes)
        n = len(search_round.results)
        ax.set_title(tr(f"{number}회차: 시행 {n}번", f"round {number}: {n} trials"), fontsize="medium")
        if number > 1:
            ax.set_ylabel("")
    for limits, name in ((axes[0].set_xlim, x), (axes[0].set_ylim, y)):  # shared axes: one view of every round
        bounds = [b for r in rounds for ranges in (r.ranges, r.proposal) for b in ranges[name]]
        low, high = min(bounds), max(bounds)
        limits(low / 10 ** (0.04 * np.log10(high / low)), high * 10 ** (0.04 * np.log10(high / low)))
    fig.colorbar(points, ax=list(axes), label=tr("검증 정확도", "validation accuracy"))
    return fig


def plot_grid_vs_random(grid, random, important="lr", other="weight_decay"):
    """Grid search vs random search with the same number of trials. Left: where each tried its settings.
    Right: validation accuracy against the important hyperparameter alone - the grid tests only a few of its
    values (its points stack up), random search tests a new value in every trial."""
    fig = figure(10.0, 3.8)
    left, right = fig.subplots(1, 2)
    styles = (
        (grid, tr("그리드 탐색", "grid"), {"marker": "s", "color": "k", "fillstyle": "none", "markersize": 9}),
        (random, tr("무작위 탐색", "random"), {"marker": "o", "color": "tab:orange", "markersize": 7}),
    )
    for results, label, style in styles:
        best = _check_trained(results).val_acc
        n_values = len(np.unique(np.round(np.log10(results.values(important)), 9)))
        name = tr(
            f"{label}: {important} 값 {n_values}개, 최고 검증 {best:.2f}",
            f"{label}: {n_values} {important} values, best val {best:.2f}",
        )
        left.plot(results.values(important), results.values(other), linestyle="none", label=label, **style)
        right.plot(results.values(important), results.val_accs(), linestyle="none", label=name, **style)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel(hyperparameter_label(important))
    left.set_ylabel(hyperparameter_label(other))
    left.set_title(tr("시험한 설정", "the settings tried"))
    left.legend(fontsize="small")
    right.set_xscale("log")
    right.set_xlabel(hyperparameter_label(important))
    right.set_ylabel(tr("검증 정확도", "validation accuracy"))
    right.set_ylim(0, 1.02)
    right.set_title(tr(f"{important} 하나만 놓고 본 검증 정확도", f"validation accuracy against {important} only"))
    right.legend(fontsize="small", loc="upper left")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return fig


def plot_best_so_far(curves, title="", log_x=False):
    """Best validation accuracy found so far against the epochs spent: curves = {label: (spent, best)},
    each from a search's .best_so_far() (or the search's results themselves). The curve that rises further to the
    left spends its epochs better."""
    check_not_empty("curves", curves, "{'random search': results.best_so_far()}")
    fig, ax = new_figure(7.0, 4.0)
    for (label, curve), color in zip(curves.items(), PALETTE, strict=False):
        if callable(getattr(curve, "best_so_far", None)):  # a search's results: their curve
            curve = curve.best_so_far()
        if not isinstance(curve, (tuple, list)) or len(curve) != 2:
            raise TypeError(
                f"curves[{label!r}] must be (spent, best), as .best_so_far() gives, got {type(curve).__name__}"
            )
        spent, best = np.asarray(curve[0]), np.asarray(curve[1])
        if spent.size == 0 or spent.shape != best.shape:
            raise ValueError(
                f"curves[{label!r}] must be (spent, best) of the same length, at least 1, as .best_so_far() gives; "
                f"got lengths {spent.size} and {best.size}"
            )
        ax.step(
            spent,
            best,
            where="post",
            color=color,
            linewidth=2,
            label=tr(
                f"{label}: {spent[-1]}에폭 후 {best[-1]:.2f}", f"{label}: {best[-1]:.2f} after {spent[-1]} epochs"
            ),
        )
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(tr("쓴 에폭 수(모든 시행의 합)", "epochs spent (all trials together)"))
    ax.set_ylabel(tr("지금까지의 최고 검증 정확도", "best validation accuracy so far"))
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
