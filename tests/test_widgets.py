"""The slider panels driven headless: set sliders, press Train, check what ran and what is shown."""

import pytest

from helpers.widgets import BatchNormPanel, RegularizationPanel


@pytest.fixture(scope="module")
def data(fake_digits):
    return fake_digits(200, 100)


def press_train(panel, timeout=60):
    panel.train_button.click()
    assert panel.join(timeout), "training did not end in time"


def test_regularization_panel_trains_with_exactly_the_slider_settings(data, monkeypatch):
    panel = RegularizationPanel(data, n_train=200)
    calls = []
    import helpers.widgets as widgets

    original = widgets.overfitting_run
    monkeypatch.setattr(widgets, "overfitting_run", lambda *a, **k: calls.append((a, k)) or original(*a, **k))
    panel.controls["weight_decay_lambda"].value = 0.1
    panel.controls["dropout_ratio"].value = 0.25
    panel.controls["epochs"].value = 20
    press_train(panel)
    (args, kwargs) = calls[0]
    assert args == (0.1, 0.25) and kwargs["epochs"] == 20 and kwargs["lr"] == pytest.approx(0.01)
    status = panel.status_line.value
    assert status.startswith("epoch 20/20 · train ")
    (history,) = panel.live.runs.values()
    assert history.epoch == 20 and f"test {history.final('test'):.3f}" in status
    assert "λ=0.1 p=0.25" in next(iter(panel.live.runs))
    assert len(bytes(panel.plot.value)) > 1000


def test_moving_back_to_a_trained_setting_shows_the_cached_result_without_training(data, monkeypatch):
    panel = RegularizationPanel(data, n_train=200, epochs=10)
    press_train(panel)
    first_status = panel.status_line.value
    first_history = next(iter(panel.live.runs.values()))
    panel.controls["weight_decay_lambda"].value = 0.3
    press_train(panel)
    import helpers.widgets as widgets

    monkeypatch.setattr(widgets, "overfitting_run", lambda *a, **k: pytest.fail("trained again"))
    panel.controls["weight_decay_lambda"].value = 0.0  # back: no Train press needed
    assert panel.status_line.value == first_status + " (from cache)"
    assert next(iter(panel.live.runs.values())) is first_history
    # the other run stays as a faint curve; the cached one is drawn bold only, not twice
    assert [label for label, _ in panel.live.previous] == ["λ=0.3 p=0.00 lr=1.0e-2"]


def test_stop_ends_a_long_run_early_and_keeps_its_curves(data):
    panel = RegularizationPanel(data, n_train=200, epochs=400)
    panel.train_button.click()
    assert panel.train_button.disabled and not panel.stop_button.disabled
    while not panel.live.runs or next(iter(panel.live.runs.values())).epoch < 3:
        panel.join(0.01)
    epoch_at_click = next(iter(panel.live.runs.values())).epoch
    panel.stop_button.click()
    assert panel.join(10)
    (history,) = panel.live.runs.values()
    # the run checks the button after every epoch: it ends with the epoch under way, or at most one more
    # (when the click came while the epoch after the one read above was being checked)
    assert history.stopped and epoch_at_click <= history.epoch <= epoch_at_click + 2
    assert f"stopped at epoch {history.epoch}" in panel.status_line.value
    assert not panel.train_button.disabled and panel.stop_button.disabled
    assert not panel.cache  # an unfinished run is not cached


def test_diverging_setting_ends_cleanly_with_a_message(data):
    panel = RegularizationPanel(data, n_train=200, epochs=50, lr=10.0)
    press_train(panel)
    (history,) = panel.live.runs.values()
    assert history.diverged and history.epoch < 50
    assert "diverged" in panel.status_line.value and "smaller learning rate" in panel.status_line.value


def test_batchnorm_panel_trains_the_pair_on_the_std_from_the_slider(data):
    panel = BatchNormPanel(data, n_train=200, epochs=5)
    panel.controls["std"].value = 0.1
    press_train(panel)
    assert list(panel.live.runs) == ["std=1.0e-1 BN", "std=1.0e-1 no BN"]
    assert all(h.epoch == 5 for h in panel.live.runs.values())
    assert panel.status_line.value.startswith("epoch 5/5 · std 1.0e-1 · with BN ")


def test_clear_removes_earlier_runs(data):
    panel = BatchNormPanel(data, n_train=200, epochs=2)
    press_train(panel)
    panel.controls["std"].value = 0.1
    press_train(panel)
    assert panel.live.previous
    panel.clear_button.click()
    assert not panel.live.previous and len(panel.live.runs) == 2


def test_every_control_has_a_stable_css_class(data):
    panel = RegularizationPanel(data, n_train=200)
    classes = {
        c
        for child in [*panel.controls.values(), panel.train_button, panel.stop_button, panel.status_line, panel.plot]
        for c in child._dom_classes
    }
    assert {"dl-lambda", "dl-dropout", "dl-lr", "dl-epochs", "dl-train", "dl-stop", "dl-status", "dl-plot"} <= classes
    assert all(not c.continuous_update for c in panel.controls.values())


def test_the_plot_is_hidden_until_something_is_drawn(data):
    panel = BatchNormPanel(data, n_train=200, epochs=1)
    assert panel.plot.layout.visibility == "hidden"
    press_train(panel)
    assert panel.plot.layout.visibility == "visible"
    panel.clear_button.click()  # the current runs stay drawn
    assert panel.plot.layout.visibility == "visible"
