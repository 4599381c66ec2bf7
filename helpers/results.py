"""The results of a hyperparameter search: one Trial per trained setting, a search's trials as SearchResults,
and the rungs of successive halving as HalvingResults.

A trial that diverged keeps its row (it prints "(diverged)") but is never counted among the best: it ranks
below every trial that trained, and `best`, `top` and `ranking` leave it out.
"""

from dataclasses import dataclass

import numpy as np

from helpers.checks import check_int
from helpers.lang import tr


@dataclass
class Trial:
    """One trained setting.

    index: its trial number in the search.
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
    def diverged(self):
        """True if its training diverged (History.diverged): its scores say nothing about its values."""
        return bool(self.history.diverged)

    @property
    def val_acc(self):
        """Final validation accuracy; 0 for a run that diverged."""
        return 0.0 if self.diverged else float(self.history.final("val"))

    @property
    def train_acc(self):
        return 0.0 if self.diverged else float(self.history.final("train"))

    @property
    def epochs(self):
        """Epochs this trial's net has been trained for in all."""
        return self.history.epoch

    def rank_key(self):
        """What the ranking compares: first whether it trained at all, then its validation accuracy."""
        return (not self.diverged, self.val_acc)

    def __lt__(self, other):
        """sorted(results, reverse=True) puts the best first and every diverged trial after those that trained."""
        return self.rank_key() < other.rank_key()

    def __str__(self):
        """The seminar's (the book's) log line: val acc:0.83 | lr:0.0079..., weight decay:4.3e-08"""
        values = ", ".join(f"{name.replace('_', ' ')}:{value}" for name, value in self.values.items())
        note = ""
        if self.diverged:
            reason = getattr(self.history, "diverged_reason", "")
            note = f" (diverged: {reason})" if reason else " (diverged)"
        return f"val acc:{self.val_acc}{note} | {values}"


class SearchResults:
    """The trials of a search, in the order given (random_search: by trial number).

    print(results)                   every trial in the seminar's format
    results.sorted()                 best validation accuracy first, diverged trials last (ties: trial order)
    results.best, results.top(5)     the best trial, the best 5 as SearchResults (diverged trials left out)
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
            return self._with(self.trials[item])
        return self.trials[item]

    def _with(self, trials):
        return SearchResults(trials, self.ranges, self.epochs, self.stopped)

    def __str__(self):
        return "\n".join(str(trial) for trial in self.trials)

    def __repr__(self):
        trained = self.trained()
        best = f", best val acc {trained.best.val_acc}" if len(trained) else ""
        diverged = f", {len(self) - len(trained)} diverged" if len(trained) < len(self) else ""
        return f"<SearchResults: {len(self)} trials{diverged}{best}, {self.epochs_spent} epochs spent>"

    def sorted(self, reverse=True):
        """A copy sorted by validation accuracy, best first, diverged trials last (reverse=False: the opposite)."""
        return self._with(sorted(self.trials, reverse=reverse))

    def trained(self):
        """The trials that did not diverge, in their order."""
        return self._with([trial for trial in self.trials if not trial.diverged])

    def diverged(self):
        """The trials that diverged, in their order."""
        return self._with([trial for trial in self.trials if trial.diverged])

    def top(self, k):
        """The best k trials that did not diverge, best first (fewer if fewer trained)."""
        k = check_int("k", k, low=1)
        return self.trained().sorted()[:k]

    @property
    def best(self):
        """The trial with the best validation accuracy among those that did not diverge."""
        if not self.trials:
            raise ValueError("no trials: the search has not finished any trial yet")
        trained = self.trained()
        if not len(trained):
            raise ValueError(f"all {len(self)} trials diverged: there is no best trial (try smaller learning rates)")
        return trained.sorted()[0]

    @property
    def epochs_spent(self):
        """Epochs trained over all trials: the cost of the search."""
        return sum(trial.epochs_spent for trial in self.trials)

    def values(self, name):
        """The values of hyperparameter `name` (one of the searched ranges' names), one per trial: a float array."""
        if name not in self.ranges:
            raise ValueError(f"the search has no hyperparameter {name!r}: it searched {list(self.ranges)}")
        return np.array([trial.values[name] for trial in self.trials])

    def val_accs(self):
        return np.array([trial.val_acc for trial in self.trials])

    def ranking(self, k=None):
        """The best k trials as the book prints them: Best-1(val acc:0.83) | lr:..., weight decay:..."""
        best = self.trained().sorted() if k is None else self.top(k)
        return "\n".join(f"Best-{i + 1}({str(trial).replace(' | ', ') | ', 1)}" for i, trial in enumerate(best))

    def table(self):
        """One plain dict per trial: trial number, each hyperparameter, val acc, train acc, epochs, diverged."""
        return [
            {
                "trial": t.index,
                **t.values,
                "val_acc": t.val_acc,
                "train_acc": t.train_acc,
                "epochs": t.epochs,
                "diverged": t.diverged,
            }
            for t in self.trials
        ]

    def best_so_far(self):
        """(epochs spent, best validation accuracy found so far) after each trial, in the order they are listed."""
        spent = np.cumsum([trial.epochs_spent for trial in self.trials])
        best = np.maximum.accumulate(self.val_accs()) if self.trials else np.array([])
        return spent, best


@dataclass
class HalvingResults:
    """What successive halving did: one SearchResults per rung (its trials carry their whole curves).

    A rung promotes only trials that did not diverge, so a rung can hold fewer trials than `schedule` says,
    and halving ends early if no trial of a rung trained.
    """

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
        lines = [f"rung {i}: {_rung_summary(rung)}" for i, rung in enumerate(self.rungs)]
        return "\n".join([*lines, tr(f"모두 {self.epochs_spent}에폭", f"{self.epochs_spent} epochs in all")])


def _rung_summary(rung):
    """ "27 trials x  2 epochs, best val acc 0.4 (1 diverged)", in the reader's language."""
    trained = rung.trained()
    n_diverged = len(rung) - len(trained)
    if not len(trained):
        best = tr("모든 시행이 발산", "every trial diverged")
    else:
        best = tr(f"최고 검증 정확도 {trained.best.val_acc}", f"best val acc {trained.best.val_acc}")
    if n_diverged and len(trained):
        best += tr(f" (발산 {n_diverged}개)", f" ({n_diverged} diverged)")
    trials = "trials" if len(rung) != 1 else "trial "
    return tr(
        f"시행 {len(rung):3d}개 × {rung.epochs:2d}에폭, {best}",
        f"{len(rung):3d} {trials} x {rung.epochs:2d} epochs, {best}",
    )
