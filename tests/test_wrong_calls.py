"""Wrong calls a student makes from a notebook cell, on the net and the optimizers: each raises an error that
names the argument, the bad value and what is allowed, instead of a silent wrong result or a NumPy traceback."""

import numpy as np
import pytest

from helpers.net import MultiLayerNet
from helpers.optim import OPTIMIZERS


@pytest.fixture
def net():
    return MultiLayerNet(input_size=6, hidden_sizes=(5,), output_size=3, seed=0)


def batch(n=4):
    return np.random.default_rng(0).random((n, 6)).astype(np.float32), np.arange(n) % 3


@pytest.mark.parametrize("call", ["predict", "loss"])
def test_a_train_flag_that_is_not_a_bool_is_refused_not_read_as_true(net, call):
    # "False" is a non-empty string: read as a truth value, it would silently train-mode the forward pass
    x, t = batch()
    args = (x,) if call == "predict" else (x, t)
    with pytest.raises(TypeError, match=r"train must be True or False, got 'False' \(str\)"):
        getattr(net, call)(*args, train="False")


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize(
    ("grads_of", "error", "match"),
    [
        (lambda net, grads: net.gradient, TypeError, r"grads must be a dict \{name: array\}.*got method"),
        (lambda net, grads: {"dW1": grads["W1"]}, ValueError, r"grads\['dW1'\] has no parameter of that name"),
        (
            lambda net, grads: {**grads, "b1": np.zeros((4, 5), np.float32)},
            ValueError,
            r"grads\['b1'\] has shape \(4, 5\), but params\['b1'\] has shape \(5,\)",
        ),
    ],
    ids=["not-called", "unknown-name", "not-summed-over-the-batch"],
)
def test_an_update_with_grads_that_do_not_match_the_params_names_the_gradient(net, name, grads_of, error, match):
    before = {key: value.copy() for key, value in net.params.items()}
    grads = grads_of(net, net.gradient(*batch()))
    with pytest.raises(error, match=match):
        OPTIMIZERS[name]().update(net.params, grads)
    for key, value in net.params.items():
        np.testing.assert_array_equal(value, before[key])  # refused before any parameter changed


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_an_update_with_one_array_instead_of_the_dicts_says_to_pass_the_dicts(net, name):
    grads = net.gradient(*batch())
    with pytest.raises(TypeError, match=r"params must be a dict \{name: array\}.*got ndarray"):
        OPTIMIZERS[name]().update(net.params["W1"], grads["W1"])
