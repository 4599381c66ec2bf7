"""Answers to the implement-it-yourself cells, written as the slides write the equations.

`helpers.exercises.show_solution(name)` prints one of them; the checkers compare a student's function with them.
They compute what helpers.layers.BatchNorm (train mode), helpers.layers.Dropout (inverted=False),
the weight-decay term of helpers.net.MultiLayerNet and helpers.search.sample_log_uniform compute, in plain steps;
narrow is helpers.search.narrow's core, without its rounding and its growing at the edges of the range.
"""

import numpy as np


def batchnorm_forward(x, gamma, beta, eps):
    """Batch normalization in train mode, with the mini-batch's own mean and variance.

    x: (N, D) float array; gamma, beta: (D,) scale and shift; eps: a small number > 0.
    Returns (out, cache): out (N, D), and cache, what batchnorm_backward needs.
    """
    mu = x.mean(axis=0)  # (D,): one mean per feature, over the N samples
    xc = x - mu
    var = (xc**2).mean(axis=0)  # divided by N, not N - 1
    std = np.sqrt(var + eps)
    x_hat = xc / std
    out = gamma * x_hat + beta
    cache = (xc, std, x_hat, gamma)
    return out, cache


def batchnorm_backward(dout, cache):
    """The backward pass of batchnorm_forward, node by node through its computational graph.

    dout: (N, D) upstream gradient. Returns (dx, dgamma, dbeta): (N, D), (D,), (D,).
    """
    xc, std, x_hat, gamma = cache
    n = len(dout)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dxc = dx_hat / std
    dstd = -(dx_hat * xc / std**2).sum(axis=0)
    dvar = 0.5 * dstd / std
    dxc += (2 / n) * xc * dvar  # through var = mean(xc²)
    dmu = dxc.sum(axis=0)
    dx = dxc - dmu / n  # through mu = mean(x)
    return dx, dgamma, dbeta


def weight_decay(weights, lam):
    """The L2 penalty ½ λ Σ ||W||² added to the loss, and its gradient λ W for each weight.

    weights: a list of arrays W1, W2, ...; lam: λ >= 0.
    Returns (penalty, grads): a float, and a list of arrays shaped like weights, in the same order.
    """
    penalty = 0.5 * lam * sum(np.sum(W**2) for W in weights)
    grads = [lam * W for W in weights]
    return float(penalty), grads


def dropout_forward(x, dropout_ratio, train, rng):
    """Dropout as the seminar (and the book) does it: drop in training, scale at test time.

    x: (N, D) float array; dropout_ratio: the fraction of units dropped, in [0, 1);
    train: True for training, False for test; rng: a np.random.Generator, the only source of randomness.
    Returns (out, mask): out shaped like x; mask (True = kept) in training, None at test time.
    """
    if not train:
        return x * (1 - dropout_ratio), None
    mask = rng.random(x.shape) >= dropout_ratio  # each unit dropped with probability dropout_ratio
    return x * mask, mask


def dropout_backward(dout, mask):
    """The gradient passes only through the units that were kept.   dout, mask: shaped like x."""
    return dout * mask


def sample_log_uniform(low, high, size, rng):
    """`size` values spread evenly on a log scale: log10 of each is uniform on [log10 low, log10 high).

    low, high: 0 < low < high; size: how many values; rng: a np.random.Generator.
    Returns a float array of shape (size,).
    """
    exponents = rng.uniform(np.log10(low), np.log10(high), size)
    return 10**exponents


def narrow(trials, top_k):
    """Coarse-to-fine search's narrowing step: the next range of each hyperparameter spans its best trials.

    trials: a list of (val_acc, values) pairs, values = {name: value}; top_k: how many of the best to keep.
    Returns {name: (low, high)}: the smallest and the largest value among the top_k best trials.
    """
    best = sorted(trials, key=lambda trial: trial[0], reverse=True)[:top_k]  # highest validation accuracy first
    ranges = {}
    for name in best[0][1]:
        chosen = [values[name] for val_acc, values in best]
        ranges[name] = (min(chosen), max(chosen))
    return ranges
