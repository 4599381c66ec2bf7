"""Slider panels: controls above a live plot. Move a slider, press Train, watch the curves grow.

Training runs in a background thread. A button callback that trained in the kernel's main thread
would block it, and the kernel would only see the Stop click after training had ended; in a thread,
the kernel stays free to handle clicks while the curves are drawn into an `ipywidgets.Image`
(widget updates from a thread are safe: they are messages on the kernel's output channel).

Every control has a stable CSS class (`dl-std`, `dl-train`, `dl-status`, `dl-plot`, ...) for tests.
Results are cached by every setting and the seed: moving back to a trained setting shows it at once.
"""

import threading

import ipywidgets as w

from helpers.data import load_mnist
from helpers.experiments import batchnorm_pair, overfitting_run, search_objective
from helpers.live import LiveCurves, Throttle
from helpers.plots import plot_search_scatter, to_png
from helpers.search import check_ranges, random_search
from helpers.train import STOP

LAMBDAS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)  # a log scale that also holds exactly 0


def sci(value):
    """1.8e-02 -> "1.8e-2": scientific notation as the sliders' readouts show it."""
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent):+d}"


def styled(widget, css_class):
    """Give a widget its stable CSS class and return it."""
    widget.add_class(css_class)
    return widget


def log_slider(value, low, high, description, css_class):
    """A slider on a log scale from 10**low to 10**high, four steps per decade, that acts on release."""
    slider = w.FloatLogSlider(
        value=value,
        base=10,
        min=low,
        max=high,
        step=0.25,
        readout_format=".1e",
        description=description,
        continuous_update=False,
    )
    return styled(slider, css_class)


def button(description, css_class, style="", icon=""):
    return styled(w.Button(description=description, button_style=style, icon=icon), css_class)


class BackgroundPanel:
    """What every panel shares: its controls, Train and Stop buttons, a status line, a plot image, a cache,
    and the background thread that does the work while the kernel stays free to see a Stop click."""

    def __init__(self, controls, seed=0, plot_width="760px"):
        self.controls = controls
        self.seed = seed
        self.cache = {}
        self.train_button = button("Train", "dl-train", "success", "play")
        self.stop_button = button("Stop", "dl-stop", "danger", "stop")
        self.stop_button.disabled = True
        self.status_line = styled(w.HTML("Move a slider, then press <b>Train</b>."), "dl-status")
        self.plot = styled(w.Image(format="png", layout=w.Layout(width="100%", max_width=plot_width)), "dl-plot")
        self.plot.layout.visibility = "hidden"  # an empty image would show the browser's broken-image icon
        self.plot.observe(self._show_plot_if_drawn, names="value")
        self.train_button.on_click(self.train)
        self.stop_button.on_click(self.stop)
        self._stop_requested = threading.Event()
        self._thread = None

    def _show_plot_if_drawn(self, change):
        self.plot.layout.visibility = "visible" if len(change.new) else "hidden"

    def _layout(self, buttons, below):
        """The panel: controls, a row of buttons, then the widgets `below` them."""
        self.widget = styled(w.VBox([*self.controls.values(), w.HBox(buttons), *below]), "dl-panel")

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def settings(self):
        """The current value of every control (a range slider's as a tuple), plus the seed."""
        values = {name: control.value for name, control in self.controls.items()}
        return {**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}, "seed": self.seed}

    def key(self, settings):
        return tuple(sorted(settings.items()))

    @property
    def running(self):
        return self._thread is not None and self._thread.is_alive()

    def train(self, _button=None):
        raise NotImplementedError

    def stop(self, _button=None):
        """Ask the running work to stop at its next checkpoint (the end of an epoch or a trial)."""
        self._stop_requested.set()

    def join(self, timeout=None):
        """Wait for running work to end (tests and scripts); returns True if none is running."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _start(self, work, *args):
        """Run work(*args) in a background thread, with the controls locked until it ends."""
        self._stop_requested.clear()
        self._set_running(True)

        def guarded():
            try:
                work(*args)
            except Exception as error:  # a thread's exception would vanish: show it where the student looks
                self.status_line.value = f"<b>Error:</b> {type(error).__name__}: {error}"
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
    """The common part of every panel: Train / Stop / Clear, a status line, a live plot and a cache.

    A subclass sets `self.controls` ({setting name: slider}) and implements `run(settings, callback)`,
    `labels(settings)` and `status(settings, runs)`.
    """

    eval_name = None
    title = ""

    def __init__(self, controls, seed=0):
        super().__init__(controls, seed)
        self.clear_button = button("Clear", "dl-clear", "", "eraser")
        self.clear_button.on_click(self.clear)
        for control in controls.values():
            control.observe(self._show_if_cached, names="value")
        self.live = LiveCurves(self.epochs_for(self.settings()), self.eval_name, self.title, image=self.plot)
        self._layout([self.train_button, self.stop_button, self.clear_button], [self.status_line, self.plot])

    # --- what a subclass provides ---
    def run(self, settings, callback):
        raise NotImplementedError

    def labels(self, settings):
        raise NotImplementedError

    def status(self, settings, runs):
        raise NotImplementedError

    def epochs_for(self, settings):
        return settings["epochs"]

    # --- button handlers ---
    def train(self, _button=None):
        """Train with the current settings in a background thread (or show the cached result)."""
        if self.running:
            return
        settings = self.settings()
        if self._show_if_cached():
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
            return STOP if self._stop_requested.is_set() else None

        result = self.run(settings, on_epoch)
        runs = dict(zip(labels, self.histories(result).values(), strict=True))
        self.status_line.value = self.status(settings, runs)
        self.live.finish()
        if not any(h.stopped for h in runs.values()):
            self.cache[self.key(settings)] = runs

    def histories(self, result):
        """{name: History} from what `run` returned."""
        return result

    def _show_if_cached(self, _change=None):
        """If the current settings were trained before, draw that result at once. Returns True if shown."""
        if self.running:
            return False
        settings = self.settings()
        runs = self.cache.get(self.key(settings))
        if runs is None:
            return False
        self.live.archive()
        self.live.epochs = self.epochs_for(settings)
        self.live.update_runs(runs)
        self.live.finish()
        self.status_line.value = self.status(settings, runs) + " (from cache)"
        return True


def end_note(history):
    if history.diverged:
        return (
            f" · <b>diverged</b> at epoch {history.epoch + 1}: the loss became NaN/inf, so training stopped. "
            "Try a smaller learning rate or initial std."
        )
    if history.stopped:
        return f" · stopped at epoch {history.epoch}"
    return ""


class BatchNormPanel(TrainingPanel):
    """The initial weight std on a log slider; trains the net with and without BN on the same mini-batches."""

    title = "train accuracy: with vs without batch norm"

    def __init__(self, data=None, std=0.01, epochs=20, n_train=1000, seed=0):
        self.data = data if data is not None else load_mnist()
        self.n_train = n_train
        controls = {
            "std": log_slider(std, -4, 0, "weight std", "dl-std"),
            "epochs": styled(
                w.IntSlider(value=epochs, min=1, max=100, description="epochs", continuous_update=False), "dl-epochs"
            ),
        }
        super().__init__(controls, seed)

    def run(self, settings, callback):
        return batchnorm_pair(
            settings["std"],
            n_train=self.n_train,
            epochs=settings["epochs"],
            seed=settings["seed"],
            data=self.data,
            callback=callback,
        )

    def labels(self, settings):
        std = f"std={sci(settings['std'])}"
        return (f"{std} BN", f"{std} no BN")

    def status(self, settings, runs):
        with_bn, without_bn = runs.values()
        return (
            f"epoch {with_bn.epoch}/{settings['epochs']} · std {sci(settings['std'])} · "
            f"with BN {with_bn.final():.3f} · without BN {without_bn.final():.3f}"
            + end_note(with_bn)
            + end_note(without_bn)
        )


class RegularizationPanel(TrainingPanel):
    """λ (weight decay), dropout ratio, learning rate and epochs; draws train and test accuracy and the gap."""

    eval_name = "test"
    title = "overfitting: train (solid) vs test (dashed)"

    def __init__(self, data=None, weight_decay_lambda=0.0, dropout_ratio=0.0, lr=0.01, epochs=100, n_train=300, seed=0):
        self.data = data if data is not None else load_mnist()
        self.n_train = n_train
        controls = {
            "weight_decay_lambda": styled(
                w.SelectionSlider(
                    options=[(f"{v:g}", v) for v in LAMBDAS],
                    value=weight_decay_lambda,
                    description="λ",
                    continuous_update=False,
                ),
                "dl-lambda",
            ),
            "dropout_ratio": styled(
                w.FloatSlider(
                    value=dropout_ratio, min=0, max=0.9, step=0.05, description="dropout", continuous_update=False
                ),
                "dl-dropout",
            ),
            "lr": log_slider(lr, -4, 1, "lr", "dl-lr"),
            "epochs": styled(
                w.IntSlider(value=epochs, min=10, max=400, step=10, description="epochs", continuous_update=False),
                "dl-epochs",
            ),
        }
        super().__init__(controls, seed)

    def run(self, settings, callback):
        return overfitting_run(
            settings["weight_decay_lambda"],
            settings["dropout_ratio"],
            n_train=self.n_train,
            epochs=settings["epochs"],
            lr=settings["lr"],
            seed=settings["seed"],
            data=self.data,
            callback=lambda history: callback({"run": history}),
        )

    def histories(self, result):
        return {"run": result.history}

    def labels(self, settings):
        return (f"λ={settings['weight_decay_lambda']:g} p={settings['dropout_ratio']:.2f} lr={sci(settings['lr'])}",)

    def status(self, settings, runs):
        (history,) = runs.values()
        train, test = history.final("train"), history.final("test")
        return (
            f"epoch {history.epoch}/{settings['epochs']} · train {train:.3f} · test {test:.3f} · "
            f"gap {train - test:+.3f}" + end_note(history)
        )


def batchnorm_panel(data=None, **kwargs):
    """The batch-norm panel, ready to display: `batchnorm_panel(data)` as the last line of a cell."""
    return BatchNormPanel(data, **kwargs)


def regularization_panel(data=None, **kwargs):
    """The weight decay / dropout panel, ready to display."""
    return RegularizationPanel(data, **kwargs)


# --- 04 Hyperparameter search -----------------------------------------------------------------------------------


class SearchPanel(BackgroundPanel):
    """Random search with sliders: the number of trials, the epochs per trial, and the log ranges of the
    learning rate and the weight decay (the sliders hold exponents: -6 .. -2 means 1e-6 .. 1e-2).

    Train runs the search in a background thread (as TrainingPanel does), one trial after the other: every
    finished trial moves the progress bar and appears at once in the table (best first) and in the scatter
    (redrawn at most every ~0.3 s, and after the last trial). Stop ends the search after the current trial.
    The same settings and seed always give the same trials; a finished search is cached and shown at once.
    """

    def __init__(self, data=None, n_trials=20, epochs=20, lr_range=(-6, -2), wd_range=(-8, -4), seed=0, table_rows=10):
        self.objective = search_objective(data if data is not None else load_mnist())
        self.table_rows = table_rows
        self.results = None

        def log_range(value, low, high, description, css_class):
            slider = w.FloatRangeSlider(
                value=value,
                min=low,
                max=high,
                step=0.5,
                readout_format=".1f",
                description=description,
                continuous_update=False,
            )
            return styled(slider, css_class)

        controls = {
            "n_trials": styled(
                w.IntSlider(value=n_trials, min=1, max=100, description="trials", continuous_update=False), "dl-trials"
            ),
            "epochs": styled(
                w.IntSlider(value=epochs, min=1, max=100, description="epochs", continuous_update=False), "dl-epochs"
            ),
            "lr_range": log_range(lr_range, -8, 1, "log₁₀ lr", "dl-lr-range"),
            "wd_range": log_range(wd_range, -10, -1, "log₁₀ λ", "dl-wd-range"),
        }
        super().__init__(controls, seed, plot_width="640px")
        self.status_line.value = "Set the ranges, then press <b>Train</b>."
        self.progress = styled(w.IntProgress(value=0, min=0, max=n_trials, description="trials"), "dl-progress")
        self.table = styled(w.HTML(""), "dl-table")
        self.throttle = Throttle(0.3)
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
        try:
            check_ranges(self.ranges(settings))
        except ValueError as error:  # e.g. both ends of a range slider on the same value
            self.status_line.value = f"<b>Error:</b> {error}. Give each range two different ends."
            return
        key = self.key(settings)
        if key in self.cache:
            self._show(self.cache[key], settings, note=" (from cache)")
            return
        self.progress.max, self.progress.value = settings["n_trials"], 0
        self.table.value = ""
        self.plot.value = b""
        self.throttle = Throttle(0.3)
        self._start(self._search_in_background, settings, key)

    # --- the search itself ---
    def _search_in_background(self, settings, key):
        def on_trial(results):
            self.results = results
            self.progress.value = len(results)
            self.table.value = self.table_html(results)
            self.status_line.value = self.status(results, settings)
            if self.throttle.due():
                started = self.throttle.clock()
                self.draw(results, settings)
                self.throttle.record(started)
            return self._stop_requested.is_set()

        results = random_search(
            self.objective,
            self.ranges(settings),
            settings["n_trials"],
            settings["epochs"],
            settings["seed"],
            progress=False,
            callback=on_trial,
        )
        self._show(results, settings)
        if not results.stopped:
            self.cache[key] = results

    def _show(self, results, settings, note=""):
        self.results = results
        self.progress.max, self.progress.value = settings["n_trials"], len(results)
        self.table.value = self.table_html(results)
        self.draw(results, settings)
        self.status_line.value = self.status(results, settings) + note

    def draw(self, results, settings):
        figure = plot_search_scatter(results, title=f"{len(results)} trials × {settings['epochs']} epochs")
        self.plot.value = to_png(figure)

    def status(self, results, settings):
        best = results.best
        stopped = f" · stopped after trial {len(results)}" if results.stopped else ""
        return (
            f"trial {len(results)}/{settings['n_trials']} · best val acc {best.val_acc:.2f} "
            f"at lr {sci(best.values['lr'])}, λ {sci(best.values['weight_decay'])}{stopped}"
        )

    def table_html(self, results):
        """The best `table_rows` trials as an HTML table: rank, trial number, values, accuracies."""
        header = (
            "<tr><th>rank</th><th>trial</th><th>lr</th><th>weight decay</th><th>val acc</th><th>train acc</th></tr>"
        )
        rows = [
            f"<tr><td>Best-{rank}</td><td>{t.index}</td><td>{sci(t.values['lr'])}</td>"
            f"<td>{sci(t.values['weight_decay'])}</td><td>{t.val_acc:.2f}</td><td>{t.train_acc:.2f}</td></tr>"
            for rank, t in enumerate(results.top(self.table_rows), start=1)
        ]
        style = "<style>.dl-table td, .dl-table th {padding: 1px 10px; text-align: right}</style>"
        return f"{style}<table>{header}{''.join(rows)}</table>"


def search_panel(data=None, **kwargs):
    """The hyperparameter search panel, ready to display: `search_panel(data)` as the last line of a cell."""
    return SearchPanel(data, **kwargs)
