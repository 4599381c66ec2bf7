"""Optimizers: each minimizes a simple bowl, updates in place, and checks its arguments."""

import numpy as np
import pytest

from helpers.optim import OPTIMIZERS, SGD, Adam, Momentum


@pytest.mark.parametrize(
    ("name", "lr"), [("sgd", 0.1), ("momentum", 0.1), ("adagrad", 1.0), ("rmsprop", 0.1), ("adam", 0.1)]
)
def test_optimizer_minimizes_a_quadratic_bowl_in_place(name, lr):
    params = {"w": np.array([3.0, -2.0], dtype=np.float32)}
    w = params["w"]
    optimizer = OPTIMIZERS[name](lr=lr)
    for _ in range(500):
        optimizer.update(params, {"w": 2 * params["w"] * [1.0, 5.0]})  # f = x^2 + 5 y^2
    assert params["w"] is w
    assert params["w"].dtype == np.float32
    np.testing.assert_allclose(params["w"], 0, atol=0.05)


def test_sgd_step_is_lr_times_gradient():
    params = {"w": np.array([1.0, 2.0])}
    SGD(lr=0.5).update(params, {"w": np.array([2.0, -2.0])})
    np.testing.assert_allclose(params["w"], [0.0, 3.0])


def test_momentum_keeps_velocity_between_steps():
    params = {"w": np.array([0.0])}
    opt = Momentum(lr=1.0, momentum=0.5)
    opt.update(params, {"w": np.array([1.0])})
    opt.update(params, {"w": np.array([1.0])})
    np.testing.assert_allclose(params["w"], [-1.0 - 1.5])


def test_adam_first_step_has_size_lr():
    params = {"w": np.array([0.0, 0.0])}
    Adam(lr=0.01).update(params, {"w": np.array([5.0, -0.1])})
    np.testing.assert_allclose(params["w"], [-0.01, 0.01], rtol=1e-4)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_checks_its_lr(name):  # the check itself is tested in test_checks.py
    with pytest.raises(ValueError, match=r"^lr must be in \(0, 3.40282e\+38\], got 0.0"):
        OPTIMIZERS[name](lr=0)


def test_an_lr_beyond_the_float32_range_is_refused():
    with pytest.raises(ValueError, match=r"^lr must be in \(0, 3.40282e\+38\], got 1e\+39"):
        SGD(lr=1e39)


@pytest.mark.parametrize(
    ("name", "kwargs", "words"),
    [
        ("momentum", {"momentum": 1.0}, r"^momentum must be in \[0, 1\)"),
        ("adagrad", {"eps": 0}, r"^eps must be in \(0, inf\]"),
        ("rmsprop", {"decay_rate": -0.1}, r"^decay_rate must be in \[0, 1\)"),
        ("adam", {"beta1": 1.0}, r"^beta1 must be in \[0, 1\)"),
        ("adam", {"beta2": 1.5}, r"^beta2 must be in \[0, 1\)"),
    ],
)
def test_each_optimizer_setting_is_checked(name, kwargs, words):
    with pytest.raises(ValueError, match=words):
        OPTIMIZERS[name](lr=0.1, **kwargs)


@pytest.mark.parametrize("name", ["momentum", "adagrad", "rmsprop", "adam"])
def test_an_optimizer_with_state_refuses_a_second_nets_params(name):
    optimizer = OPTIMIZERS[name](lr=0.1)
    first, second = {"w": np.array([1.0, 2.0])}, {"w": np.array([1.0, 2.0])}  # same names and shapes
    optimizer.update(first, {"w": np.array([1.0, 1.0])})
    optimizer.update(first, {"w": np.array([1.0, 1.0])})  # the same net again is fine
    with pytest.raises(ValueError, match="another net's parameters: make a new optimizer per net"):
        optimizer.update(second, {"w": np.array([1.0, 1.0])})
    np.testing.assert_array_equal(second["w"], [1.0, 2.0])  # untouched
