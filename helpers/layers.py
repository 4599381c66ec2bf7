"""Layers with forward and backward passes, in the style of the book's `common/layers.py`.

Every layer has `forward(x, train=True)` and `backward(dout)`; forward stores what backward needs.
Layers with parameters keep them in `params` and their gradients (after backward) in `grads`,
under the same names. Arrays are (N, D): N samples in a mini-batch, D features.

A forward in test mode (train=False) stores nothing and forgets what an earlier training forward stored,
so a backward after it raises instead of returning the gradient of an older batch.
A layer used on its own checks the shapes it is given (a wrong one raises a ValueError that names the layer and
both shapes); the values are checked where a user gives them (the constructors, `MultiLayerNet`, `fit`).
"""

import numbers

import numpy as np

from helpers.checks import check_flag, check_int, check_number, check_seed


def check_training_forward(layer, *stored):
    """Raise if `stored` (what forward keeps for backward) is missing: no forward(x, train=True) came before."""
    if any(value is None for value in stored):
        name = type(layer).__name__
        raise RuntimeError(
            f"{name}.backward needs a forward(x, train=True) before it: the last forward was in test mode "
            "(train=False), which keeps nothing for backward, or there was none"
        )


def check_shape(layer, name, array, shape):
    """`array` must have `shape`: sizes (ints) and names of sizes that may be anything, such as "N"."""
    got = np.shape(array)
    sizes_fit = all(isinstance(want, str) or want == size for want, size in zip(shape, got, strict=False))
    if len(got) != len(shape) or not sizes_fit:
        wanted = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{type(layer).__name__}: {name} must have shape {wanted}, got shape {got}")


def check_features(layer, x, n_features):
    """x must be a batch (N, n_features). (A plain condition: it runs in every forward of every step.)"""
    if x.ndim != 2 or x.shape[1] != n_features:
        raise ValueError(f"{type(layer).__name__}: x must have shape (N, {n_features}), got shape {x.shape}")


def check_batch_of_two(x):
    """A training batch for batch norm holds at least 2 samples: the variance of one is 0."""
    if len(x) < 2:
        raise ValueError(
            f"BatchNorm needs at least 2 samples in a training batch, got {len(x)}: the variance of one sample "
            "is 0, so x_hat would be 0 and the running variance wrong"
        )


def check_dout(layer, dout, out_shape):
    """backward's dout must have the shape of the forward's output."""
    if np.shape(dout) != out_shape:
        raise ValueError(
            f"{type(layer).__name__}: dout (the gradient of the forward's output) must have shape {out_shape}, "
            f"got shape {np.shape(dout)}"
        )


class Affine:
    """y = x @ W + b.   x: (N, D_in), W: (D_in, D_out), b: (D_out,).

    `input_grad=False` skips dx in backward: the first layer's input gradient is never used.
    """

    def __init__(self, W, b, input_grad=True):
        check_shape(self, "W", W, ("D_in", "D_out"))
        check_shape(self, "b", b, (np.shape(W)[1],))
        self.params = {"W": W, "b": b}
        self.grads = {}
        self.input_grad = check_flag("input_grad", input_grad)
        self.x = None

    def forward(self, x, train=True):
        x = np.asarray(x)  # a list of rows works too
        check_features(self, x, self.params["W"].shape[0])
        self.x = x if train else None
        out = x @ self.params["W"]
        out += self.params["b"]  # in place: `x @ W + b` would make a second (N, D_out) array
        return out

    def backward(self, dout):
        check_training_forward(self, self.x)
        check_dout(self, dout, (len(self.x), self.params["W"].shape[1]))
        self.grads["W"] = self.x.T @ dout
        self.grads["b"] = dout.sum(axis=0)
        return dout @ self.params["W"].T if self.input_grad else None


class Relu:
    """y = max(0, x); the gradient passes only where x > 0."""

    def __init__(self):
        self.mask = None

    def forward(self, x, train=True):
        x = np.asarray(x)  # a list of rows works too
        self.mask = x > 0 if train else None
        return np.maximum(0, x)

    def backward(self, dout):
        check_training_forward(self, self.mask)
        check_dout(self, dout, self.mask.shape)
        return dout * self.mask


class Sigmoid:
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    def __init__(self):
        self.out = None

    def forward(self, x, train=True):
        x = np.asarray(x)  # a list of rows works too
        with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x << 0, and 1/inf = 0 is right
            out = 1 / (1 + np.exp(-x))
        self.out = out if train else None
        return out

    def backward(self, dout):
        check_training_forward(self, self.out)
        check_dout(self, dout, self.out.shape)
        return dout * self.out * (1 - self.out)


class BatchNorm:
    """Batch normalization of each feature over the mini-batch.   x: (N, D), N >= 2 in train mode.

    Train mode, as on the slide, per feature over the batch's m = N samples:
        mu = mean(x),  var = mean((x - mu)**2),  x_hat = (x - mu) / sqrt(var + eps),  y = gamma * x_hat + beta,
    and the running averages move towards the batch's: running = momentum * running + (1 - momentum) * batch.
    Test mode: the same x_hat with the running mean and variance instead (deterministic).
    The running variance starts at 0, as in the book.
    """

    def __init__(self, dim, momentum=0.9, eps=1e-7, dtype=np.float32):
        dim = check_int("dim", dim, low=1)
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_open=True)
        self.eps = check_number("eps", eps, low=0, low_open=True)
        self.params = {"gamma": np.ones(dim, dtype=dtype), "beta": np.zeros(dim, dtype=dtype)}
        self.grads = {}
        self.running_mean = np.zeros(dim, dtype=dtype)
        self.running_var = np.zeros(dim, dtype=dtype)
        self.x_centered = None
        self.std = None
        self.x_hat = None

    def forward(self, x, train=True):
        x = np.asarray(x)  # a list of rows works too
        gamma, beta = self.params["gamma"], self.params["beta"]
        check_features(self, x, len(gamma))
        if not train:
            self.x_centered = self.std = self.x_hat = None
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            return gamma * x_hat + beta

        check_batch_of_two(x)
        mu = x.mean(axis=0)  # μ_B
        x_centered = x - mu
        var = (x_centered**2).mean(axis=0)  # σ²_B
        std = np.sqrt(var + self.eps)
        x_hat = x_centered / std  # x̂

        self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
        self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        self.x_centered, self.std, self.x_hat = x_centered, std, x_hat
        return gamma * x_hat + beta

    def backward(self, dout):
        """The closed form: what the node-by-node pass of `backward_graph` adds up to."""
        check_training_forward(self, self.x_hat)
        check_dout(self, dout, self.x_hat.shape)
        n = len(dout)
        dbeta = self.grads["beta"] = dout.sum(axis=0)
        dgamma = self.grads["gamma"] = (dout * self.x_hat).sum(axis=0)
        return (self.params["gamma"] / self.std) * (dout - dbeta / n - self.x_hat * (dgamma / n))

    def backward_graph(self, dout):
        """The same gradients, node by node backwards through forward's computational graph (the book's way)."""
        check_training_forward(self, self.x_hat)
        check_dout(self, dout, self.x_hat.shape)
        n = len(dout)
        self.grads["beta"] = dout.sum(axis=0)  # y = gamma * x_hat + beta
        self.grads["gamma"] = (dout * self.x_hat).sum(axis=0)
        dx_hat = dout * self.params["gamma"]
        dx_centered = dx_hat / self.std  # x_hat = x_centered / std
        dstd = -(dx_hat * self.x_centered / self.std**2).sum(axis=0)
        dvar = 0.5 * dstd / self.std  # std = sqrt(var + eps)
        dx_centered += (2 / n) * self.x_centered * dvar  # var = mean(x_centered**2)
        dmu = dx_centered.sum(axis=0)  # x_centered = x - mu
        return dx_centered - dmu / n  # mu = mean(x)


def _check_rng_seed(rng):
    if isinstance(rng, bool) or not isinstance(rng, numbers.Integral):
        raise TypeError(f"rng must be a np.random.Generator or a seed (an integer >= 0), got {rng!r}")
    return check_seed("rng", rng)


class Dropout:
    """Randomly drop the fraction `dropout_ratio` of the units in training.   x: (N, D).

    inverted=False (the seminar's slide and the book): train y = x * mask, test y = x * (1 - dropout_ratio).
    inverted=True (what frameworks do): train y = x * mask / (1 - dropout_ratio), test y = x.
    Either way the expected training output equals the test output.
    `rng` is a np.random.Generator or a seed (an integer >= 0); the masks come only from it.
    """

    def __init__(self, dropout_ratio=0.5, inverted=False, rng=0):
        self.dropout_ratio = check_number("dropout_ratio", dropout_ratio, low=0, high=1, high_open=True)
        self.inverted = check_flag("inverted", inverted)
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(_check_rng_seed(rng))
        self.mask = None

    def forward(self, x, train=True):
        x = np.asarray(x)  # a list of rows works too
        if train:
            # training: drop each unit with probability dropout_ratio (mask False), in forward and in backward
            self.mask = self.rng.random(x.shape, dtype=np.float32) >= self.dropout_ratio
            return x * self.mask / (1 - self.dropout_ratio) if self.inverted else x * self.mask
        # test: every unit passes, times the fraction kept in training (the inverted form scaled in training)
        self.mask = None
        return x if self.inverted else x * (1 - self.dropout_ratio)

    def backward(self, dout):
        check_training_forward(self, self.mask)
        check_dout(self, dout, self.mask.shape)
        return dout * self.mask / (1 - self.dropout_ratio) if self.inverted else dout * self.mask


class SoftmaxWithLoss:
    """Softmax followed by the mean cross-entropy loss.   x: (N, C) scores; t: (N,) labels or (N, C) one-hot.

    The loss takes log(softmax) as x - max - log(sum(exp(x - max))): it stays finite for large scores, where
    exp(x) would overflow and log(0) would be -inf.
    """

    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        x = np.asarray(x)  # a list of rows works too
        check_shape(self, "x", x, ("N", "C"))
        t = self._labels(t, x.shape)
        shifted = x - x.max(axis=1, keepdims=True)
        log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.y = np.exp(log_y)
        self.t = t
        n = len(x)
        return -log_y[np.arange(n), self.t].sum() / n

    def _labels(self, t, shape):
        """t as (N,) integer labels in [0, C): a one-hot (N, C) t becomes its argmax."""
        t = np.asarray(t)
        if t.ndim == 2:
            check_shape(self, "one-hot t", t, shape)
            t = t.argmax(axis=1)
        check_shape(self, "t (one label per row of x)", t, shape[:1])
        if t.dtype.kind not in "iu":
            raise ValueError(f"SoftmaxWithLoss: t must hold integer labels, got dtype {t.dtype}")
        if len(t) and (t.min() < 0 or t.max() >= shape[1]):
            raise ValueError(f"SoftmaxWithLoss: labels in t must be in [0, {shape[1] - 1}], got {t.min()} .. {t.max()}")
        return t

    def backward(self, dout=1.0):
        check_training_forward(self, self.y)
        n = len(self.y)
        dx = self.y.copy()
        dx[np.arange(n), self.t] -= 1
        return dx * (dout / n)
