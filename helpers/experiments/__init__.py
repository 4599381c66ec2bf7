"""The seminar's experiments as plain functions with the book's settings as defaults.

Each returns data (histories, arrays) and never draws: the notebooks, the figures command, the slider
panels and the tests call these same functions. `data` is `load_mnist()`'s result; None loads it.
A `callback` gets the current histories after every epoch and returns None, or helpers.train.STOP to stop
(the Stop button).
"""

from helpers.experiments.batch_normalization import (
    BN_STDS,
    activation_histograms,
    batchnorm_activations,
    batchnorm_gradient_check,
    batchnorm_grid,
    batchnorm_grid_parallel,
    batchnorm_modes_demo,
    batchnorm_pair,
)
from helpers.experiments.common import (
    epochs_to_reach,
    first_samples,
    hidden_activations,
    in_step,
)
from helpers.experiments.hyperparameter_search import (
    SearchRound,
    coarse_to_fine,
    epochs_to_match,
    evaluate_on_test,
    grid_vs_random,
    load_search_summary,
    rank_correlation,
    search_halving,
    search_objective,
    search_split,
    search_summary,
    seminar_search,
    short_run_agreement,
    val_acc_after,
)
from helpers.experiments.overfitting import (
    DROPOUT_EPOCHS,
    Run,
    dropout_demo,
    overfitting_run,
    weight_norm,
)

__all__ = [
    "first_samples",
    "hidden_activations",
    "in_step",
    "epochs_to_reach",
    "BN_STDS",
    "activation_histograms",
    "batchnorm_pair",
    "batchnorm_grid",
    "batchnorm_grid_parallel",
    "batchnorm_activations",
    "batchnorm_gradient_check",
    "batchnorm_modes_demo",
    "DROPOUT_EPOCHS",
    "Run",
    "weight_norm",
    "overfitting_run",
    "dropout_demo",
    "search_split",
    "search_objective",
    "seminar_search",
    "SearchRound",
    "coarse_to_fine",
    "evaluate_on_test",
    "grid_vs_random",
    "search_halving",
    "epochs_to_match",
    "search_summary",
    "load_search_summary",
    "rank_correlation",
    "short_run_agreement",
    "val_acc_after",
]
