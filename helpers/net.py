"""A fully connected net of any depth, built from the layers in `helpers.layers`.

Per hidden layer: Affine -> BatchNorm (if on) -> activation -> Dropout (if on); then a last Affine
and SoftmaxWithLoss. Parameters are named by layer number, as in the book: W1, b1, gamma1, beta1, ...
"""

import numbers

import numpy as np

from helpers.checks import check_array, check_choice, check_int, check_number
from helpers.layers import Affine, BatchNorm, Dropout, Relu, Sigmoid, SoftmaxWithLoss

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid}
INIT_NAMES = ("he", "xavier")
# accuracy() scores this many samples at a time: a chunk's activations stay in the CPU's cache from one
# layer to the next. Measured on 4000 samples: about 2x faster than the whole set at once with batch norm
# (which makes more passes over the activations), a few % without; and memory stays small for any set.
EVAL_CHUNK = 512


def init_scale(weight_init_std, fan_in, activation):
    """The std of a layer's initial weights: "he" sqrt(2/fan_in), "xavier" sqrt(1/fan_in), or a number."""
    if weight_init_std == "he":
        return np.sqrt(2.0 / fan_in)
    if weight_init_std == "xavier":
        return np.sqrt(1.0 / fan_in)
    return weight_init_std


def _check_init_std(weight_init_std):
    if isinstance(weight_init_std, str):
        return check_choice("weight_init_std", weight_init_std.lower(), INIT_NAMES)
    if isinstance(weight_init_std, bool) or not isinstance(weight_init_std, numbers.Real):
        raise TypeError(f"weight_init_std must be 'he', 'xavier' or a positive number, got {weight_init_std!r}")
    return check_number("weight_init_std", weight_init_std, low=0, low_open=True)


class MultiLayerNet:
    """input_size -> hidden_sizes... -> output_size, trained with softmax cross-entropy.

    weight_init_std: "he", "xavier" or a positive float (the std of every weight matrix).
    weight_decay_lambda: lambda of the L2 penalty 1/2 lambda sum(W**2) over every Affine weight.
    dropout_ratio: fraction of hidden units dropped in training (0 = no Dropout layers).
    dropout_inverted: use the framework convention (scale in training) instead of the book's.
    seed: seeds the initial weights and the dropout masks.
    """

    def __init__(
        self,
        input_size=784,
        hidden_sizes=(100,) * 5,
        output_size=10,
        activation="relu",
        weight_init_std="he",
        use_batchnorm=False,
        weight_decay_lambda=0.0,
        dropout_ratio=0.0,
        dropout_inverted=False,
        dtype=np.float32,
        seed=0,
    ):
        self.input_size = check_int("input_size", input_size, low=1)
        self.hidden_sizes = tuple(check_int("hidden_sizes", h, low=1) for h in hidden_sizes)
        self.output_size = check_int("output_size", output_size, low=2)
        self.activation = check_choice("activation", activation, tuple(ACTIVATIONS))
        self.weight_init_std = _check_init_std(weight_init_std)
        self.use_batchnorm = bool(use_batchnorm)
        self.weight_decay_lambda = check_number("weight_decay_lambda", weight_decay_lambda, low=0)
        self.dropout_ratio = check_number("dropout_ratio", dropout_ratio, low=0, high=1, high_open=True)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        rng = np.random.default_rng(seed)
        self.params = {}
        self.layers = []
        self._build(rng, dropout_inverted)
        self.last_layer = SoftmaxWithLoss()
        self._param_layers = [(str(number), layer) for number, layer in self._named_layers()]  # found once

    def _build(self, rng, dropout_inverted):
        sizes = (self.input_size, *self.hidden_sizes, self.output_size)
        n_affine = len(sizes) - 1
        for i in range(1, n_affine + 1):
            fan_in, fan_out = sizes[i - 1], sizes[i]
            scale = init_scale(self.weight_init_std, fan_in, self.activation)
            W = (scale * rng.standard_normal((fan_in, fan_out))).astype(self.dtype)
            b = np.zeros(fan_out, dtype=self.dtype)
            self._add(i, Affine(W, b, input_grad=i > 1))
            if i == n_affine:
                break
            if self.use_batchnorm:
                self._add(i, BatchNorm(fan_out, dtype=self.dtype))
            self.layers.append(ACTIVATIONS[self.activation]())
            if self.dropout_ratio > 0:
                self.layers.append(Dropout(self.dropout_ratio, inverted=dropout_inverted, rng=rng.spawn(1)[0]))

    def _add(self, number, layer):
        """Append a layer and expose its parameters as W1, b1, gamma1, ... (the same arrays, not copies)."""
        self.layers.append(layer)
        for name, value in layer.params.items():
            self.params[f"{name}{number}"] = value

    def _named_layers(self):
        """(number, layer) for every layer that has parameters."""
        number = 0
        for layer in self.layers:
            if isinstance(layer, Affine):
                number += 1
            if hasattr(layer, "params"):
                yield number, layer

    def _as_input(self, x):
        """x as a (N, input_size) array of the net's dtype; clear errors otherwise."""
        x = check_array("x", x)
        if x.ndim < 2:
            raise ValueError(f"x must be a batch of samples, shape (N, {self.input_size}), got shape {x.shape}")
        x = x.reshape(len(x), -1)
        if x.shape[1] != self.input_size:
            raise ValueError(f"x has {x.shape[1]} features per sample but the net's input_size is {self.input_size}")
        return np.asarray(x, dtype=self.dtype)

    def _as_labels(self, t, n):
        t = check_array("t", t)
        if t.ndim == 2:
            if t.shape[1] != self.output_size:
                raise ValueError(f"one-hot t has {t.shape[1]} columns, expected output_size={self.output_size}")
            t = t.argmax(axis=1)
        elif t.ndim != 1:
            raise ValueError(f"t must be labels (N,) or one-hot (N, {self.output_size}), got shape {t.shape}")
        elif t.dtype.kind == "f" and not np.all(t == np.round(t)):
            raise ValueError("t holds non-integer labels")
        if len(t) != n:
            raise ValueError(f"x and t must have the same length, got {n} and {len(t)}")
        if t.min() < 0 or t.max() >= self.output_size:
            raise ValueError(f"labels in t must be in [0, {self.output_size - 1}], got {t.min()} .. {t.max()}")
        return t.astype(np.intp, copy=False)

    def predict(self, x, train=False):
        """Class scores, (N, output_size). train=True uses batch statistics and drops units."""
        return self._forward(self._as_input(x), train)

    def _forward(self, x, train):
        """predict without the input checks, for arrays already checked."""
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def weight_decay_term(self):
        """1/2 lambda sum over Affine weights of sum(W**2); 0 when lambda is 0."""
        if self.weight_decay_lambda == 0:
            return 0.0
        total = sum(float(np.vdot(W, W)) for name, W in self.params.items() if name.startswith("W"))
        return 0.5 * self.weight_decay_lambda * total

    def loss(self, x, t, train=True):
        """Mean cross-entropy over the batch plus the weight-decay penalty (a float)."""
        scores = self.predict(x, train)
        data_loss = self.last_layer.forward(scores, self._as_labels(t, len(scores)))
        return float(data_loss) + self.weight_decay_term()

    def gradient(self, x, t):
        """Gradients of `loss(x, t, train=True)` by backprop: a dict with the keys of `params`."""
        return self.loss_and_gradient(x, t)[1]

    def loss_and_gradient(self, x, t):
        """(loss, gradients) from one forward and one backward pass in train mode."""
        loss = self.loss(x, t, train=True)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for number, layer in self._param_layers:
            for name, grad in layer.grads.items():
                grads[name + number] = grad
        if self.weight_decay_lambda:
            for name, W in self.params.items():
                if name.startswith("W"):
                    grads[name] = grads[name] + self.dtype.type(self.weight_decay_lambda) * W
        return loss, grads

    def accuracy(self, x, t):
        """Fraction of samples whose highest score is the label (t: labels or one-hot)."""
        x = self._as_input(x)
        labels = self._as_labels(t, len(x))
        correct = 0
        for start in range(0, len(x), EVAL_CHUNK):
            scores = self._forward(x[start : start + EVAL_CHUNK], train=False)
            correct += np.count_nonzero(scores.argmax(axis=1) == labels[start : start + EVAL_CHUNK])
        return correct / len(x)
