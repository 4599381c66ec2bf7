"""Layers with forward and backward passes, in the style of the book's `common/layers.py`.

Every layer has `forward(x, train=True)` and `backward(dout)`; forward stores what backward needs.
Layers with parameters keep them in `params` and their gradients (after backward) in `grads`,
under the same names. Arrays are (N, D): N samples in a mini-batch, D features.

Speed notes: the seminar trains small nets on a CPU, where each NumPy call costs a microsecond or more
besides its arithmetic, so a few idioms are chosen for speed, each marked where it is used: ReLU compares
against a kept zero array rather than the scalar 0, its mask is 0/1 in the data's dtype (multiplying by
a bool array is slower), BatchNorm takes column sums and means as products with a vector and combines
its per-feature vectors before applying them to the batch, and forward(x, train=False) stores nothing for
backward. Affine and Relu compute exactly the values of the plain formulas. SoftmaxWithLoss takes the softmax
as exp(log_softmax), which agrees with the plain exp(x) / sum(exp(x)) only up to rounding (in the last bits).
The notebooks' printed results come from this exact arithmetic: a change that is equal "up to rounding" can
change their last digits.
"""

import numbers
from functools import lru_cache

import numpy as np

from helpers.checks import check_flag, check_int, check_number, check_seed


@lru_cache(maxsize=32)
def _filled(n, value, dtype):
    vector = np.full(n, value, dtype=dtype)
    vector.flags.writeable = False  # shared between calls: nobody may change it
    return vector


def column_sums(a):
    """a.sum(axis=0) of a 2-D array, computed as the product (1, ..., 1) @ a.

    The same sums up to rounding (BLAS adds in another order), 2-3x faster on (100, 100) arrays."""
    return _filled(len(a), 1, a.dtype) @ a


def column_means(a):
    """a.mean(axis=0) of a 2-D array, as (1/n, ..., 1/n) @ a (see column_sums; ~5x faster than a.mean)."""
    dtype = a.dtype if a.dtype.kind == "f" else np.float64  # integers average to floats, as with a.mean
    return _filled(len(a), 1 / len(a), dtype) @ a


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
        if train:
            self.x = x
        out = x @ self.params["W"]
        out += self.params["b"]  # in place: `x @ W + b` would make a second (N, D_out) array
        return out

    def backward(self, dout):
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T if self.input_grad else None


class Relu:
    """y = max(x, 0); the gradient passes only where x > 0."""

    def __init__(self):
        self.mask = None
        self.zeros = np.zeros(0)

    def _zeros_like(self, x):
        """Zeros shaped like x, from an array kept between calls (made anew only for a bigger or other x).

        np.maximum(x, zeros) is 3-4x faster than np.maximum(x, 0): NumPy's fast loop wants two whole
        arrays; against the scalar 0 it takes a slow path."""
        if x.ndim == 0:
            return x.dtype.type(0)
        zeros = self.zeros
        if zeros.shape[1:] != x.shape[1:] or len(zeros) < len(x) or zeros.dtype != x.dtype:
            self.zeros = zeros = np.zeros(x.shape, dtype=x.dtype)
        return zeros[: len(x)]

    def forward(self, x, train=True):
        out = np.maximum(x, self._zeros_like(x))
        if train:
            # A 0/1 mask in x's dtype: multiplying by it in backward is ~2x faster than by a bool array.
            self.mask = (out > 0).astype(out.dtype)
        return out

    def backward(self, dout):
        return dout * self.mask


class Sigmoid:
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    def __init__(self):
        self.out = None

    def forward(self, x, train=True):
        with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x << 0, and 1/inf = 0 is right
            out = 1 / (1 + np.exp(-x))
        if train:
            self.out = out
        return out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class BatchNorm:
    """Batch normalization of each feature over the mini-batch.   x: (N, D), N >= 2 in train mode.

    Train mode: x_hat = (x - mean) / sqrt(var + eps) with the batch's mean and (biased) variance,
    y = gamma * x_hat + beta, and the running averages move towards the batch statistics:
    running = momentum * running + (1 - momentum) * batch.
    Test mode: the same formula with the running mean and variance (deterministic).
    """

    def __init__(self, dim, momentum=0.9, eps=1e-7, dtype=np.float32):
        dim = check_int("dim", dim, low=1)
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_open=True)
        self.eps = check_number("eps", eps, low=0, low_open=True)
        self.params = {"gamma": np.ones(dim, dtype=dtype), "beta": np.zeros(dim, dtype=dtype)}
        self.grads = {}
        self.running_mean = np.zeros(dim, dtype=dtype)
        self.running_var = np.zeros(dim, dtype=dtype)  # from 0, as the book: see notebook 01's test mode
        self.centered = None
        self.inv_std = None

    def forward(self, x, train=True):
        gamma, beta = self.params["gamma"], self.params["beta"]
        if train:
            if len(x) < 2:
                raise ValueError(
                    f"BatchNorm needs at least 2 samples per training batch, got {len(x)}: the batch variance of "
                    "a single sample is 0, which would corrupt the running variance (use batch_size >= 2)"
                )
            mean = column_means(x)
            centered = x - mean
            var = column_means(centered * centered)
            inv_std = 1 / np.sqrt(var + self.eps)
            m = self.momentum
            self.running_mean = m * self.running_mean + (1 - m) * mean
            self.running_var = m * self.running_var + (1 - m) * var
            # x_hat = centered * inv_std is not formed: y = centered * (gamma * inv_std) + beta, the two vectors
            # multiplied first, saves a pass over the batch; backward works with centered and inv_std.
            self.centered, self.inv_std = centered, inv_std
            out = centered * (gamma * inv_std)
            out += beta  # in place: no second batch-sized array
            return out
        # Test mode, as y = x * scale + (beta - running_mean * scale): again the vectors are combined first,
        # so the batch is passed over twice instead of four times.
        scale = gamma / np.sqrt(self.running_var + self.eps)
        return x * scale + (beta - self.running_mean * scale)

    def backward(self, dout):
        centered, inv_std, n = self.centered, self.inv_std, len(dout)
        dbeta = self.grads["beta"] = column_sums(dout)
        dgamma = self.grads["gamma"] = column_sums(dout * centered) * inv_std
        # The compact closed form of the graph mean -> centre -> var -> normalize, with g = gamma * dout:
        #   dx = (g - mean(g) - x_hat * mean(g * x_hat)) / std
        # As mean(g) = gamma * dbeta / n and mean(g * x_hat) = gamma * dgamma / n, gamma moves to the front;
        # x_hat * v is centered * (v / std), the vectors multiplied first.
        scale = self.params["gamma"] * inv_std
        return scale * (dout - dbeta / n - centered * (inv_std * (dgamma / n)))


def _check_rng_seed(rng):
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError(f"rng must be a np.random.Generator or a seed (an integer >= 0), got {rng!r}")
    return check_seed("rng", rng)


class Dropout:
    """Randomly drop a fraction `ratio` of the units in training.   x: (N, D).

    inverted=False (the seminar's slide and the book): train y = x * mask, test y = x * (1 - ratio).
    inverted=True (what frameworks do): train y = x * mask / (1 - ratio), test y = x.
    Either way the expected training output equals the test output.
    `rng` is a np.random.Generator or a seed (an integer >= 0); the masks come only from it.
    """

    def __init__(self, ratio=0.5, inverted=False, rng=0):
        self.ratio = check_number("ratio", ratio, low=0, high=1, high_open=True)
        self.inverted = check_flag("inverted", inverted)
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(_check_rng_seed(rng))
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
