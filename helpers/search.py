"""Hyperparameter search: random search on a log scale, coarse-to-fine narrowing, successive halving.

The seminar's method (section 03), step by step, and where each step lives here:

1. set a rough range on a log scale             `ranges` = {"lr": (1e-6, 1e-2), ...}, see `check_ranges`
2. sample values at random from it              `sample_log_uniform`
3. train, then score on the validation data     `ValidationObjective` (helpers.objective; never sees the test set)
4. repeat 2-3 and narrow the range              `random_search`, then `narrow`
5. pick one value from the narrowed range

`successive_halving` spends the same epochs better: many trials for a few epochs, only the best go on.

Reproducible by construction: trial i of a search with seed s draws its values and its training seed from
`np.random.default_rng([s, i])` alone. So the results do not depend on the order the trials run in or on
`n_jobs`, and the first 20 trials of a 100-trial search are exactly the 20-trial search with the same seed.

The results (Trial, SearchResults, HalvingResults) live in helpers.results, the worker processes in
helpers.parallel; every name is importable from here too.
"""

import math
import warnings
from collections.abc import Mapping

import numpy as np
from tqdm.auto import tqdm

from helpers.checks import check_flag, check_int, check_number, check_seed
from helpers.lang import tr
from helpers.objective import ValidationObjective
from helpers.parallel import Task, Workers, check_n_jobs
from helpers.results import HalvingResults, SearchResults, Trial
from helpers.train import asks_to_stop

__all__ = [
    "SEMINAR_RANGES",
    "HalvingResults",
    "SearchResults",
    "Trial",
    "ValidationObjective",
    "check_n_jobs",
    "check_objective",
    "check_ranges",
    "format_ranges",
    "grid_search",
    "halving_schedule",
    "log_grid",
    "narrow",
    "random_search",
    "sample_log_uniform",
    "successive_halving",
    "trial_draw",
    "trial_rng",
]

SEMINAR_RANGES = {"lr": (1e-6, 1e-2), "weight_decay": (1e-8, 1e-4)}  # the seminar's (and the book's) ranges


# --- 1-2. Ranges on a log scale and random values from them -------------------------------------------------


def check_ranges(ranges):
    """{name: (low, high)} with 0 < low < high for every name, as floats; clear errors otherwise."""
    if not isinstance(ranges, Mapping):
        raise TypeError(f"ranges must be a dict {{name: (low, high)}}, got {ranges!r} ({type(ranges).__name__})")
    if not ranges:
        raise ValueError("ranges is empty: name at least one hyperparameter, e.g. {'lr': (1e-6, 1e-2)}")
    checked = {}
    for name, bounds in ranges.items():
        where = f"ranges[{name!r}]"
        if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__") or len(bounds) != 2:
            raise TypeError(f"{where} must be a pair (low, high), got {bounds!r}")
        low, high = (check_number(where, value) for value in bounds)
        if low <= 0 or high <= 0:
            raise ValueError(f"{where} is a log range: both bounds must be > 0, got ({low:g}, {high:g})")
        if low >= high:
            kind = "empty" if low == high else "inverted"
            raise ValueError(f"{where} is {kind}: it needs low < high, got ({low:g}, {high:g})")
        checked[name] = (low, high)
    return checked


def check_objective(objective):
    """An objective: an object with train(values, epochs, seed) and check_names(names), as ValidationObjective."""
    if not all(callable(getattr(objective, name, None)) for name in ("train", "check_names")):
        raise TypeError(
            "objective must be a ValidationObjective(train, val) (or an object with its train(values, epochs, seed) "
            f"and check_names(names)), got {objective!r}"
        )
    return objective


def sample_log_uniform(ranges, rng):
    """One value per name, uniform on a log scale: 10 ** uniform(log10(low), log10(high)).

    Every decade gets the same share of the samples: as many values between 1e-6 and 1e-5 as between
    1e-3 and 1e-2 (a plain uniform sample would put 90 % of them in the last decade).
    ranges: {name: (low, high)}, checked; rng: a np.random.Generator.
    """
    return {name: float(10 ** rng.uniform(np.log10(low), np.log10(high))) for name, (low, high) in ranges.items()}


def trial_rng(seed, index):
    """The random generator of trial `index` of a search with `seed`: it depends on nothing else."""
    return np.random.default_rng([seed, index])


def trial_draw(ranges, seed, index):
    """(values, training seed) of trial `index`: what random_search and successive_halving train."""
    rng = trial_rng(seed, index)
    values = sample_log_uniform(ranges, rng)
    return values, int(rng.integers(2**31))


def _progress_bar(total, desc, progress):
    return tqdm(total=total, desc=desc, unit="trial", disable=not check_flag("progress", progress), leave=True)


# --- 4. Random search ----------------------------------------------------------------------------------------


def random_search(
    objective, ranges=SEMINAR_RANGES, n_trials=100, epochs=50, seed=0, n_jobs=1, progress=True, callback=None
):
    """The seminar's steps 2-4: n_trials random settings from `ranges`, each trained for `epochs` epochs.

    objective: a ValidationObjective (training data + validation data).
    ranges: {name: (low, high)}, sampled on a log scale.
    seed: the search's seed; trial i draws from default_rng([seed, i]) only.
    n_jobs: worker processes (one trial per core, one BLAS thread each); the results are the same for any n_jobs.
    progress: show a tqdm progress bar over the trials.
    callback: called as callback(results so far) after each trial; it returns None to go on, or helpers.train.STOP
        to stop the search (anything else is a TypeError, as for fit's callbacks).
    Stopped or interrupted (Ctrl-C, the notebook's stop button), the search cancels the trials not started yet.
    Returns SearchResults, one trial per row in trial order.
    """
    ranges = check_ranges(ranges)
    check_objective(objective).check_names(ranges)
    n_trials = check_int("n_trials", n_trials, low=1)
    epochs = check_int("epochs", epochs, low=1)
    seed = check_seed("seed", seed)
    n_jobs = check_n_jobs(n_jobs)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function or None, got {callback!r}")
    tasks = [Task(i, *trial_draw(ranges, seed, i), epochs) for i in range(n_trials)]
    return _search(objective, tasks, ranges, epochs, n_jobs, progress, callback, "random search")


def _search(objective, tasks, ranges, epochs, n_jobs, progress, callback, desc):
    def report(trials):
        bar.update(1)
        return callback is not None and asks_to_stop(callback, callback(SearchResults(trials, ranges, epochs)))

    with _progress_bar(len(tasks), desc, progress) as bar, Workers(n_jobs, len(tasks)) as workers:
        trials, stopped = workers.run(objective, tasks, report)
    return SearchResults(trials, ranges, epochs, stopped)


def log_grid(ranges, points):
    """Grid search's settings: `points` values per name, evenly spaced on a log scale from low to high,
    every combination once. ranges: {name: (low, high)}. Returns a list of {name: value}."""
    return _log_grid(check_ranges(ranges), check_int("points", points, low=1))


def _log_grid(ranges, points):
    """log_grid for checked arguments."""
    axes = [np.logspace(np.log10(low), np.log10(high), points) for low, high in ranges.values()]
    mesh = np.meshgrid(*axes, indexing="ij")
    return [dict(zip(ranges, map(float, combo), strict=True)) for combo in zip(*(m.ravel() for m in mesh), strict=True)]


def grid_search(objective, ranges=SEMINAR_RANGES, points=3, epochs=50, seed=0, n_jobs=1, progress=True):
    """Every combination of `points` log-spaced values per name (points ** len(ranges) trials).

    Trial i is trained with the same seed as random search's trial i: only the values differ.
    """
    ranges = check_ranges(ranges)
    check_objective(objective).check_names(ranges)
    settings = _log_grid(ranges, check_int("points", points, low=1))
    epochs = check_int("epochs", epochs, low=1)
    seed = check_seed("seed", seed)
    tasks = [Task(i, values, trial_draw(ranges, seed, i)[1], epochs) for i, values in enumerate(settings)]
    return _search(objective, tasks, ranges, epochs, check_n_jobs(n_jobs), progress, None, "grid search")


# --- 4-5. Narrowing the range ----------------------------------------------------------------------------------


LEARNED = 0.1  # a trial whose validation accuracy rose less than this above the untrained net's barely learned


def narrow(results, top_k=10, edge=0.25, grow=1.0):
    """The seminar's steps 4-5 automated: the range each hyperparameter should have in the next round.

    The proposal spans the values of the best `top_k` trials (rounded outwards to 2 significant digits).
    If the best values sit at an edge of the current range - the best trial and more than half of the top_k
    lie in its outer `edge` fraction (on the log scale) - the best value may lie outside the range: a warning
    says so, and the proposal grows `grow` decades beyond that edge instead of shrinking.

    Diverged trials are left out: their score, 0, says nothing about where the best values lie. A warning
    says when they matter: when more than half of the trials diverged, when fewer than top_k trials remain
    (the proposal then spans those, at least 2 are needed), when most of the trials beyond an edge diverged
    (the proposal then does not grow there), and when a diverged trial lies inside the proposal. A warning
    also says when most of the best trials barely learned (validation accuracy less than 0.1 above the
    untrained net's): then their values say little about where good values lie.
    Returns {name: (low, high)}, ready for random_search.
    """
    if not isinstance(results, SearchResults):
        raise TypeError(f"results must be SearchResults (from random_search), got {type(results).__name__}")
    if len(results) < 2:
        raise ValueError(f"results has {len(results)} trial(s); narrowing needs at least 2")
    top_k = check_int("top_k", top_k, low=2, high=len(results))
    edge = check_number("edge", edge, low=0, high=0.5, low_open=True)
    grow = check_number("grow", grow, low=0)
    trained, diverged = results.trained(), results.diverged()
    if len(trained) < 2:
        raise ValueError(
            f"{len(diverged)} of the {len(results)} trials diverged ({_span(diverged)}), so only {len(trained)} "
            "trained; narrowing needs at least 2 trials that did not diverge (search smaller learning rates)"
        )
    if len(diverged) > len(results) / 2:
        _warn(
            tr(
                f"시행 {len(results)}개 중 {len(diverged)}개가 발산했습니다({_span(diverged)}): "
                "범위의 많은 부분에서 학습이 되지 않습니다",
                f"{len(diverged)} of the {len(results)} trials diverged ({_span(diverged)}): "
                "much of the range does not train",
            )
        )
    if len(trained) < top_k:
        _warn(
            tr(
                f"시행 {len(results)}개 중 발산하지 않은 것은 {len(trained)}개뿐입니다: 제안 범위는 상위 "
                f"top_k={top_k}개 대신 이 {len(trained)}개에 걸칩니다",
                f"only {len(trained)} of the {len(results)} trials did not diverge: the proposal spans those "
                f"{len(trained)} instead of the best top_k={top_k}",
            )
        )
        top_k = len(trained)
    top = trained.top(top_k)
    barely = sum(_barely_learned(trial) for trial in top)
    if barely > top_k / 2:
        _warn(
            tr(
                f"상위 {top_k}개 시행 중 {barely}개가 거의 학습하지 못했습니다(최고 검증 정확도 {top[0].val_acc:.2f}): "
                f"검증 정확도가 학습 전 신경망보다 {LEARNED}도 오르지 않았으니, 이 값들로는 좋은 값이 어디 있는지 "
                "알기 어렵습니다(에폭을 늘리거나 다른 범위를 탐색하세요)",
                f"{barely} of the best {top_k} trials barely learned (best val acc {top[0].val_acc:.2f}): their "
                f"validation accuracy rose less than {LEARNED} above the untrained net's, so their values say little "
                "about where good values lie (train for more epochs, or search another range)",
            )
        )
    proposal = {}
    for name, bounds in results.ranges.items():
        proposal[name], messages = _narrow_one(name, bounds, top, diverged, edge, grow)
        for message in messages:
            _warn(message)
    inside = [t for t in diverged if all(low <= t.values[n] <= high for n, (low, high) in proposal.items())]
    if inside:
        _warn(
            tr(
                f"발산한 시행 {len(inside)}개가 제안 범위({format_ranges(proposal)}) 안에 있습니다: "
                "그 범위의 일부에서는 학습이 되지 않습니다",
                f"{len(inside)} trial(s) that diverged lie inside the proposed range ({format_ranges(proposal)}): "
                "part of it does not train",
            )
        )
    return proposal


def _narrow_one(name, bounds, top, diverged, edge, grow):
    """narrow's proposal (low, high) for one hyperparameter, and its warnings."""
    low, high = bounds
    messages = []
    log_low, log_high = np.log10(low), np.log10(high)
    top_values = top.values(name)
    position = (np.log10(top_values) - log_low) / (log_high - log_low)  # 0 at low .. 1 at high
    new_low, new_high = np.log10(top_values.min()), np.log10(top_values.max())
    for side, near in (("lower", position < edge), ("upper", position > 1 - edge)):
        side_ko = "아래쪽" if side == "lower" else "위쪽"
        if not (near[0] and near.sum() > len(top) / 2):
            continue
        bound = low if side == "lower" else high
        reached = top_values.min() if side == "lower" else top_values.max()
        beyond = diverged.values(name) < reached if side == "lower" else diverged.values(name) > reached
        if len(diverged) and beyond.sum() > len(diverged) / 2:
            messages.append(
                tr(
                    f"가장 좋은 {name} 값들이 범위 ({low:.2g}, {high:.2g})의 {side_ko} 가장자리에 있지만, "
                    f"{reached:.2g} 너머의 시행은 대부분 발산했습니다: 제안 범위를 그쪽으로 넓히지 않습니다",
                    f"the best {name} values sit at the {side} edge of the range ({low:.2g}, {high:.2g}), but most "
                    f"trials beyond {reached:.2g} diverged: the proposal does not grow there",
                )
            )
            continue
        grown = 10 ** (log_low - grow) if side == "lower" else 10 ** (log_high + grow)
        messages.append(
            tr(
                f"가장 좋은 {name} 값들이 범위 ({low:.2g}, {high:.2g})의 {side_ko} 가장자리에 있습니다: 가장 좋은 "
                f"{name}은 {bound:.2g} 너머에 있을 수 있으니, 제안 범위를 그쪽으로 {grown:.2g}까지 넓힙니다",
                f"the best {name} values sit at the {side} edge of the range ({low:.2g}, {high:.2g}): "
                f"the best {name} may lie beyond {bound:.2g}, so the proposal grows to {grown:.2g} there",
            )
        )
        if side == "lower":
            new_low = log_low - grow
        else:
            new_high = log_high + grow
    if new_high - new_low < 0.1:  # (nearly) one value: keep a tenth of a decade around it
        middle = (new_low + new_high) / 2
        new_low, new_high = middle - 0.05, middle + 0.05
    return (_round_sig(10**new_low, math.floor), _round_sig(10**new_high, math.ceil)), messages


def _warn(message):
    warnings.warn(message, stacklevel=3)  # shown at the caller of narrow


def _barely_learned(trial):
    curve = trial.history.eval_acc["val"]
    return curve[-1] - curve[0] < LEARNED


def _span(results):
    """'lr 1e+02 .. 1e+06, weight decay ...': where the given trials lie."""
    return format_ranges({name: (results.values(name).min(), results.values(name).max()) for name in results.ranges})


def _round_sig(value, direction, digits=2):
    """`value` rounded to `digits` significant digits, down (math.floor) or up (math.ceil)."""
    scale = 10 ** (math.floor(math.log10(value)) - digits + 1)
    return float(f"{direction(round(value / scale, 9)) * scale:.{digits}g}")


def format_ranges(ranges):
    """'lr 1e-06 .. 0.01, weight decay 1e-08 .. 0.0001'"""
    return ", ".join(f"{name.replace('_', ' ')} {low:.2g} .. {high:.2g}" for name, (low, high) in ranges.items())


# --- Successive halving ---------------------------------------------------------------------------------------


def halving_schedule(n_trials, min_epochs, max_epochs, eta=3):
    """The rungs of successive halving: [(trials, epochs each has been trained for at that rung), ...].

    Each rung keeps the best 1/eta of the trials (at least 1) and trains them eta times longer, up to max_epochs.
    """
    n = check_int("n_trials", n_trials, low=1)
    epochs = check_int("min_epochs", min_epochs, low=1)
    max_epochs = check_int("max_epochs", max_epochs, low=epochs)
    eta = check_int("eta", eta, low=2)
    rungs = [(n, epochs)]
    while epochs < max_epochs:
        n, epochs = max(1, n // eta), min(max_epochs, epochs * eta)
        rungs.append((n, epochs))
    return rungs


def successive_halving(
    objective,
    ranges=SEMINAR_RANGES,
    n_trials=81,
    min_epochs=2,
    max_epochs=50,
    eta=3,
    seed=0,
    n_jobs=1,
    progress=True,
):
    """Start n_trials random settings (the same ones random_search draws with this seed) for min_epochs
    epochs, keep the best 1/eta, train those for eta times the epochs, and repeat up to max_epochs.

    A kept trial is trained again from its start (same seed, more epochs), so every result is exactly the
    run random_search would give it: the comparison is fair, and each rung costs (trials x epochs).
    A trial that diverged is never kept; if every trial of a rung diverged, halving ends there.
    Returns HalvingResults; .epochs_spent is the total cost.
    """
    ranges = check_ranges(ranges)
    check_objective(objective).check_names(ranges)
    seed = check_seed("seed", seed)
    n_jobs = check_n_jobs(n_jobs)
    schedule = halving_schedule(n_trials, min_epochs, max_epochs, eta)
    tasks = [Task(i, *trial_draw(ranges, seed, i), min_epochs) for i in range(n_trials)]
    rungs = []
    bar = _progress_bar(sum(n for n, _ in schedule), "successive halving", progress)

    def count(_finished):
        bar.update(1)  # and return None: tqdm's update returns True when it redraws, which Workers reads as "stop"

    with bar, Workers(n_jobs, n_trials) as workers:
        for number, (_, epochs) in enumerate(schedule):
            trials, _ = workers.run(objective, tasks, count)
            rungs.append(SearchResults(trials, ranges, epochs))
            if number + 1 == len(schedule):
                break
            keep, next_epochs = schedule[number + 1]
            promoted = sorted(rungs[-1].top(keep), key=lambda trial: trial.index)  # diverged trials never go on
            if not promoted:
                break
            tasks = [Task(t.index, t.values, t.seed, next_epochs) for t in promoted]
    return HalvingResults(rungs, schedule)
