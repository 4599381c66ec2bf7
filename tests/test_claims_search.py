"""What notebook 04 tells its students about hyperparameter search, checked on the book's images with the
notebook's own settings (x_train[:500] split 400 / 100, the seminar's ranges, seed 0).

The searches take seconds, so those tests are marked slow; the saved full search (figures/search_full.json,
100 trials x 50 epochs) is read, not rerun.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from helpers import experiments as ex
from helpers.data import load_mnist
from helpers.search import SEMINAR_RANGES, trial_draw

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = "04_hyperparameter_search.ipynb"
WIDE = {"lr": (1e-4, 1.0), "weight_decay": (1e-8, 1e-4)}  # the notebook's range for grid vs random and halving


@pytest.fixture(scope="module")
def data():
    return load_mnist()


@pytest.fixture(scope="module")
def seminar_20(data):
    """The notebook's own search: 20 trials x 20 epochs in the seminar's ranges."""
    return ex.seminar_search(n_trials=20, epochs=20, data=data, n_jobs=2, progress=False)


@pytest.fixture(scope="module")
def rounds(seminar_20, data):
    """The notebook's coarse-to-fine: its 20 trials, then 16 trials in each proposed range, the best 4 decide."""
    return ex.coarse_to_fine(first=seminar_20, rounds=3, n_trials=16, epochs=20, top_k=4, data=data, n_jobs=2)


@pytest.fixture(scope="module")
def grid_and_random(data):
    """The notebook's grid vs random search: a 3 x 3 grid and 9 random trials in WIDE, 20 epochs each."""
    return ex.grid_vs_random(points=3, epochs=20, ranges=WIDE, data=data, n_jobs=2)


@pytest.fixture(scope="module")
def full():
    return ex.load_search_summary()


# --- Spearman's rank correlation, the measure behind "how well does a short run rank the trials" ---------------


def test_rank_correlation_is_one_for_the_same_order_and_minus_one_for_the_reverse():
    assert ex.rank_correlation([0.1, 0.5, 0.3], [1, 9, 4]) == pytest.approx(1.0)
    assert ex.rank_correlation([0.1, 0.5, 0.3], [9, 1, 4]) == pytest.approx(-1.0)


def test_rank_correlation_gives_tied_scores_their_average_rank():
    # ranks (1, 2.5, 2.5, 4) against (1, 3, 2, 4): covariance 4.5, variances 4.5 and 5
    assert ex.rank_correlation([0.1, 0.2, 0.2, 0.3], [1, 3, 2, 4]) == pytest.approx(4.5 / np.sqrt(4.5 * 5))


def test_rank_correlation_of_scores_that_never_differ_is_an_error():
    with pytest.raises(ValueError, match="differ"):
        ex.rank_correlation([0.1, 0.1, 0.1], [1, 2, 3])
    with pytest.raises(ValueError, match="shapes"):
        ex.rank_correlation([0.1, 0.2], [1, 2, 3])


def test_short_run_agreement_scores_a_diverged_trial_zero_after_its_curve_ends():
    curves = [[0.1, 0.5, 0.9], [0.1, 0.6], [0.1, 0.2, 0.3]]  # the second diverged after epoch 1
    one, two = ex.short_run_agreement(curves, epochs=(1, 2), top=1)
    assert one["top_shared"] == 0 and two["top_shared"] == 1  # after 1 epoch trial 1 leads, at the end trial 0
    assert one["rank_correlation"] == pytest.approx(-0.5) and two["rank_correlation"] == pytest.approx(1.0)


# --- Validation data: the split, and the test set scored once, at the end ----------------------------------------


def test_the_search_trains_on_400_and_validates_on_100_of_the_first_500_training_images(data):
    (x_train, t_train), (x_val, t_val) = ex.search_split(data)
    assert (len(x_train), len(x_val)) == (400, 100)
    first_500 = {image.tobytes() for image in data[0][0][:500]}
    assert all(image.tobytes() in first_500 for image in np.concatenate([x_train, x_val]))
    assert len({image.tobytes() for image in np.concatenate([x_train, x_val])}) == len(first_500)


@pytest.mark.parametrize("edition", ["", "en/"])
def test_the_notebook_scores_the_test_set_once_after_every_search(edition):
    notebook = json.loads((NOTEBOOKS / edition / NOTEBOOK).read_text(encoding="utf-8"))
    code = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    tested = [i for i, source in enumerate(code) if "evaluate_on_test(" in source]
    assert len(tested) == 1 and code[tested[0]].count("evaluate_on_test(") == 1
    searches = re.compile(r"\b(seminar_search|coarse_to_fine|grid_vs_random|search_halving|random_search)\(")
    assert not any(searches.search(source) for source in code[tested[0] :]), "a search after the test score"
    assert not any(re.search(r"x_test|t_test|data\[1\]", source) for source in code), "the test set read directly"


# --- The notebook's 20-trial search ----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_best_three_learning_rates_lie_in_the_top_decade(seminar_20):
    assert all(trial.values["lr"] >= 1e-3 for trial in seminar_20.top(3))


@pytest.mark.slow
def test_two_epochs_rank_the_trials_worse_than_ten(seminar_20):
    curves = [trial.history.eval_acc["val"] for trial in seminar_20]
    after_2, after_10 = ex.short_run_agreement(curves, epochs=(2, 10), top=5)
    assert after_2["rank_correlation"] < after_10["rank_correlation"]
    assert after_2["top_shared"] < 5  # the best 5 after 2 epochs are not the best 5 after 20


@pytest.mark.slow
def test_the_full_search_repeats_the_twenty_trials_with_more_epochs(seminar_20, full):
    assert [row["lr"] for row in full["table"][:20]] == list(seminar_20.values("lr"))
    for trial, curve in zip(seminar_20, full["val_curves"][:20], strict=True):
        assert curve[: trial.epochs + 1] == pytest.approx(trial.history.eval_acc["val"], abs=0.011)


# --- Coarse to fine, and the one test score -----------------------------------------------------------------------


@pytest.mark.slow
def test_round_one_warns_that_the_best_learning_rates_sit_at_the_upper_edge(rounds):
    upper_edge = ("upper edge", "위쪽 가장자리")  # narrow speaks the notebook's language
    assert any("lr" in warning and any(edge in warning for edge in upper_edge) for warning in rounds[0].warnings)
    assert rounds[0].proposal["lr"][1] > SEMINAR_RANGES["lr"][1]


@pytest.mark.slow
def test_narrowing_raises_the_best_validation_accuracy_by_more_than_20_points(rounds):
    assert rounds[-1].results.best.val_acc > rounds[0].results.best.val_acc + 0.2


@pytest.mark.slow
def test_the_chosen_setting_scores_on_the_test_set_within_10_points_of_its_validation_accuracy(rounds, data):
    best = rounds[-1].results.best
    test_acc = ex.evaluate_on_test(best.values, epochs=20, data=data)
    assert abs(test_acc - best.val_acc) < 0.1


# --- Doing better for the same budget --------------------------------------------------------------------------


@pytest.mark.slow
def test_random_search_finds_a_better_setting_than_the_grid_with_as_many_trials(grid_and_random):
    grid, random = grid_and_random
    assert len(np.unique(grid.values("lr"))) == 3 and len(np.unique(random.values("lr"))) == 9
    assert random.best.val_acc > grid.best.val_acc


@pytest.mark.slow
def test_successive_halving_starts_from_the_random_trials_and_does_about_as_well(grid_and_random, data):
    _, random = grid_and_random
    halving = ex.search_halving(n_trials=27, min_epochs=2, max_epochs=20, ranges=WIDE, data=data, n_jobs=2)
    assert [trial.values for trial in halving.rungs[0][:9]] == [trial.values for trial in random]
    assert halving.best.val_acc >= random.best.val_acc - 0.05


def test_successive_halving_with_a_progress_bar_trains_every_trial_of_each_rung(data):
    """The saved full search runs halving with its progress bar shown: the bar must not cut a rung short."""
    halving = ex.search_halving(n_trials=9, min_epochs=1, max_epochs=3, data=data, progress=True)
    assert [len(rung) for rung in halving.rungs] == [9, 3]


# --- What the notebook reads from the saved full search (figures/search_full.json) --------------------------------


def test_the_saved_full_search_is_the_seminar_setting_with_every_curve(full):
    assert (full["trials"], full["epochs"]) == (100, 50)
    assert [row["lr"] for row in full["table"]] == [trial_draw(SEMINAR_RANGES, 0, i)[0]["lr"] for i in range(100)]
    assert len(full["val_curves"]) == 100 and {len(curve) for curve in full["val_curves"]} == {51}


def test_in_the_full_search_longer_short_runs_rank_better_yet_two_epochs_miss_part_of_the_best_ten(full):
    rows = ex.short_run_agreement(full["val_curves"], epochs=(2, 6, 18), top=10)
    correlations = [row["rank_correlation"] for row in rows]
    assert correlations == sorted(correlations)
    assert rows[0]["top_shared"] < 10


def test_in_the_full_search_the_learning_rate_orders_the_trials_and_the_weight_decay_does_not(full):
    val = [row["val_acc"] for row in full["table"]]
    assert ex.rank_correlation([row["lr"] for row in full["table"]], val) > 0.5
    assert abs(ex.rank_correlation([row["weight_decay"] for row in full["table"]], val)) < 0.2


def test_in_the_full_search_no_trial_fits_its_400_training_images(full):
    assert max(row["train_acc"] for row in full["table"]) < 0.95


def test_successive_halving_reaches_the_full_searchs_best_in_a_fraction_of_its_epochs(full):
    best = max(row["val_acc"] for row in full["table"])
    halving = full["halving"]["epochs_to_match"]
    assert halving is not None and halving < ex.epochs_to_match(*full["best_so_far"], best) / 2
