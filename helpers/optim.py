"""Update rules. Each optimizer has `update(params, grads)`, which changes the arrays in `params` in place
(the net's layers hold the same arrays, so they see the new values).

Momentum, AdaGrad, RMSprop and Adam keep state between steps (velocities, sums of squared gradients) for one
net's parameters: make a new optimizer for every net you train."""

from collections.abc import Mapping

import numpy as np

from helpers.checks import check_number

LR_MAX = float(np.finfo(np.float32).max)  # a larger lr is inf in float32: every step would make the weights inf


def _check_lr(lr):
    return check_number("lr", lr, low=0, low_open=True, high=LR_MAX)


def check_grads(params, grads):
    """params and grads: dicts {name: array}; every gradient has a parameter of the same name and shape."""
    for name, value in (("params", params), ("grads", grads)):
        if not isinstance(value, Mapping):
            raise TypeError(
                f"{name} must be a dict {{name: array}}, e.g. update(net.params, net.gradient(x, t)), "
                f"got {type(value).__name__}"
            )
    for key, grad in grads.items():
        if key not in params:
            raise ValueError(f"grads[{key!r}] has no parameter of that name: params has {sorted(params)}")
        if getattr(grad, "shape", None) != getattr(params[key], "shape", ()):
            raise ValueError(
                f"grads[{key!r}] has shape {np.shape(grad)}, but params[{key!r}] has shape {np.shape(params[key])}: "
                "a gradient has the shape of its parameter"
            )


class SGD:
    """W <- W - lr * dW."""

    def __init__(self, lr=0.01):
        self.lr = _check_lr(lr)

    def update(self, params, grads):
        check_grads(params, grads)
        lr = {}  # lr in each parameter dtype, converted once per dtype rather than once per array
        for key, grad in grads.items():
            param = params[key]
            dtype = param.dtype
            if dtype not in lr:
                lr[dtype] = dtype.type(self.lr)
            param -= lr[dtype] * grad


class _StatefulOptimizer:
    """An optimizer whose state belongs to the first `params` dict it updates (one net's parameters).

    Its state is kept by parameter name (W1, b1, ...), so updating another net's params with it would carry
    this net's velocities over to that net, or fail on other shapes: update() refuses another dict."""

    owner = None  # the params dict the state belongs to

    def _check_owner(self, params, grads):
        check_grads(params, grads)
        if self.owner is None:
            self.owner = params
        elif params is not self.owner:
            raise ValueError(
                f"this {type(self).__name__} already holds the state of another net's parameters: "
                "make a new optimizer per net"
            )


class Momentum(_StatefulOptimizer):
    """v <- momentum * v - lr * dW;  W <- W + v."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = _check_lr(lr)
        self.momentum = check_number("momentum", momentum, low=0, high=1, high_open=True)
        self.v = {}

    def update(self, params, grads):
        self._check_owner(params, grads)
        for key, grad in grads.items():
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            v *= self.momentum
            v -= self.lr * grad
            params[key] += v


class AdaGrad(_StatefulOptimizer):
    """h <- h + dW**2;  W <- W - lr * dW / (sqrt(h) + eps): big past steps shrink the step."""

    def __init__(self, lr=0.01, eps=1e-7):
        self.lr = _check_lr(lr)
        self.eps = check_number("eps", eps, low=0, low_open=True)
        self.h = {}

    def update(self, params, grads):
        self._check_owner(params, grads)
        for key, grad in grads.items():
            h = self.h.setdefault(key, np.zeros_like(params[key]))
            h += grad * grad
            params[key] -= self.lr * grad / (np.sqrt(h) + self.eps)


class RMSprop(_StatefulOptimizer):
    """Like AdaGrad, but h forgets old gradients: h <- decay * h + (1 - decay) * dW**2."""

    def __init__(self, lr=0.01, decay_rate=0.99, eps=1e-7):
        self.lr = _check_lr(lr)
        self.decay_rate = check_number("decay_rate", decay_rate, low=0, high=1, high_open=True)
        self.eps = check_number("eps", eps, low=0, low_open=True)
        self.h = {}

    def update(self, params, grads):
        self._check_owner(params, grads)
        for key, grad in grads.items():
            h = self.h.setdefault(key, np.zeros_like(params[key]))
            h *= self.decay_rate
            h += (1 - self.decay_rate) * grad * grad
            params[key] -= self.lr * grad / (np.sqrt(h) + self.eps)


class Adam(_StatefulOptimizer):
    """Momentum and RMSprop together, with bias correction of both running averages."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7):
        self.lr = _check_lr(lr)
        self.beta1 = check_number("beta1", beta1, low=0, high=1, high_open=True)
        self.beta2 = check_number("beta2", beta2, low=0, high=1, high_open=True)
        self.eps = check_number("eps", eps, low=0, low_open=True)
        self.step = 0
        self.m = {}
        self.v = {}

    def update(self, params, grads):
        self._check_owner(params, grads)
        self.step += 1
        lr_t = self.lr * (1 - self.beta2**self.step) ** 0.5 / (1 - self.beta1**self.step)
        for key, grad in grads.items():
            m = self.m.setdefault(key, np.zeros_like(params[key]))
            v = self.v.setdefault(key, np.zeros_like(params[key]))
            m += (1 - self.beta1) * (grad - m)
            v += (1 - self.beta2) * (grad * grad - v)
            params[key] -= lr_t * m / (np.sqrt(v) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam}
