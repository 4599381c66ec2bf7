"""The experiment functions the notebooks, figures and panels share, on small synthetic data."""

import numpy as np
import pytest

from helpers import experiments as ex
from helpers.data import load_mnist
from helpers.figures import MAKERS, show_figure
from helpers.figures import main as figures_main
from helpers.train import STOP, History, fit


@pytest.fixture(scope="module")
def data(fake_digits):
    return fake_digits(300, 100)


@pytest.fixture(scope="module")
def book_data():
    return load_mnist(source="offline", verbose=False)


def test_batchnorm_pair_trains_both_nets_in_step_and_bn_learns_faster(data):
    seen = []
    runs = ex.batchnorm_pair(
        0.01, n_train=300, epochs=5, data=data, callback=lambda r: seen.append({k: h.epoch for k, h in r.items()})
    )
    assert seen == [{"with BN": e, "without BN": e} for e in range(6)]
    assert runs["with BN"].loss[-1] < runs["without BN"].loss[-1] - 0.3


def test_batchnorm_pair_goes_on_when_one_run_diverges(data):
    runs = ex.batchnorm_pair(1.0, n_train=300, epochs=4, lr=1.0, data=data)
    assert runs["without BN"].diverged
    assert not runs["with BN"].diverged and runs["with BN"].epoch == 4


def test_batchnorm_pair_can_put_the_normalization_after_the_activation(data):
    before = ex.batchnorm_pair(0.01, n_train=300, epochs=3, data=data)
    after = ex.batchnorm_pair(0.01, n_train=300, epochs=3, data=data, batchnorm_position="after")
    assert after["without BN"].train_acc == before["without BN"].train_acc  # the plain net is the same
    assert after["with BN"].train_acc != before["with BN"].train_acc


def test_callback_returning_stop_stops_the_pair(data):
    runs = ex.batchnorm_pair(0.01, n_train=300, epochs=10, data=data, callback=lambda r: STOP)
    assert all(h.stopped and h.epoch == 0 for h in runs.values())


def test_callback_returning_true_is_a_clear_error_not_a_silent_stop(data):
    with pytest.raises(TypeError, match="returned True: a callback returns None to go on, or helpers.train.STOP"):
        ex.batchnorm_pair(0.01, n_train=300, epochs=10, data=data, callback=lambda r: True)


def test_overfitting_run_records_weight_norm_each_epoch_and_decay_shrinks_it(data):
    plain = ex.overfitting_run(n_train=300, epochs=10, data=data)
    decayed = ex.overfitting_run(weight_decay_lambda=0.5, n_train=300, epochs=10, data=data)
    assert len(plain.weight_norm) == 11
    assert plain.weight_norm[0] == pytest.approx(decayed.weight_norm[0])  # same seed, same start
    assert decayed.weight_norm[-1] < 0.9 * plain.weight_norm[-1]


def test_n_train_larger_than_the_data_is_a_clear_error(data):
    with pytest.raises(ValueError, match=r"n_train must be an integer in \[1, 300\], got 301"):
        ex.overfitting_run(n_train=301, data=data)


@pytest.mark.parametrize(("n_train", "n_test"), [(-5, None), (0, None), (10, -1)])
def test_negative_or_zero_sample_counts_are_clear_errors(data, n_train, n_test):
    with pytest.raises(ValueError, match="n_t(rain|est) must be an integer in"):
        ex.first_samples(data, n_train, n_test)


def test_evaluate_on_test_trains_without_looking_at_the_test_set_then_scores_it_once(book_data, monkeypatch):
    calls = []

    def fit_spy(net, x, t, **kwargs):
        calls.append(kwargs.get("eval_sets"))
        return fit(net, x, t, **kwargs)

    monkeypatch.setattr(ex.hyperparameter_search, "fit", fit_spy)
    accuracy = ex.evaluate_on_test({"lr": 0.1, "weight_decay": 1e-6}, epochs=10, data=book_data, n_samples=300)
    assert calls == [None]  # trained with no eval set: the test set is not scored during training
    assert isinstance(accuracy, float) and accuracy > 0.3  # then scored once; chance is 0.1


def test_epochs_to_reach():
    assert ex.epochs_to_reach([0.1, 0.5, 0.96, 0.9], 0.95) == 2
    assert ex.epochs_to_reach([0.1, 0.5], 0.95) is None


def test_batchnorm_gradient_check_passes():
    assert max(ex.batchnorm_gradient_check().values()) < 1e-6


def test_activation_histograms_show_the_vanishing_signal_at_small_std():
    small = ex.activation_histograms(0.01, "relu")
    he = ex.activation_histograms("he", "relu")
    assert len(small) == 5 and small[0].shape == (1000, 100)
    assert small[-1].std() < 1e-3 * he[-1].std()


def test_figures_command_rejects_unknown_names():
    with pytest.raises(SystemExit):
        figures_main(["nope.png"])


@pytest.mark.parametrize("name", [name for name in MAKERS if name.endswith(".png")])
def test_show_figure_gives_each_saved_figure_as_png_output(name):
    assert show_figure(name).data[:8] == b"\x89PNG\r\n\x1a\n"


def test_show_figure_names_the_command_that_makes_a_missing_figure():
    with pytest.raises(FileNotFoundError, match="python -m helpers.figures nope.png"):
        show_figure("nope.png")


def test_one_x_t_pair_as_data_is_refused_with_what_data_must_be(data):
    with pytest.raises(
        TypeError, match=r"data must be load_mnist\(\)'s result .* got tuple \(a single \(x, t\) pair\?\)"
    ):
        ex.batchnorm_pair(0.01, n_train=100, epochs=1, data=data[0])


@pytest.mark.parametrize("search", [ex.seminar_search, ex.search_halving, ex.grid_vs_random, ex.coarse_to_fine])
def test_an_empty_ranges_dict_is_refused_not_replaced_by_the_seminar_ranges(fake_digits, search):
    with pytest.raises(ValueError, match="ranges is empty"):
        search(ranges={}, data=fake_digits(500, 10), progress=False)


def test_a_search_split_without_one_mini_batch_of_training_images_names_n_samples(data):
    with pytest.raises(ValueError, match=r"n_samples=10 with ratio=0.2 leaves 8 training images.*n_samples >= 125"):
        ex.seminar_search(n_samples=10, n_trials=1, epochs=1, data=data, progress=False)


def test_an_overfitting_run_without_test_images_names_n_test(data):
    with pytest.raises(ValueError, match=r"n_test must be an integer in \[1, inf\], got 0"):
        ex.overfitting_run(n_train=100, n_test=0, epochs=1, data=data)


def test_a_search_on_fewer_images_than_n_samples_names_n_samples(data):
    with pytest.raises(ValueError, match=r"n_samples must be an integer in \[2, 300\], got 500"):
        ex.search_objective(data)


def test_epochs_to_reach_given_a_history_says_to_pass_one_of_its_curves():
    history = History(epochs=2, train_acc=[0.1, 0.5, 0.95])
    assert ex.epochs_to_reach(history.train_acc, 0.9) == 2
    with pytest.raises(TypeError, match=r"curve must be one accuracy curve, e.g. history.train_acc"):
        ex.epochs_to_reach(history, 0.9)


def spy(monkeypatch, module, name):
    """Record the (x, t, eval_sets) that module.name (train_epochs or fit) is given, then let it run."""
    calls = []
    original = getattr(module, name)

    def recording(net, x, t, **kwargs):
        calls.append((np.asarray(x), np.asarray(t), kwargs.get("eval_sets")))
        return original(net, x, t, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return calls


def test_the_experiments_train_on_the_books_first_images_and_score_the_whole_test_set(book_data, monkeypatch):
    (x_train, t_train), (x_test, t_test) = book_data
    pair_calls = spy(monkeypatch, ex.batch_normalization, "train_epochs")
    ex.batchnorm_pair(0.01, epochs=1, data=book_data)
    assert len(pair_calls) == 2
    for x, t, _ in pair_calls:  # both nets: x_train[:1000], as the book's batch norm experiment
        np.testing.assert_array_equal(x, x_train[:1000])
        np.testing.assert_array_equal(t, t_train[:1000])

    run_calls = spy(monkeypatch, ex.overfitting, "fit")
    scored = []
    score = ex.overfitting.score
    monkeypatch.setattr(ex.overfitting, "score", lambda net, x, t: scored.append(len(x)) or score(net, x, t))
    ex.overfitting_run(epochs=1, data=book_data)
    ((x, t, _),) = run_calls  # x_train[:300], scored on all 10 000 official test images
    np.testing.assert_array_equal(x, x_train[:300])
    np.testing.assert_array_equal(t, t_train[:300])
    assert len(x_test) == 10000 and scored.count(10000) == 2  # after epoch 0 and epoch 1
