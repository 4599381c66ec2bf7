"""The seminar's hyperparameter search with a real engine, Optuna: its objective, and how to count its cost.

Notebook 04 built every part of the search by hand (helpers.search). What each part is called in Optuna:

    helpers.search (notebook 04)                      Optuna
    ranges {"lr": (1e-6, 1e-2)} + sample_log_uniform  trial.suggest_float("lr", 1e-6, 1e-2, log=True)
    ValidationObjective: train, score on val data     an objective function: objective(trial) -> val acc
    random_search(objective, seed=0)                  optuna.create_study(sampler=RandomSampler(seed=0))
    Trial, SearchResults, results.best                FrozenTrial, study.trials, study.best_trial
    narrow: the next, narrower range (by hand)        TPESampler: draws more where the good trials are
    successive_halving: rungs, keep the best 1/eta    SuccessiveHalvingPruner (or HyperbandPruner), which
                                                      stops a trial that reports badly at a rung
    n_jobs worker processes on one machine            many workers sharing one storage (helpers.classroom)

`SeminarObjective` is the seminar's objective as an Optuna objective. It reports the validation accuracy after
every epoch (`trial.report`) and asks the study's pruner whether to go on (`trial.should_prune`), so one
objective serves a plain search (pruner=NopPruner()) and a pruned one alike.
"""

import math

import numpy as np
import optuna

from helpers.checks import check_int, check_seed
from helpers.search import SEMINAR_RANGES, ValidationObjective, check_ranges
from helpers.train import STOP


def training_seed(seed, number):
    """The seed of trial `number`'s initial weights and mini-batch order: it depends on nothing else."""
    return int(np.random.default_rng([seed, number]).integers(2**31))


class SeminarObjective:
    """objective(trial) -> validation accuracy of a net trained with the trial's lr and weight decay.

    validation: a ValidationObjective (the training part, the validation part, the net's fixed shape).
    ranges: {name: (low, high)}, each suggested on a log scale (suggest_float(..., log=True)).
    epochs: epochs per trial; after epoch e (1 .. epochs) it calls trial.report(val acc, e), and stops the
        trial with optuna.TrialPruned when trial.should_prune() says so.
    seed: trial n trains with training_seed(seed, n), kept in trial.user_attrs["seed"]; the same trial number
        and values always train the same net. A run that diverges scores 0 (as in helpers.search).
    """

    def __init__(self, validation, ranges=SEMINAR_RANGES, epochs=20, seed=0):
        if not isinstance(validation, ValidationObjective):
            raise TypeError(
                f"validation must be a ValidationObjective (e.g. experiments.search_objective()), "
                f"got {type(validation).__name__}"
            )
        self.validation = validation
        self.ranges = check_ranges(ranges)
        validation.check_names(self.ranges)
        self.epochs = check_int("epochs", epochs, low=1)
        self.seed = check_seed("seed", seed)

    def suggest(self, trial):
        """The trial's values: {name: value}, each drawn by the study's sampler on a log scale."""
        return {name: trial.suggest_float(name, low, high, log=True) for name, (low, high) in self.ranges.items()}

    def __call__(self, trial):
        values = self.suggest(trial)
        seed = training_seed(self.seed, trial.number)
        trial.set_user_attr("seed", seed)
        pruned = []

        def report(history):
            if history.epoch == 0 or history.diverged:
                return None
            trial.report(float(history.eval_acc["val"][-1]), history.epoch)
            if trial.should_prune():
                pruned.append(history.epoch)
                return STOP
            return None

        history = self.validation.train(values, self.epochs, seed, [report])
        if pruned:
            raise optuna.TrialPruned(f"pruned after epoch {pruned[0]}")
        return 0.0 if history.diverged else float(history.final("val"))


def epochs_trained(trial):
    """Epochs a finished trial cost: the epochs it reported (a pruned trial stopped early)."""
    return len(trial.intermediate_values)


def finished_trials(study):
    """The study's COMPLETE and PRUNED trials, by trial number."""
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return sorted(study.get_trials(deepcopy=False, states=states), key=lambda trial: trial.number)


def epochs_spent(study):
    """Epochs trained over all the study's finished trials: the cost of the search."""
    return sum(epochs_trained(trial) for trial in finished_trials(study))


def best_so_far(study):
    """(epochs spent, best validation accuracy so far) after each finished trial, by trial number, like
    SearchResults.best_so_far (so plots.plot_best_so_far draws both). A pruned trial's best is its last report."""
    trials = finished_trials(study)
    spent = np.cumsum([epochs_trained(trial) for trial in trials])
    scores = [trial.value if trial.value is not None else _last_report(trial) for trial in trials]
    return spent, np.maximum.accumulate(scores) if trials else np.array([])


def _last_report(trial):
    values = trial.intermediate_values
    return values[max(values)] if values else 0.0


class EpochBudget:
    """A study.optimize callback that stops the study once its finished trials have cost `budget` epochs:
    searches compared at an equal budget of epochs, not of trials (a pruned trial is cheap)."""

    def __init__(self, budget):
        self.budget = check_int("budget", budget, low=1)

    def __call__(self, study, trial):
        if epochs_spent(study) >= self.budget:
            study.stop()


def top_decade_share(study, name="lr"):
    """The share of the study's trials whose `name` lies in the top decade of its range (e.g. lr >= 1e-3)."""
    values = [trial.params[name] for trial in study.trials if name in trial.params]
    if not values:
        return math.nan
    high = max(trial.distributions[name].high for trial in study.trials if name in trial.distributions)
    return float(np.mean(np.asarray(values) >= high / 10))


def optuna_figure(plot, *args, legend=True, **kwargs):
    """One of Optuna's matplotlib figures as a PNG image for the notebook, e.g.
    optuna_figure(optuna.visualization.matplotlib.plot_slice, study, params=["lr"]).

    Optuna draws with pyplot and switches matplotlib to the ggplot style for good (plt.style.use): here the
    style lasts for this figure only, and the figure is closed once it is a picture, so nothing depends on
    pyplot's display machinery. legend=False leaves the legend out (plot_intermediate_values lists every trial).
    """
    import matplotlib
    from IPython.display import Image
    from matplotlib import pyplot

    from helpers.plots import to_png  # imported before the context: the series' font settings stay

    with matplotlib.rc_context():
        axes = np.atleast_1d(plot(*args, **kwargs))
        figure = axes.flat[0].figure
        for ax in axes.flat:
            if not legend and ax.get_legend() is not None:
                ax.get_legend().remove()
        png = to_png(figure)
    pyplot.close(figure)
    return Image(png)
