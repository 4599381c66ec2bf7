"""A fully connected net of any depth, built from the layers in `helpers.layers`.

Per hidden layer: Affine -> BatchNorm (if on) -> activation -> Dropout (if on); with
batchnorm_position="after": Affine -> activation -> BatchNorm -> Dropout. Then a last Affine and
SoftmaxWithLoss. Parameters are named by layer number, as in the book: W1, b1, gamma1, beta1, ...
The batch-norm and ReLU layers are `helpers.fast.FastBatchNorm` and `FastRelu`: the readable layers' numbers,
computed faster.

Every public method checks its arguments. `check_data(x, t)` is the check on its own: `fit` calls it once per
data set and then passes checked=True to loss_and_gradient and accuracy, which skips their checks (checking
4000 images for NaN every epoch would cost 10 % of the seminar's runs).
"""

import numbers
from collections.abc import Iterable

import numpy as np

from helpers.checks import check_array, check_choice, check_flag, check_int, check_number, check_seed
from helpers.fast import FastBatchNorm, FastRelu
from helpers.layers import Affine, Dropout, Sigmoid, SoftmaxWithLoss

ACTIVATIONS = {"relu": FastRelu, "sigmoid": Sigmoid}
INIT_NAMES = ("he", "xavier")
BATCHNORM_POSITIONS = ("before", "after")
# accuracy() scores this many samples at a time: a chunk's activations stay in the CPU's cache from one
# layer to the next. Measured on 4000 samples: about 2x faster than the whole set at once with batch norm
# (which makes more passes over the activations), a few % without; and memory stays small for any set.
EVAL_CHUNK = 512


def init_scale(weight_init_std, fan_in):
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


def check_hidden_sizes(hidden_sizes):
    """The widths of the hidden layers as a tuple of ints >= 1, e.g. (100, 100); a single int is refused."""
    if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Iterable):
        raise TypeError(
            f"hidden_sizes must be a sequence of layer widths such as (100, 100), or (100,) for one layer, "
            f"got {hidden_sizes!r} ({type(hidden_sizes).__name__})"
        )
    return tuple(check_int("hidden_sizes", size, low=1) for size in hidden_sizes)


def _check_dtype(dtype):
    try:
        checked = np.dtype(dtype) if dtype is not None else None  # np.dtype(None) would silently be float64
    except (TypeError, ValueError):
        checked = None
    if checked not in (np.float32, np.float64):
        raise ValueError(f"dtype must be np.float32 or np.float64, got {dtype!r}")
    return checked


class MultiLayerNet:
    """input_size -> hidden_sizes... -> output_size, trained with softmax cross-entropy.

    hidden_sizes: the width of each hidden layer, e.g. (100, 100); () for none.
    activation: "relu" or "sigmoid".
    weight_init_std: "he", "xavier" or a positive float (the std of every weight matrix).
    use_batchnorm: a BatchNorm layer in every hidden layer.
    batchnorm_position: "before" the activation (the book's order, default) or "after" it. Only used with
        use_batchnorm=True (ignored otherwise, so a loop over both positions may switch batch norm off).
    weight_decay_lambda: lambda of the L2 penalty 1/2 lambda sum(W**2) over every Affine weight.
    dropout_ratio: fraction of hidden units dropped in training (0 = no Dropout layers).
    dropout_inverted: use the framework convention (scale in training) instead of the book's.
    dtype: np.float32 (experiments) or np.float64 (gradient checks).
    seed: an integer >= 0; seeds the initial weights and the dropout masks.
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
        batchnorm_position="before",
    ):
        self.input_size = check_int("input_size", input_size, low=1)
        self.hidden_sizes = check_hidden_sizes(hidden_sizes)
        self.output_size = check_int("output_size", output_size, low=2)
        self.activation = check_choice("activation", activation, tuple(ACTIVATIONS))
        self.weight_init_std = _check_init_std(weight_init_std)
        self.use_batchnorm = check_flag("use_batchnorm", use_batchnorm)
        self.batchnorm_position = check_choice("batchnorm_position", batchnorm_position, BATCHNORM_POSITIONS)
        self.weight_decay_lambda = check_number("weight_decay_lambda", weight_decay_lambda, low=0)
        self.dropout_ratio = check_number("dropout_ratio", dropout_ratio, low=0, high=1, high_open=True)
        dropout_inverted = check_flag("dropout_inverted", dropout_inverted)
        self.dtype = _check_dtype(dtype)
        rng = np.random.default_rng(check_seed("seed", seed))
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
            scale = init_scale(self.weight_init_std, fan_in)
            W = (scale * rng.standard_normal((fan_in, fan_out))).astype(self.dtype)
            b = np.zeros(fan_out, dtype=self.dtype)
            self._add(i, Affine(W, b, input_grad=i > 1))
            if i == n_affine:
                break
            if self.use_batchnorm and self.batchnorm_position == "before":
                self._add(i, FastBatchNorm(fan_out, dtype=self.dtype))
            self.layers.append(ACTIVATIONS[self.activation]())
            if self.use_batchnorm and self.batchnorm_position == "after":
                self._add(i, FastBatchNorm(fan_out, dtype=self.dtype))
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

    def check_input(self, x, name="x"):
        """x as a (N, input_size) array of the net's dtype: numbers, finite, at least one sample; clear errors
        otherwise. Images (N, 28, 28) are flattened. name: the argument's name in the messages."""
        x = check_array(name, x)
        if x.dtype == np.uint8:
            raise ValueError(
                f"{name} holds raw pixel values (dtype uint8, 0 .. 255): scale them to [0, 1] first, with "
                f"load_mnist(normalize=True) or {name} / 255 (unscaled, the first steps overshoot, the loss explodes)"
            )
        if x.ndim < 2:
            raise ValueError(f"{name} must be a batch of samples, shape (N, {self.input_size}), got shape {x.shape}")
        if len(x) == 0:
            raise ValueError(f"{name} is empty: at least one sample is needed")
        if x.ndim > 2:
            x = x.reshape(len(x), -1)
        if x.shape[1] != self.input_size:
            raise ValueError(
                f"{name} has {x.shape[1]} features per sample but the net's input_size is {self.input_size}"
            )
        return np.asarray(x, dtype=self.dtype)

    def check_labels(self, t, n, name="t", x_name="x"):
        """t (labels (N,) or one-hot (N, output_size)) as n integer labels (intp); clear errors otherwise."""
        t = check_array(name, t)
        if t.ndim == 2:
            t = self._one_hot_to_labels(t, name)
        elif t.ndim != 1:
            raise ValueError(f"{name} must be labels (N,) or one-hot (N, {self.output_size}), got shape {t.shape}")
        elif t.dtype.kind == "f" and not np.all(t == np.round(t)):
            raise ValueError(f"{name} holds non-integer labels")
        if len(t) != n:
            raise ValueError(f"{x_name} and {name} must have the same length, got {n} and {len(t)}")
        if t.min() < 0 or t.max() >= self.output_size:
            raise ValueError(f"labels in {name} must be in [0, {self.output_size - 1}], got {t.min()} .. {t.max()}")
        return t.astype(np.intp, copy=False)

    def _one_hot_to_labels(self, t, name):
        if t.shape[1] != self.output_size:
            raise ValueError(f"one-hot {name} has {t.shape[1]} columns, expected output_size={self.output_size}")
        bad = np.flatnonzero(((t != 0) & (t != 1)).any(axis=1) | (t.sum(axis=1) != 1))
        if len(bad):
            raise ValueError(
                f"{name} of shape {t.shape} is read as one-hot labels, which need a single 1 and 0s in every row, "
                f"but {len(bad)} of its {len(t)} rows are not, e.g. row {bad[0]}: {t[bad[0]]}"
            )
        return t.argmax(axis=1)

    def check_data(self, x, t, name=None):
        """(x, labels) as the net computes with them: x (N, input_size) finite numbers of the net's dtype,
        labels (N,) integers in [0, output_size). `fit` checks its data once with this.
        name: the data set's name in error messages: "train" speaks of x_train and t_train; None of x and t."""
        x_name, t_name = ("x", "t") if name is None else (f"x_{name}", f"t_{name}")
        x = self.check_input(x, x_name)
        return x, self.check_labels(t, len(x), t_name, x_name)

    def _check_training_batch(self, x):
        if self.use_batchnorm and len(x) < 2:
            raise ValueError(
                f"batch norm needs at least 2 samples per training batch, got {len(x)}: the batch variance of "
                "a single sample is 0, which would corrupt the running variance (use batch_size >= 2)"
            )

    def predict(self, x, train=False):
        """Class scores, (N, output_size). train=True uses batch statistics and drops units."""
        x = self.check_input(x)
        if check_flag("train", train):
            self._check_training_batch(x)
        return self._forward(x, train)

    def _forward(self, x, train):
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
        x, labels = self.check_data(x, t)
        if check_flag("train", train):
            self._check_training_batch(x)
        return self._loss(x, labels, train)

    def _loss(self, x, labels, train):
        data_loss = self.last_layer.forward(self._forward(x, train), labels)
        return float(data_loss) + self.weight_decay_term()

    def gradient(self, x, t):
        """Gradients of `loss(x, t, train=True)` by backprop: a dict with the keys of `params`."""
        return self.loss_and_gradient(x, t)[1]

    def loss_and_gradient(self, x, t, checked=False):
        """(loss, gradients) from one forward and one backward pass in train mode: the training step.
        checked=True: x and t are (rows of) what check_data returned, so they are not checked again."""
        if not checked:
            x, t = self.check_data(x, t)
        self._check_training_batch(x)
        loss = self._loss(x, t, train=True)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads = {}
        for number, layer in self._param_layers:
            for name, grad in layer.grads.items():
                grads[name + number] = grad
        if self.weight_decay_lambda:
            lam = self.dtype.type(self.weight_decay_lambda)
            for name, W in self.params.items():
                if name.startswith("W"):
                    decay = lam * W
                    decay += grads[name]  # dW + lambda W, with one new array instead of two
                    grads[name] = decay
        return loss, grads

    def accuracy(self, x, t, checked=False):
        """Fraction of samples whose highest score is the label (t: labels or one-hot), a float.
        checked=True: x and t are what check_data returned, so they are not checked again."""
        x, labels = (x, t) if checked else self.check_data(x, t)
        correct = 0
        for start in range(0, len(x), EVAL_CHUNK):
            scores = self._forward(x[start : start + EVAL_CHUNK], train=False)
            correct += np.count_nonzero(scores.argmax(axis=1) == labels[start : start + EVAL_CHUNK])
        return float(correct / len(x))
