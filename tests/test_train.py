"""fit(): learning, determinism, history shape, callbacks, divergence, bad input."""

import warnings

import numpy as np
import pytest

from helpers.net import MultiLayerNet
from helpers.optim import SGD
from helpers.train import fit, train_epochs


def blobs(n, seed):
    """Three well separated Gaussian clouds in 20 dimensions: (n, 20) float32, (n,) labels."""
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, size=n)
    centres = np.random.default_rng(99).standard_normal((3, 20)) * 3
    return (centres[t] + rng.standard_normal((n, 20))).astype(np.float32), t


@pytest.fixture
def data():
    return blobs(300, seed=0), blobs(200, seed=1)


def tiny_net(**kwargs):
    return MultiLayerNet(input_size=20, hidden_sizes=(16, 16), output_size=3, seed=0, **kwargs)


def test_short_training_run_learns(data):
    (x, t), (x_test, t_test) = data
    history = fit(tiny_net(), x, t, epochs=10, batch_size=30, optimizer=SGD(0.1), eval_sets={"test": (x_test, t_test)})
    assert history.train_acc[0] < 0.7
    assert history.final("test") > 0.9


def test_training_is_bit_for_bit_repeatable_with_the_same_seed(data):
    (x, t), test = data
    runs = [
        fit(
            tiny_net(use_batchnorm=True, dropout_ratio=0.2),
            x,
            t,
            epochs=3,
            batch_size=50,
            eval_sets={"test": test},
            seed=5,
        )
        for _ in range(2)
    ]
    assert runs[0].iter_loss == runs[1].iter_loss
    assert runs[0].eval_acc == runs[1].eval_acc
    other = fit(tiny_net(use_batchnorm=True, dropout_ratio=0.2), x, t, epochs=3, batch_size=50, seed=6)
    assert other.iter_loss != runs[0].iter_loss


def test_history_has_epoch_zero_and_one_entry_per_epoch(data):
    (x, t), test = data
    history = fit(tiny_net(), x, t, epochs=4, batch_size=70, eval_sets={"test": test})
    assert len(history.train_acc) == len(history.eval_acc["test"]) == 5
    assert len(history.loss) == 4
    assert len(history.iter_loss) == 4 * 5  # 300 samples in batches of 70: 4 full + 1 partial
    assert history.epoch == 4 and not history.diverged and not history.stopped


def test_an_epoch_visits_every_sample_once(data, monkeypatch):
    (x, t), _ = data
    net = tiny_net()
    seen = []
    original = net.loss_and_gradient
    monkeypatch.setattr(net, "loss_and_gradient", lambda xb, tb: (seen.append(len(xb)), original(xb, tb))[1])
    fit(net, x, t, epochs=1, batch_size=100)
    assert seen == [100, 100, 100]


def test_callbacks_see_each_epoch_and_can_stop_training(data):
    (x, t), _ = data
    epochs_seen = []

    def stop_after_two(history):
        epochs_seen.append(history.epoch)
        return history.epoch >= 2

    history = fit(tiny_net(), x, t, epochs=10, callbacks=[stop_after_two])
    assert epochs_seen == [0, 1, 2]
    assert history.stopped and history.epoch == 2


def test_diverging_run_stops_cleanly_without_warnings(data):
    (x, t), test = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(
            tiny_net(weight_init_std=10.0), x * 100, t, epochs=20, optimizer=SGD(lr=1e3), eval_sets={"test": test}
        )
    assert history.diverged
    assert history.epoch < 20
    assert len(history.train_acc) == len(history.eval_acc["test"]) == history.epoch + 1
    assert all(np.isfinite(history.iter_loss))


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 301}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"epochs": -1}, ValueError, "epochs"),
    ],
)
def test_bad_training_settings_raise_clear_errors(data, kwargs, error, words):
    (x, t), _ = data
    with pytest.raises(error, match=words):
        fit(tiny_net(), x, t, **{"epochs": 1, **kwargs})


def test_mismatched_train_lengths_raise(data):
    (x, t), _ = data
    with pytest.raises(ValueError, match="x_train and t_train must have the same length"):
        fit(tiny_net(), x, t[:-1], epochs=1)


def test_mismatched_eval_lengths_name_the_eval_set(data):
    (x, t), (x_test, t_test) = data
    with pytest.raises(ValueError, match="x_test and t_test"):
        fit(tiny_net(), x, t, epochs=1, eval_sets={"test": (x_test, t_test[:5])})


def test_train_epochs_yields_after_each_epoch_and_matches_fit(data):
    (x, t), test = data
    steps = list(train_epochs(tiny_net(), x, t, epochs=3, batch_size=50, eval_sets={"test": test}, seed=2))
    assert len(steps) == 4
    history = fit(tiny_net(), x, t, epochs=3, batch_size=50, eval_sets={"test": test}, seed=2)
    assert steps[-1].eval_acc == history.eval_acc
    assert steps[-1].iter_loss == history.iter_loss
