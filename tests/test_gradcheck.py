"""The gradient-check harness: it finds wrong gradients, and it cannot make right ones look wrong."""

import numpy as np
import pytest

from helpers.gradcheck import check_layer_gradients, check_net_gradients, numerical_gradient, rel_error
from helpers.layers import BatchNorm, Dropout, Relu
from helpers.net import MultiLayerNet


def test_numerical_gradient_of_a_quadratic_is_its_derivative_and_x_is_restored():
    x = np.array([1.0, -2.0, 0.5])
    before = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(x**2 * [1, 2, 3])), x)
    np.testing.assert_allclose(grad, 2 * before * [1, 2, 3], rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_refuses_float32_and_says_to_build_the_net_in_float64():
    with pytest.raises(TypeError, match=r"got float32: build the layer or net in float64, e.g. MultiLayerNet\(\.\.\., "
                       r"dtype=np.float64\).*astype\(np.float64\) is not what the loss reads"):  # fmt: skip
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))


def test_numerical_gradient_refuses_a_loss_that_changes_between_calls():
    noise = np.random.default_rng(0)
    with pytest.raises(ValueError, match="for the same x: a gradient check needs a deterministic loss. Dropout"):
        numerical_gradient(lambda: float(noise.random()), np.zeros(3))


def test_rel_error_is_zero_for_equal_arrays_and_large_for_different_ones():
    a = np.array([1.0, 2.0, 3.0])
    assert rel_error(a, a) == 0
    assert rel_error(a, -a) == 1.0
    assert rel_error(a, a * (1 + 1e-9)) < 1e-9


def test_rel_error_refuses_arrays_of_different_shapes_instead_of_broadcasting():
    a = np.arange(3.0)
    with pytest.raises(ValueError, match=r"^rel_error compares arrays of the same shape, got \(3, 1\) and \(3,\)$"):
        rel_error(a.reshape(-1, 1), a)


def test_check_layer_gradients_finds_a_wrong_backward(rng):
    class DoubledRelu(Relu):
        def backward(self, dout):
            return 2 * super().backward(dout)

    assert check_layer_gradients(DoubledRelu(), rng.standard_normal((4, 5)) + 3)["x"] > 0.1


def test_check_layer_gradients_leaves_the_layer_as_it_was(rng):
    layer = BatchNorm(3, dtype=np.float64)
    gamma = layer.params["gamma"]
    check_layer_gradients(layer, rng.standard_normal((6, 3)))
    assert layer.x_hat is None and not layer.grads
    assert layer.params["gamma"] is gamma
    np.testing.assert_array_equal(layer.running_mean, 0)


def test_check_layer_gradients_refuses_float32_parameters(rng):
    with pytest.raises(TypeError, match=r"^parameter gamma is float32, a gradient check needs float64"):
        check_layer_gradients(BatchNorm(3), rng.standard_normal((6, 3)))


def small_net(**kwargs):
    return MultiLayerNet(input_size=8, hidden_sizes=(6, 5), output_size=4, dtype=np.float64, seed=3, **kwargs)


def test_a_net_with_dropout_passes_the_check_as_its_masks_are_fixed_and_its_rng_is_left_as_it_was(rng):
    net = small_net(dropout_ratio=0.5)
    for name in ("b1", "b2"):
        # Not 0: a sample whose units are all dropped would reach the next ReLU at exactly 0, its kink.
        net.params[name][:] = rng.uniform(0.1, 0.5, net.params[name].shape)
    x, t = rng.standard_normal((7, 8)), rng.integers(0, 4, size=7)
    dropout = next(layer for layer in net.layers if isinstance(layer, Dropout))
    state = dropout.rng.bit_generator.state
    errors = check_net_gradients(net, x, t)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < 1e-6, errors
    assert dropout.rng.bit_generator.state == state


def test_check_net_gradients_refuses_a_float32_net_naming_the_dtype_setting(rng):
    net = MultiLayerNet(input_size=8, hidden_sizes=(6,), output_size=4)
    with pytest.raises(TypeError, match=r"parameter W1 is float32.*MultiLayerNet\(\.\.\., dtype=np.float64\)"):
        check_net_gradients(net, rng.standard_normal((7, 8)), rng.integers(0, 4, size=7))


# --- Wrong calls: named at once, not a NumPy error from inside the loop -------------------------------------------


def eight_features(n=4):
    return np.random.default_rng(0).standard_normal((n, 8)), np.arange(n) % 4


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda net, x, t: numerical_gradient(net.loss, net.params["W1"]),
            TypeError,
            r"f must be a function of no arguments .* lambda: net.loss\(x, t\)",
        ),
        (
            lambda net, x, t: numerical_gradient(lambda: net.predict(x), net.params["W1"]),
            TypeError,
            r"f\(\) must return a single number \(the loss\), got ndarray of shape \(4, 4\)",
        ),
        (
            lambda net, x, t: numerical_gradient(lambda: net.loss(x, t), net.params["W1"], h=0),
            ValueError,
            r"h must be in \(0, inf\], got 0.0",
        ),
    ],
    ids=["f-takes-arguments", "f-returns-scores", "h-zero"],
)
def test_numerical_gradient_names_a_wrong_f_or_h(call, error, match):
    net = small_net()
    with pytest.raises(error, match=match):
        call(net, *eight_features())


def test_rel_error_of_none_or_of_two_dicts_says_what_to_compare():
    with pytest.raises(
        TypeError, match=r"a must be an array of numbers, got NoneType \(a backward that returns nothing"
    ):
        rel_error(None, np.ones(3))
    with pytest.raises(TypeError, match=r"got dict \(compare one parameter at a time: rel_error\(grads\['W1'\]"):
        rel_error({"W": np.ones(2)}, {"W": np.ones(2)})


def test_check_layer_gradients_names_a_class_or_an_unknown_backward():
    x = np.random.default_rng(0).standard_normal((8, 4))
    with pytest.raises(TypeError, match=r"layer must be a layer object, e.g. BatchNorm\(\.\.\.\) .*not the class"):
        check_layer_gradients(BatchNorm, x)
    with pytest.raises(
        ValueError,
        match=r"backward must name a method of BatchNorm: one of \['backward', 'backward_graph'\], got 'backwards'",
    ):
        check_layer_gradients(BatchNorm(4, dtype=np.float64), x, backward="backwards")


def test_check_net_gradients_refuses_a_net_too_big_to_check_in_seconds_at_once():
    # the default 784-100x5-10 net has 119 910 entries: two loss evaluations each, a minute or more of silence
    net = MultiLayerNet(dtype=np.float64)
    x, t = np.random.default_rng(0).random((3, 784)), np.array([1, 2, 3])
    with pytest.raises(ValueError, match=r"net has 119910 parameter entries, more than max_size=50000.*input_size=10"):
        check_net_gradients(net, x, t)
    assert set(check_net_gradients(small_net(), *eight_features(), max_size=113)) == set(
        small_net().params
    )  # 113: at the limit
