"""helpers.plots: every figure renders, says "diverged" where a run diverged, speaks the notebook's language,
and refuses empty or mismatched input with an error that names the argument."""

import numpy as np
import pytest
from fakes import Curves, fake_results

from helpers import plots


@pytest.fixture(autouse=True)
def korean(monkeypatch):
    monkeypatch.setenv("DL4_LANG", "ko")


def digits(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 784)).astype(np.float32), rng.integers(0, 10, n)


def texts(fig):
    """Every piece of text on the figure: titles, labels, tick labels, legends."""
    return [t.get_text() for t in fig.findobj(lambda artist: hasattr(artist, "get_text")) if t.get_text()]


def run(diverged=False):
    return Curves([0.1, 0.5, 0.7], {"test": [0.1, 0.4, 0.6]}, diverged=diverged)


@pytest.mark.parametrize("n_images", [1, 3])
def test_plot_split_shows_any_number_of_validation_images(n_images):
    fig = plots.plot_split(digits(40), digits(10, 1), n_images=n_images)
    images = [ax for ax in fig.get_axes() if ax.images]
    assert len(images) == n_images
    assert plots.to_png(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: plots.plot_grid({}), ValueError, "panels is empty"),
        (lambda: plots.plot_grid({"std=0.01": {}}), ValueError, r"panels\['std=0.01'\] is empty"),
        (lambda: plots.plot_histograms({}), ValueError, "rows is empty"),
        (lambda: plots.plot_histograms({"sigmoid": []}), ValueError, r"rows\['sigmoid'\] must be a non-empty list"),
        (lambda: plots.plot_best_so_far({}), ValueError, "curves is empty"),
        (lambda: plots.plot_best_so_far({"random": ([], [])}), ValueError, r"curves\['random'\] must be"),
        (lambda: plots.plot_split(digits(5), (digits(1)[0][:0], [])), ValueError, "val must be a non-empty pair"),
        (lambda: plots.plot_split(digits(5), digits(5), n_images=0), ValueError, "n_images"),
        (lambda: plots.plot_coarse_to_fine([]), ValueError, "rounds is empty"),
        (lambda: plots.plot_grid([run()]), TypeError, "panels must be a dict"),
    ],
)
def test_empty_or_malformed_input_names_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_an_eval_set_the_run_does_not_have_is_named_with_the_ones_it_has():
    message = r"eval_name='val' is not an evaluation set of the run 'SGD': it has \['test'\]"
    with pytest.raises(ValueError, match=message):
        plots.plot_runs({"SGD": run()}, eval_name="val")
    with pytest.raises(ValueError, match="eval_name='val'"):
        plots.plot_grid({"panel": {"SGD": run()}}, eval_name="val")


def test_a_diverged_run_says_so_in_the_legend():
    fig = plots.plot_runs({"SGD": run(), "lr 10": run(diverged=True)}, eval_name="test")
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["SGD 훈련", "SGD 시험", "lr 10 훈련 (발산(diverged))", "lr 10 시험 (발산(diverged))"]


def test_axis_labels_follow_the_language(monkeypatch):
    fig = plots.plot_runs({"SGD": run()})
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("에폭(epoch)", "정확도(accuracy)")
    monkeypatch.setenv("DL4_LANG", "en")
    fig = plots.plot_runs({"SGD": run()})
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == ("epoch", "accuracy")


def test_the_search_scatter_marks_diverged_trials_and_stars_the_best_that_trained():
    results = fake_results([1e-4, 1e-3, 5e-3], [1e-6] * 3, [0.3, 0.8, 0.9], diverged=[False, False, True])
    fig = plots.plot_search_scatter(results)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["발산(diverged): 1", "최고: 검증 0.80"]
    assert plots.to_png(fig).startswith(b"\x89PNG")


def test_a_search_where_every_trial_diverged_still_draws_its_scatter_but_has_no_best_curves():
    results = fake_results([10.0, 20.0], [1e-6] * 2, [0.5, 0.5], diverged=[True, True])
    labels = plots.plot_search_scatter(results).axes[0].get_legend_handles_labels()[1]
    assert labels == ["발산(diverged): 2"]
    with pytest.raises(ValueError, match="all 2 trials diverged"):
        plots.plot_best_curves(results)


def test_the_best_curves_leave_diverged_trials_out_and_count_them():
    results = fake_results([1e-4, 1e-3, 5e-3], [1e-6] * 3, [0.3, 0.8, 0.9], diverged=[False, False, True])
    fig = plots.plot_best_curves(results, 3, ncols=3)
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["Best-1", "Best-2"]
    assert "발산(diverged)한 시행 1개는 빠짐" in texts(fig)


def test_the_grid_has_one_legend_entry_per_run_and_one_for_divergence(monkeypatch):
    monkeypatch.setenv("DL4_LANG", "en")
    learns, blows_up = Curves([0.1, 0.5, 0.9]), Curves([0.1], diverged=True)
    fig = plots.plot_grid({"std=1": {"with BN": learns, "without BN": blows_up}, "std=0.1": {"with BN": learns}})
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert labels == ["with BN", "without BN", "diverged"]


class Run:
    """What experiments.overfitting_run returns: a History inside, not a History."""

    history = run()


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: plots.plot_runs(run()), TypeError, r"runs must be a dict \{label: History\}.*got Curves"),
        (lambda: plots.plot_runs({"wd": Run()}), TypeError, r"runs\['wd'\] must be a History .*use its .history"),
        (lambda: plots.plot_grid({"a": {"wd": Run()}}), TypeError, r"panels\['a'\]\['wd'\] must be a History"),
        (
            lambda: plots.plot_histograms({"a": np.zeros((100, 10))}),
            TypeError,
            r"rows\['a'\] must be a list of activation arrays.*got an array of shape \(100, 10\)",
        ),
        (lambda: plots.plot_histograms({"a": [np.zeros(10)]}, bins=0), ValueError, r"bins must be an integer in \[1"),
        (lambda: plots.plot_histograms({"a": [np.zeros(10)]}, value_range=(1, 0)), ValueError, "value_range must"),
        (lambda: plots.plot_histograms({"a": [np.zeros(10)]}, value_range=1), TypeError, "value_range must be a pair"),
        (lambda: plots.plot_split(digits(5), (digits(5)[0], np.full(5, 10))), ValueError, "t_val must be digit labels"),
        (
            lambda: plots.plot_search_scatter(fake_results([1e-3, 1e-2], [1e-6, 1e-5], [0.5, 0.6]), x="learning_rate"),
            ValueError,
            r"no hyperparameter 'learning_rate'",
        ),
        (lambda: plots.plot_best_so_far({"random": 0.7}), TypeError, r"curves\['random'\] must be \(spent, best\)"),
    ],
)
def test_a_wrong_kind_of_input_names_the_argument_and_what_it_must_be(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_plot_split_reads_one_hot_labels_as_the_digits_they_encode():
    (x, t), (x_val, t_val) = digits(40), digits(10, 1)
    as_labels = plots.plot_split((x, t), (x_val, t_val))
    one_hot = plots.plot_split((x, np.eye(10)[t]), (x_val, np.eye(10)[t_val]))
    heights = [[bar.get_height() for bar in fig.axes[0].patches] for fig in (as_labels, one_hot)]
    assert heights[0] == heights[1] and sum(heights[1]) == 50
    assert texts(as_labels) == texts(one_hot)


def test_plot_best_so_far_takes_a_search_s_results_as_their_curve():
    results = fake_results([1e-3, 1e-2, 1e-4], [1e-6, 1e-5, 1e-7], [0.5, 0.6, 0.4])
    fig = plots.plot_best_so_far({"random": results})
    (line,) = fig.axes[0].get_lines()
    spent, best = results.best_so_far()
    np.testing.assert_array_equal(line.get_ydata()[-1], best[-1])
    assert any("0.60" in text for text in texts(fig))


def test_plot_runs_names_epochs_that_are_not_a_whole_number():
    with pytest.raises(TypeError, match=r"epochs must be an integer, got '20' \(str\)"):
        plots.plot_runs({"a": run()}, epochs="20")
    assert plots.plot_runs({"a": run()}, epochs=0).axes[0].get_xlim() == (0, 2)  # 0: the run's own length
