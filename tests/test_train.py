"""fit(): learning, determinism, history shape, any net, callbacks, divergence, BLAS threads, bad input."""

import functools
import threading
import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from helpers.data import load_mnist
from helpers.layers import BatchNorm
from helpers.live import LiveCurves
from helpers.net import MultiLayerNet
from helpers.optim import SGD, Momentum
from helpers.train import DIVERGENCE_FACTOR, STOP, asks_to_stop, batch_bounds, fit, train_epochs

WAIT = 30  # seconds: the deadline of every wait for another thread


def tiny_net(**kwargs):
    return MultiLayerNet(input_size=20, hidden_sizes=(16, 16), output_size=3, seed=0, **kwargs)


def blas_threads():
    return [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]


class SoftmaxRegression:
    """A net a student could write: one weight matrix and softmax cross-entropy, NumPy only."""

    def __init__(self, n_features, n_classes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": 0.01 * rng.standard_normal((n_features, n_classes)), "b": np.zeros(n_classes)}

    def scores(self, x):
        return x @ self.params["W"] + self.params["b"]

    def loss_and_gradient(self, x, t):
        scores = self.scores(x)
        y = np.exp(scores - scores.max(axis=1, keepdims=True))
        y /= y.sum(axis=1, keepdims=True)
        n = len(x)
        loss = -np.log(y[np.arange(n), t]).mean()
        dscores = y.copy()
        dscores[np.arange(n), t] -= 1
        dscores /= n
        return loss, {"W": x.T @ dscores, "b": dscores.sum(axis=0)}

    def accuracy(self, x, t):
        return np.mean(self.scores(x).argmax(axis=1) == t)


def test_short_training_run_learns(blobs):
    (x, t), test = blobs
    history = fit(tiny_net(), x, t, epochs=10, batch_size=30, optimizer=SGD(0.1), eval_sets={"test": test})
    assert history.train_acc[0] < 0.7
    assert history.final("test") > 0.9


def test_fit_trains_a_hand_written_net_and_shows_it_in_live_curves(blobs):
    (x, t), test = blobs
    net = SoftmaxRegression(20, 3)
    live = LiveCurves(epochs=5, eval_name="test")
    history = fit(net, x, t, epochs=5, batch_size=50, optimizer=SGD(0.1), eval_sets={"test": test},
                  callbacks=[live.callback("softmax regression")])  # fmt: skip
    assert history.epoch == 5 and not history.diverged
    assert history.train_acc[0] < 0.7 < 0.95 < history.final("test")
    assert history.loss[-1] < history.loss[0]
    assert all(type(accuracy) is float for accuracy in history.train_acc)
    assert live.runs == {"softmax regression": history}
    assert live.finish() is not None


def test_a_net_without_the_training_methods_is_refused_naming_what_it_lacks(blobs):
    (x, t), _ = blobs

    class NoAccuracy:
        params = {}

        def loss_and_gradient(self, x, t):
            return 0.0, {}

    with pytest.raises(
        TypeError, match=r"net must have params .*; got str, without params, loss_and_gradient, accuracy"
    ):
        fit("net", x, t, epochs=1)
    with pytest.raises(TypeError, match="got NoAccuracy, without accuracy$"):
        fit(NoAccuracy(), x, t, epochs=1)


def test_training_is_bit_for_bit_repeatable_with_the_same_seed(blobs):
    (x, t), test = blobs
    settings = dict(epochs=3, batch_size=50, eval_sets={"test": test})
    runs = [fit(tiny_net(use_batchnorm=True, dropout_ratio=0.2), x, t, seed=5, **settings) for _ in range(2)]
    assert runs[0].iter_loss == runs[1].iter_loss
    assert runs[0].eval_acc == runs[1].eval_acc
    other = fit(tiny_net(use_batchnorm=True, dropout_ratio=0.2), x, t, seed=6, **settings)
    assert other.iter_loss != runs[0].iter_loss


def test_history_has_epoch_zero_and_one_entry_per_epoch(blobs):
    (x, t), test = blobs
    history = fit(tiny_net(), x, t, epochs=4, batch_size=70, eval_sets={"test": test})
    assert len(history.train_acc) == len(history.eval_acc["test"]) == 5
    assert len(history.loss) == 4
    assert len(history.iter_loss) == 4 * 5  # 300 samples in batches of 70: 4 full + 1 partial
    assert history.epoch == 4 and not history.diverged and not history.stopped and history.diverged_reason == ""
    assert all(type(accuracy) is float for accuracy in history.train_acc + history.eval_acc["test"])


def watch_batches(net, x, monkeypatch):
    """Record the sample numbers (rows of x) of every training batch the net is given, as a list per batch."""
    row_number = {row.tobytes(): i for i, row in enumerate(x)}
    assert len(row_number) == len(x)  # distinct rows: each batch row names one sample
    batches = []
    original = net.loss_and_gradient

    def watched(x_batch, t_batch, checked=False):
        batches.append([row_number[row.tobytes()] for row in x_batch])
        return original(x_batch, t_batch, checked)

    monkeypatch.setattr(net, "loss_and_gradient", watched)
    return batches


@pytest.mark.parametrize(
    ("n", "sizes"),
    [(300, [100, 100, 100]), (350, [100, 100, 100, 50]), (301, [100, 100, 101])],  # 301: no batch of one
)
def test_every_epoch_visits_every_sample_exactly_once_in_a_new_order(blobs_of, n, sizes, monkeypatch):
    x, t = blobs_of(n, seed=0)
    net = tiny_net()
    batches = watch_batches(net, x, monkeypatch)
    fit(net, x, t, epochs=2, batch_size=100)
    assert [len(batch) for batch in batches] == sizes * 2
    epochs = [sum(batches[: len(sizes)], []), sum(batches[len(sizes) :], [])]
    for order in epochs:
        assert sorted(order) == list(range(n))
    assert epochs[0] != epochs[1] and epochs[0] != sorted(epochs[0])  # shuffled, anew every epoch


def test_fit_checks_its_data_once_per_call_not_every_step_or_epoch(blobs, monkeypatch):
    (x, t), test = blobs
    net = tiny_net()
    calls = []
    original = net.check_data
    monkeypatch.setattr(net, "check_data", lambda x, t, name=None: (calls.append(name), original(x, t, name))[1])
    steps = []
    step = net.loss_and_gradient

    def watched_step(x, t, checked):
        steps.append((x.dtype, t.dtype, checked))
        return step(x, t, checked)

    monkeypatch.setattr(net, "loss_and_gradient", watched_step)
    fit(net, x.astype(np.float64), np.eye(3)[t], epochs=3, batch_size=100, eval_sets={"test": test})
    assert calls == ["train", "test"]
    assert steps == [(np.dtype(np.float32), np.dtype(np.intp), True)] * 9  # converted before the first step


def test_only_a_last_batch_of_one_sample_joins_the_one_before():
    assert batch_bounds(201, 100) == [(0, 100), (100, 201)]
    assert batch_bounds(101, 100) == [(0, 101)]
    assert batch_bounds(202, 100) == [(0, 100), (100, 200), (200, 202)]
    assert batch_bounds(3, 1) == [(0, 1), (1, 2), (2, 3)]  # batches of one were asked for
    assert batch_bounds(1, 1) == [(0, 1)]


def test_one_extra_sample_does_not_corrupt_batchnorm_running_variance(blobs_of):
    x, t = blobs_of(301, seed=0)
    ratios = {}
    for n in (300, 301):
        net = tiny_net(use_batchnorm=True)
        fit(net, x[:n], t[:n], epochs=20, batch_size=100)
        first_bn = next(layer for layer in net.layers if isinstance(layer, BatchNorm))
        true_var = net.layers[0].forward(x[:300], train=False).var(axis=0)  # of the first BN layer's input
        ratios[n] = np.mean(first_bn.running_var / true_var)
    assert 0.9 < ratios[300] < 1.1
    assert ratios[301] == pytest.approx(ratios[300], abs=0.05)


def test_batch_size_one_with_batchnorm_is_refused_with_the_reason(blobs):
    (x, t), _ = blobs
    with pytest.raises(ValueError, match="at least 2 samples per training batch.*batch_size >= 2"):
        fit(tiny_net(use_batchnorm=True), x, t, epochs=1, batch_size=1)


# --- callbacks ---------------------------------------------------------------------------------------------


def test_no_callbacks_may_be_given_as_none(blobs):
    (x, t), _ = blobs
    assert fit(tiny_net(), x, t, epochs=1, callbacks=None).epoch == 1


def test_callbacks_see_each_epoch_and_stop_training_by_returning_stop(blobs):
    (x, t), _ = blobs
    epochs_seen = []

    def stop_after_two(history):
        epochs_seen.append(history.epoch)
        return STOP if history.epoch >= 2 else None

    history = fit(tiny_net(), x, t, epochs=10, callbacks=[stop_after_two])
    assert epochs_seen == [0, 1, 2]
    assert history.stopped and history.epoch == 2


def show(history):
    return history.train_acc[-1]


@pytest.mark.parametrize(
    ("callback", "words"),
    [
        (show, r"^callback show returned 0\.\d+: a callback returns None to go on, or helpers.train.STOP"),
        (lambda history: True, r"^callback f returned True: a callback returns None"),
        (lambda history: False, r"^callback f returned False"),
        (
            LiveCurves(5).callback,
            r"label must be a string that names the run, got History: .*live.callback\(\"label\"\)",
        ),
    ],
    ids=["a float", "True", "False", "LiveCurves.callback without its label"],
)
def test_a_callback_that_returns_anything_but_none_or_stop_is_refused_before_it_can_stop_the_run(
    blobs, callback, words
):
    (x, t), _ = blobs
    with pytest.raises(TypeError, match=words):
        fit(tiny_net(), x, t, epochs=3, callbacks=[callback])


def test_asks_to_stop_hints_at_the_label_when_a_callback_returns_a_function():
    assert asks_to_stop(show, STOP) is True
    assert asks_to_stop(show, None) is False
    with pytest.raises(TypeError, match=r'needs its label: callbacks=\[live.callback\("label"\)\]\)$'):
        asks_to_stop(show, show)


# --- divergence -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digits():
    (x, t), _ = load_mnist(source="offline", verbose=False)
    return x[:300], t[:300]


@pytest.mark.parametrize("lr", [1e2, 1e3, 1e4, 1e5, 1e6])
def test_a_loss_that_grows_far_past_its_start_counts_as_divergence(digits, lr):
    history = fit(MultiLayerNet(hidden_sizes=(20,)), *digits, epochs=3, optimizer=SGD(lr))
    assert history.diverged and not history.stopped
    assert history.epoch == 0 and history.loss == []  # the curves end before the epoch that diverged
    assert f"more than {DIVERGENCE_FACTOR} times the starting loss" in history.diverged_reason or (
        "10배를 넘음" in history.diverged_reason
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"weight_init_std": 0.01},  # too small a scale without batch norm: the loss stays near ln 10
        {"weight_init_std": 1.0, "use_batchnorm": True},  # the BN experiment's largest scale, with batch norm
        {"weight_decay_lambda": 1.0},  # the panel's largest λ: a large penalty at the start, which then falls
        {"dropout_ratio": 0.5},
    ],
)
def test_runs_that_learn_or_stall_do_not_count_as_divergence(digits, settings):
    history = fit(MultiLayerNet(hidden_sizes=(100,) * 5, **settings), *digits, epochs=10, optimizer=SGD(0.01))
    assert not history.diverged, history.diverged_reason
    assert history.epoch == 10


@pytest.mark.slow
def test_the_seminars_overfitting_run_does_not_count_as_divergence(digits):
    (_, _), (x_test, t_test) = load_mnist(source="offline", verbose=False)
    history = fit(MultiLayerNet(hidden_sizes=(100,) * 6), *digits, epochs=200, eval_sets={"test": (x_test, t_test)})
    assert not history.diverged and history.epoch == 200
    assert history.final() == 1.0


def test_diverging_run_stops_cleanly_without_warnings(blobs):
    (x, t), test = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(
            tiny_net(weight_init_std=10.0), x * 100, t, epochs=20, optimizer=SGD(lr=1e3), eval_sets={"test": test}
        )
    assert history.diverged and history.diverged_reason
    assert history.epoch < 20
    assert len(history.train_acc) == len(history.eval_acc["test"]) == history.epoch + 1
    assert all(np.isfinite(history.iter_loss))


def test_weights_broken_by_the_last_step_count_as_divergence(blobs, monkeypatch):
    monkeypatch.setenv("DL4_LANG", "en")
    (x, t), _ = blobs
    net = tiny_net(weight_init_std=10.0)
    # one step per epoch; it overflows the weights to inf, while its own loss (computed before it) is finite
    history = fit(net, x * 100, t, epochs=1, batch_size=len(x), optimizer=SGD(lr=3e38))
    assert not all(np.isfinite(value).all() for value in net.params.values())
    assert history.diverged and history.epoch == 0 and history.iter_loss == []
    assert history.diverged_reason == "the weights became NaN or infinite (epoch 1)"


# --- BLAS threads and the caller's settings -----------------------------------------------------------------


def test_the_caller_keeps_its_numpy_error_settings_at_every_yield_and_blas_stays_at_one_thread(blobs):
    (x, t), _ = blobs
    seen = []
    with np.errstate(all="raise"), threadpool_limits(2, user_api="blas"):
        diverging = train_epochs(tiny_net(weight_init_std=10.0), x * 100, t, epochs=20, optimizer=SGD(lr=1e3))
        for history in diverging:
            seen.append((np.geterr()["over"], blas_threads(), history.diverged))
    assert seen[-1][2]  # it diverged: the last yield is the one that came from inside the with-block
    assert [(over, threads) for over, threads, _ in seen] == [("raise", [1] * len(blas_threads()))] * len(seen)


class BlockingNet(SoftmaxRegression):
    """A net whose training step sets `started`, then waits for `wait_for` (None: no waiting)."""

    def __init__(self, started, wait_for=None):
        super().__init__(20, 3)
        self.started, self.wait_for = started, wait_for

    def loss_and_gradient(self, x, t):
        self.started.set()
        if self.wait_for is not None:
            assert self.wait_for.wait(WAIT), "the other run did not get there"
        return super().loss_and_gradient(x, t)


@pytest.mark.parametrize("first_to_end", ["this thread's run", "the other thread's run"])
def test_overlapping_runs_in_two_threads_leave_blas_at_one_thread_whichever_ends_first(blobs, first_to_end):
    # Run A (in this thread) is inside its epoch when run B (in another thread) starts. When each run restored
    # the count it found, the count afterwards depended on which run ended first (1 or the caller's 2).
    (x, t), _ = blobs
    a_inside, b_inside, a_done, b_done = (threading.Event() for _ in range(4))
    a_waits_for, b_waits_for = (b_inside, a_done) if first_to_end == "this thread's run" else (b_done, None)
    errors = []

    def run_b():
        try:
            assert a_inside.wait(WAIT)
            fit(BlockingNet(b_inside, b_waits_for), x, t, epochs=1, batch_size=len(x))
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            b_done.set()

    with threadpool_limits(2, user_api="blas"):
        thread_b = threading.Thread(target=run_b)
        thread_b.start()
        fit(BlockingNet(a_inside, a_waits_for), x, t, epochs=1, batch_size=len(x))
        a_done.set()
        thread_b.join(WAIT)
        assert not thread_b.is_alive()
        after = blas_threads()
    assert not errors, errors
    assert after == [1] * len(after) and after


# --- bad settings: one case per argument (the checks themselves are tested in test_checks.py) ---------------


def test_an_optimizer_already_used_for_another_net_is_refused(blobs):
    (x, t), _ = blobs
    optimizer = Momentum(lr=0.1)
    fit(tiny_net(), x, t, epochs=1, optimizer=optimizer)
    with pytest.raises(ValueError, match="make a new optimizer per net"):
        fit(tiny_net(), x, t, epochs=1, optimizer=optimizer)


def say_nothing(history):
    return None


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"batch_size": 0}, ValueError, r"^batch_size must be an integer in \[1, 300\], got 0"),
        ({"batch_size": 301}, ValueError, r"^batch_size must be an integer in \[1, 300\], got 301"),
        ({"epochs": -1}, ValueError, r"^epochs must be an integer in \[0, inf\]"),
        ({"seed": -1}, ValueError, r"^seed must be an integer in \[0, inf\], got -1"),
        ({"optimizer": "sgd"}, TypeError, r"^optimizer must be an object with an update\(params, grads\) method"),
        ({"optimizer": SGD}, TypeError, r"^optimizer must be an object .* such as SGD\(lr=0.01\)"),
        ({"eval_sets": ([[0.0] * 20], [0])}, TypeError, r"^eval_sets must be a dict \{name: \(x, t\)\}"),
        ({"eval_sets": {"test": np.zeros((4, 20))}}, TypeError, r"^eval_sets\['test'\] must be a pair \(x, t\)"),
        ({"eval_sets": {"train": (np.zeros((4, 20)), [0] * 4)}}, ValueError, "other than 'train'"),
        ({"eval_sets": {"test": (np.zeros((4, 7)), [0] * 4)}}, ValueError, "^x_test has 7 features"),
        ({"eval_sets": {"test": (np.zeros((4, 20)), [0, 0, 0, 9])}}, ValueError, r"^labels in t_test must be in"),
        ({"callbacks": say_nothing}, TypeError, r"not a single one: write callbacks=\[say_nothing\]"),
        ({"callbacks": functools.partial(say_nothing)}, TypeError, r"not a single one: write callbacks=\[f\]"),
        ({"callbacks": lambda history: None}, TypeError, r"not a single one: write callbacks=\[f\]"),
        ({"callbacks": [say_nothing, 1]}, TypeError, "^callbacks must hold functions, got 1"),
    ],
)
def test_bad_training_settings_raise_clear_errors(blobs, kwargs, error, words):
    (x, t), _ = blobs
    with pytest.raises(error, match=words):
        fit(tiny_net(), x, t, **{"epochs": 1, **kwargs})


@pytest.mark.parametrize(
    ("x", "t", "error", "words"),
    [
        (5, 3, ValueError, r"^x_train must be a batch of samples, shape \(N, 20\), got shape \(\)"),
        (np.zeros((0, 20)), np.zeros(0, dtype=int), ValueError, "^x_train is empty"),
        (np.full((4, 20), np.nan), [0] * 4, ValueError, "^x_train must be finite"),
        (np.zeros((4, 20)), [0.5] * 4, ValueError, "^t_train holds non-integer labels"),
        (np.zeros((4, 20)), np.zeros((4, 3)), ValueError, "^t_train of shape .* is read as one-hot labels"),
        (np.zeros((4, 20), dtype=np.uint8), [0] * 4, ValueError, r"^x_train holds raw pixel values"),
        (np.zeros((4, 20)), [0, 1, 2], ValueError, "^x_train and t_train must have the same length, got 4 and 3"),
    ],
)
def test_bad_training_data_raises_clear_errors_naming_the_argument(x, t, error, words):
    with pytest.raises(error, match=words):
        fit(tiny_net(), x, t, epochs=1, batch_size=1)


def test_mismatched_eval_lengths_name_the_eval_set(blobs):
    (x, t), (x_test, t_test) = blobs
    with pytest.raises(ValueError, match="x_test and t_test"):
        fit(tiny_net(), x, t, epochs=1, eval_sets={"test": (x_test, t_test[:5])})


def test_a_hand_written_nets_data_must_still_have_matching_lengths(blobs):
    (x, t), _ = blobs
    with pytest.raises(ValueError, match="^x_train and t_train must have the same length, got 300 and 299"):
        fit(SoftmaxRegression(20, 3), x, t[:-1], epochs=1)


def test_train_epochs_yields_after_each_epoch_and_matches_fit(blobs):
    (x, t), test = blobs
    steps = list(train_epochs(tiny_net(), x, t, epochs=3, batch_size=50, eval_sets={"test": test}, seed=2))
    assert len(steps) == 4
    history = fit(tiny_net(), x, t, epochs=3, batch_size=50, eval_sets={"test": test}, seed=2)
    assert steps[-1].eval_acc == history.eval_acc
    assert steps[-1].iter_loss == history.iter_loss


class OwnNet:
    """A net a student wrote for fit: one Affine layer, 20 features -> 3 classes, with a mistake to choose."""

    def __init__(self, returns_grads_only=False, counts_right_answers=False):
        self.params = {"W": np.zeros((20, 3), np.float32), "b": np.zeros(3, np.float32)}
        self.returns_grads_only = returns_grads_only
        self.counts_right_answers = counts_right_answers

    def loss_and_gradient(self, x, t):
        grads = {name: np.zeros_like(value) for name, value in self.params.items()}
        return grads if self.returns_grads_only else (1.1, grads)

    def accuracy(self, x, t):
        right = int(np.sum((x @ self.params["W"]).argmax(axis=1) == t))
        return right if self.counts_right_answers else right / len(x)


def test_fit_refuses_a_loss_and_gradient_that_returns_the_grads_alone(blobs):
    # unpacked as `loss, grads = {"W": ..., "b": ...}`, it would read the keys: loss "W", grads "b"
    (x, t), _ = blobs
    with pytest.raises(TypeError, match=r"loss_and_gradient\(x, t\) must return a pair \(loss, grads\).*returned dict"):
        fit(OwnNet(returns_grads_only=True), x, t, epochs=1)


def test_fit_refuses_an_accuracy_that_is_a_count_and_not_a_fraction(blobs):
    (x, t), _ = blobs
    with pytest.raises(
        ValueError, match=r"accuracy\(x, t\) must return the fraction .* in \[0, 1\].*returned \d+\.0 \(a count\?"
    ):
        fit(OwnNet(counts_right_answers=True), x, t, epochs=1)
    assert fit(OwnNet(), x, t, epochs=1).train_acc[0] == pytest.approx(np.mean(t == 0))  # the fraction is fine
