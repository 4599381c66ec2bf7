"""The seminar's experiments as plain functions with the book's settings as defaults.

Each returns data (histories, arrays) and never draws: the notebooks, the figures command, the slider
panels and the tests call these same functions. `data` is `load_mnist()`'s result; None loads it.
A `callback` gets the current histories after every epoch and may return True to stop (the Stop button).
"""

from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from helpers.data import load_mnist
from helpers.gradcheck import numerical_gradient, rel_error
from helpers.layers import BatchNorm, Dropout
from helpers.net import MultiLayerNet
from helpers.optim import SGD
from helpers.train import fit, train_epochs

BN_STDS = np.logspace(0, -4, 16)  # the book's 16 initial weight scales, 1 .. 1e-4
# The book's (non-inverted) dropout at lr 0.01 learns slowly: measured on the offline digits, train accuracy
# with dropout_ratio 0.15 reaches 0.97 after 400 epochs and 1.0 after 600 (200 without dropout).
DROPOUT_EPOCHS = 600


def first_samples(data, n_train, n_test=None):
    """(x_train, t_train), (x_test, t_test) cut to the first n_train / n_test samples, like the book's x_train[:300]."""
    (x_train, t_train), (x_test, t_test) = data if data is not None else load_mnist()
    if n_train > len(x_train):
        raise ValueError(f"n_train must be at most {len(x_train)} (the training set's size), got {n_train}")
    n_test = len(x_test) if n_test is None else min(n_test, len(x_test))
    return (x_train[:n_train], t_train[:n_train]), (x_test[:n_test], t_test[:n_test])


# --- Recap: activation distributions and the initial weight scale -------------------------------------------


def hidden_activations(net, x, train=True):
    """The output of every hidden activation layer for input x: a list of (N, width) arrays."""
    outputs = []
    out = np.asarray(x, dtype=net.dtype)
    for layer in net.layers:
        out = layer.forward(out, train)
        if type(layer).__name__ in ("Relu", "Sigmoid"):
            outputs.append(out)
    return outputs


def activation_histograms(weight_init_std, activation="sigmoid", n_samples=1000, n_layers=5, width=100, seed=0):
    """The recap experiment: 1000 random inputs through 5 layers of 100 units with a given initial std.
    Returns the activations of each layer (a list of (n_samples, width) arrays)."""
    x = np.random.default_rng(seed).standard_normal((n_samples, width))
    net = MultiLayerNet(
        width, (width,) * n_layers, 2, activation=activation, weight_init_std=weight_init_std, seed=seed
    )
    return hidden_activations(net, x)


# --- 01 Batch normalization ------------------------------------------------------------------------------------


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


def batchnorm_pair(
    weight_init_std,
    n_train=1000,
    epochs=20,
    lr=0.01,
    batch_size=100,
    hidden_sizes=(100,) * 5,
    activation="relu",
    seed=0,
    data=None,
    callback=None,
):
    """Train the same net with and without batch norm on identical mini-batches, epoch by epoch in step.

    Returns {"with BN": History, "without BN": History} (train accuracy per epoch, as in the book).
    """
    (x, t), _ = first_samples(data, n_train, 0)
    runs = {}
    steps = {}
    for label, use_bn in (("with BN", True), ("without BN", False)):
        net = MultiLayerNet(
            hidden_sizes=hidden_sizes,
            activation=activation,
            weight_init_std=weight_init_std,
            use_batchnorm=use_bn,
            seed=seed,
        )
        steps[label] = train_epochs(net, x, t, epochs=epochs, batch_size=batch_size, optimizer=SGD(lr), seed=seed)
    for runs in in_step(steps):
        if callback is not None and callback(runs):
            for history in runs.values():
                history.stopped = not history.diverged
            break
    return runs


def batchnorm_grid(stds=BN_STDS, progress=True, **kwargs):
    """batchnorm_pair for every std (the book's 4x4 grid): {std: {"with BN": History, "without BN": History}}."""
    return {float(std): batchnorm_pair(std, **kwargs) for std in tqdm(stds, desc="BN grid", disable=not progress)}


def batchnorm_activations(weight_init_std, use_batchnorm, n_samples=1000, seed=0, data=None):
    """Hidden activations of the BN experiment's net (untrained) on real digits, with or without batch norm."""
    (x, _), _ = first_samples(data, n_samples, 0)
    net = MultiLayerNet(weight_init_std=weight_init_std, use_batchnorm=use_batchnorm, seed=seed)
    return hidden_activations(net, x)


# --- 02 Overfitting, weight decay and dropout -----------------------------------------------------------


@dataclass
class Run:
    """One overfitting-experiment run: its History and the L2 norm of all weights after each epoch."""

    history: object
    weight_norm: list = field(default_factory=list)

    @property
    def gap(self):
        """Final train accuracy minus final test accuracy."""
        return self.history.final("train") - self.history.final("test")


def weight_norm(net):
    """sqrt(sum of W**2 over every weight matrix): the L2 norm that weight decay keeps small."""
    return float(np.sqrt(sum(np.vdot(W, W) for name, W in net.params.items() if name.startswith("W"))))


def overfitting_run(
    weight_decay_lambda=0.0,
    dropout_ratio=0.0,
    n_train=300,
    epochs=200,
    lr=0.01,
    batch_size=100,
    hidden_sizes=(100,) * 6,
    dropout_inverted=False,
    n_test=None,
    seed=0,
    data=None,
    callback=None,
):
    """The overfitting experiment: 300 samples, 784-100x6-10 ReLU, SGD, train and test accuracy each epoch.

    weight_decay_lambda and dropout_ratio switch on the two cures. Returns a Run.
    """
    (x, t), (x_test, t_test) = first_samples(data, n_train, n_test)
    net = MultiLayerNet(
        hidden_sizes=hidden_sizes,
        weight_decay_lambda=weight_decay_lambda,
        dropout_ratio=dropout_ratio,
        dropout_inverted=dropout_inverted,
        seed=seed,
    )
    run = Run(history=None)

    def record(history):
        run.weight_norm.append(weight_norm(net))
        return callback(history) if callback is not None else False

    run.history = fit(
        net,
        x,
        t,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=SGD(lr),
        eval_sets={"test": (x_test, t_test)},
        seed=seed,
        callbacks=[record],
    )
    return run


def epochs_to_reach(curve, level):
    """The first epoch at which `curve` (accuracy per epoch) reaches `level`, or None if it never does."""
    reached = np.flatnonzero(np.asarray(curve) >= level)
    return int(reached[0]) if len(reached) else None


def dropout_demo(ratio=0.5, shape=(4, 6), seed=0, inverted=False):
    """Dropout on a small array of ones: (train output, mask, test output), for the mechanics section."""
    layer = Dropout(ratio, inverted=inverted, rng=seed)
    x = np.ones(shape, dtype=np.float32)
    train_out = layer.forward(x, train=True)
    return train_out, layer.mask, layer.forward(x, train=False)


def batchnorm_gradient_check(n_samples=8, n_features=5, seed=0):
    """BatchNorm's backward vs central differences in float64, for a random batch and a random upstream
    gradient: {"x": rel error, "gamma": ..., "beta": ...}."""
    rng = np.random.default_rng(seed)
    layer = BatchNorm(n_features, dtype=np.float64)
    layer.params["gamma"][:] = rng.standard_normal(n_features)
    layer.params["beta"][:] = rng.standard_normal(n_features)
    x = 3 * rng.standard_normal((n_samples, n_features)) + 2
    dout = rng.standard_normal((n_samples, n_features))

    def loss():
        return float(np.sum(layer.forward(x) * dout))

    layer.forward(x)
    errors = {"x": rel_error(layer.backward(dout), numerical_gradient(loss, x))}
    for name, value in layer.params.items():
        errors[name] = rel_error(layer.grads[name], numerical_gradient(loss, value))
    return errors


def batchnorm_modes_demo(n_features=3, batch_size=100, n_batches=100, seed=0):
    """Train mode vs test mode on data with feature means (5, -3, 0) and stds (1, 10, 0.1).

    Returns per-feature means/stds of the train-mode output, the running mean after 1 and after
    `n_batches` batches, and the test-mode output's means/stds after them.
    """
    rng = np.random.default_rng(seed)

    def batch():
        return (rng.standard_normal((batch_size, n_features)) * [1, 10, 0.1] + [5, -3, 0]).astype(np.float32)

    layer = BatchNorm(n_features)
    x = batch()
    train_out = layer.forward(x, train=True)
    result = {
        "data_mean": x.mean(axis=0),
        "train_mean": train_out.mean(axis=0),
        "train_std": train_out.std(axis=0),
        "running_mean_1": layer.running_mean.copy(),
    }
    for _ in range(n_batches - 1):
        layer.forward(batch(), train=True)
    test_out = layer.forward(batch(), train=False)
    result.update(
        running_mean_100=layer.running_mean.copy(), test_mean=test_out.mean(axis=0), test_std=test_out.std(axis=0)
    )
    return result
