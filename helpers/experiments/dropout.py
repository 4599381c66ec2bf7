"""Notebook 03: dropout's mechanics on small arrays, and its test-time rule measured against an ensemble."""

from dataclasses import dataclass

import numpy as np

from helpers.checks import check_int
from helpers.layers import Dropout


def dropout_demo(dropout_ratio=0.5, shape=(4, 6), seed=0, inverted=False):
    """Dropout on a small array of ones: (train output, mask, test output), for the mechanics section."""
    layer = Dropout(dropout_ratio, inverted=inverted, rng=seed)
    x = np.ones(shape, dtype=np.float32)
    train_out = layer.forward(x, train=True)
    return train_out, layer.mask.astype(x.dtype), layer.forward(x, train=False)


@dataclass
class MaskEnsemble:
    """A dropout net's test accuracy three ways.

    weight_scaling: test mode, the rule the slide gives: every unit on, its output x (1 - dropout_ratio).
    single_masks: the accuracy of each thinned net alone (one random mask per layer, as in one training step).
    averaged: {K: accuracy of the average of the first K thinned nets' softmax outputs}, the ensemble.
    """

    weight_scaling: float
    single_masks: list
    averaged: dict


def softmax(scores):
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def mask_ensemble(net, x, t, n_masks=(1, 10, 50)):
    """Score a trained dropout net on (x, t) in test mode and as an ensemble of max(n_masks) thinned nets.

    x: (N, 784) inputs, t: (N,) labels. The masks come from the net's own Dropout generators (seeded by the
    net's seed), so a fresh run gives the same ones. Returns a MaskEnsemble.
    """
    counts = sorted({check_int("n_masks", k, low=1) for k in n_masks})
    t = np.asarray(t)
    weight_scaling = float(np.mean(net.predict(x).argmax(axis=1) == t))
    probability_sum, single, averaged = 0.0, [], {}
    for k in range(1, counts[-1] + 1):
        probabilities = softmax(net.predict(x, train=True))
        single.append(float(np.mean(probabilities.argmax(axis=1) == t)))
        probability_sum = probability_sum + probabilities
        if k in counts:
            averaged[k] = float(np.mean(probability_sum.argmax(axis=1) == t))
    return MaskEnsemble(weight_scaling, single, averaged)
