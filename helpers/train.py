"""The training loop: mini-batch SGD (or any optimizer) over shuffled epochs, with per-epoch curves.

`fit` trains any net that has
    params                   {name: array}, the arrays the optimizer changes in place;
    loss_and_gradient(x, t)  (loss, {name: gradient}) of a mini-batch, in train mode;
    accuracy(x, t)           the fraction of samples classified right, a float;
and, optionally, check_data(x, t, name) -> (x, t): the net's own check of a data set, which `fit` calls once
per data set and run (name "train" or an eval set's name, for the messages); a net with check_data also
takes checked=True in loss_and_gradient and accuracy, which fit passes for the data check_data returned, so
that the net need not check it again every step. Without check_data, x and t are used as NumPy arrays as
they are. `MultiLayerNet` has all four.

Callbacks run after epoch 0 and after every epoch; one that returns `STOP` ends the run, one that returns
None lets it go on, and anything else is a mistake (TypeError).

BLAS threads: every run sets BLAS (OpenBLAS, MKL) to one thread, for the rest of the process; nothing sets it
back. Measured on a 2-core machine (benchmarks/bench.py): with batches of 100 the products are small and a
second thread only fights for the cores; scoring 4000 samples is ~1.6x faster with two threads while the other
core is idle, but up to 7x slower (300 samples up to 30x) while another job runs there. The count belongs to
the process, not to a run: a run that set it back when it ended would undo it under a run still going in
another thread (a slider panel's), and runs ending in another order than they began would leave it changed
anyway. And OpenBLAS (0.3.31, NumPy's) ignores a change made in another thread once the main thread has made
one, so a panel's thread could not even set it back reliably. For more threads in your own code afterwards:
`with threadpoolctl.threadpool_limits(2, user_api="blas"): ...`.
"""

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from helpers.checks import check_int, check_same_length, check_seed
from helpers.lang import tr
from helpers.optim import SGD


class Signal(enum.Enum):
    """What a callback may return to fit besides None."""

    STOP = "stop"


STOP = Signal.STOP  # what a callback returns to end training: the live panels' Stop button

# Divergence: the loss or the weights became NaN or infinite, or an epoch's mean loss grew past DIVERGENCE_FACTOR
# times the larger of the run's first step loss and 1. A run that learns has its loss fall below where it
# started; one whose loss is ten times higher (for 10 classes, more than ten times the 2.3 of guessing) is
# overshooting further with every step. The floor of 1 keeps a net that starts with a tiny loss (it was trained
# before) from counting a small rise as divergence.
DIVERGENCE_FACTOR = 10


@dataclass
class History:
    """What happened in one training run.

    train_acc: accuracy on the whole training set at epoch 0 (before training) and after every epoch.
    eval_acc: {name: accuracies} for each evaluation set, at the same epochs as train_acc.
    loss: mean training loss of each epoch (epoch 1, 2, ...).
    iter_loss: the training loss of every mini-batch step.
    diverged: training stopped because the run diverged (see DIVERGENCE_FACTOR); the curves end before the
        epoch in which it did, and diverged_reason says what happened, in words a student reads.
    stopped: a callback returned STOP.
    """

    epochs: int
    train_acc: list = field(default_factory=list)
    eval_acc: dict = field(default_factory=dict)
    loss: list = field(default_factory=list)
    iter_loss: list = field(default_factory=list)
    diverged: bool = False
    diverged_reason: str = ""
    stopped: bool = False

    @property
    def epoch(self):
        """How many epochs have been completed."""
        return max(len(self.train_acc) - 1, 0)

    def final(self, name="train"):
        """The last accuracy of `name` ("train" or an eval set's name)."""
        curve = self.train_acc if name == "train" else self.eval_acc[name]
        return curve[-1]


# --- Argument checks: once per run, so the epochs themselves check nothing ---------------------------------


def _check_net(net):
    missing = [name for name in ("loss_and_gradient", "accuracy") if not callable(getattr(net, name, None))]
    if not isinstance(getattr(net, "params", None), Mapping):
        missing.insert(0, "params")
    if missing:
        raise TypeError(
            f"net must have params (a dict of arrays), loss_and_gradient(x, t) and accuracy(x, t), as MultiLayerNet "
            f"has; got {type(net).__name__}, without {', '.join(missing)}"
        )
    return net


def _check_data(net, x, t, name):
    """(x, t) as the net takes them: its own check_data if it has one, else NumPy arrays of the same length."""
    if callable(getattr(net, "check_data", None)):
        return net.check_data(x, t, name)
    x, t = np.asarray(x), np.asarray(t)
    check_same_length(f"x_{name}", x, f"t_{name}", t)
    return x, t


def _check_eval_sets(net, eval_sets):
    """{name: (x, t)} checked; None means no evaluation sets."""
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


def _name(function):
    name = getattr(function, "__name__", "")
    return name if name.isidentifier() else "f"  # a lambda's name is "<lambda>", a partial has none


def _check_callbacks(callbacks):
    if callbacks is None:
        return []
    if callable(callbacks):
        raise TypeError(
            f"callbacks must be a list of functions, not a single one: write callbacks=[{_name(callbacks)}]"
        )
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, Iterable):
        raise TypeError(f"callbacks must be a list of functions, e.g. callbacks=[show], got {callbacks!r}")
    callbacks = list(callbacks)
    for callback in callbacks:
        if not callable(callback):
            raise TypeError(f"callbacks must hold functions, got {callback!r} ({type(callback).__name__})")
    return callbacks


def asks_to_stop(callback, returned):
    """True if a callback's return value is STOP, False if it is None; anything else is refused (TypeError),
    so a mistake such as a forgotten label or a stray `return history.train_acc[-1]` cannot stop a run."""
    if returned is STOP:
        return True
    if returned is None:
        return False
    hint = ""
    if callable(returned):
        hint = ' (a LiveCurves callback needs its label: callbacks=[live.callback("label")])'
    raise TypeError(
        f"callback {_name(callback)} returned {returned!r}: a callback returns None to go on, or "
        f"helpers.train.STOP to end training{hint}"
    )


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
    """False if any parameter is NaN or inf (exact: testing a sum of the weights could overflow)."""
    return all(np.isfinite(value).all() for value in net.params.values())


def _checked(net):
    """The keyword arguments that tell the net's methods its data came from its check_data (see above)."""
    return {"checked": True} if callable(getattr(net, "check_data", None)) else {}


def _loss_and_gradient(net, x, t, checked):
    """(loss as a float, gradients) of one mini-batch; a clear error if the net returns something else."""
    result = net.loss_and_gradient(x, t, **checked)
    if not (isinstance(result, (tuple, list)) and len(result) == 2 and isinstance(result[1], Mapping)):
        raise TypeError(
            f"net.loss_and_gradient(x, t) must return a pair (loss, grads), grads a dict {{name: gradient}}; "
            f"{type(net).__name__}'s returned {type(result).__name__}"
        )
    return float(result[0]), result[1]


def _accuracy(net, x, t):
    """net.accuracy(x, t) as a float; a clear error unless it is a fraction in [0, 1]."""
    accuracy = float(net.accuracy(x, t, **_checked(net)))
    if not 0 <= accuracy <= 1:
        raise ValueError(
            f"net.accuracy(x, t) must return the fraction of samples classified right, in [0, 1]; "
            f"{type(net).__name__}'s returned {accuracy!r} (a count? divide it by len(x))"
        )
    return accuracy


def record_accuracy(net, history, x_train, t_train, eval_sets):
    """Append the accuracy on the training set and on every eval set to `history`."""
    history.train_acc.append(_accuracy(net, x_train, t_train))
    for name, (x, t) in eval_sets.items():
        history.eval_acc[name].append(_accuracy(net, x, t))


def _train_one_epoch(net, optimizer, x_train, t_train, batch_size, rng, history):
    """One pass over the shuffled training set, recorded in history. Returns None, or the reason the run
    diverged (then nothing of this epoch is recorded)."""
    epoch = history.epoch + 1
    order = rng.permutation(len(x_train))
    checked = _checked(net)
    losses = []
    for step, (start, stop) in enumerate(batch_bounds(len(order), batch_size), start=1):
        batch = order[start:stop]
        loss, grads = _loss_and_gradient(net, x_train[batch], t_train[batch], checked)
        if not math.isfinite(loss):
            return tr(
                f"손실이 NaN 또는 무한대가 됨 (에폭 {epoch}, 스텝 {step})",
                f"the loss became NaN or infinite (epoch {epoch}, step {step})",
            )
        optimizer.update(net.params, grads)
        losses.append(loss)
    if not _weights_finite(net):  # the last step broke them: its loss was still finite
        return tr(
            f"가중치가 NaN 또는 무한대가 됨 (에폭 {epoch})", f"the weights became NaN or infinite (epoch {epoch})"
        )
    start_loss = max(history.iter_loss[0] if history.iter_loss else losses[0], 1.0)
    mean_loss = float(np.mean(losses))
    if mean_loss > DIVERGENCE_FACTOR * start_loss:
        return tr(
            f"에폭 {epoch}의 평균 손실 {mean_loss:.3g}이 시작 손실 {start_loss:.3g}의 {DIVERGENCE_FACTOR}배를 넘음",
            f"epoch {epoch}'s mean loss {mean_loss:.3g} is more than {DIVERGENCE_FACTOR} times "
            f"the starting loss {start_loss:.3g}",
        )
    history.iter_loss.extend(losses)
    history.loss.append(mean_loss)
    return None


def train_epochs(net, x_train, t_train, *, epochs, batch_size=100, optimizer=None, eval_sets=None, seed=0):
    """Train `net` one epoch at a time: a generator that yields the History after epoch 0 (before any
    training) and after every epoch. Arguments as in `fit`. Driving two of these side by side trains
    two nets in step, e.g. with and without batch norm on the same mini-batches (same seed)."""
    net = _check_net(net)
    x_train, t_train = _check_data(net, x_train, t_train, "train")  # also cast to the net's dtype, once
    epochs = check_int("epochs", epochs, low=0)
    batch_size = check_int("batch_size", batch_size, low=1, high=len(x_train))
    eval_sets = _check_eval_sets(net, eval_sets)
    optimizer = _check_optimizer(optimizer)
    rng = np.random.default_rng(check_seed("seed", seed))
    threadpool_limits(limits=1, user_api="blas")  # for good: see the module docstring

    history = History(epochs=epochs, eval_acc={name: [] for name in eval_sets})
    for epoch in range(epochs + 1):
        with np.errstate(all="ignore"):  # overflow in a diverging run is reported by `diverged`, not by warnings
            if epoch > 0:
                reason = _train_one_epoch(net, optimizer, x_train, t_train, batch_size, rng, history)
                history.diverged, history.diverged_reason = reason is not None, reason or ""
            if not history.diverged:
                record_accuracy(net, history, x_train, t_train, eval_sets)
        yield history  # outside the with-block: the caller's code runs with its own warning settings
        if history.diverged:
            return


def fit(net, x_train, t_train, *, epochs, batch_size=100, optimizer=None, eval_sets=None, seed=0, callbacks=()):
    """Train `net` and return its History. net: a MultiLayerNet, or any net as the module docstring says.

    x_train: (N, D) inputs, t_train: (N,) labels or (N, C) one-hot; finite numbers (checked once per call).
    epochs: passes over the training set; each visits every sample once, in an order shuffled by `seed`
        (an integer >= 0), in batches of batch_size; a last batch of one sample joins the one before it.
    batch_size: samples per update step, 1 .. N.
    optimizer: an object with update(params, grads), new for this net (e.g. SGD(lr=0.1)); default SGD(lr=0.01).
    eval_sets: {name: (x, t)} scored after every epoch, e.g. {"test": (x_test, t_test)}.
    callbacks: a list of functions (or None), each called as callback(history) after epoch 0, after every epoch
        and when a run diverges. Each returns None to go on or STOP to end training (history.stopped is then
        True); any other return value raises a TypeError. A single function is refused: write callbacks=[f].
    """
    callbacks = _check_callbacks(callbacks)
    steps = train_epochs(
        net, x_train, t_train, epochs=epochs, batch_size=batch_size, optimizer=optimizer, eval_sets=eval_sets, seed=seed
    )
    for history in steps:
        stops = [asks_to_stop(callback, callback(history)) for callback in callbacks]
        if any(stops):
            history.stopped = not history.diverged
            break
    return history
