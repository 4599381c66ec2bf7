"""fit(): learning, determinism, history shape, callbacks, divergence, bad input."""

import functools
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from helpers.layers import BatchNorm
from helpers.net import MultiLayerNet
from helpers.optim import SGD, Momentum
from helpers.train import batch_bounds, fit, train_epochs


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
    assert all(type(accuracy) is float for accuracy in history.train_acc + history.eval_acc["test"])


def watch_batches(net, x, monkeypatch):
    """Record the sample numbers (rows of x) of every training batch the net is given, as a list per batch."""
    row_number = {row.tobytes(): i for i, row in enumerate(x)}
    assert len(row_number) == len(x)  # distinct rows: each batch row names one sample
    batches = []
    original = net._loss_and_gradient

    def watched(x_batch, t_batch):
        batches.append([row_number[row.tobytes()] for row in x_batch])
        return original(x_batch, t_batch)

    monkeypatch.setattr(net, "_loss_and_gradient", watched)
    return batches


@pytest.mark.parametrize(
    ("n", "sizes"),
    [(300, [100, 100, 100]), (350, [100, 100, 100, 50]), (301, [100, 100, 101])],  # 301: no batch of one
)
def test_every_epoch_visits_every_sample_exactly_once_in_a_new_order(n, sizes, monkeypatch):
    x, t = blobs(n, seed=0)
    net = tiny_net()
    batches = watch_batches(net, x, monkeypatch)
    fit(net, x, t, epochs=2, batch_size=100)
    assert [len(batch) for batch in batches] == sizes * 2
    epochs = [sum(batches[: len(sizes)], []), sum(batches[len(sizes) :], [])]
    for order in epochs:
        assert sorted(order) == list(range(n))
    assert epochs[0] != epochs[1] and epochs[0] != sorted(epochs[0])  # shuffled, anew every epoch


def test_only_a_last_batch_of_one_sample_joins_the_one_before():
    assert batch_bounds(201, 100) == [(0, 100), (100, 201)]
    assert batch_bounds(101, 100) == [(0, 101)]
    assert batch_bounds(202, 100) == [(0, 100), (100, 200), (200, 202)]
    assert batch_bounds(3, 1) == [(0, 1), (1, 2), (2, 3)]  # batches of one were asked for
    assert batch_bounds(1, 1) == [(0, 1)]


def test_one_extra_sample_does_not_corrupt_batchnorm_running_variance():
    x, t = blobs(301, seed=0)
    ratios = {}
    for n in (300, 301):
        net = tiny_net(use_batchnorm=True)
        fit(net, x[:n], t[:n], epochs=20, batch_size=100)
        first_bn = next(layer for layer in net.layers if isinstance(layer, BatchNorm))
        true_var = net.layers[0].forward(x[:300], train=False).var(axis=0)  # of the first BN layer's input
        ratios[n] = np.mean(first_bn.running_var / true_var)
    assert 0.9 < ratios[300] < 1.1
    assert ratios[301] == pytest.approx(ratios[300], abs=0.05)


def test_batch_size_one_with_batchnorm_is_refused_with_the_reason(data):
    (x, t), _ = data
    with pytest.raises(ValueError, match="at least 2 samples per training batch.*batch_size >= 2"):
        fit(tiny_net(use_batchnorm=True), x, t, epochs=1, batch_size=1)


def test_no_callbacks_may_be_given_as_none(data):
    (x, t), _ = data
    assert fit(tiny_net(), x, t, epochs=1, callbacks=None).epoch == 1


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


def test_weights_broken_by_the_last_step_count_as_divergence(data):
    (x, t), _ = data
    net = tiny_net(weight_init_std=10.0)
    # one step per epoch; it overflows the weights to inf, while its own loss (computed before it) is finite
    history = fit(net, x * 100, t, epochs=1, batch_size=len(x), optimizer=SGD(lr=3e38))
    assert not all(np.isfinite(value).all() for value in net.params.values())
    assert history.diverged and history.epoch == 0 and history.iter_loss == []


def test_the_caller_keeps_its_numpy_error_settings_and_blas_threads_at_every_yield(data):
    (x, t), _ = data
    seen = []
    with np.errstate(all="raise"), threadpool_limits(2, user_api="blas"):
        outside = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
        diverging = train_epochs(tiny_net(weight_init_std=10.0), x * 100, t, epochs=20, optimizer=SGD(lr=1e3))
        for history in diverging:
            threads = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
            seen.append((np.geterr()["over"], threads, history.diverged))
    assert seen[-1][2]  # it diverged: the last yield is the one that came from inside the with-block
    assert [(over, threads) for over, threads, _ in seen] == [("raise", outside)] * len(seen)


def test_fit_checks_its_data_once_per_call_not_every_step_or_epoch(data, monkeypatch):
    (x, t), test = data
    net = tiny_net()
    checked = []
    original = net._as_input
    monkeypatch.setattr(net, "_as_input", lambda x, name="x": (checked.append(name), original(x, name))[1])
    fit(net, x, t, epochs=3, batch_size=50, eval_sets={"test": test})
    assert checked == ["x_train", "x_test"]


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("where", ["train", "test"])
def test_non_finite_data_is_rejected_naming_the_argument(data, bad, where):
    (x, t), (x_test, t_test) = data
    broken = (x if where == "train" else x_test).copy()
    broken[5, 1] = bad
    x, x_test = (broken, x_test) if where == "train" else (x, broken)
    with pytest.raises(ValueError, match=f"x_{where} must be finite, but 1 of its"):
        fit(tiny_net(), x, t, epochs=1, eval_sets={"test": (x_test, t_test)})


def test_an_optimizer_already_used_for_another_net_is_refused(data):
    (x, t), _ = data
    optimizer = Momentum(lr=0.1)
    fit(tiny_net(), x, t, epochs=1, optimizer=optimizer)
    with pytest.raises(ValueError, match="make a new optimizer per net"):
        fit(tiny_net(), x, t, epochs=1, optimizer=optimizer)


def say_nothing(history):
    return False


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 301}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"epochs": -1}, ValueError, "epochs"),
        ({"seed": -1}, ValueError, r"seed must be an integer in \[0, inf\], got -1"),
        ({"seed": 1.5}, TypeError, "seed must be an integer >= 0"),
        ({"seed": None}, TypeError, "seed must be an integer >= 0"),
        ({"optimizer": "sgd"}, TypeError, r"optimizer must be an object with an update\(params, grads\) method"),
        ({"optimizer": SGD}, TypeError, r"optimizer must be an object .* such as SGD\(lr=0.01\)"),
        ({"eval_sets": ([[0.0] * 20], [0])}, TypeError, r"eval_sets must be a dict \{name: \(x, t\)\}"),
        ({"eval_sets": {"test": np.zeros((4, 20))}}, TypeError, r"eval_sets\['test'\] must be a pair \(x, t\)"),
        ({"eval_sets": {"train": (np.zeros((4, 20)), [0] * 4)}}, ValueError, "other than 'train'"),
        ({"eval_sets": {"test": (np.zeros((4, 7)), [0] * 4)}}, ValueError, "x_test has 7 features"),
        ({"eval_sets": {"test": (np.zeros((4, 20)), [0, 0, 0, 9])}}, ValueError, r"labels in t_test must be in"),
        ({"callbacks": say_nothing}, TypeError, r"not a single one: write callbacks=\[say_nothing\]"),
        ({"callbacks": functools.partial(say_nothing)}, TypeError, r"not a single one: write callbacks=\[f\]"),
        ({"callbacks": lambda history: False}, TypeError, r"not a single one: write callbacks=\[f\]"),
        ({"callbacks": [say_nothing, 1]}, TypeError, "callbacks must hold functions, got 1"),
    ],
)
def test_bad_training_settings_raise_clear_errors(data, kwargs, error, words):
    (x, t), _ = data
    with pytest.raises(error, match=words):
        fit(tiny_net(), x, t, **{"epochs": 1, **kwargs})


@pytest.mark.parametrize(
    ("x", "t", "error", "words"),
    [
        (5, 3, ValueError, r"x_train must be a batch of samples, shape \(N, 20\), got shape \(\)"),
        (np.zeros((0, 20)), np.zeros(0, dtype=int), ValueError, "x_train is empty"),
        (np.zeros((4, 20)), [0.5] * 4, ValueError, "t_train holds non-integer labels"),
        (np.zeros((4, 20)), [0, 1, 2, 5], ValueError, r"labels in t_train must be in \[0, 2\], got 0 .. 5"),
    ],
)
def test_bad_training_data_raises_clear_errors(x, t, error, words):
    with pytest.raises(error, match=words):
        fit(tiny_net(), x, t, epochs=1, batch_size=1)


def test_net_must_be_a_multilayernet(data):
    (x, t), _ = data
    with pytest.raises(TypeError, match="net must be a MultiLayerNet, got str"):
        fit("net", x, t, epochs=1)


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
