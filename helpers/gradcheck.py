"""Numerical gradients by central differences, to check backprop (use float64)."""

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    """d f / d x by central differences, changing `x` in place one entry at a time.

    f: a function of no arguments that returns a float and reads `x` (e.g. lambda: net.loss(x, t)).
    x: the float64 array to differentiate by; it is restored afterwards.
    Returns an array shaped like x.
    """
    if x.dtype != np.float64:
        raise TypeError(f"x must be float64 for a gradient check (float32 rounding swamps it), got {x.dtype}")
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


def rel_error(a, b):
    """max |a - b| / max(|a| + |b|, 1e-8), elementwise: near 1e-7 or below means the gradients agree."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))
