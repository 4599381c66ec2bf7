"""The search panel driven headless: set the sliders, press Train, check what was searched and what is shown."""

import time

import pytest

import helpers.widgets as widgets
from helpers.data import load_mnist
from helpers.search import random_search
from helpers.widgets import SearchPanel


@pytest.fixture(scope="module")
def data(fake_digits):
    return fake_digits(600, 100)


@pytest.fixture(autouse=True)
def korean(monkeypatch):
    """The panel's text in Korean, whatever the environment says (the seminar's language)."""
    monkeypatch.setenv("DL4_LANG", "ko")


def press_train(panel, timeout=60):
    panel.train_button.click()
    assert panel.join(timeout), "the search did not end in time"


def small_panel(data, **kwargs):
    settings = {"n_trials": 3, "epochs": 2, "lr_range": (-3, -1), "n_jobs": 1} | kwargs
    return SearchPanel(data, **settings)


def test_the_panel_searches_exactly_the_slider_settings(data, monkeypatch):
    panel = small_panel(data)
    calls = []
    monkeypatch.setattr(widgets, "random_search", lambda *a, **k: calls.append((a, k)) or random_search(*a, **k))
    panel.controls["n_trials"].value = 4
    panel.controls["epochs"].value = 3
    panel.controls["lr_range"].value = (-2.5, -0.5)
    panel.controls["wd_range"].value = (-7, -5)
    press_train(panel)
    ((objective, ranges, n_trials, epochs, seed), kwargs) = calls[0]
    assert ranges == {"lr": (10**-2.5, 10**-0.5), "weight_decay": (1e-7, 1e-5)}
    assert (n_trials, epochs, seed, kwargs["n_jobs"]) == (4, 3, 0, 1)
    expected = random_search(objective, ranges, 4, 3, seed=0, progress=False)
    assert [t.values for t in panel.results] == [t.values for t in expected]
    assert [t.history.eval_acc for t in panel.results] == [t.history.eval_acc for t in expected]
    assert (panel.progress.value, panel.progress.max) == (4, 4)
    assert panel.status_line.value.startswith(f"시행 4/4 · 최고 검증 정확도 {panel.results.best.val_acc:.2f}")
    assert panel.table.value.count("<tr>") == 1 + 4 and "Best-1" in panel.table.value
    assert len(bytes(panel.plot.value)) > 1000


def test_progress_and_table_fill_as_the_trials_finish(data):
    panel = small_panel(data, n_trials=3)
    progress, rows = [], []
    panel.progress.observe(lambda change: progress.append(change.new), names="value")
    panel.table.observe(lambda change: rows.append(change.new.count("<tr>") - 1), names="value")
    press_train(panel)
    assert progress == [1, 2, 3]
    assert [n for n in rows if n > 0][:3] == [1, 2, 3]  # one more row after every trial


def test_the_table_lists_the_best_first(data):
    panel = small_panel(data, n_trials=4, table_rows=3)
    press_train(panel)
    best = panel.results.top(3)
    table = panel.table.value
    assert table.count("<tr>") == 1 + 3
    positions = [table.index(f"<td>{t.index}</td>") for t in best]
    assert positions == sorted(positions)


def test_stop_ends_the_search_after_the_current_trial_and_keeps_what_it_found(data):
    panel = small_panel(data, n_trials=100, epochs=3)
    panel.train_button.click()
    assert panel.train_button.disabled and not panel.stop_button.disabled
    assert all(control.disabled for control in panel.controls.values())
    while panel.progress.value < 2:
        panel.join(0.01)
    panel.stop_button.click()
    assert panel.join(30)
    assert panel.results.stopped and 2 <= len(panel.results) < 100
    assert f"시행 {len(panel.results)} 후 정지" in panel.status_line.value
    assert not panel.train_button.disabled and panel.stop_button.disabled
    assert not panel.cache  # an unfinished search is not cached


def test_the_same_settings_again_show_the_cached_search_without_training(data, monkeypatch):
    panel = small_panel(data)
    press_train(panel)
    first = panel.results
    monkeypatch.setattr(widgets, "random_search", lambda *a, **k: pytest.fail("searched again"))
    press_train(panel)
    assert panel.results is first and panel.status_line.value.endswith("(저장된 결과)")


def test_a_range_with_both_ends_on_one_value_is_reported_instead_of_searched(data, monkeypatch):
    panel = small_panel(data)
    monkeypatch.setattr(widgets, "random_search", lambda *a, **k: pytest.fail("searched an empty range"))
    panel.controls["lr_range"].value = (-3, -3)
    panel.train_button.click()
    assert not panel.running
    assert "ranges['lr'] is empty" in panel.status_line.value and "두 끝을 서로 다르게" in panel.status_line.value


def test_every_control_has_a_stable_css_class(data):
    panel = small_panel(data)
    parts = [*panel.controls.values(), panel.train_button, panel.stop_button, panel.status_line, panel.plot]
    classes = {c for part in [*parts, panel.table, panel.progress] for c in part._dom_classes}
    expected = {"dl-trials", "dl-epochs", "dl-lr-range", "dl-wd-range", "dl-train", "dl-stop", "dl-status"}
    assert expected | {"dl-plot", "dl-table", "dl-progress"} <= classes
    assert all(not control.continuous_update for control in panel.controls.values())


def test_diverged_trials_are_shown_as_diverged_not_as_val_acc_zero(data):
    panel = small_panel(data, n_trials=4, epochs=3, lr_range=(0.5, 1))  # lr 3 .. 10: every trial diverges
    press_train(panel)
    assert all(trial.history.diverged for trial in panel.results)
    assert panel.table.value.count("발산(diverged)") == 4 and "0.00" not in panel.table.value
    assert panel.status_line.value.startswith("시행 4/4 · 모든 시행이 발산(diverged) · 4회 발산(diverged)")


def test_the_trials_run_in_worker_processes_and_give_the_same_results(data):
    serial = small_panel(data, n_trials=4)
    press_train(serial)
    parallel = small_panel(data, n_trials=4, n_jobs=2)
    press_train(parallel)
    assert [t.history.eval_acc for t in parallel.results] == [t.history.eval_acc for t in serial.results]


def test_closing_the_panel_during_a_search_ends_it_within_a_trial(data):
    panel = small_panel(data, n_trials=100, epochs=3)
    panel.train_button.click()
    deadline = time.monotonic() + 30
    while panel.progress.value < 1:
        assert time.monotonic() < deadline, "no trial finished"
        panel.join(0.01)
    done_at_close = panel.progress.value
    panel.close()
    assert panel.join(30)
    assert panel.results.stopped and len(panel.results) <= done_at_close + 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_trials": 0}, ValueError, r"n_trials .*\[1, 100\].* 0"),
        ({"n_trials": 500}, ValueError, r"n_trials .*\[1, 100\].* 500"),
        ({"epochs": 101}, ValueError, r"epochs .*\[1, 100\].* 101"),
        ({"lr_range": (-9, -2)}, ValueError, r"lr_range must be in \[-8, 1\], got -9"),
        ({"lr_range": (-2, -6)}, ValueError, r"lr_range must have low < high .* \(-2, -6\)"),
        ({"wd_range": -4}, TypeError, r"wd_range must be a pair of exponents"),
        ({"wd_range": (-8, float("nan"))}, ValueError, r"wd_range must be a finite number"),
        ({"table_rows": 0}, ValueError, "table_rows"),
        ({"n_jobs": 0}, ValueError, "n_jobs"),
    ],
)
def test_a_bad_argument_is_a_clear_error_at_construction(data, kwargs, error, message):
    with pytest.raises(error, match=message):
        SearchPanel(data, **kwargs)


@pytest.mark.slow
def test_the_default_search_reaches_the_slides_validation_accuracy():
    """With its defaults, on the series' own data, the panel finds a setting above 0.7 validation accuracy (the
    slide's log shows 0.83), in about 10 s on 2 cores (printed; -s to see it)."""
    panel = SearchPanel(load_mnist(verbose=False))
    press_train(panel, timeout=120)
    best = panel.results.best
    print(f"\ndefault search: best val acc {best.val_acc:.2f} at {best.values} after {panel.seconds:.1f} s")
    assert len(panel.results) == panel.controls["n_trials"].value == 40 and not panel.results.stopped
    assert best.val_acc >= 0.7


@pytest.mark.parametrize("lr_range", [(1e-6, 1e-2), (-5.3, -2)])
def test_a_range_that_is_not_exponents_on_the_slider_s_steps_is_refused(data, lr_range):
    # (1e-6, 1e-2) read as exponents would search lr 10**0.000001 .. 10**0.01, about 1 .. 1.02
    with pytest.raises(ValueError, match=r"lr_range holds exponents of 10 in steps of 0.5.*write their exponents"):
        SearchPanel(data, lr_range=lr_range)
