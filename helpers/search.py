"""Hyperparameter search: random search on a log scale, coarse-to-fine narrowing, successive halving.

The seminar's method (section 03), step by step, and where each step lives here:

1. set a rough range on a log scale             `ranges` = {"lr": (1e-6, 1e-2), ...}, see `check_ranges`
2. sample values at random from it              `sample_log_uniform`
3. train, then score on the validation data     `ValidationObjective` (it never sees the test set)
4. repeat 2-3 and narrow the range              `random_search`, then `narrow`
5. pick one value from the narrowed range

`successive_halving` spends the same epochs better: many trials for a few epochs, only the best go on.

Reproducible by construction: trial i of a search with seed s draws its values and its training seed from
`np.random.default_rng([s, i])` alone. So the results do not depend on the order the trials run in or on
`n_jobs`, and the first 20 trials of a 100-trial search are exactly the 20-trial search with the same seed.
"""

import math
import os
import warnings
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from helpers.checks import check_array, check_flag, check_int, check_number, check_same_length, check_seed
from helpers.net import MultiLayerNet, check_hidden_sizes
from helpers.optim import SGD
from helpers.train import fit

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


# --- 3. The objective: train on the training part, score on the validation part ----------------------------


class ValidationObjective:
    """Trains a fresh MultiLayerNet with a trial's hyperparameters on (x_train, t_train) and records its
    accuracy on (x_val, t_val) after every epoch. The test set is not an argument: it cannot leak in.

    train, val: (x, t) pairs, x: (N, 784) float array, t: (N,) labels.
    Hyperparameter names it understands: "lr" (SGD's learning rate) and "weight_decay" (λ of the L2 penalty).
    hidden_sizes, batch_size: the fixed part of the setting (the seminar's 784-100x6-10, mini-batches of 100).
    """

    names = ("lr", "weight_decay")

    def __init__(self, train, val, hidden_sizes=(100,) * 6, batch_size=100, output_size=10):
        self.x_train, self.t_train = _check_pair("train", train)
        self.x_val, self.t_val = _check_pair("val", val)
        self.hidden_sizes = check_hidden_sizes(hidden_sizes)
        self.batch_size = check_int("batch_size", batch_size, low=1, high=len(self.x_train))
        self.input_size = self.x_train.reshape(len(self.x_train), -1).shape[1]
        self.output_size = check_int("output_size", output_size, low=2)

    def check_names(self, names):
        unknown = [name for name in names if name not in self.names]
        if unknown:
            raise ValueError(f"ranges name {unknown}, but the objective only knows {list(self.names)}")

    def train(self, values, epochs, seed):
        """Train a new net (initial weights and mini-batch order from `seed`) for `epochs` epochs.

        values: {"lr": ..., "weight_decay": ...}. Returns its History: .train_acc and .eval_acc["val"]
        per epoch, epoch 0 included. The same values, epochs and seed always give the same History.
        """
        net = MultiLayerNet(
            input_size=self.input_size,
            hidden_sizes=self.hidden_sizes,
            output_size=self.output_size,
            weight_decay_lambda=values.get("weight_decay", 0.0),
            seed=seed,
        )
        return fit(
            net,
            self.x_train,
            self.t_train,
            epochs=epochs,
            batch_size=self.batch_size,
            optimizer=SGD(values.get("lr", 0.01)),
            eval_sets={"val": (self.x_val, self.t_val)},
            seed=seed,
        )


def _check_pair(name, pair):
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{name} must be a pair (x_{name}, t_{name}), got {type(pair).__name__}")
    x, t = (check_array(f"{part}_{name}", value) for part, value in zip("xt", pair, strict=True))
    check_same_length(f"x_{name}", x, f"t_{name}", t)
    if x.ndim < 2:
        raise ValueError(f"x_{name} must be a batch of samples, shape (N, D), got shape {x.shape}")
    return x, t


# --- Results: one row per trial ----------------------------------------------------------------------------


@dataclass
class Trial:
    """One trained setting.

    values: {name: value} of its hyperparameters.
    history: its curves (History.train_acc, History.eval_acc["val"]), epoch 0 included.
    seed: the seed of its initial weights and mini-batch order.
    epochs_spent: the epochs this result cost.
    """

    index: int
    values: dict
    history: object
    seed: int
    epochs_spent: int

    @property
    def val_acc(self):
        """Final validation accuracy; 0 for a run that diverged (its weights ended as NaN)."""
        return 0.0 if self.history.diverged else float(self.history.final("val"))

    @property
    def train_acc(self):
        return 0.0 if self.history.diverged else float(self.history.final("train"))

    @property
    def epochs(self):
        """Epochs this trial's net has been trained for in all."""
        return self.history.epoch

    def __lt__(self, other):
        """Trials sort by validation accuracy: sorted(results, reverse=True) puts the best first."""
        return self.val_acc < other.val_acc

    def __str__(self):
        """The seminar's (the book's) log line: val acc:0.83 | lr:0.0079..., weight decay:4.3e-08"""
        values = ", ".join(f"{name.replace('_', ' ')}:{value}" for name, value in self.values.items())
        note = " (diverged)" if self.history.diverged else ""
        return f"val acc:{self.val_acc}{note} | {values}"


class SearchResults:
    """The trials of a search, in the order given (random_search: by trial number).

    print(results)                   every trial in the seminar's format
    results.sorted()                 best validation accuracy first (ties: lower trial number first)
    results.best, results.top(5)     the best trial, the best 5 as SearchResults
    results.ranking(20)              "Best-1(val acc:0.83) | lr:..., weight decay:..." lines
    results.table()                  plain rows (dicts) for a table or pandas.DataFrame
    results[i], results[:10], len(results), for trial in results
    """

    def __init__(self, trials, ranges, epochs=None, stopped=False):
        self.trials = list(trials)
        self.ranges = dict(ranges)
        self.epochs = epochs
        self.stopped = stopped

    def __len__(self):
        return len(self.trials)

    def __iter__(self):
        return iter(self.trials)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return SearchResults(self.trials[item], self.ranges, self.epochs, self.stopped)
        return self.trials[item]

    def __str__(self):
        return "\n".join(str(trial) for trial in self.trials)

    def __repr__(self):
        best = f", best val acc {self.best.val_acc}" if self.trials else ""
        return f"<SearchResults: {len(self)} trials{best}, {self.epochs_spent} epochs spent>"

    def sorted(self, reverse=True):
        """A copy sorted by validation accuracy, best first (reverse=False: worst first)."""
        return SearchResults(sorted(self.trials, reverse=reverse), self.ranges, self.epochs, self.stopped)

    def top(self, k):
        """The best k trials, best first."""
        k = check_int("k", k, low=1)
        return self.sorted()[:k]

    @property
    def best(self):
        if not self.trials:
            raise ValueError("no trials: the search has not finished any trial yet")
        return self.sorted()[0]

    @property
    def epochs_spent(self):
        """Epochs trained over all trials: the cost of the search."""
        return sum(trial.epochs_spent for trial in self.trials)

    def values(self, name):
        """The values of hyperparameter `name`, one per trial: a float array."""
        return np.array([trial.values[name] for trial in self.trials])

    def val_accs(self):
        return np.array([trial.val_acc for trial in self.trials])

    def ranking(self, k=None):
        """The best k trials as the book prints them: Best-1(val acc:0.83) | lr:..., weight decay:..."""
        best = self.sorted() if k is None else self.top(k)
        return "\n".join(f"Best-{i + 1}({str(trial).replace(' | ', ') | ', 1)}" for i, trial in enumerate(best))

    def table(self):
        """One plain dict per trial: trial number, each hyperparameter, val acc, train acc, epochs."""
        return [
            {"trial": t.index, **t.values, "val_acc": t.val_acc, "train_acc": t.train_acc, "epochs": t.epochs}
            for t in self.trials
        ]

    def best_so_far(self):
        """(epochs spent, best validation accuracy found so far) after each trial, in the order they are listed."""
        spent = np.cumsum([trial.epochs_spent for trial in self.trials])
        best = np.maximum.accumulate(self.val_accs()) if self.trials else np.array([])
        return spent, best


# --- Running trials, serially or in worker processes ------------------------------------------------------


@dataclass
class _Task:
    """What one trial needs: its number, values, training seed and epochs."""

    index: int
    values: dict
    seed: int
    epochs: int


def _run_task(objective, task):
    history = objective.train(task.values, task.epochs, task.seed)
    return Trial(task.index, task.values, history, task.seed, history.epoch)


_worker_objective = None  # set once in each worker process by _start_worker: the data travels once, not per trial


def _start_worker(objective):
    global _worker_objective
    _worker_objective = objective
    threadpool_limits(limits=1, user_api="blas")  # one trial per core; a second BLAS thread would only compete


def _run_in_worker(task):
    return _run_task(_worker_objective, task)


def check_n_jobs(n_jobs):
    """n_jobs: worker processes, 1 (no workers, run here) .. any; -1 means one per CPU core."""
    n_jobs = check_int("n_jobs", n_jobs)
    if n_jobs == -1:
        return os.cpu_count() or 1
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be -1 (one per CPU core) or an integer >= 1, got {n_jobs}")
    return n_jobs


class _Workers:
    """Runs trial tasks: here, one after the other (n_jobs=1), or in n_jobs worker processes that live as
    long as the with-block (a whole successive halving uses one pool). Workers are started with
    forkserver where it exists (never a fork of a kernel with running threads), else spawn; both re-import
    the main module, so a script that searches with n_jobs > 1 needs `if __name__ == "__main__":`."""

    def __init__(self, objective, n_jobs, n_tasks):
        self.objective = objective
        self.n_workers = min(n_jobs, n_tasks)
        self.pool = None

    def __enter__(self):
        if self.n_workers > 1:
            method = "forkserver" if "forkserver" in get_all_start_methods() else "spawn"
            context = get_context(method)
            if method == "forkserver":
                context.set_forkserver_preload(["helpers.search"])  # numpy & co. imported once, not per worker
            self.pool = ProcessPoolExecutor(
                self.n_workers, context, initializer=_start_worker, initargs=(self.objective,)
            )
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def run(self, tasks, bar, callback=None):
        """Run the tasks; call callback(finished trials, in task order) after each, stop when it returns True.
        Returns (trials in task order, stopped)."""
        done = {}

        def finished(trial):
            done[trial.index] = trial
            bar.update(1)
            return callback is not None and bool(callback([done[t.index] for t in tasks if t.index in done]))

        stopped = False
        if self.pool is None:
            for task in tasks:
                if finished(_run_task(self.objective, task)):
                    stopped = True
                    break
        else:
            futures = [self.pool.submit(_run_in_worker, task) for task in tasks]
            for future in as_completed(futures):
                if finished(future.result()):
                    stopped = True
                    for other in futures:
                        other.cancel()
                    break
        return [done[task.index] for task in tasks if task.index in done], stopped


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
    callback: called as callback(results so far) after each trial; returning True stops the search.
    Returns SearchResults, one trial per row in trial order.
    """
    ranges = check_ranges(ranges)
    objective.check_names(ranges)
    n_trials = check_int("n_trials", n_trials, low=1)
    epochs = check_int("epochs", epochs, low=1)
    seed = check_seed("seed", seed)
    n_jobs = check_n_jobs(n_jobs)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function or None, got {callback!r}")
    tasks = [_Task(i, *trial_draw(ranges, seed, i), epochs) for i in range(n_trials)]
    return _search(objective, tasks, ranges, epochs, n_jobs, progress, callback, "random search")


def _search(objective, tasks, ranges, epochs, n_jobs, progress, callback, desc):
    def report(trials):
        return callback(SearchResults(trials, ranges, epochs))

    with _progress_bar(len(tasks), desc, progress) as bar, _Workers(objective, n_jobs, len(tasks)) as workers:
        trials, stopped = workers.run(tasks, bar, report if callback else None)
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
    objective.check_names(ranges)
    settings = _log_grid(ranges, check_int("points", points, low=1))
    epochs = check_int("epochs", epochs, low=1)
    seed = check_seed("seed", seed)
    tasks = [_Task(i, values, trial_draw(ranges, seed, i)[1], epochs) for i, values in enumerate(settings)]
    return _search(objective, tasks, ranges, epochs, check_n_jobs(n_jobs), progress, None, "grid search")


# --- 4-5. Narrowing the range ----------------------------------------------------------------------------------


def narrow(results, top_k=10, edge=0.25, grow=1.0):
    """The seminar's steps 4-5 automated: the range each hyperparameter should have in the next round.

    The proposal spans the values of the best `top_k` trials (rounded outwards to 2 significant digits).
    Diverged trials are left out (their score, 0, says nothing about where the best values lie); if fewer
    than top_k trials remain, a warning says so and the proposal spans those that remain (at least 2).
    If the best values sit at an edge of the current range - the best trial and more than half of the top_k
    lie in its outer `edge` fraction (on the log scale) - the best value may lie outside the range: a warning
    says so, and the proposal grows `grow` decades beyond that edge instead of shrinking.
    Returns {name: (low, high)}, ready for random_search.
    """
    if not isinstance(results, SearchResults):
        raise TypeError(f"results must be SearchResults (from random_search), got {type(results).__name__}")
    if len(results) < 2:
        raise ValueError(f"results has {len(results)} trial(s); narrowing needs at least 2")
    top_k = check_int("top_k", top_k, low=2, high=len(results))
    edge = check_number("edge", edge, low=0, high=0.5, low_open=True)
    grow = check_number("grow", grow, low=0)
    not_diverged = SearchResults([trial for trial in results if not trial.history.diverged], results.ranges)
    if len(not_diverged) < 2:
        raise ValueError(
            f"only {len(not_diverged)} of the {len(results)} trials did not diverge; narrowing needs at least 2 "
            "(try smaller learning rates)"
        )
    if len(not_diverged) < top_k:
        warnings.warn(
            f"only {len(not_diverged)} of the {len(results)} trials did not diverge: the proposal spans those "
            f"{len(not_diverged)} instead of the best top_k={top_k}",
            stacklevel=2,
        )
        top_k = len(not_diverged)
    top = not_diverged.top(top_k)
    proposal = {}
    for name, (low, high) in results.ranges.items():
        log_low, log_high = np.log10(low), np.log10(high)
        position = (np.log10(top.values(name)) - log_low) / (log_high - log_low)  # 0 at low .. 1 at high
        new_low, new_high = np.log10(top.values(name).min()), np.log10(top.values(name).max())
        for side, near in (("lower", position < edge), ("upper", position > 1 - edge)):
            if near[0] and near.sum() > top_k / 2:
                bound = low if side == "lower" else high
                grown = 10 ** (log_low - grow) if side == "lower" else 10 ** (log_high + grow)
                warnings.warn(
                    f"the best {name} values sit at the {side} edge of the range ({low:.2g}, {high:.2g}): "
                    f"the best {name} may lie beyond {bound:.2g}, so the proposal grows to {grown:.2g} there",
                    stacklevel=2,
                )
                if side == "lower":
                    new_low = log_low - grow
                else:
                    new_high = log_high + grow
        if new_high - new_low < 0.1:  # (nearly) one value: keep a tenth of a decade around it
            middle = (new_low + new_high) / 2
            new_low, new_high = middle - 0.05, middle + 0.05
        proposal[name] = (_round_sig(10**new_low, math.floor), _round_sig(10**new_high, math.ceil))
    return proposal


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


@dataclass
class HalvingResults:
    """What successive halving did: one SearchResults per rung (its trials carry their whole curves)."""

    rungs: list
    schedule: list

    @property
    def best(self):
        """The best trial of the last rung: the one trained longest."""
        return self.rungs[-1].best

    @property
    def epochs_spent(self):
        return sum(rung.epochs_spent for rung in self.rungs)

    @property
    def trials(self):
        """Every trial result in the order they were run (rung by rung)."""
        return SearchResults([t for rung in self.rungs for t in rung], self.rungs[0].ranges)

    def best_so_far(self):
        """(epochs spent, best validation accuracy so far) after each trial result, rung by rung."""
        return self.trials.best_so_far()

    def __str__(self):
        lines = [
            f"rung {i}: {len(rung):3d} trial{'s' if len(rung) != 1 else ' '} x {rung.epochs:2d} epochs, "
            f"best val acc {rung.best.val_acc}"
            for i, rung in enumerate(self.rungs)
        ]
        return "\n".join([*lines, f"{self.epochs_spent} epochs in all"])


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
    Returns HalvingResults; .epochs_spent is the total cost.
    """
    ranges = check_ranges(ranges)
    objective.check_names(ranges)
    seed = check_seed("seed", seed)
    n_jobs = check_n_jobs(n_jobs)
    schedule = halving_schedule(n_trials, min_epochs, max_epochs, eta)
    tasks = [_Task(i, *trial_draw(ranges, seed, i), min_epochs) for i in range(n_trials)]
    rungs = []
    bar = _progress_bar(sum(n for n, _ in schedule), "successive halving", progress)
    with bar, _Workers(objective, n_jobs, n_trials) as workers:
        for number, (_, epochs) in enumerate(schedule):
            trials, _ = workers.run(tasks, bar)
            rungs.append(SearchResults(trials, ranges, epochs))
            if number + 1 < len(schedule):
                keep, next_epochs = schedule[number + 1]
                best = sorted(rungs[-1].top(keep), key=lambda trial: trial.index)
                tasks = [_Task(t.index, t.values, t.seed, next_epochs) for t in best]
    return HalvingResults(rungs, schedule)
