"""Stand-ins for training results, for tests that need a search's numbers without training anything."""

import numpy as np

from helpers.results import SearchResults, Trial
from helpers.search import SEMINAR_RANGES


class Curves:
    """What searches and plots read of a training History: train_acc and eval_acc per epoch (epoch 0
    included), diverged, epoch, epochs, final()."""

    def __init__(self, train_acc, eval_acc=None, diverged=False):
        self.train_acc = list(train_acc)
        self.eval_acc = {name: list(curve) for name, curve in (eval_acc or {}).items()}
        self.diverged = diverged
        self.epoch = self.epochs = len(self.train_acc) - 1

    def final(self, name="train"):
        return (self.train_acc if name == "train" else self.eval_acc[name])[-1]


def trial_curves(val_acc, start=0.1, diverged=False):
    """One epoch of training that took train and validation accuracy from `start` to `val_acc`."""
    return Curves([start, val_acc], {"val": [start, val_acc]}, diverged)


def fake_results(lrs, weight_decays, val_accs, diverged=None, start=0.1, ranges=SEMINAR_RANGES):
    """SearchResults with the given values and final validation accuracies (the trials marked in `diverged`
    diverged), without training anything."""
    diverged = diverged or [False] * len(lrs)
    trials = [
        Trial(i, {"lr": float(lr), "weight_decay": float(wd)}, trial_curves(acc, start, gone), seed=i, epochs_spent=1)
        for i, (lr, wd, acc, gone) in enumerate(zip(lrs, weight_decays, val_accs, diverged, strict=True))
    ]
    return SearchResults(trials, ranges, epochs=1)


def make_blobs(n, seed, spread=3.0):
    """Three Gaussian clouds in 20 dimensions, their centres `spread` apart in std units: (n, 20) float32
    inputs, (n,) labels in 0..2."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, size=n)
    centres = np.random.default_rng(99).standard_normal((3, 20)) * spread
    return (centres[t] + rng.standard_normal((n, 20))).astype(np.float32), t
