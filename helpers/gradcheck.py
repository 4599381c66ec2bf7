"""Gradient checks: backprop against numerical gradients by central differences, in float64.

`check_layer_gradients(layer, x)` and `check_net_gradients(net, x, t)` return {name: relative error};
below about 1e-7 means backprop is right. Both work on a copy, so the layer or net itself is left as it was,
and both draw the same dropout mask for every evaluation (a new mask per forward would make every
numerical gradient meaningless).
"""

import contextlib
import copy
import inspect
import numbers
from collections.abc import Mapping

import numpy as np

from helpers.checks import check_int, check_number

# A numerical gradient evaluates the loss twice per parameter entry: the book's 784-50-10 net (39 760 entries)
# takes about 10 s; the default 784-100x5-10 net (119 910) would take a minute or more without a word.
MAX_NET_SIZE = 50_000

FLOAT64_HINT = (
    "build the layer or net in float64, e.g. MultiLayerNet(..., dtype=np.float64) or BatchNorm(dim, dtype=np.float64); "
    "a converted copy such as net.params['W1'].astype(np.float64) is not what the loss reads, so its gradient is 0"
)


def numerical_gradient(f, x, h=1e-5):
    """d f / d x by central differences, changing `x` in place one entry at a time.

    f: a function of no arguments that returns a float and reads `x` (e.g. lambda: net.loss(x, t)).
    x: the float64 array to differentiate by, one that f reads; it is restored afterwards.
    Returns an array shaped like x.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        dtype = x.dtype if isinstance(x, np.ndarray) else type(x).__name__
        raise TypeError(
            f"x must be a float64 array for a gradient check (float32 rounding swamps it), got {dtype}: {FLOAT64_HINT}"
        )
    _check_loss_function(f)
    h = check_number("h", h, low=0, low_open=True)
    first, again = _loss_value(f), _loss_value(f)
    if first != again:
        raise ValueError(
            f"f() returned {first!r} and then {again!r} for the same x: a gradient check needs a deterministic "
            "loss. Dropout draws a new mask on every forward: use check_net_gradients / check_layer_gradients, "
            "which fix the masks"
        )
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        f_plus = f()
        x[index] = original - h
        f_minus = f()
        x[index] = original
        grad[index] = (f_plus - f_minus) / (2 * h)
    return grad


def _check_loss_function(f):
    try:
        inspect.signature(f).bind()
    except TypeError:
        raise TypeError(
            f"f must be a function of no arguments that returns the loss, e.g. lambda: net.loss(x, t), got {f!r}"
        ) from None
    except ValueError:  # a built-in without a signature: let the call show what it needs
        pass


def _loss_value(f):
    """f() as a float; it must be a single number (the loss)."""
    value = f()
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        shape = f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""
        raise TypeError(
            f"f() must return a single number (the loss), got {type(value).__name__}{shape}: "
            "differentiate a loss such as lambda: net.loss(x, t), not the scores of predict"
        )
    return float(value)


def _as_gradient(name, value):
    """`value` as a float64 array; None, a dict or a string is refused with a hint."""
    if value is None:
        hint = " (a backward that returns nothing? The first Affine of a net returns None for dx)"
    elif isinstance(value, Mapping):
        hint = " (compare one parameter at a time: rel_error(grads['W1'], numerical['W1']))"
    elif isinstance(value, (str, bytes)):
        hint = ""
    else:
        return np.asarray(value, dtype=np.float64)
    raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}{hint}")


def rel_error(a, b):
    """max |a - b| / max(|a| + |b|, 1e-8), elementwise, for a and b of the same shape: near 1e-7 or below
    means the gradients agree."""
    a, b = _as_gradient("a", a), _as_gradient("b", b)
    if a.shape != b.shape:
        raise ValueError(f"rel_error compares arrays of the same shape, got {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


@contextlib.contextmanager
def fixed_masks(layers):
    """Inside the block, `reset()` puts every layer's random generator (a Dropout's `rng`) back to the state it
    had on entry, so each forward after a reset draws the same mask. The states are restored on exit."""
    generators = [layer.rng for layer in layers if isinstance(getattr(layer, "rng", None), np.random.Generator)]
    states = [generator.bit_generator.state for generator in generators]

    def reset():
        for generator, state in zip(generators, states, strict=True):
            generator.bit_generator.state = state

    try:
        yield reset
    finally:
        reset()


def _check_float64(what, arrays):
    for name, value in arrays.items():
        if np.asarray(value).dtype != np.float64:
            raise TypeError(
                f"{what} {name} is {np.asarray(value).dtype}, a gradient check needs float64: {FLOAT64_HINT}"
            )


def check_layer_gradients(layer, x, train=True, backward=None, seed=0):
    """Relative errors of a layer's backward against central differences: {"x": ..., "W": ..., ...}.

    The function differentiated is sum(forward(x) * dout) for a random dout (seeded by `seed`; random, not
    ones: ones hide batch-norm bugs). x: the input batch (copied to float64). The layer's params must be
    float64. backward: which backward to check, a method name such as "backward_graph" (default "backward").
    """
    if isinstance(layer, type):
        raise TypeError(f"layer must be a layer object, e.g. {layer.__name__}(...) built with float64, not the class")
    backward = backward or "backward"
    if not callable(getattr(layer, backward, None)):
        methods = [name for name in dir(layer) if name.startswith("backward") and callable(getattr(layer, name))]
        raise ValueError(f"backward must name a method of {type(layer).__name__}: one of {methods}, got {backward!r}")
    layer = copy.deepcopy(layer)
    _check_float64("parameter", getattr(layer, "params", {}))
    x = np.array(x, dtype=np.float64)
    backward = getattr(layer, backward)
    with fixed_masks([layer]) as reset:

        def f():
            reset()
            return float(np.sum(layer.forward(x, train) * dout))

        dout = np.random.default_rng(seed).standard_normal(layer.forward(x, train).shape)
        f()
        errors = {"x": rel_error(backward(dout), numerical_gradient(f, x))}
        analytic = {name: grad.copy() for name, grad in getattr(layer, "grads", {}).items()}
        for name, value in getattr(layer, "params", {}).items():
            errors[name] = rel_error(analytic[name], numerical_gradient(f, value))
    return errors


def check_net_gradients(net, x, t, max_size=MAX_NET_SIZE):
    """Relative errors of `net.gradient(x, t)` against central differences of `net.loss(x, t, train=True)`,
    for every parameter: {"W1": ..., "b1": ..., ...}. The net must be built with dtype=np.float64; every
    layer in `net.layers` that draws random masks (Dropout) draws the same one for every evaluation.
    max_size: the most parameter entries checked (two loss evaluations each); a larger net is refused."""
    size = sum(np.size(value) for value in net.params.values())
    if size > check_int("max_size", max_size, low=1):
        raise ValueError(
            f"net has {size} parameter entries, more than max_size={max_size}: a numerical gradient evaluates the "
            f"loss twice per entry, which would take minutes. Check a small net of the same kind, e.g. "
            "MultiLayerNet(input_size=10, hidden_sizes=(8, 8), output_size=3, dtype=np.float64): backprop is the "
            "same code at any size"
        )
    net = copy.deepcopy(net)
    _check_float64("parameter", net.params)
    with fixed_masks(getattr(net, "layers", [])) as reset:

        def loss():
            reset()
            return net.loss(x, t, train=True)

        reset()
        grads = net.gradient(x, t)
        return {name: rel_error(grads[name], numerical_gradient(loss, value)) for name, value in net.params.items()}
