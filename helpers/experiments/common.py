"""What the seminar's experiments share: the book's data slices and stepping several runs together."""

import numpy as np

from helpers.checks import check_array, check_int, check_number
from helpers.data import load_mnist
from helpers.layers import Relu, Sigmoid


def unpack_data(data):
    """load_mnist()'s result ((x_train, t_train), (x_test, t_test)) as its four arrays; None loads it."""
    try:
        (x_train, t_train), (x_test, t_test) = data if data is not None else load_mnist()
    except (TypeError, ValueError):
        raise TypeError(
            "data must be load_mnist()'s result ((x_train, t_train), (x_test, t_test)) or None, "
            f"got {type(data).__name__}{' (a single (x, t) pair?)' if isinstance(data, (tuple, list)) else ''}"
        ) from None
    return x_train, t_train, x_test, t_test


def first_samples(data, n_train, n_test=None):
    """(x_train, t_train), (x_test, t_test) cut to the first n_train / n_test samples, like the book's x_train[:300]."""
    x_train, t_train, x_test, t_test = unpack_data(data)
    n_train = check_int("n_train", n_train, low=1, high=len(x_train))
    n_test = len(x_test) if n_test is None else min(check_int("n_test", n_test, low=0), len(x_test))
    return (x_train[:n_train], t_train[:n_train]), (x_test[:n_test], t_test[:n_test])


def hidden_activations(net, x, train=True):
    """The output of every hidden activation layer for input x: a list of (N, width) arrays."""
    outputs = []
    out = np.asarray(x, dtype=net.dtype)
    for layer in net.layers:
        out = layer.forward(out, train)
        if isinstance(layer, (Relu, Sigmoid)):
            outputs.append(out)
    return outputs


def in_step(steps):
    """Advance several `train_epochs` generators together: yields {label: latest History} after each epoch.
    A run that ends early (it diverged) keeps its last History while the others go on."""
    latest = {}
    while True:
        advanced = False
        for label, step in steps.items():
            history = next(step, None)
            if history is not None:
                latest[label] = history
                advanced = True
        if not advanced:
            return
        yield dict(latest)


def epochs_to_reach(curve, level):
    """The first epoch at which `curve` (accuracy per epoch) reaches `level`, or None if it never does."""
    if hasattr(curve, "train_acc"):
        raise TypeError(
            "curve must be one accuracy curve, e.g. history.train_acc or history.eval_acc['test'], got History"
        )
    curve = check_array("curve", curve, ndim=1)
    reached = np.flatnonzero(curve >= check_number("level", level))
    return int(reached[0]) if len(reached) else None
