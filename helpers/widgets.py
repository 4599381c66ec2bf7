"""Slider panels: controls above a live plot. Move a slider, press Train, watch the curves grow.

Training runs in a background thread. A button callback that trained in the kernel's main thread
would block it, and the kernel would only see the Stop click after training had ended; in a thread,
the kernel stays free to handle clicks while the curves are drawn into an `ipywidgets.Image`
(widget updates from a thread are safe: they are messages on the kernel's output channel).

A panel owns its thread: Stop, closing the panel (`panel.close()`, or its widget's comm closing) and a new
panel of the same kind (the cell run again) each end the work at its next checkpoint, the end of an epoch,
a trial or a pair.

Every argument a slider shows is checked where it is passed: a value outside the slider's range is an error
that names the range, never a value silently moved to the nearest end.
Every control has a stable CSS class (`dl-std`, `dl-train`, `dl-status`, `dl-plot`, ...) for tests.
Results are cached by every setting and the seed: moving back to a trained setting shows it at once.
"""

import html
import inspect
import math
import numbers
import threading
import time
import weakref

import ipywidgets as w
import numpy as np
from matplotlib.colors import to_hex

from helpers.checks import check_int, check_number, check_seed
from helpers.data import load_mnist
from helpers.experiments import (
    BN_STDS,
    batchnorm_grid_parallel,
    batchnorm_pair,
    hidden_activations,
    overfitting_run,
    search_objective,
)
from helpers.lang import tr
from helpers.live import LiveCurves, Throttle
from helpers.plots import PALETTE, plot_histograms, plot_search_scatter, plot_small_runs, to_png
from helpers.search import check_n_jobs, check_ranges, random_search
from helpers.train import STOP

LAMBDAS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)  # a log scale that also holds exactly 0
BATCH_SIZE = 100  # the book's mini-batch: a panel's training set holds at least one
# Test images the regularization panel scores after every epoch. Measured on 2 cores: all 10 000 make a
# 100-epoch run take 3.4 s instead of 0.6 s (the 300 training images cost little); the first 1000 give the
# test accuracy within about ±0.013 (its standard error near 0.8).
TEST_SUBSET = 1000
# Seconds between the search scatter's redraws at least: each costs ~0.4 s of a core that the two workers need.
SCATTER_INTERVAL = 2.5
DESCRIPTION_WIDTH = "190px"  # room for the longest Korean slider description
# The sliders' readouts are cut to ~4 characters by default ("-6.0 – -2.0" showed as "-6.0 – -2.("): every
# readout of a panel gets the width of its text. A <style> in an HTML widget works in JupyterLab, Notebook 7
# and Voilà alike.
PANEL_CSS = """<style>
.dl-panel .widget-readout { max-width: none; min-width: 6em; width: auto; overflow: visible; text-overflow: clip; }
.dl-panel .widget-slider, .dl-panel .widget-checkbox { width: 560px; }
.dl-table td, .dl-table th { padding: 1px 10px; text-align: right; }
.dl-grid-legend { font-size: 13px; }
</style>"""


def sci(value):
    """1.8e-02 -> "1.8e-2": scientific notation as the sliders' readouts show it; "nan" / "inf" as themselves."""
    if not math.isfinite(value):
        return str(value)
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent):+d}"


def styled(widget, css_class):
    """Give a widget its stable CSS class and return it."""
    widget.add_class(css_class)
    return widget


# --- Arguments: checked where they are passed, never clamped by a slider ------------------------------------


def check_setting(name, value, low, high, integer=False):
    """A panel argument that a slider will show: a number in [low, high] (an ipywidgets slider would silently
    move it to the nearest end)."""
    if integer:
        return check_int(name, value, low=low, high=high)
    return check_number(name, value, low=low, high=high)


def check_option(name, value, options):
    """A value a selection slider offers (compared as a number)."""
    value = check_number(name, value)
    if value not in options:
        allowed = ", ".join(f"{option:g}" for option in options)
        raise ValueError(f"{name} must be one of the slider's values {allowed}, got {value!r}")
    return value


def check_log_range(name, value, low, high, step):
    """(low_exponent, high_exponent) of a log-range slider: two numbers in [low, high] on the slider's steps,
    the first < the second. Values such as (1e-6, 1e-2) in place of exponents are refused (not steps)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a pair of exponents (low, high), e.g. ({low}, {high}), got {value!r}")
    first, second = (check_setting(name, v, low, high) for v in value)
    if any(exponent / step != round(exponent / step) for exponent in (first, second)):
        raise ValueError(
            f"{name} holds exponents of 10 in steps of {step:g}, e.g. ({low}, {high}) for 1e{low} .. 1e{high}, "
            f"got {tuple(value)!r} (for the values 1e-6 .. 1e-2, write their exponents (-6, -2))"
        )
    if first >= second:
        raise ValueError(f"{name} must have low < high (exponents in [{low}, {high}]), got {tuple(value)!r}")
    return first, second


def check_data(data):
    """load_mnist()'s result ((x_train, t_train), (x_test, t_test)); None loads it. Returns it and its sizes."""
    data = data if data is not None else load_mnist()
    try:
        (x_train, t_train), (x_test, t_test) = data
        sizes = len(x_train), len(x_test)
    except (TypeError, ValueError):
        raise TypeError(
            f"data must be load_mnist()'s result ((x_train, t_train), (x_test, t_test)), got {type(data).__name__}"
        ) from None
    return data, sizes


def check_n_train(n_train, available):
    """Training images of a panel's runs: at least one mini-batch, at most what the data holds."""
    if isinstance(n_train, bool) or not isinstance(n_train, numbers.Integral):
        raise TypeError(f"n_train must be an integer, got {n_train!r} ({type(n_train).__name__})")
    if not BATCH_SIZE <= n_train <= available:
        raise ValueError(
            f"n_train must be in [{BATCH_SIZE}, {available}] (at least one mini-batch of {BATCH_SIZE} images, "
            f"at most the {available} training images of data), got {n_train}"
        )
    return int(n_train)


def not_finite(settings):
    """The names of settings that are NaN or infinite (a slider set to NaN from code), for a message."""
    values = {name: np.ravel(value) for name, value in settings.items() if not isinstance(value, bool)}
    return [name for name, value in values.items() if value.dtype.kind == "f" and not np.isfinite(value).all()]


# --- The controls ---------------------------------------------------------------------------------------------


def slider_style():
    return {"description_width": DESCRIPTION_WIDTH}


def log_slider(value, low, high, description, css_class, name):
    """A slider on a log scale from 10**low to 10**high, four steps per decade, that acts on release.
    `name`: the argument `value` came from, for the error if it lies outside the range."""
    value = check_setting(name, value, 10.0**low, 10.0**high)
    slider = w.FloatLogSlider(
        value=value,
        base=10,
        min=low,
        max=high,
        step=0.25,
        readout_format=".1e",
        description=description,
        continuous_update=False,
        style=slider_style(),
    )
    return styled(slider, css_class)


def int_slider(value, low, high, description, css_class, name, step=1):
    value = check_setting(name, value, low, high, integer=True)
    slider = w.IntSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        continuous_update=False,
        style=slider_style(),
    )
    return styled(slider, css_class)


def button(description, css_class, style="", icon=""):
    """A button as wide as its text (the default width cuts a longer Korean label short)."""
    layout = w.Layout(width="auto", min_width="100px")
    return styled(w.Button(description=description, button_style=style, icon=icon, layout=layout), css_class)


def close_tree(widget):
    """Close a widget and every widget inside it (their views disappear from the page)."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()


def diverged_text():
    return tr("발산(diverged)", "diverged")


def accuracy_text(history, name="train"):
    """A run's last accuracy as a status line shows it: "0.912", or "발산(diverged)" for a diverged run."""
    return diverged_text() if history.diverged else f"{history.final(name):.3f}"


def end_note(history):
    if history.diverged:
        reason = html.escape(history.diverged_reason or tr("손실이 발산함", "the loss blew up"))
        return tr(
            f" · 에폭 {history.epoch + 1}에서 <b>발산(diverged)</b>: {reason}. 학습을 멈췄습니다. "
            "학습률이나 초기 가중치 표준편차를 줄여 보세요.",
            f" · <b>diverged</b> at epoch {history.epoch + 1}: {reason}, so training stopped. "
            "Try a smaller learning rate or initial std.",
        )
    if history.stopped:
        return tr(f" · 에폭 {history.epoch}에서 정지", f" · stopped at epoch {history.epoch}")
    return ""


# --- What every panel shares ------------------------------------------------------------------------------------


class BackgroundPanel:
    """What every panel shares: its controls, Train and Stop buttons, a status line, a plot image, a cache,
    and the background thread that does the work while the kernel stays free to see a Stop click.

    Each panel class keeps a registry of its live panels (`_panels`, weak references: it never keeps a panel
    alive). It is the one piece of state shared between panels, and it is needed: a cell run again builds a
    new panel while the old one may still be training, and nothing else tells the old one it was replaced
    (its output is cleared, but its widgets and its thread live on). A new panel stops the work of the
    earlier panels of its class; they stay usable.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._panels = weakref.WeakSet()

    def __init__(self, controls, seed=0, plot_width="760px"):
        self.controls = controls
        self.seed = check_seed("seed", seed)
        self.cache = {}
        self.train_button = button(tr("학습", "Train"), "dl-train", "success", "play")
        self.stop_button = button(tr("정지", "Stop"), "dl-stop", "danger", "stop")
        self.stop_button.disabled = True
        self.status_line = styled(
            w.HTML(tr("슬라이더를 움직인 뒤 <b>학습</b>을 누르세요.", "Move a slider, then press <b>Train</b>.")),
            "dl-status",
        )
        self.plot = self.image(plot_width, "dl-plot")
        self.train_button.on_click(self.train)
        self.stop_button.on_click(self.stop)
        self._stop_requested = threading.Event()
        self._thread = None
        self.closed = False
        for earlier in list(type(self)._panels):
            earlier.stop()
        type(self)._panels.add(self)

    @staticmethod
    def image(max_width, css_class):
        """An image widget that stays hidden until it holds a picture (an empty one shows a broken-image icon)."""
        image = styled(w.Image(format="png", layout=w.Layout(width="100%", max_width=max_width)), css_class)
        image.layout.visibility = "hidden"

        def show_if_drawn(change):
            image.layout.visibility = "visible" if len(change.new) else "hidden"

        image.observe(show_if_drawn, names="value")
        return image

    def _layout(self, buttons, below):
        """The panel: controls, a row of buttons, then the widgets `below` them. Closing its widget stops its work."""
        self.widget = styled(w.VBox([w.HTML(PANEL_CSS), *self.controls.values(), w.HBox(buttons), *below]), "dl-panel")
        self.widget.observe(self._widget_closed, names="comm")  # closed from the kernel: widget.close()
        if self.widget.comm is not None:
            self.widget.comm.on_close(lambda _message: self.stop())  # closed from the page

    def _widget_closed(self, change):
        if change.new is None:
            self.stop()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def settings(self):
        """The current value of every control (a range slider's as a tuple), plus the seed."""
        values = {name: control.value for name, control in self.controls.items()}
        return {**{k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in values.items()}, "seed": self.seed}

    def key(self, settings):
        return tuple(sorted(settings.items()))

    def refuse_non_finite(self, settings):
        """Show an error and return True if a setting is NaN or infinite (set from code: a slider cannot)."""
        bad = not_finite(settings)
        if bad:
            self.status_line.value = tr(
                f"<b>오류:</b> {', '.join(bad)} 값이 유한한 수가 아닙니다. 슬라이더를 다시 움직이세요.",
                f"<b>Error:</b> {', '.join(bad)} is not a finite number. Move the slider again.",
            )
        return bool(bad)

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def train(self, _button=None):
        raise NotImplementedError

    def stop(self, _button=None):
        """Ask the running work to stop at its next checkpoint (the end of an epoch, a trial or a pair)."""
        self._stop_requested.set()

    def stop_requested(self):
        """What a run's callback returns after every epoch or trial: helpers.train.STOP once Stop was pressed or
        the panel closed, else None (go on)."""
        return STOP if self._stop_requested.is_set() else None

    def close(self):
        """Stop the running work and remove the panel from the page."""
        self.closed = True
        self.stop()
        close_tree(self.widget)

    def join(self, timeout=None):
        """Wait for running work to end (tests and scripts); returns True if none is running."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _start(self, work, *args):
        """Run work(*args) in a background thread, with the controls locked until it ends."""
        if self.closed:
            return
        self._stop_requested.clear()
        self._set_running(True)

        def guarded():
            try:
                work(*args)
            except Exception as error:  # a thread's exception would vanish: show it where the student looks
                self.status_line.value = f"<b>{tr('오류', 'Error')}:</b> {type(error).__name__}: {error}"
                raise
            finally:
                self._set_running(False)

        self._thread = threading.Thread(target=guarded, daemon=True)
        self._thread.start()

    def _set_running(self, running):
        self.train_button.disabled = running
        self.stop_button.disabled = not running
        for control in self.controls.values():
            control.disabled = running


class TrainingPanel(BackgroundPanel):
    """The common part of the training panels: Train / Stop / Clear, a status line, a live plot and a cache.

    A subclass sets `self.controls` ({setting name: slider}) and implements `run(settings, callback)`,
    `labels(settings)` and `status(settings, runs)`.
    """

    eval_name = None

    def __init__(self, controls, seed=0, extra_buttons=(), below=()):
        super().__init__(controls, seed)
        self.clear_button = button(tr("지우기", "Clear"), "dl-clear", "", "eraser")
        self.clear_button.on_click(self.clear)
        for control in controls.values():
            control.observe(self._show_if_cached, names="value")
        self.live = LiveCurves(self.epochs_for(self.settings()), self.eval_name, self.plot_title(), image=self.plot)
        buttons = [self.train_button, self.stop_button, self.clear_button, *extra_buttons]
        self._layout(buttons, [self.status_line, self.plot, *below])

    # --- what a subclass provides ---
    def run(self, settings, callback):
        raise NotImplementedError

    def labels(self, settings):
        raise NotImplementedError

    def status(self, settings, runs):
        raise NotImplementedError

    def epochs_for(self, settings):
        return settings["epochs"]

    def plot_title(self):
        return ""

    def histories(self, result):
        """{name: History} from what `run` returned."""
        return result

    def finished(self, settings, result, key):
        """Called in the thread after a run has ended (a subclass may draw more from `result`)."""

    def show_cached_extras(self, key):
        """Called when a cached result is shown (a subclass shows what `finished` drew for it)."""

    # --- button handlers ---
    def train(self, _button=None):
        """Train with the current settings in a background thread (or show the cached result)."""
        if self.running:
            return
        settings = self.settings()
        if self.refuse_non_finite(settings) or self._show_if_cached():
            return
        self.live.archive()
        self.live.epochs = self.epochs_for(settings)
        self._start(self._train_in_background, settings)

    def clear(self, _button=None):
        """Remove the faint curves of earlier runs."""
        self.live.clear()
        if self.live.runs:
            self.live.draw()
        else:
            self.plot.value = b""

    # --- the run itself ---
    def _train_in_background(self, settings):
        labels = self.labels(settings)

        def on_epoch(runs):
            runs = dict(zip(labels, runs.values(), strict=True))
            self.live.update_runs(runs)
            self.status_line.value = self.status(settings, runs)
            return self.stop_requested()

        result = self.run(settings, on_epoch)
        runs = dict(zip(labels, self.histories(result).values(), strict=True))
        self.status_line.value = self.status(settings, runs)
        self.live.finish()
        key = self.key(settings)
        if not any(h.stopped for h in runs.values()):
            self.cache[key] = runs
        self.finished(settings, result, key)

    def _show_if_cached(self, _change=None):
        """If the current settings were trained before, draw that result at once. Returns True if shown."""
        if self.running:
            return False
        settings = self.settings()
        if not_finite(settings):
            return False
        key = self.key(settings)
        runs = self.cache.get(key)
        if runs is None:
            return False
        self.live.archive()
        self.live.epochs = self.epochs_for(settings)
        self.live.update_runs(runs)
        self.live.finish()
        self.status_line.value = self.status(settings, runs) + tr(" (저장된 결과)", " (from cache)")
        self.show_cached_extras(key)
        return True


# --- 01 Batch normalization -----------------------------------------------------------------------------------


def pair_labels():
    """The two runs of a batch-norm pair as the panels name them (in batchnorm_pair's order)."""
    return tr("배치 정규화 있음", "with BN"), tr("배치 정규화 없음", "without BN")


class BatchNormPanel(TrainingPanel):
    """The initial weight std on a log slider; trains the net with and without BN on the same mini-batches,
    then shows each hidden layer's activations in both trained nets.

    The grid button trains all 16 stds of the book's 4x4 grid (BN_STDS) in n_jobs worker processes and fills
    the grid as the pairs finish. n_train: training images (the book's 1000), at least one batch of 100.
    """

    def __init__(self, data=None, std=0.01, epochs=20, n_train=1000, seed=0, n_jobs=2):
        self.data, (available, _) = check_data(data)
        self.n_train = check_n_train(n_train, available)
        self.n_jobs = check_n_jobs(n_jobs)
        controls = {
            "std": log_slider(std, -4, 0, tr("초기 가중치 표준편차(std)", "initial weight std"), "dl-std", "std"),
            "epochs": int_slider(epochs, 1, 100, tr("에폭(epoch)", "epochs"), "dl-epochs", "epochs"),
        }
        self.histograms = self.image("760px", "dl-histograms")
        self.histogram_cache = {}
        self.grid_button = button(tr("전체 그리드 (std 16개)", "whole grid (16 stds)"), "dl-grid", "info", "th")
        self.grid_button.on_click(self.train_grid)
        self.grid_status = styled(w.HTML(""), "dl-grid-status")
        self.grid_cells = [self.image("190px", "dl-grid-cell") for _ in BN_STDS]
        self.grid = styled(
            w.GridBox(self.grid_cells, layout=w.Layout(grid_template_columns="repeat(4, 190px)", grid_gap="2px")),
            "dl-grid-plot",
        )
        self.grid_cache = {}
        self.grid_seconds = None  # how long the last full grid took
        super().__init__(
            controls,
            seed,
            extra_buttons=[self.grid_button],
            below=[self.histograms, self.grid_status, self.grid],
        )

    def plot_title(self):
        return tr("훈련 정확도: 배치 정규화 있음 / 없음", "train accuracy: with vs without batch norm")

    def _set_running(self, running):
        super()._set_running(running)
        self.grid_button.disabled = running

    def run(self, settings, callback):
        return batchnorm_pair(
            settings["std"],
            n_train=self.n_train,
            epochs=settings["epochs"],
            seed=settings["seed"],
            data=self.data,
            callback=callback,
            return_nets=True,
        )

    def histories(self, result):
        runs, _ = result
        return runs

    def labels(self, settings):
        std = f"std={sci(settings['std'])}"
        with_bn, without_bn = pair_labels()
        return (f"{std} {with_bn}", f"{std} {without_bn}")

    def status(self, settings, runs):
        with_bn, without_bn = runs.values()
        names = pair_labels()
        return (
            f"{tr('에폭', 'epoch')} {with_bn.epoch}/{settings['epochs']} · std {sci(settings['std'])} · "
            f"{names[0]} {accuracy_text(with_bn)} · {names[1]} {accuracy_text(without_bn)}"
            + end_note(with_bn)
            + end_note(without_bn)
        )

    # --- the activation histograms of the trained pair ---
    def finished(self, settings, result, key):
        runs, nets = result
        png = to_png(self.histogram_figure(settings, runs, nets))
        self.histograms.value = png
        if key in self.cache:
            self.histogram_cache[key] = png

    def show_cached_extras(self, key):
        self.histograms.value = self.histogram_cache.get(key, b"")

    def histogram_figure(self, settings, runs, nets):
        """Each hidden layer's ReLU outputs (zeros left out) on the training images, in the two trained nets.
        A diverged net has no row: its activations are not numbers any more."""
        x = self.data[0][0][: self.n_train]
        rows = {}
        for name, label in zip(pair_labels(), runs, strict=True):
            if runs[label].diverged:
                continue
            rows[name] = [a[np.isfinite(a)] for a in hidden_activations(nets[label], x, train=False)]
        if not rows:
            rows = {diverged_text(): [np.zeros(0)] * 5}
        figure = plot_histograms(rows, value_range=None, skip_zeros=True)
        figure.suptitle(
            tr(
                f"학습 후 층별 활성화값 분포 (std {sci(settings['std'])}, 0은 제외)",
                f"activations per layer after training (std {sci(settings['std'])}, zeros left out)",
            ),
            fontsize="medium",
        )
        return figure

    # --- the whole grid ---
    def grid_key(self, settings):
        return (settings["epochs"], self.n_train, settings["seed"])

    def train_grid(self, _button=None):
        """Train all 16 stds in worker processes and fill the 4x4 grid as the pairs finish (or show it cached)."""
        if self.running:
            return
        settings = self.settings()
        if self.refuse_non_finite(settings):
            return
        cached = self.grid_cache.get(self.grid_key(settings))
        if cached is not None:
            for cell, png in zip(self.grid_cells, cached["cells"], strict=True):
                cell.value = png
            self.grid_status.value = cached["status"] + tr(" (저장된 결과)", " (from cache)")
            return
        for cell in self.grid_cells:
            cell.value = b""
        self._start(self._grid_in_background, settings)

    def grid_legend(self):
        with_bn, without_bn = pair_labels()
        return (
            f"<span class='dl-grid-legend'><span style='color:{to_hex(PALETTE[0])}'>━━</span> {with_bn}"
            f" &nbsp; <span style='color:{to_hex(PALETTE[1])}'>━━</span> {without_bn}</span>"
        )

    def grid_status_text(self, settings, done, seconds, stopped=False):
        text = tr(
            f"그리드: {done}/{len(BN_STDS)}쌍 완료 · {seconds:.1f}초 · 에폭 {settings['epochs']} · "
            f"훈련 이미지 {self.n_train}장 · 프로세스 {self.n_jobs}개",
            f"grid: {done}/{len(BN_STDS)} pairs done · {seconds:.1f} s · {settings['epochs']} epochs · "
            f"{self.n_train} training images · {self.n_jobs} processes",
        )
        return f"{text}{tr(' · 정지', ' · stopped') if stopped else ''}<br>{self.grid_legend()}"

    def _grid_in_background(self, settings):
        started = time.perf_counter()
        cells = [b""] * len(BN_STDS)
        position = {float(std): i for i, std in enumerate(BN_STDS)}
        self.grid_status.value = self.grid_status_text(settings, 0, 0.0)

        def on_pair(std, runs):
            runs = dict(zip(pair_labels(), runs.values(), strict=True))
            cells[position[std]] = to_png(plot_small_runs(runs, settings["epochs"], f"std={sci(std)}"))
            self.grid_cells[position[std]].value = cells[position[std]]
            done = sum(1 for cell in cells if cell)
            self.grid_status.value = self.grid_status_text(settings, done, time.perf_counter() - started)

        grid = batchnorm_grid_parallel(
            BN_STDS,
            n_jobs=self.n_jobs,
            n_train=self.n_train,
            data=self.data,
            on_pair=on_pair,
            stop=self._stop_requested,
            epochs=settings["epochs"],
            seed=settings["seed"],
        )
        stopped = len(grid) < len(BN_STDS)
        status = self.grid_status_text(settings, len(grid), time.perf_counter() - started, stopped)
        self.grid_status.value = status
        self.grid_seconds = time.perf_counter() - started
        if not stopped:
            self.grid_cache[self.grid_key(settings)] = {"cells": cells, "status": status}


# --- 02 Overfitting, weight decay and dropout -----------------------------------------------------------------


class RegularizationPanel(TrainingPanel):
    """λ (weight decay), dropout ratio, learning rate, epochs and a batch-norm switch; draws train and test
    accuracy and their gap.

    n_train: training images (the book's 300). n_test: the test images scored after every epoch; None: the
    first TEST_SUBSET (1000), as scoring all 10 000 after every epoch would take most of the run's time.
    """

    eval_name = "test"

    def __init__(
        self,
        data=None,
        weight_decay_lambda=0.0,
        dropout_ratio=0.0,
        lr=0.01,
        epochs=100,
        use_batchnorm=False,
        n_train=300,
        n_test=None,
        seed=0,
    ):
        self.data, (available, n_test_available) = check_data(data)
        self.n_train = check_n_train(n_train, available)
        if n_test is None:
            n_test = min(TEST_SUBSET, n_test_available)
        self.n_test = check_int("n_test", n_test, low=1, high=n_test_available)
        if not isinstance(use_batchnorm, (bool, np.bool_)):
            raise TypeError(f"use_batchnorm must be True or False, got {use_batchnorm!r}")
        controls = {
            "weight_decay_lambda": styled(
                w.SelectionSlider(
                    options=[(f"{v:g}", v) for v in LAMBDAS],
                    value=check_option("weight_decay_lambda", weight_decay_lambda, LAMBDAS),
                    description=tr("가중치 감소 λ", "weight decay λ"),
                    continuous_update=False,
                    style=slider_style(),
                ),
                "dl-lambda",
            ),
            "dropout_ratio": styled(
                w.FloatSlider(
                    value=check_setting("dropout_ratio", dropout_ratio, 0, 0.9),
                    min=0,
                    max=0.9,
                    step=0.05,
                    description=tr("드롭아웃 비율", "dropout ratio"),
                    continuous_update=False,
                    style=slider_style(),
                ),
                "dl-dropout",
            ),
            "lr": log_slider(lr, -4, 1, tr("학습률(lr)", "learning rate"), "dl-lr", "lr"),
            "epochs": int_slider(epochs, 10, 400, tr("에폭(epoch)", "epochs"), "dl-epochs", "epochs", step=10),
            "use_batchnorm": styled(
                w.Checkbox(
                    value=bool(use_batchnorm),
                    description=tr("배치 정규화(Batch Normalization)", "batch normalization"),
                    style=slider_style(),
                ),
                "dl-batchnorm",
            ),
        }
        super().__init__(controls, seed)

    def plot_title(self):
        return tr("오버피팅: 훈련(실선) / 시험(점선)", "overfitting: train (solid) vs test (dashed)")

    def run(self, settings, callback):
        return overfitting_run(
            settings["weight_decay_lambda"],
            settings["dropout_ratio"],
            n_train=self.n_train,
            n_test=self.n_test,
            epochs=settings["epochs"],
            lr=settings["lr"],
            use_batchnorm=settings["use_batchnorm"],
            seed=settings["seed"],
            data=self.data,
            callback=lambda history: callback({"run": history}),
        )

    def histories(self, result):
        return {"run": result.history}

    def labels(self, settings):
        bn = " BN" if settings["use_batchnorm"] else ""
        return (
            f"λ={settings['weight_decay_lambda']:g} p={settings['dropout_ratio']:.2f} lr={sci(settings['lr'])}{bn}",
        )

    def status(self, settings, runs):
        (history,) = runs.values()
        epoch = f"{tr('에폭', 'epoch')} {history.epoch}/{settings['epochs']}"
        if history.diverged:
            return f"{epoch} · {diverged_text()}" + end_note(history)
        train, test = history.final("train"), history.final("test")
        return (
            f"{epoch} · {tr('훈련', 'train')} {train:.3f} · {tr('시험', 'test')} {test:.3f} · "
            f"{tr('차이', 'gap')} {train - test:+.3f}" + end_note(history)
        )


def make_panel(panel_class, data, settings):
    """panel_class(data, **settings); a misspelt setting is refused with the names the panel knows."""
    known = [name for name in inspect.signature(panel_class).parameters if name != "data"]
    unknown = [name for name in settings if name not in known]
    if unknown:
        raise TypeError(f"{panel_class.__name__} has no setting {unknown[0]!r}; its settings are {', '.join(known)}")
    return panel_class(data, **settings)


def batchnorm_panel(data=None, **settings):
    """The batch-norm panel, ready to display: `batchnorm_panel(data)` as the last line of a cell."""
    return make_panel(BatchNormPanel, data, settings)


def regularization_panel(data=None, **settings):
    """The weight decay / dropout panel, ready to display."""
    return make_panel(RegularizationPanel, data, settings)


# --- 04 Hyperparameter search -----------------------------------------------------------------------------------


def log_range_slider(value, low, high, description, css_class, name):
    """A range slider over exponents low .. high (-6 .. -2 means 1e-6 .. 1e-2), in steps of half a decade."""
    step = 0.5
    slider = w.FloatRangeSlider(
        value=check_log_range(name, value, low, high, step),
        min=low,
        max=high,
        step=step,
        readout_format=".1f",
        description=description,
        continuous_update=False,
        style=slider_style(),
    )
    return styled(slider, css_class)


class SearchPanel(BackgroundPanel):
    """Random search with sliders: the number of trials, the epochs per trial, and the log ranges of the
    learning rate and the weight decay (the sliders hold exponents: -6 .. -2 means 1e-6 .. 1e-2).

    Train runs the search in a background thread, its trials in n_jobs worker processes: every finished trial
    moves the progress bar and appears at once in the table (best first) and in the scatter (redrawn every
    SCATTER_INTERVAL seconds at most, and after the last trial). Stop ends the search after the trials under way.
    The defaults are the seminar's ranges and its 50 epochs per trial, with 40 trials on 2 processes (7-8 s on
    2 cores), and the best validation accuracy reaches the slide's (above 0.7). Trial i's values depend
    on the seed alone, so the best lr values drawn (trials 26 and 28: 8.2e-3, 9.3e-3) are the same on any data.
    The same settings and seed always give the same trials; a finished search is cached and shown at once.
    """

    def __init__(
        self,
        data=None,
        n_trials=40,
        epochs=50,
        lr_range=(-6, -2),
        wd_range=(-8, -4),
        seed=0,
        table_rows=10,
        n_jobs=2,
    ):
        data, _ = check_data(data)
        self.objective = search_objective(data)
        self.table_rows = check_int("table_rows", table_rows, low=1)
        self.n_jobs = check_n_jobs(n_jobs)
        self.results = None
        controls = {
            "n_trials": int_slider(n_trials, 1, 100, tr("시행 횟수(trials)", "trials"), "dl-trials", "n_trials"),
            "epochs": int_slider(epochs, 1, 100, tr("시행당 에폭(epoch)", "epochs per trial"), "dl-epochs", "epochs"),
            "lr_range": log_range_slider(
                lr_range, -8, 1, tr("학습률 범위 (log₁₀)", "learning rate range (log₁₀)"), "dl-lr-range", "lr_range"
            ),
            "wd_range": log_range_slider(
                wd_range, -10, -1, tr("가중치 감소 λ 범위 (log₁₀)", "weight decay λ range (log₁₀)"), "dl-wd-range",
                "wd_range",
            ),
        }  # fmt: skip
        super().__init__(controls, seed, plot_width="640px")
        self.status_line.value = tr(
            "범위를 정한 뒤 <b>학습</b>을 누르세요.", "Set the ranges, then press <b>Train</b>."
        )
        self.progress = styled(
            w.IntProgress(
                value=0,
                min=0,
                max=n_trials,
                description=tr("시행", "trials"),
                style=slider_style(),
                layout=w.Layout(width="560px"),
            ),
            "dl-progress",
        )
        self.table = styled(w.HTML(""), "dl-table")
        self.throttle = Throttle(SCATTER_INTERVAL)
        self._layout([self.train_button, self.stop_button], [self.progress, self.status_line, self.plot, self.table])

    @staticmethod
    def ranges(settings):
        """The search ranges the sliders mean: {"lr": (10**low, 10**high), "weight_decay": (...)}."""
        return {
            "lr": tuple(10.0**e for e in settings["lr_range"]),
            "weight_decay": tuple(10.0**e for e in settings["wd_range"]),
        }

    # --- button handlers ---
    def train(self, _button=None):
        """Start the search with the current settings in a background thread (or show the cached one)."""
        if self.running:
            return
        settings = self.settings()
        if self.refuse_non_finite(settings):
            return
        try:
            check_ranges(self.ranges(settings))
        except ValueError as error:  # e.g. both ends of a range slider on the same value
            self.status_line.value = tr(
                f"<b>오류:</b> {error}. 범위의 두 끝을 서로 다르게 하세요.",
                f"<b>Error:</b> {error}. Give each range two different ends.",
            )
            return
        key = self.key(settings)
        if key in self.cache:
            self._show(self.cache[key], settings, note=tr(" (저장된 결과)", " (from cache)"))
            return
        self.progress.max, self.progress.value = settings["n_trials"], 0
        self.table.value = ""
        self.plot.value = b""
        self.throttle = Throttle(SCATTER_INTERVAL)
        self._start(self._search_in_background, settings, key)

    # --- the search itself ---
    def _search_in_background(self, settings, key):
        started = time.perf_counter()

        def on_trial(results):
            self.results = results
            self.progress.value = len(results)
            self.table.value = self.table_html(results)
            self.status_line.value = self.status(results, settings)
            if self.throttle.due():
                drawing = self.throttle.clock()
                self.draw(results, settings)
                self.throttle.record(drawing)
            return self.stop_requested()

        results = random_search(
            self.objective,
            self.ranges(settings),
            settings["n_trials"],
            settings["epochs"],
            settings["seed"],
            n_jobs=self.n_jobs,
            progress=False,
            callback=on_trial,
        )
        self.seconds = time.perf_counter() - started
        self._show(results, settings, note=tr(f" · {self.seconds:.1f}초", f" · {self.seconds:.1f} s"))
        if not results.stopped:
            self.cache[key] = results

    def _show(self, results, settings, note=""):
        self.results = results
        self.progress.max, self.progress.value = settings["n_trials"], len(results)
        self.table.value = self.table_html(results)
        self.draw(results, settings)
        self.status_line.value = self.status(results, settings) + note

    def draw(self, results, settings):
        title = tr(
            f"시행 {len(results)}회 × {settings['epochs']}에폭", f"{len(results)} trials × {settings['epochs']} epochs"
        )
        self.plot.value = to_png(plot_search_scatter(results, title=title))

    def status(self, results, settings):
        trained = results.trained()
        best = trained.best if len(trained) else None
        done = f"{tr('시행', 'trial')} {len(results)}/{settings['n_trials']}"
        diverged = len(results) - len(trained)
        note = tr(f" · {diverged}회 발산(diverged)", f" · {diverged} diverged") if diverged else ""
        if results.stopped:
            note += tr(f" · 시행 {len(results)} 후 정지", f" · stopped after trial {len(results)}")
        if best is None:
            return f"{done} · {tr('모든 시행이 발산(diverged)', 'every trial diverged')}{note}"
        return (
            f"{done} · {tr('최고 검증 정확도', 'best val acc')} {best.val_acc:.2f} "
            f"({tr('학습률', 'lr')} {sci(best.values['lr'])}, λ {sci(best.values['weight_decay'])}){note}"
        )

    def table_html(self, results):
        """The best `table_rows` trials as an HTML table: rank, trial number, values, accuracies; diverged trials
        rank last and say so instead of an accuracy."""
        names = tr(
            ("순위", "시행", "학습률", "가중치 감소", "검증 정확도", "훈련 정확도"),
            ("rank", "trial", "lr", "weight decay", "val acc", "train acc"),
        )
        header = "<tr>" + "".join(f"<th>{name}</th>" for name in names) + "</tr>"

        def accuracies(trial):
            if trial.history.diverged:
                return f"<td colspan='2'>{diverged_text()}</td>"
            return f"<td>{trial.val_acc:.2f}</td><td>{trial.train_acc:.2f}</td>"

        rows = [
            f"<tr><td>{'–' if t.history.diverged else f'Best-{rank}'}</td><td>{t.index}</td>"
            f"<td>{sci(t.values['lr'])}</td><td>{sci(t.values['weight_decay'])}</td>{accuracies(t)}</tr>"
            for rank, t in enumerate(results.sorted()[: self.table_rows], start=1)
        ]
        return f"<table>{header}{''.join(rows)}</table>"


def search_panel(data=None, **settings):
    """The hyperparameter search panel, ready to display: `search_panel(data)` as the last line of a cell."""
    return make_panel(SearchPanel, data, settings)
