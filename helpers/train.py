"""The training loop: mini-batch SGD (or any optimizer) over shuffled epochs, with per-epoch curves."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import ThreadpoolController

from helpers.checks import check_int, check_seed
from helpers.net import MultiLayerNet
from helpers.optim import SGD


@dataclass
class History:
    """What happened in one training run.

    train_acc: accuracy on the whole training set at epoch 0 (before training) and after every epoch.
    eval_acc: {name: accuracies} for each evaluation set, at the same epochs as train_acc.
    loss: mean training loss of each epoch (epoch 1, 2, ...).
    iter_loss: the training loss of every mini-batch step.
    diverged: the loss became NaN or infinite (or the weights did, by the end of an epoch); training stopped
        there and the curves end before that epoch.
    stopped: a callback asked to stop early.
    """

    epochs: int
    train_acc: list = field(default_factory=list)
    eval_acc: dict = field(default_factory=dict)
    loss: list = field(default_factory=list)
    iter_loss: list = field(default_factory=list)
    diverged: bool = False
    stopped: bool = False

    @property
    def epoch(self):
        """How many epochs have been completed."""
        return max(len(self.train_acc) - 1, 0)

    def final(self, name="train"):
        """The last accuracy of `name` ("train" or an eval set's name)."""
        curve = self.train_acc if name == "train" else self.eval_acc[name]
        return curve[-1]


_blas = ThreadpoolController()  # finding the BLAS libraries takes ms; limiting them afterwards is cheap


def _one_blas_thread():
    return _blas.limit(limits=1, user_api="blas")


# --- Argument checks: once per run, so the epochs themselves check nothing ---------------------------------


def _check_data(net, x, t, name):
    """(x, labels) as the net uses them: x (N, input_size) finite numbers, labels (N,) in range."""
    x = net._as_input(x, f"x_{name}")
    return x, net._as_labels(t, len(x), f"t_{name}", f"x_{name}")


def _check_eval_sets(net, eval_sets):
    """{name: (x, labels)} from {name: (x, t)}; None means no evaluation sets."""
    if eval_sets is None:
        return {}
    if not isinstance(eval_sets, Mapping):
        raise TypeError(
            "eval_sets must be a dict {name: (x, t)}, e.g. {'test': (x_test, t_test)}, "
            f"got {type(eval_sets).__name__}"
        )
    checked = {}
    for name, pair in eval_sets.items():
        if not isinstance(name, str) or name == "train":
            raise ValueError(f"eval_sets names must be strings other than 'train' (the training set's), got {name!r}")
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise TypeError(f"eval_sets[{name!r}] must be a pair (x, t), got {type(pair).__name__}")
        checked[name] = _check_data(net, *pair, name)
    return checked


def _check_optimizer(optimizer):
    if optimizer is None:
        return SGD(lr=0.01)
    if isinstance(optimizer, type) or not callable(getattr(optimizer, "update", None)):
        raise TypeError(
            f"optimizer must be an object with an update(params, grads) method, such as SGD(lr=0.01), got {optimizer!r}"
        )
    return optimizer


def _check_callbacks(callbacks):
    if callbacks is None:
        return []
    if callable(callbacks):
        name = getattr(callbacks, "__name__", "")
        name = name if name.isidentifier() else "f"  # a lambda's name is "<lambda>"
        raise TypeError(f"callbacks must be a list of functions, not a single one: write callbacks=[{name}]")
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Iterable):
        raise TypeError(f"callbacks must be a list of functions, e.g. callbacks=[show], got {callbacks!r}")
    callbacks = list(callbacks)
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(f"callbacks must hold functions, got {callback!r} ({type(callback).__name__})")
    return callbacks


# --- The loop ------------------------------------------------------------------------------------------------


def batch_bounds(n, batch_size):
    """(start, stop) of each mini-batch of an epoch over n samples: batch_size samples each, the last one
    shorter - except that a last batch of a single sample joins the one before it, as batch norm cannot use a
    batch of one (its variance is 0)."""
    starts = list(range(0, n, batch_size))
    if batch_size > 1 and len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return list(zip(starts, [*starts[1:], n], strict=True))


def _weights_finite(net):
    """False if any parameter is NaN or inf. ~60 us per epoch for the seminar's 784-100x6-10 net: faster than
    testing a sum of the weights (and exact: a sum of large finite weights could overflow)."""
    return all(np.isfinite(value).all() for value in net.params.values())


def _record_accuracy(net, history, x_train, t_train, eval_sets):
    history.train_acc.append(net._accuracy(x_train, t_train))
    for name, (x, t) in eval_sets.items():
        history.eval_acc[name].append(net._accuracy(x, t))


def _train_one_epoch(net, optimizer, x_train, t_train, batch_size, rng, history):
    """One pass over the shuffled training set. Returns False when the loss or the weights stopped being finite."""
    order = rng.permutation(len(x_train))
    epoch_losses = []
    for start, stop in batch_bounds(len(order), batch_size):
        batch = order[start:stop]
        loss, grads = net._loss_and_gradient(x_train[batch], t_train[batch])
        if not np.isfinite(loss):
            return False
        optimizer.update(net.params, grads)
        epoch_losses.append(loss)
    if not _weights_finite(net):  # the last step broke them: its loss was still finite
        return False
    history.iter_loss.extend(epoch_losses)
    history.loss.append(float(np.mean(epoch_losses)))
    return True


def train_epochs(net, x_train, t_train, *, epochs, batch_size=100, optimizer=None, eval_sets=None, seed=0):
    """Train `net` one epoch at a time: a generator that yields the History after epoch 0 (before any
    training) and after every epoch. Arguments as in `fit`. Driving two of these side by side trains
    two nets in step, e.g. with and without batch norm on the same mini-batches (same seed)."""
    if not isinstance(net, MultiLayerNet):
        raise TypeError(f"net must be a MultiLayerNet, got {type(net).__name__}")
    x_train, t_train = _check_data(net, x_train, t_train, "train")  # also cast to the net's dtype, once
    epochs = check_int("epochs", epochs, low=0)
    batch_size = check_int("batch_size", batch_size, low=1, high=len(x_train))
    eval_sets = _check_eval_sets(net, eval_sets)
    optimizer = _check_optimizer(optimizer)
    rng = np.random.default_rng(check_seed("seed", seed))

    history = History(epochs=epochs, eval_acc={name: [] for name in eval_sets})
    for epoch in range(epochs + 1):
        # One BLAS thread, for the steps and for scoring. Measured on a 2-core machine (benchmarks/bench.py):
        # with batches of 100 the products are small and a second thread only fights for the cores; scoring
        # 4000 samples is ~1.6x faster with two threads while the other core is idle, but up to 7x slower
        # (300 samples up to 30x) while another job runs there, so scoring keeps one thread too.
        # Overflow in a diverging run is reported by `diverged`, not by warnings.
        with _one_blas_thread(), np.errstate(all="ignore"):
            history.diverged = epoch > 0 and not _train_one_epoch(
                net, optimizer, x_train, t_train, batch_size, rng, history
            )
            if not history.diverged:
                _record_accuracy(net, history, x_train, t_train, eval_sets)
        yield history  # outside the with-block: the caller's code runs with its own warnings and BLAS threads
        if history.diverged:
            return


def fit(net, x_train, t_train, *, epochs, batch_size=100, optimizer=None, eval_sets=None, seed=0, callbacks=()):
    """Train `net` (a MultiLayerNet) and return its History.

    x_train: (N, D) inputs, t_train: (N,) labels or (N, C) one-hot; finite numbers (checked once per call).
    epochs: passes over the training set; each visits every sample once, in an order shuffled by `seed`
        (an integer >= 0), in batches of batch_size; a last batch of one sample joins the one before it.
    batch_size: samples per update step, 1 .. N.
    optimizer: an object with update(params, grads), new for this net (e.g. SGD(lr=0.1)); default SGD(lr=0.01).
    eval_sets: {name: (x, t)} scored after every epoch, e.g. {"test": (x_test, t_test)}.
    callbacks: a list of functions (or None), each called as callback(history) after epoch 0, after every epoch
        and when a run diverges; one that returns True stops training (the Stop button of the live panels).
        A single function is refused with a TypeError: write callbacks=[f].
    """
    callbacks = _check_callbacks(callbacks)
    steps = train_epochs(
        net, x_train, t_train, epochs=epochs, batch_size=batch_size, optimizer=optimizer, eval_sets=eval_sets, seed=seed
    )
    for history in steps:
        if any([callback(history) for callback in callbacks]):
            history.stopped = not history.diverged
            break
    return history
