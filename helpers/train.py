"""The training loop: mini-batch SGD (or any optimizer) over shuffled epochs, with per-epoch curves."""

from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import ThreadpoolController

from helpers.checks import check_array, check_int, check_same_length
from helpers.optim import SGD


@dataclass
class History:
    """What happened in one training run.

    train_acc: accuracy on the whole training set at epoch 0 (before training) and after every epoch.
    eval_acc: {name: accuracies} for each evaluation set, at the same epochs as train_acc.
    loss: mean training loss of each epoch (epoch 1, 2, ...).
    iter_loss: the training loss of every mini-batch step.
    diverged: the loss became NaN or infinite; training stopped there and the curves end before it.
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


def _check_data(x, t, name):
    x = check_array(f"x_{name}", x)
    t = check_array(f"t_{name}", t)
    check_same_length(f"x_{name}", x, f"t_{name}", t)
    return x, t


def _record_accuracy(net, history, x_train, t_train, eval_sets):
    history.train_acc.append(net.accuracy(x_train, t_train))
    for name, (x, t) in eval_sets.items():
        history.eval_acc[name].append(net.accuracy(x, t))


def _train_one_epoch(net, optimizer, x_train, t_train, batch_size, rng, history):
    """One pass over the shuffled training set. Returns False when the loss stopped being finite."""
    order = rng.permutation(len(x_train))
    epoch_losses = []
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        loss, grads = net.loss_and_gradient(x_train[batch], t_train[batch])
        if not np.isfinite(loss):
            return False
        optimizer.update(net.params, grads)
        epoch_losses.append(loss)
    history.iter_loss.extend(epoch_losses)
    history.loss.append(float(np.mean(epoch_losses)))
    return True


def train_epochs(net, x_train, t_train, *, epochs, batch_size=100, optimizer=None, eval_sets=None, seed=0):
    """Train `net` one epoch at a time: a generator that yields the History after epoch 0 (before any
    training) and after every epoch. Arguments as in `fit`. Driving two of these side by side trains
    two nets in step, e.g. with and without batch norm on the same mini-batches (same seed)."""
    x_train, t_train = _check_data(x_train, t_train, "train")
    dtype = getattr(net, "dtype", x_train.dtype)
    x_train = x_train.astype(dtype, copy=False)  # cast once, not per batch
    epochs = check_int("epochs", epochs, low=0)
    batch_size = check_int("batch_size", batch_size, low=1, high=len(x_train))
    eval_sets = {name: _check_data(*pair, name) for name, pair in (eval_sets or {}).items()}
    eval_sets = {name: (x.astype(dtype, copy=False), t) for name, (x, t) in eval_sets.items()}  # once, not per epoch
    optimizer = optimizer if optimizer is not None else SGD(lr=0.01)
    rng = np.random.default_rng(seed)

    history = History(epochs=epochs, eval_acc={name: [] for name in eval_sets})
    for epoch in range(epochs + 1):
        # One BLAS thread, for the steps and for scoring. Measured on a 2-core machine (benchmarks/bench.py):
        # with batches of 100 the products are small and a second thread only fights for the cores; scoring
        # 4000 samples is ~1.6x faster with two threads while the other core is idle, but up to 7x slower
        # (300 samples up to 30x) while another job runs there, so scoring keeps one thread too.
        # Overflow in a diverging run is reported by `diverged`, not by warnings.
        with _one_blas_thread(), np.errstate(all="ignore"):
            if epoch > 0 and not _train_one_epoch(net, optimizer, x_train, t_train, batch_size, rng, history):
                history.diverged = True
                yield history
                return
            _record_accuracy(net, history, x_train, t_train, eval_sets)
        yield history


def fit(net, x_train, t_train, *, epochs, batch_size=100, optimizer=None, eval_sets=None, seed=0, callbacks=()):
    """Train `net` and return its History.

    x_train: (N, D) inputs, t_train: (N,) labels or (N, C) one-hot.
    epochs: passes over the training set; each visits every sample once, in an order shuffled by `seed`.
    batch_size: samples per update step, 1 .. N.
    optimizer: anything with update(params, grads); default SGD(lr=0.01).
    eval_sets: {name: (x, t)} scored after every epoch, e.g. {"test": (x_test, t_test)}.
    callbacks: functions called as callback(history) after epoch 0, after every epoch and when a run
        diverges; one that returns True stops training (the Stop button of the live panels).
    """
    steps = train_epochs(
        net, x_train, t_train, epochs=epochs, batch_size=batch_size, optimizer=optimizer, eval_sets=eval_sets, seed=seed
    )
    for history in steps:
        if any([callback(history) for callback in callbacks]):
            history.stopped = not history.diverged
            break
    return history
