"""Notebooks 02 and 03: the overfitting experiment and its two cures, weight decay and dropout."""

from dataclasses import dataclass, field

import numpy as np

from helpers.checks import check_int
from helpers.data import load_mnist
from helpers.experiments.common import first_samples
from helpers.layers import SoftmaxWithLoss
from helpers.net import EVAL_CHUNK, MultiLayerNet
from helpers.optim import SGD
from helpers.train import batch_bounds, fit

# The book's overfit_weight_decay.py trains 200 epochs; its overfit_dropout.py asks its Trainer for 301, which
# scores before each of them: epochs 0 .. 300 as History counts them.
WEIGHT_DECAY_EPOCHS = 200
DROPOUT_EPOCHS = 300
SCORE_SETS = ("train", "validation", "test")


@dataclass
class Run:
    """One overfitting-experiment run and what was measured after every epoch (epoch 0 = before training).

    history: the History (train accuracy, and test accuracy when the test set was scored every epoch).
    net: the trained net; n_train: how many of the first training images it was trained on.
    weight_norm: ‖W‖, the L2 norm of all weights.
    learned_norm: ‖W - (1 - lr λ)^t W₀‖ after t steps: the part of the weights the data's gradients built,
        what is left when the start W₀, shrunk by weight decay alone, is taken away (‖W - W₀‖ when λ = 0).
    train_loss, test_loss: the mean cross-entropy on the whole training / test set in test mode, without the
        weight-decay penalty (test_loss only when the test set was scored every epoch).
    """

    history: object
    net: object = None
    n_train: int = 300
    weight_norm: list = field(default_factory=list)
    learned_norm: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)

    @property
    def gap(self):
        """Final train accuracy minus final test accuracy."""
        return self.history.final("train") - self.history.final("test")


def weights(net):
    """The net's weight matrices {name: W} (W1, W2, ...; not the biases)."""
    return {name: W for name, W in net.params.items() if name.startswith("W")}


def weight_norm(net):
    """sqrt(sum of W**2 over every weight matrix): the L2 norm that weight decay keeps small."""
    return float(np.sqrt(sum(np.vdot(W, W) for W in weights(net).values())))


def shrinkage_curve(
    initial_norm, weight_decay_lambda, lr=0.01, epochs=WEIGHT_DECAY_EPOCHS, n_train=300, batch_size=100
):
    """‖W‖ after each epoch if weight decay alone moved the weights: (1 - lr λ)^t ‖W₀‖ after t SGD steps.

    Every step W ← W - lr (∂L/∂W + λW) = (1 - lr λ) W - lr ∂L/∂W; without the data's gradient ∂L/∂W only the
    factor is left. t = epoch x steps per epoch (3 for 300 images in batches of 100). Returns (epochs + 1,) floats.
    """
    steps_per_epoch = len(batch_bounds(n_train, batch_size))
    steps = steps_per_epoch * np.arange(epochs + 1)
    return initial_norm * (1 - lr * weight_decay_lambda) ** steps


def score(net, x, labels):
    """(accuracy, mean cross-entropy without the weight-decay penalty) of `net` in test mode, from one forward
    pass over x (N, 784) in chunks, as the net scores its accuracy."""
    correct, total_loss = 0, 0.0
    for start in range(0, len(x), EVAL_CHUNK):
        scores, chunk_labels = net.predict(x[start : start + EVAL_CHUNK]), labels[start : start + EVAL_CHUNK]
        correct += np.count_nonzero(scores.argmax(axis=1) == chunk_labels)
        total_loss += SoftmaxWithLoss().forward(scores, chunk_labels) * len(chunk_labels)
    return float(correct / len(x)), float(total_loss / len(x))


def overfitting_run(
    weight_decay_lambda=0.0,
    dropout_ratio=0.0,
    n_train=300,
    epochs=WEIGHT_DECAY_EPOCHS,
    lr=0.01,
    batch_size=100,
    hidden_sizes=(100,) * 6,
    dropout_inverted=False,
    use_batchnorm=False,
    n_test=None,
    test_every_epoch=True,
    seed=0,
    data=None,
    callback=None,
):
    """The overfitting experiment: the first 300 training images, 784-100x6-10 ReLU, SGD lr 0.01, batch 100.

    weight_decay_lambda and dropout_ratio switch on the two cures, use_batchnorm a BatchNorm in every hidden
    layer. After every epoch it records train accuracy, ‖W‖ and the train loss, and with test_every_epoch the
    accuracy and loss on the first n_test test images (all when None); test_every_epoch=False trains without
    them (about 6x faster), for runs of which only the end counts. Returns a Run.
    """
    if n_test is not None:
        check_int("n_test", n_test, low=1)  # the test accuracy is the point of the experiment
    (x, t), (x_test, t_test) = first_samples(data, n_train, n_test)
    net = MultiLayerNet(
        hidden_sizes=hidden_sizes,
        use_batchnorm=use_batchnorm,
        weight_decay_lambda=weight_decay_lambda,
        dropout_ratio=dropout_ratio,
        dropout_inverted=dropout_inverted,
        seed=seed,
    )
    optimizer = SGD(lr)
    batch_size = check_int("batch_size", batch_size, low=1, high=len(x))
    run = Run(history=None, net=net, n_train=len(x))
    start = {name: W.copy() for name, W in weights(net).items()}
    shrink_per_epoch = (1 - optimizer.lr * net.weight_decay_lambda) ** len(batch_bounds(len(x), batch_size))

    # The test set is scored here rather than by fit: one pass gives both its accuracy and its loss.
    def record(history):
        if not history.diverged:
            run.weight_norm.append(weight_norm(net))
            shrunk = shrink_per_epoch**history.epoch
            learned = sum(float(np.sum((W - shrunk * start[name]) ** 2)) for name, W in weights(net).items())
            run.learned_norm.append(float(np.sqrt(learned)))
            run.train_loss.append(score(net, x, t)[1])
            if test_every_epoch:
                accuracy, loss = score(net, x_test, t_test)
                history.eval_acc.setdefault("test", []).append(accuracy)
                run.test_loss.append(loss)
        return callback(history) if callback is not None else None

    run.history = fit(
        net, x, t, epochs=epochs, batch_size=batch_size, optimizer=optimizer, seed=seed, callbacks=[record]
    )
    return run


def validation_images(data=None, n_train=300, n_val=1000):
    """(x_val, t_val): the n_val training images right after the first n_train, for choosing λ or a dropout ratio.

    They come from the training set and are never trained on. Not 20 % of the 300 (split_validation): on 60
    images an accuracy has a standard error of about ±0.06, too coarse to tell settings apart; on 1000 about ±0.014.
    """
    (x_train, t_train), _ = data if data is not None else load_mnist()
    n_train = check_int("n_train", n_train, low=1, high=len(x_train) - 1)
    n_val = check_int("n_val", n_val, low=1, high=len(x_train) - n_train)
    return x_train[n_train : n_train + n_val], t_train[n_train : n_train + n_val]


def final_accuracies(run, sets=SCORE_SETS, n_val=1000, data=None):
    """A trained run's accuracy on each of `sets`, scored once: {name: accuracy} for "train" (the images it was
    trained on), "validation" (validation_images) and "test" (all the test images)."""
    if isinstance(sets, str) or any(name not in SCORE_SETS for name in sets):
        raise ValueError(f"sets must be a tuple of names from {SCORE_SETS}, got {sets!r}")
    data = data if data is not None else load_mnist()
    (x, t), (x_test, t_test) = first_samples(data, run.n_train)
    pairs = {"train": (x, t), "test": (x_test, t_test)}
    if "validation" in sets:
        pairs["validation"] = validation_images(data, run.n_train, n_val)
    return {name: score(run.net, *pairs[name])[0] for name in sets}
