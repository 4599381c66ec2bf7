"""Stand-ins for training results, for tests that need a search's numbers without training anything."""

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
