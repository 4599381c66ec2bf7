"""Layers with forward and backward passes, in the style of the book's `common/layers.py`.

Every layer has `forward(x, train=True)` and `backward(dout)`; forward stores what backward needs.
Layers with parameters keep them in `params` and their gradients (after backward) in `grads`,
under the same names. Arrays are (N, D): N samples in a mini-batch, D features.
"""

import numpy as np

from helpers.checks import check_number


class Affine:
    """y = x @ W + b.   x: (N, D_in), W: (D_in, D_out), b: (D_out,).

    `input_grad=False` skips dx in backward: the first layer's input gradient is never used.
    """

    def __init__(self, W, b, input_grad=True):
        self.params = {"W": W, "b": b}
        self.grads = {}
        self.input_grad = input_grad
        self.x = None

    def forward(self, x, train=True):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T if self.input_grad else None


class Relu:
    """y = max(x, 0); the gradient passes only where x > 0."""

    def __init__(self):
        self.mask = None

    def forward(self, x, train=True):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class Sigmoid:
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    def __init__(self):
        self.out = None

    def forward(self, x, train=True):
        with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x << 0, and 1/inf = 0 is right
            self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class BatchNorm:
    """Batch normalization of each feature over the mini-batch.   x: (N, D).

    Train mode: x_hat = (x - mean) / sqrt(var + eps) with the batch's mean and (biased) variance,
    y = gamma * x_hat + beta, and the running averages move towards the batch statistics:
    running = momentum * running + (1 - momentum) * batch.
    Test mode: the same formula with the running mean and variance (deterministic).
    """

    def __init__(self, dim, momentum=0.9, eps=1e-7, dtype=np.float32):
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_open=True)
        self.eps = check_number("eps", eps, low=0, low_open=True)
        self.params = {"gamma": np.ones(dim, dtype=dtype), "beta": np.zeros(dim, dtype=dtype)}
        self.grads = {}
        self.running_mean = np.zeros(dim, dtype=dtype)
        self.running_var = np.ones(dim, dtype=dtype)
        self.x_hat = None
        self.std = None

    def forward(self, x, train=True):
        if train:
            mean = x.mean(axis=0)
            centered = x - mean
            var = (centered**2).mean(axis=0)
            self.std = np.sqrt(var + self.eps)
            self.x_hat = centered / self.std
            m = self.momentum
            self.running_mean = m * self.running_mean + (1 - m) * mean
            self.running_var = m * self.running_var + (1 - m) * var
            x_hat = self.x_hat
        else:
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
        return self.params["gamma"] * x_hat + self.params["beta"]

    def backward(self, dout):
        x_hat, std = self.x_hat, self.std
        self.grads["beta"] = dout.sum(axis=0)
        self.grads["gamma"] = (dout * x_hat).sum(axis=0)
        dx_hat = dout * self.params["gamma"]
        # The compact closed form of the graph mean -> centre -> var -> normalize:
        # dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / std
        return (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std


class Dropout:
    """Randomly drop a fraction `ratio` of the units in training.   x: (N, D).

    inverted=False (the seminar's slide and the book): train y = x * mask, test y = x * (1 - ratio).
    inverted=True (what frameworks do): train y = x * mask / (1 - ratio), test y = x.
    Either way the expected training output equals the test output.
    `rng` is a np.random.Generator or a seed; the masks come only from it.
    """

    def __init__(self, ratio=0.5, inverted=False, rng=0):
        self.ratio = check_number("dropout_ratio", ratio, low=0, high=1, high_open=True)
        self.inverted = bool(inverted)
        self.rng = np.random.default_rng(rng)
        self.mask = None

    def forward(self, x, train=True):
        keep = 1 - self.ratio
        if not train:
            return x if self.inverted else x * x.dtype.type(keep)
        # A mask of 0/1 in x's dtype: multiplying by it is cheaper than by a bool array.
        self.mask = (self.rng.random(x.shape, dtype=np.float32) >= self.ratio).astype(x.dtype)
        if self.inverted:
            self.mask /= x.dtype.type(keep)
        return x * self.mask

    def backward(self, dout):
        return dout * self.mask


class SoftmaxWithLoss:
    """Softmax followed by the mean cross-entropy loss.   x: (N, C) scores; t: (N,) labels or (N, C) one-hot."""

    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        shifted = x - x.max(axis=1, keepdims=True)  # exp of a large score would overflow
        log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.y = np.exp(log_y)
        self.t = t.argmax(axis=1) if t.ndim == 2 else t
        n = len(x)
        return -log_y[np.arange(n), self.t].sum() / n

    def backward(self, dout=1.0):
        n = len(self.y)
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx * (dout / n)
