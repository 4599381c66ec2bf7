"""LiveCurves: throttled frames, always the final one, into an Image widget or nowhere in a script."""

import ipywidgets as w
import pytest

from helpers.live import LiveCurves, Throttle
from helpers.train import History


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def history_at(epoch, epochs, diverged=False):
    h = History(epochs=epochs, eval_acc={"test": [0.1] * (epoch + 1)})
    h.train_acc = [0.1 + 0.01 * i for i in range(epoch + 1)]
    h.diverged = diverged
    return h


def test_throttle_waits_min_interval_and_longer_after_slow_draws():
    clock = FakeClock()
    throttle = Throttle(min_interval=0.3, clock=clock)
    assert throttle.due()
    throttle.record(started=0.0)
    clock.now = 0.2
    assert not throttle.due()
    clock.now = 0.31
    assert throttle.due()
    throttle.record(started=0.31)
    clock.now = 1.31  # that draw took 1 s: wait 3 s before the next
    throttle.record(started=0.31)
    clock.now = 4.2
    assert not throttle.due()
    clock.now = 4.4
    assert throttle.due()


def test_live_curves_draw_few_frames_but_always_the_last():
    image = w.Image(format="png")
    live = LiveCurves(epochs=200, eval_name="test", image=image, min_interval=10.0)
    for epoch in range(201):
        live.update("run", history_at(epoch, 200))
    assert live.frames == 2  # the first, then nothing until the run ended
    assert bytes(image.value).startswith(b"\x89PNG")
    assert len(live.figure.axes[0].lines[0].get_xdata()) == 201


def test_live_curves_draw_final_frame_when_a_run_diverges():
    live = LiveCurves(epochs=50, image=w.Image(format="png"), min_interval=10.0)
    live.update("run", history_at(0, 50))
    live.update("run", history_at(3, 50, diverged=True))
    assert live.frames == 2


def test_live_curves_in_a_script_draw_nothing_until_finish():
    live = LiveCurves(epochs=10)
    for epoch in range(11):
        live.callback("run")(history_at(epoch, 10))
    assert live.frames == 0
    figure = live.finish()
    assert live.frames == 1 and figure is live.figure
    assert live.finish() is figure and live.frames == 1  # nothing changed: no second frame


def test_archived_runs_are_drawn_faint_and_clear_removes_them():
    live = LiveCurves(epochs=5, eval_name="test")
    live.update("λ=0", history_at(5, 5))
    live.archive()
    live.update("λ=0.1", history_at(5, 5))
    labels = [line.get_label() for line in live.finish().axes[0].lines]
    assert labels == ["λ=0 훈련", "λ=0 시험", "λ=0.1 훈련", "λ=0.1 시험"]  # Korean by default (helpers.lang)
    assert live.figure.axes[0].lines[0].get_alpha() < 0.5
    live.clear()
    live.update("λ=0.1", history_at(5, 5))
    assert [line.get_label() for line in live.finish().axes[0].lines] == ["λ=0.1 훈련", "λ=0.1 시험"]


def test_a_new_run_draws_its_first_frame_at_once_after_archive():
    live = LiveCurves(epochs=5, image=w.Image(format="png"), min_interval=10.0)
    live.update("a", history_at(5, 5))
    live.archive()
    live.update("b", history_at(0, 5))  # right after the last frame of "a": still drawn at once
    assert live.frames == 2


def test_a_run_shown_again_is_not_also_drawn_faint():
    live = LiveCurves(epochs=5, eval_name="test")
    live.update("a", history_at(5, 5))
    live.archive()
    live.update("a", history_at(5, 5))
    assert [line.get_label() for line in live.finish().axes[0].lines] == ["a 훈련", "a 시험"]


def test_in_a_notebook_cell_frames_update_one_output_in_place(monkeypatch):
    import helpers.live as live_module

    shown = []

    class Handle:
        def update(self, picture):
            shown.append(("update", picture))

    def fake_display(picture, display_id):
        assert display_id is True
        shown.append(("display", picture))
        return Handle()

    monkeypatch.setattr(live_module, "in_notebook", lambda: True)
    monkeypatch.setattr(live_module, "display", fake_display)
    live = LiveCurves(epochs=3, min_interval=0.0)
    for epoch in range(4):
        live.update("run", history_at(epoch, 3))
    kinds = [kind for kind, _ in shown]
    assert kinds[0] == "display" and set(kinds[1:]) == {"update"}  # one output, updated in place
    assert live.frames == len(shown) and not live._stale  # the final frame was sent
    assert all(picture.data.startswith(b"\x89PNG") for _, picture in shown)


def test_live_curves_name_epochs_that_are_not_a_whole_number_when_made_not_at_their_first_frame():
    with pytest.raises(TypeError, match=r"epochs must be an integer, got '20' \(str\)"):
        LiveCurves("20")
