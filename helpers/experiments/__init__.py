"""The seminar's experiments as plain functions with the book's settings as defaults.

Each returns data (histories, arrays) and never draws: the notebooks, the figures command, the slider
panels and the tests call these same functions. `data` is `load_mnist()`'s result; None loads it.
A `callback` gets the current histories after every epoch and returns None, or helpers.train.STOP to stop
(the Stop button).
"""

from helpers.experiments.batch_normalization import (
    BN_STDS,
    FinalAccuracy,
    ScoringModes,
    activation_histograms,
    batchnorm_activations,
    batchnorm_gradient_check,
    batchnorm_grid,
    batchnorm_grid_parallel,
    batchnorm_modes_demo,
    batchnorm_overfitting,
    batchnorm_pair,
    batchnorm_scoring_modes,
    train_mode_accuracy,
)
from helpers.experiments.common import (
    epochs_to_reach,
    first_samples,
    hidden_activations,
    in_step,
)
from helpers.experiments.dropout import MaskEnsemble, dropout_demo, mask_ensemble
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
    WEIGHT_DECAY_EPOCHS,
    Run,
    final_accuracies,
    overfitting_run,
    shrinkage_curve,
    validation_images,
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
    "ScoringModes",
    "batchnorm_scoring_modes",
    "train_mode_accuracy",
    "FinalAccuracy",
    "batchnorm_overfitting",
    "WEIGHT_DECAY_EPOCHS",
    "DROPOUT_EPOCHS",
    "Run",
    "weight_norm",
    "overfitting_run",
    "shrinkage_curve",
    "validation_images",
    "final_accuracies",
    "dropout_demo",
    "MaskEnsemble",
    "mask_ensemble",
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
