"""The slider panels driven headless: set sliders, press Train, check what ran and what is shown."""

import time

import pytest

import helpers.widgets as widgets
from helpers.experiments import BN_STDS
from helpers.train import History
from helpers.widgets import BatchNormPanel, RegularizationPanel, batchnorm_panel, regularization_panel, sci


@pytest.fixture(scope="module")
def data(fake_digits):
    return fake_digits(200, 100)


@pytest.fixture(autouse=True)
def korean(monkeypatch):
    """The panels' text in Korean, whatever the environment says (the seminar's language)."""
    monkeypatch.setenv("DL4_LANG", "ko")


def press_train(panel, timeout=60):
    panel.train_button.click()
    assert panel.join(timeout), "training did not end in time"


def current(panel):
    (history,) = panel.live.runs.values()
    return history


def wait_for_epoch(panel, epoch, timeout=30):
    """Poll (with a deadline) until the panel's run has finished `epoch` epochs; returns the epoch reached."""
    deadline = time.monotonic() + timeout
    while not panel.live.runs or next(iter(panel.live.runs.values())).epoch < epoch:
        assert time.monotonic() < deadline, f"epoch {epoch} not reached in {timeout} s"
        panel.join(0.01)
    return next(iter(panel.live.runs.values())).epoch


def test_regularization_panel_trains_with_exactly_the_slider_settings(data, monkeypatch):
    panel = RegularizationPanel(data, n_train=200)
    calls = []
    original = widgets.overfitting_run
    monkeypatch.setattr(widgets, "overfitting_run", lambda *a, **k: calls.append((a, k)) or original(*a, **k))
    panel.controls["weight_decay_lambda"].value = 0.1
    panel.controls["dropout_ratio"].value = 0.25
    panel.controls["epochs"].value = 20
    press_train(panel)
    (args, kwargs) = calls[0]
    assert args == (0.1, 0.25) and kwargs["epochs"] == 20 and kwargs["lr"] == pytest.approx(0.01)
    assert kwargs["use_batchnorm"] is False and kwargs["n_test"] == 100  # the fake test set holds 100 images
    status = panel.status_line.value
    assert status.startswith("에폭 20/20 · 훈련 ")
    history = current(panel)
    assert history.epoch == 20 and f"시험 {history.final('test'):.3f}" in status
    assert "λ=0.1 p=0.25" in next(iter(panel.live.runs))
    assert len(bytes(panel.plot.value)) > 1000


def test_the_batchnorm_switch_trains_the_overfitting_net_with_batch_norm(data, monkeypatch):
    panel = RegularizationPanel(data, n_train=200, epochs=10)
    calls = []
    original = widgets.overfitting_run
    monkeypatch.setattr(widgets, "overfitting_run", lambda *a, **k: calls.append(k) or original(*a, **k))
    press_train(panel)
    plain = current(panel)
    panel.controls["use_batchnorm"].value = True
    press_train(panel)
    with_bn = current(panel)
    assert [k["use_batchnorm"] for k in calls] == [False, True]
    assert next(iter(panel.live.runs)).endswith(" BN")
    assert with_bn.train_acc != plain.train_acc  # another net trained, not the cached plain one


def test_moving_back_to_a_trained_setting_shows_the_cached_result_without_training(data, monkeypatch):
    panel = RegularizationPanel(data, n_train=200, epochs=10)
    press_train(panel)
    first_status = panel.status_line.value
    first_history = current(panel)
    panel.controls["weight_decay_lambda"].value = 0.3
    press_train(panel)
    monkeypatch.setattr(widgets, "overfitting_run", lambda *a, **k: pytest.fail("trained again"))
    panel.controls["weight_decay_lambda"].value = 0.0  # back: no Train press needed
    assert panel.status_line.value == first_status + " (저장된 결과)"
    assert current(panel) is first_history
    # the other run stays as a faint curve; the cached one is drawn bold only, not twice
    assert [label for label, _ in panel.live.previous] == ["λ=0.3 p=0.00 lr=1.0e-2"]


def test_stop_ends_a_long_run_early_and_keeps_its_curves(data):
    panel = RegularizationPanel(data, n_train=200, epochs=400)
    panel.train_button.click()
    assert panel.train_button.disabled and not panel.stop_button.disabled
    epoch_at_click = wait_for_epoch(panel, 3)
    panel.stop_button.click()
    assert panel.join(10)
    history = current(panel)
    # the run checks the button after every epoch: it ends with the epoch under way, or at most one more
    # (when the click came while the epoch after the one read above was being checked)
    assert history.stopped and epoch_at_click <= history.epoch <= epoch_at_click + 2
    assert f"에폭 {history.epoch}에서 정지" in panel.status_line.value
    assert not panel.train_button.disabled and panel.stop_button.disabled
    assert not panel.cache  # an unfinished run is not cached


def test_a_diverged_run_is_shown_as_diverged_not_as_an_accuracy(data):
    panel = RegularizationPanel(data, n_train=200, epochs=50, lr=10.0)
    press_train(panel)
    history = current(panel)
    assert history.diverged and history.epoch < 50
    status = panel.status_line.value
    assert status.startswith(f"에폭 {history.epoch}/50 · 발산(diverged)")
    assert "훈련 " not in status and "시험 " not in status  # no accuracy of a net that is no longer a number
    assert "학습률이나 초기 가중치 표준편차를 줄여 보세요" in status


def test_batchnorm_panel_trains_the_pair_on_the_std_from_the_slider_and_shows_their_activations(data):
    panel = BatchNormPanel(data, n_train=200, epochs=5)
    panel.controls["std"].value = 0.1
    assert panel.histograms.layout.visibility == "hidden"
    press_train(panel)
    assert list(panel.live.runs) == ["std=1.0e-1 배치 정규화 있음", "std=1.0e-1 배치 정규화 없음"]
    assert all(h.epoch == 5 for h in panel.live.runs.values())
    assert panel.status_line.value.startswith("에폭 5/5 · std 1.0e-1 · 배치 정규화 있음 ")
    first = bytes(panel.histograms.value)
    assert len(first) > 1000 and panel.histograms.layout.visibility == "visible"

    panel.controls["std"].value = 0.01
    press_train(panel)
    assert bytes(panel.histograms.value) != first  # the other std's trained nets
    panel.controls["std"].value = 0.1  # back: the cached pair and its histograms
    assert bytes(panel.histograms.value) == first


def test_the_histograms_come_from_the_trained_nets(data, monkeypatch):
    panel = BatchNormPanel(data, n_train=200, epochs=3)
    trained, scored = {}, []
    original_pair, original_activations = widgets.batchnorm_pair, widgets.hidden_activations

    def pair(*args, **kwargs):
        runs, nets = original_pair(*args, **kwargs)
        trained.update(nets)
        return runs, nets

    def activations(net, x, train):
        scored.append(net)
        return original_activations(net, x, train)

    monkeypatch.setattr(widgets, "batchnorm_pair", pair)
    monkeypatch.setattr(widgets, "hidden_activations", activations)
    press_train(panel)
    assert scored == [trained["with BN"], trained["without BN"]]


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
    expected = {"dl-lambda", "dl-dropout", "dl-lr", "dl-epochs", "dl-batchnorm", "dl-train", "dl-stop", "dl-status"}
    assert expected | {"dl-plot"} <= classes
    assert all(not c.continuous_update for c in panel.controls.values() if hasattr(c, "continuous_update"))


def test_the_plot_is_hidden_until_something_is_drawn(data):
    panel = BatchNormPanel(data, n_train=200, epochs=1)
    assert panel.plot.layout.visibility == "hidden"
    press_train(panel)
    assert panel.plot.layout.visibility == "visible"
    panel.clear_button.click()  # the current runs stay drawn
    assert panel.plot.layout.visibility == "visible"


def test_the_text_a_student_reads_is_korean_or_english_by_the_language(data, monkeypatch):
    korean = RegularizationPanel(data, n_train=200)
    assert korean.train_button.description == "학습" and korean.stop_button.description == "정지"
    assert korean.controls["weight_decay_lambda"].description == "가중치 감소 λ"
    assert korean.controls["dropout_ratio"].description == "드롭아웃 비율"
    assert korean.controls["lr"].description == "학습률(lr)"
    assert BatchNormPanel(data, n_train=200).controls["std"].description == "초기 가중치 표준편차(std)"
    monkeypatch.setenv("DL4_LANG", "en")
    english = RegularizationPanel(data, n_train=200)
    assert english.train_button.description == "Train" and english.controls["lr"].description == "learning rate"


# --- Arguments: a clear error at construction, never a silently clamped slider --------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda d: regularization_panel(d, n_train=200, epochs=600), ValueError, r"epochs .*\[10, 400\].* 600"),
        (lambda d: regularization_panel(d, n_train=200, epochs=5), ValueError, r"epochs .*\[10, 400\].* 5"),
        (lambda d: regularization_panel(d, n_train=200, dropout_ratio=1.0), ValueError, r"dropout_ratio .*0\.9.* 1\.0"),
        (lambda d: regularization_panel(d, n_train=200, lr=100.0), ValueError, r"lr .*\[0\.0001, 10\].* 100"),
        (
            lambda d: regularization_panel(d, n_train=200, weight_decay_lambda=0.05),
            ValueError,
            r"weight_decay_lambda must be one of the slider's values 0, 0\.0001, .*, 1, got 0\.05",
        ),
        (lambda d: regularization_panel(d, n_train=200, weight_decay_lambda="0.1"), TypeError, "weight_decay_lambda"),
        (lambda d: regularization_panel(d, n_train=50), ValueError, r"n_train must be in \[100, 200\].* 50"),
        (lambda d: regularization_panel(d, n_train=200, n_test=101), ValueError, r"n_test .*\[1, 100\].* 101"),
        (lambda d: regularization_panel(d, n_train=200, use_batchnorm="yes"), TypeError, "use_batchnorm"),
        (lambda d: batchnorm_panel(d, n_train=200, std=0), ValueError, r"std must be in \[0\.0001, 1\], got 0"),
        (lambda d: batchnorm_panel(d, n_train=200, std=float("nan")), ValueError, "std must be a finite number"),
        (lambda d: batchnorm_panel(d, n_train=200, epochs=0), ValueError, r"epochs .*\[1, 100\].* 0"),
        (lambda d: batchnorm_panel(d, n_train=200, epochs=2.5), TypeError, "epochs must be an integer"),
        (lambda d: batchnorm_panel(d, n_train=1), ValueError, r"n_train must be in \[100, 200\].*mini-batch.* 1"),
        (lambda d: batchnorm_panel(d, n_train=201), ValueError, r"n_train must be in \[100, 200\].* 201"),
        (lambda d: batchnorm_panel(d, n_train=200, seed=-1), ValueError, "seed"),
        (lambda d: batchnorm_panel(d, n_train=200, n_jobs=0), ValueError, "n_jobs"),
        (lambda d: batchnorm_panel([1, 2, 3]), TypeError, r"data must be load_mnist\(\)'s result"),
    ],
)
def test_a_bad_argument_is_a_clear_error_at_construction(data, make, error, message):
    with pytest.raises(error, match=message):
        make(data)


def test_a_nan_slider_value_is_refused_at_train_not_a_broken_label(data, monkeypatch):
    assert sci(float("nan")) == "nan" and sci(float("inf")) == "inf" and sci(0.018) == "1.8e-2"
    panel = BatchNormPanel(data, n_train=200, epochs=2)
    monkeypatch.setattr(widgets, "batchnorm_pair", lambda *a, **k: pytest.fail("trained a NaN std"))
    panel.controls["std"].value = float("nan")  # ipywidgets keeps a NaN (it clamps only numbers)
    panel.train_button.click()
    assert not panel.running
    assert "<b>오류:</b> std 값이 유한한 수가 아닙니다" in panel.status_line.value


# --- A panel owns its thread -----------------------------------------------------------------------------------


def assert_stops_within_an_epoch(panel, stop, timeout=10):
    panel.train_button.click()
    wait_for_epoch(panel, 2)
    stop()
    epoch_at_stop = current(panel).epoch  # after stop() returns: making a new panel may take a while under load
    deadline = time.monotonic() + timeout
    while panel.running:
        assert time.monotonic() < deadline, "the thread still runs after the panel was closed or replaced"
        panel.join(0.01)
    history = current(panel)
    assert history.stopped and history.epoch <= epoch_at_stop + 1  # the epoch under way at the stop, no more


def test_closing_the_panel_during_a_run_ends_its_thread_within_an_epoch(data):
    panel = RegularizationPanel(data, n_train=200, epochs=400)
    assert_stops_within_an_epoch(panel, panel.close)
    assert panel.widget.comm is None  # removed from the page
    panel.train_button.click()  # a closed panel starts nothing
    assert not panel.running


def test_closing_the_widget_itself_ends_the_thread(data):
    panel = RegularizationPanel(data, n_train=200, epochs=400)
    assert_stops_within_an_epoch(panel, panel.widget.close)


def test_a_new_panel_of_the_same_kind_stops_the_old_ones_run(data):
    old = RegularizationPanel(data, n_train=200, epochs=400)
    assert_stops_within_an_epoch(old, lambda: RegularizationPanel(data, n_train=200))
    assert not old.train_button.disabled  # the old panel is still usable


def test_a_new_panel_of_another_kind_leaves_a_run_alone(data):
    panel = RegularizationPanel(data, n_train=200, epochs=30)
    panel.train_button.click()
    wait_for_epoch(panel, 1)
    BatchNormPanel(data, n_train=200)
    assert panel.join(60)
    assert not current(panel).stopped and current(panel).epoch == 30


# --- The whole grid, trained in worker processes ------------------------------------------------------------------


def test_the_grid_button_fills_all_sixteen_cells_as_the_pairs_finish(data):
    panel = BatchNormPanel(data, n_train=200, epochs=2, n_jobs=2)
    filled = []
    for cell in panel.grid_cells:
        cell.observe(lambda change: filled.append(len(change.new) > 0), names="value")
    panel.grid_button.click()
    assert panel.train_button.disabled and panel.grid_button.disabled
    assert panel.join(120)
    assert filled.count(True) == len(BN_STDS) and all(len(cell.value) > 1000 for cell in panel.grid_cells)
    status = panel.grid_status.value
    assert status.startswith(f"그리드: {len(BN_STDS)}/{len(BN_STDS)}쌍 완료 · ") and "프로세스 2개" in status
    assert "배치 정규화 있음" in status and "배치 정규화 없음" in status  # the legend
    panel.grid_button.click()  # the same settings again: shown from the cache
    assert not panel.running and panel.grid_status.value.endswith(" (저장된 결과)")


def test_stop_ends_the_grid_after_the_pairs_under_way(data):
    panel = BatchNormPanel(data, n_train=200, epochs=20, n_jobs=2)
    panel.grid_button.click()
    deadline = time.monotonic() + 60
    while not any(len(cell.value) for cell in panel.grid_cells):
        assert time.monotonic() < deadline, "no pair finished"
        panel.join(0.01)
    panel.stop_button.click()
    assert panel.join(30)
    done = sum(1 for cell in panel.grid_cells if len(cell.value))
    assert 1 <= done < len(BN_STDS) and " · 정지" in panel.grid_status.value
    assert not panel.grid_cache  # an unfinished grid is not cached


def test_the_end_note_of_a_diverged_run_says_why_escaped_for_html(monkeypatch):
    monkeypatch.setenv("DL4_LANG", "en")
    history = History(epochs=5, train_acc=[0.1], diverged=True, diverged_reason="loss 1e6 > 10 × <start>")
    note = widgets.end_note(history)
    assert "diverged</b> at epoch 1: loss 1e6 &gt; 10 × &lt;start&gt;, so training stopped" in note


@pytest.mark.parametrize(
    ("make", "setting", "named"),
    [
        (regularization_panel, "lamda", "weight_decay_lambda, dropout_ratio, lr, epochs"),
        (batchnorm_panel, "weight_init_std", "std, epochs, n_train"),
        (widgets.search_panel, "trials", "n_trials, epochs, lr_range, wd_range"),
    ],
)
def test_a_misspelt_panel_setting_is_refused_with_the_settings_the_panel_knows(data, make, setting, named):
    with pytest.raises(TypeError, match=rf"Panel has no setting '{setting}'; its settings are {named}"):
        make(data, **{setting: 0.1})
