"""helpers.search: log-uniform sampling, the validation objective, random search, narrow, successive halving."""

import re
import warnings

import numpy as np
import pytest

from helpers.search import (
    SEMINAR_RANGES,
    SearchResults,
    Trial,
    ValidationObjective,
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
from helpers.train import History

FAST = {"progress": False}


def blobs(n, seed):
    """Three Gaussian clouds in 20 dimensions: (n, 20) float32 inputs, (n,) labels in 0..2."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, size=n)
    centres = np.random.default_rng(99).standard_normal((3, 20)) * 1.5
    return (centres[t] + rng.standard_normal((n, 20))).astype(np.float32), t


@pytest.fixture(scope="module")
def objective():
    """A tiny net (20-16-16-3) on 120 training / 40 validation samples: a trial takes milliseconds."""
    return ValidationObjective(blobs(120, 0), blobs(40, 1), hidden_sizes=(16, 16), batch_size=20, output_size=3)


def fake_results(lrs, weight_decays, val_accs, ranges=SEMINAR_RANGES):
    """SearchResults with the given values and final validation accuracies, without training anything."""
    trials = []
    for i, (lr, wd, acc) in enumerate(zip(lrs, weight_decays, val_accs, strict=True)):
        history = History(epochs=1, train_acc=[0.1, acc], eval_acc={"val": [0.1, acc]})
        trials.append(Trial(i, {"lr": float(lr), "weight_decay": float(wd)}, history, seed=i, epochs_spent=1))
    return SearchResults(trials, ranges, epochs=1)


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


def test_worker_processes_give_exactly_the_serial_results(objective):
    ranges = {"lr": (1e-3, 0.3), "weight_decay": (1e-8, 1e-4)}
    serial = random_search(objective, ranges, n_trials=4, epochs=4, seed=3, n_jobs=1, **FAST)
    parallel = random_search(objective, ranges, n_trials=4, epochs=4, seed=3, n_jobs=2, **FAST)
    assert [t.index for t in parallel] == [0, 1, 2, 3]
    assert [t.values for t in parallel] == [t.values for t in serial]
    assert [t.history.train_acc for t in parallel] == [t.history.train_acc for t in serial]
    assert [t.history.eval_acc for t in parallel] == [t.history.eval_acc for t in serial]


def test_a_callback_that_returns_true_stops_the_search(objective):
    seen = []
    results = random_search(
        objective, n_trials=6, epochs=2, callback=lambda r: seen.append(len(r)) or len(r) == 2, **FAST
    )
    assert seen == [1, 2] and len(results) == 2 and results.stopped


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
    assert row == {"trial": 1, "lr": 0.01, "weight_decay": 1e-07, "val_acc": 0.9, "train_acc": 0.9, "epochs": 1}
    assert str(results).splitlines()[0] == "val acc:0.5 | lr:0.001, weight decay:1e-08"
    spent, best = results.best_so_far()
    assert spent.tolist() == [1, 2, 3, 4] and best.tolist() == [0.5, 0.9, 0.9, 0.9]


def test_a_diverged_trial_scores_zero_and_says_so():
    results = fake_results([1.0], [1e-8], [0.6])
    results[0].history.diverged = True
    assert results[0].val_acc == 0.0 and "(diverged)" in str(results[0])


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


def test_narrow_warns_at_the_lower_edge_too():
    lrs = np.logspace(-6, -2, 20)
    accs = np.linspace(0.9, 0.1, 20)  # the smaller the better
    with pytest.warns(UserWarning, match="lower edge"):
        proposal = narrow(fake_results(lrs, np.full(20, 1e-6), accs), top_k=4)
    assert proposal["lr"][0] == pytest.approx(1e-7)


def with_diverged_trials(lrs, val_accs, diverged):
    """fake_results where the trials marked in `diverged` diverged (their recorded curves end before it)."""
    results = fake_results(lrs, np.full(len(lrs), 1e-6), val_accs)
    for trial, gone in zip(results, diverged, strict=True):
        trial.history.diverged = gone
    return results


def test_narrow_leaves_out_diverged_trials():
    # the 3 trials that trained sit near lr 1e-4; 5 diverged at large lr (their score is 0, but they were
    # counted among the "best" 5 when fewer than 5 others scored above 0)
    lrs = [1e-4, 1.2e-4, 0.9e-4, 5e-3, 6e-3, 7e-3, 8e-3, 9e-3]
    results = with_diverged_trials(lrs, [0.8, 0.79, 0.78] + [0.9] * 5, [False] * 3 + [True] * 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proposal = narrow(results, top_k=3)
    assert 8e-5 <= proposal["lr"][0] <= 9e-5 and 1.2e-4 <= proposal["lr"][1] < 1.3e-4


def test_narrow_warns_when_fewer_than_top_k_trials_did_not_diverge_and_uses_those():
    lrs = [1e-4, 1.2e-4, 0.9e-4, 5e-3, 6e-3, 7e-3, 8e-3, 9e-3]
    results = with_diverged_trials(lrs, [0.8, 0.79, 0.78] + [0.9] * 5, [False] * 3 + [True] * 5)
    with pytest.warns(UserWarning, match="only 3 of the 8 trials did not diverge.*instead of the best top_k=5"):
        proposal = narrow(results, top_k=5)
    assert proposal["lr"][1] < 1.3e-4


def test_narrow_needs_two_trials_that_did_not_diverge():
    results = with_diverged_trials([1e-4, 5e-3, 6e-3], [0.8, 0.9, 0.9], [False, True, True])
    with pytest.raises(ValueError, match="only 1 of the 3 trials did not diverge; narrowing needs at least 2"):
        narrow(results, top_k=2)


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


def test_zero_trials_an_unknown_name_and_bad_n_jobs_are_rejected(objective):
    with pytest.raises(ValueError, match=r"n_trials must be an integer in \[1, inf\], got 0"):
        random_search(objective, n_trials=0, **FAST)
    with pytest.raises(ValueError, match=r"ranges name \['momentum'\]"):
        random_search(objective, {"momentum": (0.5, 0.99)}, n_trials=1, **FAST)
    with pytest.raises(ValueError, match="n_jobs"):
        random_search(objective, n_trials=1, n_jobs=0, **FAST)


def test_an_empty_validation_set_is_rejected():
    x, t = blobs(50, 0)
    with pytest.raises(ValueError, match="x_val is empty"):
        ValidationObjective((x, t), (x[:0], t[:0]))
    with pytest.raises(TypeError, match="val must be a pair"):
        ValidationObjective((x, t), x)


def test_narrow_needs_two_trials_and_a_top_k_of_at_least_two():
    results = fake_results([1e-3, 1e-2, 1e-4], [1e-8, 1e-7, 1e-6], [0.5, 0.9, 0.7])
    with pytest.raises(ValueError, match=r"top_k must be an integer in \[2, 3\], got 1"):
        narrow(results, top_k=1)
    with pytest.raises(ValueError, match="at least 2"):
        narrow(results[:1], top_k=2)
    with pytest.raises(TypeError, match="results must be SearchResults"):
        narrow([1, 2, 3])


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


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"seed": -1}, ValueError, r"seed must be an integer in \[0, inf\], got -1"),
        ({"seed": 1.5}, TypeError, "seed must be an integer >= 0"),
        ({"n_jobs": -1.0}, TypeError, "n_jobs must be an integer, got -1.0"),
        ({"n_jobs": -2}, ValueError, r"n_jobs must be -1 \(one per CPU core\) or an integer >= 1, got -2"),
        ({"progress": "no"}, TypeError, "progress must be True or False, got 'no'"),
        ({"callback": 5}, TypeError, "callback must be a function or None, got 5"),
    ],
)
def test_bad_search_settings_raise_clear_errors(objective, kwargs, error, words):
    with pytest.raises(error, match=words):
        random_search(objective, n_trials=1, epochs=1, **{"progress": False, **kwargs})


@pytest.mark.parametrize("search", [grid_search, successive_halving])
def test_the_other_searches_check_seed_and_progress_too(objective, search):
    with pytest.raises(ValueError, match="seed must be an integer in"):
        search(objective, seed=-1, progress=False)
    with pytest.raises(TypeError, match="progress must be True or False"):
        search(objective, progress="no")


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"hidden_sizes": 100}, TypeError, "hidden_sizes must be a sequence of layer widths"),
        ({"train": (np.zeros(20), np.zeros(20, dtype=int))}, ValueError, r"x_train must be a batch of samples"),
        ({"train": (1, 2)}, ValueError, "x_train must be an array of samples, one per row"),
        ({"val": (np.full((4, 20), np.nan), np.zeros(4, dtype=int))}, ValueError, "x_val must be finite"),
    ],
)
def test_bad_objective_arguments_raise_clear_errors(kwargs, error, words):
    arguments = {"train": blobs(50, 0), "val": blobs(20, 1), **kwargs}
    with pytest.raises(error, match=words):
        ValidationObjective(**arguments)
