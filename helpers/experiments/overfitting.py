"""Notebooks 02 and 03: the overfitting experiment and its two cures, weight decay and dropout."""

from dataclasses import dataclass, field

import numpy as np

from helpers.checks import check_int
from helpers.experiments.common import first_samples
from helpers.layers import Dropout
from helpers.net import MultiLayerNet
from helpers.optim import SGD
from helpers.train import fit

# The book's (non-inverted) dropout at lr 0.01 learns slowly: measured on the offline digits, train accuracy
# with dropout_ratio 0.15 reaches 0.97 after 400 epochs and 1.0 after 600 (200 without dropout).
DROPOUT_EPOCHS = 600


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
    use_batchnorm=False,
    n_test=None,
    seed=0,
    data=None,
    callback=None,
):
    """The overfitting experiment: 300 samples, 784-100x6-10 ReLU, SGD, train and test accuracy each epoch.

    weight_decay_lambda and dropout_ratio switch on the two cures, use_batchnorm a batch norm before every
    activation. Returns a Run.
    """
    if n_test is not None:
        check_int("n_test", n_test, low=1)  # the test accuracy is the point of the experiment
    (x, t), (x_test, t_test) = first_samples(data, n_train, n_test)
    net = MultiLayerNet(
        hidden_sizes=hidden_sizes,
        weight_decay_lambda=weight_decay_lambda,
        dropout_ratio=dropout_ratio,
        dropout_inverted=dropout_inverted,
        use_batchnorm=use_batchnorm,
        seed=seed,
    )
    run = Run(history=None)

    def record(history):
        run.weight_norm.append(weight_norm(net))
        return callback(history) if callback is not None else None

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


def dropout_demo(ratio=0.5, shape=(4, 6), seed=0, inverted=False):
    """Dropout on a small array of ones: (train output, mask, test output), for the mechanics section."""
    layer = Dropout(ratio, inverted=inverted, rng=seed)
    x = np.ones(shape, dtype=np.float32)
    train_out = layer.forward(x, train=True)
    return train_out, layer.mask.astype(x.dtype), layer.forward(x, train=False)
