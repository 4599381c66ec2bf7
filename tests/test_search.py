"""helpers.search: log-uniform sampling, the validation objective, random search, narrow, successive halving;
helpers.results (how trials rank, diverged ones included) and helpers.parallel (worker processes)."""

import os
import re
import time
import warnings

import numpy as np
import psutil
import pytest
from fakes import fake_results, make_blobs, trial_curves

from helpers.search import (
    SEMINAR_RANGES,
    ValidationObjective,
    check_n_jobs,
    check_ranges,
    grid_search,
    halving_schedule,
    log_grid,
    narrow,
    random_search,
    sample_log_uniform,
    successive_halving,
    trial_draw,
)
from helpers.train import STOP

FAST = {"progress": False}


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """The messages below are matched in English; the Korean ones have their own tests."""
    monkeypatch.setenv("DL4_LANG", "en")


def blobs(n, seed):
    """Three Gaussian clouds that overlap a little (spread 1.5): a search has something to find."""
    return make_blobs(n, seed, spread=1.5)


@pytest.fixture(scope="module")
def objective():
    """A tiny net (20-16-16-3) on 120 training / 40 validation samples: a trial takes milliseconds."""
    return ValidationObjective(blobs(120, 0), blobs(40, 1), hidden_sizes=(16, 16), batch_size=20, output_size=3)


def worker_processes():
    """The processes started to run trials: every process below this one except multiprocessing's own
    helpers (the forkserver that starts workers, the resource tracker), which it keeps for the session."""
    me = psutil.Process()
    return [
        p
        for p in me.children(recursive=True)
        if not (p.ppid() == me.pid and "from multiprocessing." in " ".join(p.cmdline()))
    ]


def wait_until(condition, timeout):
    """Poll condition() every 50 ms until it holds (True) or `timeout` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# --- sampling -------------------------------------------------------------------------------------------------


def test_log_uniform_samples_give_every_decade_the_same_share():
    rng = np.random.default_rng(0)
    lrs = np.array([sample_log_uniform({"lr": (1e-6, 1e-2)}, rng)["lr"] for _ in range(4000)])
    assert lrs.min() >= 1e-6 and lrs.max() <= 1e-2
    shares = np.histogram(np.log10(lrs), bins=[-6, -5, -4, -3, -2])[0] / len(lrs)
    assert np.allclose(shares, 0.25, atol=0.03), shares


def test_a_trial_draws_its_values_from_the_search_seed_and_its_index_only():
    assert trial_draw(SEMINAR_RANGES, 0, 5) == trial_draw(SEMINAR_RANGES, 0, 5)
    assert trial_draw(SEMINAR_RANGES, 0, 5) != trial_draw(SEMINAR_RANGES, 0, 6)
    assert trial_draw(SEMINAR_RANGES, 0, 5) != trial_draw(SEMINAR_RANGES, 1, 5)


def test_log_grid_spans_each_range_end_to_end_on_a_log_scale():
    grid = log_grid(SEMINAR_RANGES, 3)
    assert len(grid) == 9
    assert sorted({round(np.log10(v["lr"]), 9) for v in grid}) == [-6, -4, -2]
    assert sorted({round(np.log10(v["weight_decay"]), 9) for v in grid}) == [-8, -6, -4]


# --- the objective and random search --------------------------------------------------------------------------


def test_the_score_is_the_accuracy_on_the_validation_labels(objective):
    x_val, t_val = objective.x_val, objective.t_val
    wrong = ValidationObjective(
        (objective.x_train, objective.t_train),
        (x_val, (t_val + 1) % 3),
        hidden_sizes=(16, 16),
        batch_size=20,
        output_size=3,
    )
    values = {"lr": 0.1, "weight_decay": 1e-6}
    right_acc = objective.train(values, 10, seed=0).final("val")
    wrong_acc = wrong.train(values, 10, seed=0).final("val")
    assert right_acc > 0.8 and wrong_acc < 0.2  # same net, same training: only the validation labels differ


def test_random_search_finds_that_a_larger_learning_rate_trains_better(objective):
    results = random_search(objective, {"lr": (1e-5, 0.3), "weight_decay": (1e-8, 1e-4)}, 8, epochs=10, **FAST)
    assert len(results) == 8 and results.epochs_spent == 80
    best, worst = results.sorted()[0], results.sorted()[-1]
    assert best.val_acc > 0.85 > worst.val_acc
    assert best.values["lr"] > 10 * worst.values["lr"]
    assert len(best.history.eval_acc["val"]) == len(best.history.train_acc) == 11  # curves, epoch 0 included


def test_the_first_trials_of_a_longer_search_are_the_shorter_search(objective):
    short = random_search(objective, n_trials=2, epochs=3, seed=4, **FAST)
    long = random_search(objective, n_trials=4, epochs=3, seed=4, **FAST)
    assert [t.values for t in short] == [t.values for t in long[:2]]
    assert [t.history.eval_acc for t in short] == [t.history.eval_acc for t in long[:2]]
    other_seed = random_search(objective, n_trials=2, epochs=3, seed=5, **FAST)
    assert [t.values for t in other_seed] != [t.values for t in short]


def curves(results):
    """Every number a search recorded, trial by trial: values, seeds and accuracy curves."""
    return [(t.index, t.values, t.seed, t.history.train_acc, t.history.eval_acc) for t in results]


def test_worker_processes_give_bit_identical_results_to_the_serial_search(objective):
    ranges = {"lr": (1e-3, 0.3), "weight_decay": (1e-8, 1e-4)}
    serial = random_search(objective, ranges, n_trials=5, epochs=4, seed=3, n_jobs=1, **FAST)
    parallel = random_search(objective, ranges, n_trials=5, epochs=4, seed=3, n_jobs=2, **FAST)
    assert [t.index for t in parallel] == [0, 1, 2, 3, 4]
    assert curves(parallel) == curves(serial)  # exact float equality, not approx
    halving = {n: successive_halving(objective, ranges, 6, 1, 3, seed=3, n_jobs=n, **FAST) for n in (1, 2)}
    assert [curves(rung) for rung in halving[2].rungs] == [curves(rung) for rung in halving[1].rungs]


def test_no_worker_process_outlives_the_search(objective):
    assert not worker_processes()
    random_search(objective, n_trials=4, epochs=2, n_jobs=2, **FAST)
    assert wait_until(lambda: not worker_processes(), timeout=10), worker_processes()


def test_a_callback_that_returns_stop_stops_the_search(objective):
    seen = []

    def stop_after_two(results):
        seen.append(len(results))
        return STOP if len(results) == 2 else None

    results = random_search(objective, n_trials=6, epochs=2, callback=stop_after_two, **FAST)
    assert seen == [1, 2] and len(results) == 2 and results.stopped


def test_a_callback_returning_anything_but_none_or_stop_is_a_clear_error(objective):
    with pytest.raises(TypeError, match="returned .*: a callback returns None to go on, or helpers.train.STOP"):
        random_search(objective, n_trials=3, epochs=1, callback=lambda r: [r], **FAST)


def test_stop_in_a_parallel_search_keeps_the_finished_trials_and_ends_the_workers(objective):
    results = random_search(
        objective, n_trials=400, epochs=20, n_jobs=2, callback=lambda r: STOP if len(r) >= 2 else None, **FAST
    )
    assert results.stopped and 2 <= len(results) < 400
    assert [t.index for t in results] == sorted(t.index for t in results)
    assert wait_until(lambda: not worker_processes(), timeout=10), worker_processes()


def test_an_interrupt_cancels_the_pending_trials_and_ends_the_workers(objective):
    # 4000 trials of ~20 ms: two workers would need ~40 s to run them all, so workers that are gone
    # within 10 s of the interrupt did not run the pending trials
    calls = []

    def interrupt(results):
        calls.append(len(results))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        random_search(objective, n_trials=4000, epochs=20, n_jobs=2, callback=interrupt, **FAST)
    assert calls == [1]
    assert wait_until(lambda: not worker_processes(), timeout=10), worker_processes()


@pytest.mark.parametrize(("n_jobs", "expected"), [(1, 1), (3, 3), (-1, os.cpu_count())])
def test_check_n_jobs_takes_minus_one_as_one_per_core(n_jobs, expected):
    assert check_n_jobs(n_jobs) == expected


@pytest.mark.parametrize(
    ("n_jobs", "error", "words"),
    [
        (0, ValueError, r"n_jobs must be -1 \(one per CPU core\) or an integer >= 1, got 0"),
        (-2, ValueError, "got -2"),
        (-1.0, TypeError, "n_jobs must be an integer, got -1.0"),
    ],
)
def test_check_n_jobs_refuses_other_values(n_jobs, error, words):
    with pytest.raises(error, match=words):
        check_n_jobs(n_jobs)


# --- results ----------------------------------------------------------------------------------------------------


def test_a_trial_prints_in_the_seminars_format_with_the_exact_values():
    results = fake_results([0.007922939548017044], [4.35e-08], [0.83])
    line = str(results[0])
    assert line == "val acc:0.83 | lr:0.007922939548017044, weight decay:4.35e-08"
    match = re.fullmatch(r"val acc:(\S+) \| lr:(\S+), weight decay:(\S+)", line)
    assert [float(g) for g in match.groups()] == [0.83, 0.007922939548017044, 4.35e-08]


def test_results_sort_best_first_rank_and_convert_to_plain_rows():
    results = fake_results([1e-3, 1e-2, 1e-4, 1e-5], [1e-8, 1e-7, 1e-6, 1e-5], [0.5, 0.9, 0.7, 0.7])
    assert [t.index for t in results.sorted()] == [1, 2, 3, 0]  # ties keep the trial order
    assert [t.index for t in sorted(results, reverse=True)] == [1, 2, 3, 0]
    assert results.best.index == 1 and [t.index for t in results.top(2)] == [1, 2]
    assert results.ranking(2).splitlines() == [
        "Best-1(val acc:0.9) | lr:0.01, weight decay:1e-07",
        "Best-2(val acc:0.7) | lr:0.0001, weight decay:1e-06",
    ]
    row = results.table()[1]
    assert row == {
        "trial": 1,
        "lr": 0.01,
        "weight_decay": 1e-07,
        "val_acc": 0.9,
        "train_acc": 0.9,
        "epochs": 1,
        "diverged": False,
    }
    assert str(results).splitlines()[0] == "val acc:0.5 | lr:0.001, weight decay:1e-08"
    spent, best = results.best_so_far()
    assert spent.tolist() == [1, 2, 3, 4] and best.tolist() == [0.5, 0.9, 0.9, 0.9]


def test_a_diverged_trial_scores_zero_and_says_so():
    results = fake_results([1.0], [1e-8], [0.6], diverged=[True])
    assert results[0].val_acc == 0.0 and "(diverged)" in str(results[0]) and results.table()[0]["diverged"]


def test_a_diverged_trial_is_never_counted_among_the_best():
    # trial 1 trained but scored 0.0, trial 2 is at chance: both rank above the diverged trial 0
    results = fake_results([10.0, 1e-6, 1e-5, 1e-3], [1e-8] * 4, [0.0, 0.0, 0.1, 0.8], diverged=[True] + [False] * 3)
    assert [t.index for t in results.sorted()] == [3, 2, 1, 0]
    assert [t.index for t in results.top(4)] == [3, 2, 1]
    assert "diverged" not in results.ranking()
    assert len(results.ranking().splitlines()) == 3


def test_best_of_a_search_where_every_trial_diverged_is_an_error_that_says_so():
    results = fake_results([10.0, 20.0], [1e-8] * 2, [0.5, 0.5], diverged=[True, True])
    with pytest.raises(ValueError, match="all 2 trials diverged: there is no best trial"):
        _ = results.best
    assert len(results.top(2)) == 0
    assert "2 diverged" in repr(results)


# --- narrow -------------------------------------------------------------------------------------------------------


def test_narrow_proposes_the_span_of_the_best_trials_around_an_optimum_inside_the_range():
    rng = np.random.default_rng(0)
    lrs, wds = 10 ** rng.uniform(-6, -2, 40), 10 ** rng.uniform(-8, -4, 40)
    accs = 0.9 - 0.2 * np.abs(np.log10(lrs) + 4)  # best at lr = 1e-4, weight decay does not matter
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no edge warning here
        proposal = narrow(fake_results(lrs, wds, accs), top_k=5)
    low, high = proposal["lr"]
    best_five = np.sort(lrs[np.argsort(-accs)[:5]])
    assert low <= best_five[0] and high >= best_five[-1]  # rounded outwards: every top value stays inside
    assert 1e-5 < low < 1e-4 < high < 1e-3
    wd_low, wd_high = proposal["weight_decay"]
    assert np.log10(wd_high / wd_low) > 2  # an unimportant hyperparameter keeps a wide range


def test_narrow_warns_and_grows_the_range_when_the_best_values_sit_at_its_edge():
    rng = np.random.default_rng(1)
    lrs, wds = 10 ** rng.uniform(-6, -2, 40), 10 ** rng.uniform(-8, -4, 40)
    accs = 0.1 + 0.2 * (np.log10(lrs) + 6)  # the larger the lr, the better, right up to the edge 1e-2
    with pytest.warns(UserWarning, match=r"best lr values sit at the upper edge .* grows to 0\.1"):
        proposal = narrow(fake_results(lrs, wds, accs), top_k=5)
    assert proposal["lr"][1] == pytest.approx(0.1) and proposal["lr"][0] > 1e-3


def test_narrow_warns_in_korean_in_the_korean_notebooks(monkeypatch):
    monkeypatch.setenv("DL4_LANG", "ko")
    lrs = np.logspace(-6, -2, 20)
    with pytest.warns(
        UserWarning, match=r"가장 좋은 lr 값들이 범위 \(1e-06, 0\.01\)의 위쪽 가장자리에 있습니다: .* 0\.1까지"
    ):
        narrow(fake_results(lrs, np.full(20, 1e-6), np.linspace(0.1, 0.9, 20)), top_k=4)


def test_narrow_warns_at_the_lower_edge_too():
    lrs = np.logspace(-6, -2, 20)
    accs = np.linspace(0.9, 0.1, 20)  # the smaller the better
    with pytest.warns(UserWarning, match="lower edge"):
        proposal = narrow(fake_results(lrs, np.full(20, 1e-6), accs), top_k=4)
    assert proposal["lr"][0] == pytest.approx(1e-7)


def with_diverged_trials(lrs, val_accs, diverged, ranges=SEMINAR_RANGES):
    return fake_results(lrs, np.full(len(lrs), 1e-6), val_accs, diverged, ranges=ranges)


def test_narrow_leaves_out_diverged_trials():
    # the 3 trials that trained sit near lr 1e-4; 5 diverged at larger lr, with curves that looked good
    lrs = [1e-4, 1.2e-4, 0.9e-4, 5e-3, 6e-3, 7e-3, 8e-3, 9e-3]
    results = with_diverged_trials(lrs, [0.8, 0.79, 0.78] + [0.9] * 5, [False] * 3 + [True] * 5)
    with pytest.warns(UserWarning, match="5 of the 8 trials diverged") as caught:
        proposal = narrow(results, top_k=3)
    assert len(caught) == 1  # nothing else: the proposal holds none of the diverged trials
    assert 8e-5 <= proposal["lr"][0] <= 9e-5 and 1.2e-4 <= proposal["lr"][1] < 1.3e-4


def test_narrow_warns_when_fewer_than_top_k_trials_did_not_diverge_and_uses_those():
    lrs = [1e-4, 1.2e-4, 0.9e-4, 5e-3, 6e-3, 7e-3, 8e-3, 9e-3]
    results = with_diverged_trials(lrs, [0.8, 0.79, 0.78] + [0.9] * 5, [False] * 3 + [True] * 5)
    with pytest.warns(UserWarning) as caught:
        proposal = narrow(results, top_k=5)
    assert [str(w.message) for w in caught] == [
        "5 of the 8 trials diverged (lr 0.005 .. 0.009, weight decay 1e-06 .. 1e-06): much of the range does not train",
        "only 3 of the 8 trials did not diverge: the proposal spans those 3 instead of the best top_k=5",
    ]
    assert proposal["lr"][1] < 1.3e-4


HUGE = {"lr": (1e2, 1e6), "weight_decay": (1e-8, 1e-4)}


def test_narrow_refuses_a_search_where_every_large_learning_rate_diverged():
    results = fake_results(np.logspace(2, 6, 8), [1e-6] * 8, [0.1] * 8, [True] * 7 + [False], ranges=HUGE)
    message = r"7 of the 8 trials diverged \(lr 1e\+02 .. 2.7e\+05.*narrowing needs at least 2 trials that did not"
    with pytest.raises(ValueError, match=message):
        narrow(results, top_k=2)


def test_narrow_warns_when_the_best_trials_barely_learned():
    # alive, but at chance: val acc 0.1 .. 0.15 after starting at 0.1 (the lr 1e2 .. 1e6 without NaN)
    results = fake_results(np.logspace(2, 6, 8), np.full(8, 1e-6), np.linspace(0.1, 0.15, 8), ranges=HUGE)
    with pytest.warns(UserWarning, match=r"8 of the best 8 trials barely learned \(best val acc 0\.15\)"):
        narrow(results, top_k=8)


def test_trials_at_chance_rank_normally_and_trials_that_learned_are_no_warning():
    results = fake_results([1e-4, 1e-3, 1e-2], [1e-6] * 3, [0.11, 0.5, 0.12])
    assert [t.index for t in results.sorted()] == [1, 2, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        narrow(results, top_k=2)  # the best of 2 learned (0.5), one did not: no majority, no warning


def test_narrow_does_not_grow_an_edge_beyond_which_the_trials_diverged():
    # lr 1e-4 .. 1: the larger the better up to 0.1, every trial above 0.1 diverged
    lrs = np.logspace(-4, 0, 17)
    diverged = list(lrs > 0.1)
    results = with_diverged_trials(lrs, 0.1 + 0.2 * (np.log10(lrs) + 4), diverged)
    with pytest.warns(UserWarning, match=r"upper edge .* but most trials beyond 0\.1 diverged"):
        proposal = narrow(results, top_k=4, edge=0.4)
    assert proposal["lr"][1] == pytest.approx(0.1)


def test_narrow_warns_when_a_diverged_trial_lies_inside_the_proposal():
    # the trial at lr 3e-3 diverged (an unlucky seed) between trials that trained well
    lrs = [1e-3, 2e-3, 3e-3, 4e-3, 1e-5, 1e-6]
    ranges = {"lr": (1e-7, 1e-1), "weight_decay": (1e-8, 1e-4)}  # the best lie inside, away from its edges
    results = with_diverged_trials(lrs, [0.8, 0.85, 0.0, 0.82, 0.2, 0.1], [False, False, True] + [False] * 3, ranges)
    with pytest.warns(UserWarning, match=r"1 trial\(s\) that diverged lie inside the proposed range \(lr 0\.001"):
        narrow(results, top_k=3)


def test_narrow_never_proposes_a_range_silently_when_huge_learning_rates_were_searched(fake_digits):
    # the reproduction: a 784-20-10 net, SGD with lr 1e2 .. 1e6: its losses grow to 1e10 .. 1e34
    train, val = fake_digits(300, 100)
    digits = ValidationObjective(train, val, hidden_sizes=(20,))
    results = random_search(digits, {"lr": (1e2, 1e6), "weight_decay": (1e-8, 1e-4)}, 8, epochs=5, **FAST)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            narrow(results, top_k=4)
        except ValueError as error:
            assert "diverged" in str(error)
            return
    assert any("barely learned" in str(w.message) or "diverged" in str(w.message) for w in caught)


def test_narrow_names_its_bad_arguments():
    results = fake_results([1e-3, 1e-2, 1e-4], [1e-8, 1e-7, 1e-6], [0.5, 0.9, 0.7])
    with pytest.raises(ValueError, match="top_k"):
        narrow(results, top_k=1)
    with pytest.raises(ValueError, match="results has 1 trial"):
        narrow(results[:1], top_k=2)
    with pytest.raises(TypeError, match="results must be SearchResults"):
        narrow([1, 2, 3])


# --- successive halving -----------------------------------------------------------------------------------------


def test_halving_schedule_keeps_a_third_and_triples_the_epochs_up_to_the_maximum():
    assert halving_schedule(81, 2, 50, 3) == [(81, 2), (27, 6), (9, 18), (3, 50)]
    assert halving_schedule(10, 5, 20, 2) == [(10, 5), (5, 10), (2, 20)]
    assert halving_schedule(4, 10, 10) == [(4, 10)]


def test_successive_halving_promotes_the_best_and_reruns_them_exactly_as_random_search_would(objective):
    ranges = {"lr": (1e-4, 0.3), "weight_decay": (1e-8, 1e-4)}
    halving = successive_halving(objective, ranges, n_trials=9, min_epochs=1, max_epochs=9, seed=2, **FAST)
    assert halving.schedule == [(9, 1), (3, 3), (1, 9)]
    assert [len(rung) for rung in halving.rungs] == [9, 3, 1]
    assert halving.epochs_spent == 9 * 1 + 3 * 3 + 1 * 9
    for rung, next_rung in zip(halving.rungs, halving.rungs[1:], strict=False):
        promoted = {t.index for t in next_rung}
        assert promoted == {t.index for t in rung.top(len(next_rung))}
    plain = random_search(objective, ranges, n_trials=9, epochs=9, seed=2, **FAST)
    winner = halving.best
    assert winner.history.eval_acc == plain[winner.index].history.eval_acc
    spent, best = halving.best_so_far()
    assert spent[-1] == halving.epochs_spent and best[-1] == max(t.val_acc for t in halving.trials)


class LrCliff:
    """An objective without training: every lr above 1 diverges, below it the larger lr scores better."""

    names = ("lr", "weight_decay")

    def check_names(self, names):
        pass

    def train(self, values, epochs, seed):
        lr = values["lr"]
        return trial_curves(min(0.9, 0.5 + 0.1 * np.log10(lr) + 0.01 * epochs), diverged=lr > 1)


def test_successive_halving_never_promotes_a_diverged_trial():
    ranges = {"lr": (1e-3, 1e3), "weight_decay": (1e-8, 1e-4)}
    halving = successive_halving(LrCliff(), ranges, n_trials=9, min_epochs=1, max_epochs=9, seed=0, **FAST)
    first = halving.rungs[0]
    assert 0 < len(first.diverged()) < 9  # some diverged, and they had the largest lr
    assert all(not t.diverged for rung in halving.rungs[1:] for t in rung)
    assert "diverged" in str(halving)


def test_successive_halving_ends_when_every_trial_of_a_rung_diverged(monkeypatch):
    halving = successive_halving(LrCliff(), {"lr": (10, 100)}, n_trials=9, min_epochs=1, max_epochs=9, **FAST)
    assert len(halving.rungs) == 1 and len(halving.rungs[0].diverged()) == 9
    assert "every trial diverged" in str(halving)
    monkeypatch.setenv("DL4_LANG", "ko")
    assert str(halving).splitlines() == ["rung 0: 시행   9개 ×  1에폭, 모든 시행이 발산", "모두 9에폭"]
    with pytest.raises(ValueError, match="all 9 trials diverged"):
        _ = halving.best


def test_grid_search_trains_every_combination(objective):
    results = grid_search(objective, {"lr": (1e-3, 0.1), "weight_decay": (1e-8, 1e-6)}, points=2, epochs=2, **FAST)
    assert len(results) == 4 and [t.values["lr"] for t in results] == pytest.approx([1e-3, 1e-3, 0.1, 0.1])


# --- bad input ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ranges", "error", "message"),
    [
        ({}, ValueError, "ranges is empty"),
        ([("lr", (1e-6, 1e-2))], TypeError, "ranges must be a dict"),
        ({"lr": (1e-2, 1e-6)}, ValueError, r"ranges\['lr'\] is inverted.*\(0.01, 1e-06\)"),
        ({"lr": (1e-3, 1e-3)}, ValueError, r"ranges\['lr'\] is empty"),
        ({"lr": (0, 1e-2)}, ValueError, r"ranges\['lr'\] is a log range: both bounds must be > 0, got \(0, 0.01\)"),
        ({"lr": (-1e-3, 1e-2)}, ValueError, r"ranges\['lr'\] is a log range"),
        ({"lr": 1e-3}, TypeError, r"ranges\['lr'\] must be a pair"),
        ({"lr": (1e-3, 1e-2, 1e-1)}, TypeError, r"ranges\['lr'\] must be a pair"),
        ({"lr": ("a", 1e-2)}, TypeError, r"ranges\['lr'\] must be a number"),
    ],
)
def test_bad_ranges_are_rejected_with_the_argument_named(ranges, error, message):
    with pytest.raises(error, match=message):
        check_ranges(ranges)


def test_a_range_the_objective_does_not_know_is_rejected(objective):
    with pytest.raises(ValueError, match=r"ranges name \['momentum'\], but the objective only knows"):
        random_search(objective, {"momentum": (0.5, 0.99)}, n_trials=1, **FAST)


@pytest.mark.parametrize(
    ("search", "kwargs", "name"),
    [
        (random_search, {"n_trials": 0}, "n_trials"),
        (random_search, {"epochs": 0}, "epochs"),
        (random_search, {"seed": -1}, "seed"),
        (random_search, {"n_jobs": 0}, "n_jobs"),
        (random_search, {"progress": "no"}, "progress"),
        (grid_search, {"points": 0}, "points"),
        (grid_search, {"seed": -1}, "seed"),
        (grid_search, {"n_jobs": 0}, "n_jobs"),
        (grid_search, {"progress": "no"}, "progress"),
        (successive_halving, {"eta": 1}, "eta"),
        (successive_halving, {"seed": -1}, "seed"),
        (successive_halving, {"n_jobs": 0}, "n_jobs"),
        (successive_halving, {"progress": "no"}, "progress"),
    ],
)
def test_each_search_checks_its_settings_where_they_are_passed(objective, search, kwargs, name):
    with pytest.raises((TypeError, ValueError), match=rf"^{name} must be"):
        search(objective, **{"progress": False, **kwargs})


def test_a_callback_that_is_not_a_function_is_rejected(objective):
    with pytest.raises(TypeError, match="callback must be a function or None, got 5"):
        random_search(objective, n_trials=1, epochs=1, callback=5, **FAST)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"val": blobs(20, 1)[0]}, TypeError, "val must be a pair"),
        ({"train": (np.zeros(20), np.zeros(20, dtype=int))}, ValueError, r"x_train must be a batch of samples"),
        ({"val": (np.zeros((0, 20)), np.zeros(0, dtype=int))}, ValueError, "x_val is empty"),
        ({"hidden_sizes": 100}, TypeError, "hidden_sizes"),
        ({"batch_size": 0}, ValueError, "batch_size"),
    ],
)
def test_bad_objective_arguments_raise_clear_errors(kwargs, error, words):
    arguments = {"train": blobs(50, 0), "val": blobs(20, 1), **kwargs}
    with pytest.raises(error, match=words):
        ValidationObjective(**arguments)


def test_progress_bar_counts_the_trials(objective, capsys):
    random_search(objective, n_trials=3, epochs=1, progress=True)
    err = capsys.readouterr().err
    assert "random search" in err and "3/3" in err


# --- the notebook's experiments and figures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def digits(fake_digits):
    return fake_digits(600, 100)


def test_search_split_takes_the_first_500_and_splits_off_a_fifth(digits):
    from helpers import experiments as ex

    (x_train, _), (x_val, _) = ex.search_split(digits)
    assert len(x_train) == 400 and len(x_val) == 100
    first_500 = {row.tobytes() for row in digits[0][0][:500]}
    parts = [row.tobytes() for row in np.concatenate([x_train, x_val])]
    assert set(parts) == first_500 and len(set(parts)) == 500  # every one of the 500 exactly once


def test_coarse_to_fine_searches_each_round_in_the_range_proposed_by_the_last(digits):
    from helpers import experiments as ex

    rounds = ex.coarse_to_fine(rounds=2, n_trials=3, epochs=1, top_k=2, data=digits)
    assert rounds[0].ranges == SEMINAR_RANGES and rounds[1].ranges == rounds[0].proposal
    for trial in rounds[1].results:
        for name, (low, high) in rounds[1].ranges.items():
            assert low <= trial.values[name] <= high
    assert all(isinstance(message, str) for r in rounds for message in r.warnings)


def test_search_figures_draw_one_panel_per_trial_and_render(objective):
    from helpers import plots
    from helpers.experiments import SearchRound

    results = random_search(objective, {"lr": (1e-3, 0.3), "weight_decay": (1e-8, 1e-4)}, 5, epochs=2, **FAST)
    best = plots.plot_best_curves(results, 4, ncols=2)
    visible = [ax for ax in best.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["Best-1", "Best-2", "Best-3", "Best-4"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # whether the best sit at an edge does not matter here
        search_round = SearchRound(results.ranges, results, narrow(results, 2), [])
    figures = [
        best,
        plots.plot_search_scatter(results),
        plots.plot_coarse_to_fine([search_round, search_round]),
        plots.plot_grid_vs_random(results, results),
        plots.plot_best_so_far({"random": results.best_so_far()}),
    ]
    assert all(plots.to_png(fig).startswith(b"\x89PNG") for fig in figures)


def test_search_summary_is_plain_json_that_loads_back(objective, tmp_path):
    from helpers import experiments as ex
    from helpers.figures import JsonFile

    results = random_search(objective, n_trials=3, epochs=2, **FAST)
    halving = successive_halving(objective, n_trials=3, min_epochs=1, max_epochs=2, **FAST)
    JsonFile(ex.search_summary(results, halving, "test")).savefig(tmp_path / "s.json")
    summary = ex.load_search_summary(tmp_path / "s.json")
    assert summary["log"] == str(results).splitlines() and summary["epochs_spent"] == 6
    assert summary["halving"]["epochs_spent"] == halving.epochs_spent == 3 * 1 + 1 * 2
    assert ex.epochs_to_match([2, 4, 6], [0.1, 0.5, 0.7], 0.5) == 4
    assert ex.epochs_to_match([2, 4], [0.1, 0.2], 0.5) is None


@pytest.mark.parametrize("search", [random_search, grid_search, successive_halving])
def test_a_search_given_a_function_as_objective_says_what_an_objective_is(search):
    with pytest.raises(TypeError, match=r"objective must be a ValidationObjective\(train, val\).*got <function"):
        search(lambda values: 0.5, **FAST)


def test_the_values_of_a_name_that_was_not_searched_name_the_searched_ones():
    results = fake_results([1e-3, 1e-2], [1e-6, 1e-5], [0.5, 0.6])
    with pytest.raises(ValueError, match=r"no hyperparameter 'learning_rate': it searched \['lr', 'weight_decay'\]"):
        results.values("learning_rate")
