"""Notebook 04: the seminar's hyperparameter search on a validation split of the book's first 500 images."""

import math
from dataclasses import dataclass

import numpy as np

from helpers.checks import check_int
from helpers.experiments.common import first_samples, unpack_data
from helpers.net import MultiLayerNet
from helpers.optim import SGD
from helpers.train import fit

SEARCH_BATCH_SIZE = 100  # the seminar's mini-batch


def search_split(data=None, n_samples=500, ratio=0.2, seed=0):
    """The seminar's search data: the first 500 training images, of which 20 % (100), picked at random with
    `seed`, become the validation set. Returns (x_train, t_train), (x_val, t_val). The test set is not used."""
    from helpers.data import split_validation

    x, t, _, _ = unpack_data(data)
    n_samples = check_int("n_samples", n_samples, low=2, high=len(x))
    return split_validation(x[:n_samples], t[:n_samples], ratio=ratio, seed=seed)


def search_objective(data=None, n_samples=500, ratio=0.2, split_seed=0):
    """The seminar's objective: 784-100x6-10 ReLU, SGD, batches of 100, trained on 400 images, scored on 100."""
    from helpers.search import ValidationObjective

    train, val = search_split(data, n_samples, ratio, split_seed)
    if len(train[1]) < SEARCH_BATCH_SIZE:
        raise ValueError(
            f"n_samples={n_samples} with ratio={ratio} leaves {len(train[1])} training images, fewer than one "
            f"mini-batch of {SEARCH_BATCH_SIZE}: use n_samples >= {math.ceil(SEARCH_BATCH_SIZE / (1 - ratio))}"
        )
    return ValidationObjective(train, val, batch_size=SEARCH_BATCH_SIZE)


def seminar_search(
    n_trials=100, epochs=50, ranges=None, seed=0, n_jobs=1, progress=True, data=None, callback=None, n_samples=500
):
    """The seminar's experiment: lr = 10^U(-6,-2), weight decay = 10^U(-8,-4), 100 trials x 50 epochs.

    Returns SearchResults. With the same seed, the first k trials of any search are the k-trial search."""
    from helpers.search import SEMINAR_RANGES, random_search

    objective = search_objective(data, n_samples)
    ranges = SEMINAR_RANGES if ranges is None else ranges
    return random_search(objective, ranges, n_trials, epochs, seed, n_jobs=n_jobs, progress=progress, callback=callback)


@dataclass
class SearchRound:
    """One round of coarse-to-fine search: the ranges it sampled, its results, the range `narrow` proposes
    next, and the warnings narrow gave (best values at an edge of the range)."""

    ranges: dict
    results: object
    proposal: dict
    warnings: list


def coarse_to_fine(
    first=None, rounds=3, n_trials=20, epochs=20, top_k=5, ranges=None, seed=0, n_jobs=1, progress=False, data=None
):
    """Steps 2-5 of the seminar, repeated: search, narrow to the best top_k trials' range, search again.

    first: the results of round 1 if they exist already (e.g. the seminar's search), else round 1 is run here.
    Round r uses seed + r. Returns a list of SearchRound.
    """
    import warnings

    from helpers.search import SEMINAR_RANGES, narrow, random_search

    objective = search_objective(data)
    ranges = SEMINAR_RANGES if ranges is None else ranges
    history = []
    for number in range(rounds):
        if number == 0 and first is not None:
            results = first
        else:
            results = random_search(
                objective, ranges, n_trials, epochs, seed + number, n_jobs=n_jobs, progress=progress
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            proposal = narrow(results, top_k)
        history.append(SearchRound(results.ranges, results, proposal, [str(w.message) for w in caught]))
        ranges = proposal
    return history


def evaluate_on_test(values, epochs=50, data=None, n_samples=500, seed=0):
    """The final step: train with the chosen values on all n_samples images (training + validation parts),
    then evaluate once on the test set - the only time it is looked at. Returns the test accuracy."""
    (x, t), (x_test, t_test) = first_samples(data, n_samples)
    net = MultiLayerNet(hidden_sizes=(100,) * 6, weight_decay_lambda=values.get("weight_decay", 0.0), seed=seed)
    fit(net, x, t, epochs=epochs, optimizer=SGD(values["lr"]), seed=seed)
    return float(net.accuracy(x_test, t_test))


def grid_vs_random(points=3, epochs=20, ranges=None, seed=0, n_jobs=1, progress=False, data=None, random=None):
    """Grid search (points per axis, every combination) against random search with as many trials.

    random: the random search's results if they exist (its first points**2 trials are used).
    Returns (grid results, random results)."""
    from helpers.search import SEMINAR_RANGES, grid_search, random_search

    objective = search_objective(data)
    ranges = SEMINAR_RANGES if ranges is None else ranges
    n = points ** len(ranges)
    grid = grid_search(objective, ranges, points, epochs, seed, n_jobs=n_jobs, progress=progress)
    if random is None:
        random = random_search(objective, ranges, n, epochs, seed, n_jobs=n_jobs, progress=progress)
    return grid, random[:n]


def search_halving(
    n_trials=27, min_epochs=2, max_epochs=20, eta=3, ranges=None, seed=0, n_jobs=1, progress=False, data=None
):
    """Successive halving on the seminar's objective: the same first trials as seminar_search with this seed."""
    from helpers.search import SEMINAR_RANGES, successive_halving

    ranges = SEMINAR_RANGES if ranges is None else ranges
    return successive_halving(
        search_objective(data), ranges, n_trials, min_epochs, max_epochs, eta, seed, n_jobs, progress
    )


def epochs_to_match(spent, best, level):
    """The epochs spent when a best-so-far curve (from .best_so_far()) first reaches `level`, or None."""
    reached = np.flatnonzero(np.asarray(best) >= level)
    return int(np.asarray(spent)[reached[0]]) if len(reached) else None


def average_ranks(scores):
    """The rank of each score, 1 for the lowest; tied scores share their average rank (1, 2.5, 2.5, 4)."""
    scores = np.asarray(scores, dtype=float)
    ranks = np.empty(len(scores))
    ranks[np.argsort(scores, kind="stable")] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def rank_correlation(a, b):
    """Spearman's rank correlation of two scores of the same trials: 1 when both order the trials the same way,
    0 when the orders are unrelated, -1 when one is the other reversed. (scipy.stats.spearmanr gives the same;
    scipy is not a dependency of the series.)"""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape or len(a) < 2:
        raise ValueError(f"a and b must be 1-D score lists of one length >= 2, got shapes {a.shape} and {b.shape}")
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        raise ValueError("a rank correlation needs scores that differ: every score in a (or in b) is the same")
    return float(np.corrcoef(average_ranks(a), average_ranks(b))[0, 1])


def val_acc_after(curve, epoch):
    """A trial's validation accuracy after `epoch` epochs, from its curve (epoch 0 first). A curve that ends
    before `epoch` is a run that diverged, and scores 0 there, as Trial.val_acc scores it."""
    return float(curve[epoch]) if epoch < len(curve) else 0.0


def top_indices(scores, k):
    """The positions of the k best scores, best first; ties go to the lower position (as SearchResults sorts)."""
    return [int(i) for i in np.argsort(-np.asarray(scores, dtype=float), kind="stable")[:k]]


def short_run_agreement(curves, epochs, top=10):
    """How well a short run ranks the trials of one search, against their full runs.

    curves: each trial's validation accuracy after every epoch (epoch 0 first), all trained for the same epochs
    (a diverged one ends early). For each number of epochs in `epochs`, one row: the rank correlation of the
    validation accuracies after that many epochs with the final ones, and how many of the final best `top`
    trials are also among the best `top` after that many epochs."""
    final = [val_acc_after(curve, max(map(len, curves)) - 1) for curve in curves]
    rows = []
    for epoch in epochs:
        short = [val_acc_after(curve, epoch) for curve in curves]
        shared = set(top_indices(short, top)) & set(top_indices(final, top))
        rows.append({"epochs": epoch, "rank_correlation": rank_correlation(short, final), "top_shared": len(shared)})
    return rows


def search_summary(results, halving, source=""):
    """The numbers of a full search and a successive halving as plain data (for figures/search_full.json)."""
    spent, best = results.best_so_far()
    h_spent, h_best = halving.best_so_far()
    return {
        "source": source,
        "trials": len(results),
        "epochs": results.epochs,
        "log": [str(trial) for trial in results],
        "ranking": results.ranking().splitlines(),
        "table": results.table(),
        "epochs_spent": results.epochs_spent,
        "val_curves": [[float(acc) for acc in trial.history.eval_acc["val"]] for trial in results],
        "best_so_far": [spent.tolist(), best.tolist()],
        "halving": {
            "schedule": halving.schedule,
            "epochs_spent": halving.epochs_spent,
            "best": str(halving.best),
            "best_so_far": [h_spent.tolist(), h_best.tolist()],
            "epochs_to_match": epochs_to_match(h_spent, h_best, results.best.val_acc),
        },
    }


def load_search_summary(path=None):
    """The saved numbers of the full search (figures/search_full.json, made by python -m helpers.figures)."""
    import json
    from pathlib import Path

    path = Path(path) if path else Path(__file__).resolve().parents[2] / "figures" / "search_full.json"
    return json.loads(path.read_text())
