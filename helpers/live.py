"""Training curves that redraw while a net trains.

`LiveCurves` is a `fit` callback. Each frame is rendered to PNG by matplotlib's Agg (50-100 ms on a
laptop), so frames are throttled by time: a new frame only when enough time has passed, and always
the last one. Where the frames go:
- an `ipywidgets.Image` (the slider panels): its value is replaced, so the picture changes in place;
- otherwise, inside IPython, one output that is updated in place (a display handle); nbconvert/nbval
  keep only its final state, so a headless run saves exactly one figure;
- in a plain script, nothing until `finish()`; then `live.figure` holds the final figure.
"""

import time

from IPython import get_ipython
from IPython.display import Image, display

from helpers.checks import check_int
from helpers.plots import new_figure, plot_runs, to_png


class Throttle:
    """Decides when to draw again: at most every `min_interval` seconds, and never so often that
    drawing takes more than a quarter of the time (the interval grows to 3x the last draw's cost)."""

    def __init__(self, min_interval=0.4, clock=time.perf_counter):
        self.min_interval = min_interval
        self.clock = clock
        self.last_draw = None
        self.draw_cost = 0.0

    def due(self):
        if self.last_draw is None:
            return True
        return self.clock() - self.last_draw >= max(self.min_interval, 3 * self.draw_cost)

    def record(self, started):
        """Call after drawing, with the clock value from just before it."""
        self.last_draw = self.clock()
        self.draw_cost = self.last_draw - started


def in_notebook():
    """True inside a Jupyter kernel (which may or may not have a browser attached)."""
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class LiveCurves:
    """Accuracy curves of the current runs, drawn bold, over faint curves of earlier runs.

    eval_name: the eval set drawn dashed beside train ("test", "val"), or None.
    epochs: the x-axis length.
    image: an ipywidgets.Image to draw into; None draws into the notebook output (or nowhere, in a script).
    min_interval: seconds between frames at least.
    """

    def __init__(self, epochs, eval_name=None, title="", image=None, min_interval=0.4):
        self.epochs = check_int("epochs", epochs, low=0)
        self.eval_name = eval_name
        self.title = title
        self.image = image
        self.throttle = Throttle(min_interval)
        self.runs = {}
        self.previous = []
        self.figure = None
        self.frames = 0
        self._handle = None
        self._stale = False  # runs changed since the last frame

    def callback(self, label):
        """A `fit` callback that shows the run as `label`: fit(..., callbacks=[live.callback("λ=0.1")])."""
        if not isinstance(label, str):
            raise TypeError(
                f"label must be a string that names the run, got {type(label).__name__}: "
                'write callbacks=[live.callback("label")]'
            )

        def update(history):
            self.update(label, history)

        return update

    def update(self, label, history):
        """Show `history` as run `label`; redraw if a frame is due, or if the run has ended."""
        self.update_runs({label: history})

    def update_runs(self, runs):
        """Show several runs at once ({label: History}, e.g. with and without BN); at most one frame."""
        self.previous = [(label, h) for label, h in self.previous if label not in runs]  # no run drawn twice
        self.runs.update(runs)
        self._stale = True
        if self.image is None and not in_notebook():
            return  # a script: no frames, only the final figure from finish()
        ended = all(h.diverged or h.epoch >= h.epochs for h in runs.values())
        if ended or self.throttle.due():
            self.draw()

    def draw(self):
        """Render a frame now and send it where it goes."""
        started = self.throttle.clock()
        self.figure = plot_runs(
            self.runs, self.epochs, self.eval_name, self.title, self.previous, new_figure(fixed_margins=True)
        )
        if self.image is not None:
            self.image.value = to_png(self.figure)
        elif in_notebook():
            self._show_in_output(Image(to_png(self.figure)))
        self.frames += 1
        self._stale = False
        self.throttle.record(started)

    def _show_in_output(self, picture):
        if self._handle is None:
            self._handle = display(picture, display_id=True)
        else:
            self._handle.update(picture)

    def finish(self):
        """Draw the final frame (unless it is drawn already) and return the Figure."""
        if self._stale or self.figure is None:
            self.draw()
        return self.figure

    def archive(self, keep=6):
        """Keep the current runs as faint curves (the last `keep` of them) and start afresh."""
        self.previous = [*self.previous, *self.runs.items()][-keep:]
        self.runs = {}
        self.throttle.last_draw = None  # a new run's first frame must not wait for the old run's last

    def clear(self):
        """Forget the earlier runs."""
        self.previous = []
