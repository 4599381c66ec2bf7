"""Every layer's backward against a numerical gradient in float64, plus batch norm and dropout behaviour."""

import copy
import warnings

import numpy as np
import pytest

from helpers.fast import FastBatchNorm, FastRelu
from helpers.gradcheck import check_layer_gradients
from helpers.layers import Affine, BatchNorm, Dropout, Relu, Sigmoid, SoftmaxWithLoss

TOL = 1e-6


def random_batchnorm(rng, dim=5):
    layer = BatchNorm(dim, dtype=np.float64)
    layer.params["gamma"][:] = rng.standard_normal(dim)
    layer.params["beta"][:] = rng.standard_normal(dim)
    return layer


def test_affine_backward_matches_numerical_gradient(rng):
    layer = Affine(rng.standard_normal((5, 3)), rng.standard_normal(3))
    errors = check_layer_gradients(layer, rng.standard_normal((4, 5)))
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < TOL, errors


def test_affine_without_input_grad_returns_none_but_still_fills_grads(rng):
    layer = Affine(rng.standard_normal((5, 3)), np.zeros(3), input_grad=False)
    layer.forward(rng.standard_normal((4, 5)))
    assert layer.backward(np.ones((4, 3))) is None
    assert layer.grads["W"].shape == (5, 3)


def test_relu_backward_matches_numerical_gradient(rng):
    x = rng.standard_normal((6, 7))
    x[np.abs(x) < 1e-3] = 0.5  # keep clear of the kink at 0, where the derivative is undefined
    assert check_layer_gradients(Relu(), x)["x"] < TOL


def test_relu_forward_zeroes_negatives_without_changing_input(rng):
    x = rng.standard_normal((3, 4))
    x_before = x.copy()
    out = Relu().forward(x)
    np.testing.assert_array_equal(out, np.where(x_before > 0, x_before, 0))
    np.testing.assert_array_equal(x, x_before)


def test_sigmoid_backward_matches_numerical_gradient(rng):
    assert check_layer_gradients(Sigmoid(), rng.standard_normal((6, 7)))["x"] < TOL


def test_sigmoid_of_huge_negative_input_is_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Sigmoid().forward(np.array([[-1000.0, 0.0, 1000.0]]))
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0]])


@pytest.mark.parametrize("backward", ["backward", "backward_graph"])
def test_batchnorm_backward_matches_numerical_gradient(rng, backward):
    errors = check_layer_gradients(random_batchnorm(rng), 3 * rng.standard_normal((8, 5)) + 2, backward=backward)
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < TOL, errors


def test_batchnorm_closed_form_and_node_by_node_backward_agree(rng):
    layer = random_batchnorm(rng)
    layer.forward(3 * rng.standard_normal((8, 5)) + 2)
    dout = rng.standard_normal((8, 5))
    dx = layer.backward(dout)
    grads = dict(layer.grads)
    dx_graph = layer.backward_graph(dout)
    np.testing.assert_allclose(dx_graph, dx, rtol=1e-10, atol=1e-12)
    for name in ("gamma", "beta"):
        np.testing.assert_allclose(layer.grads[name], grads[name], rtol=1e-12)


def test_fast_batchnorm_backward_matches_numerical_gradient(rng):
    layer = FastBatchNorm(5, dtype=np.float64)
    layer.params["gamma"][:], layer.params["beta"][:] = rng.standard_normal(5), rng.standard_normal(5)
    errors = check_layer_gradients(layer, 3 * rng.standard_normal((8, 5)) + 2)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_relu_computes_exactly_what_the_readable_relu_computes(rng, dtype):
    plain, fast = Relu(), FastRelu()
    x = rng.standard_normal((50, 6)).astype(dtype)
    x[0, :3] = 0  # the kink: no gradient passes at 0 in either
    dout = rng.standard_normal((50, 6)).astype(dtype)
    out_plain, dx_plain = plain.forward(x), plain.backward(dout)
    out_fast, dx_fast = fast.forward(x.copy()), fast.backward(dout.copy())
    assert out_fast.dtype == dx_fast.dtype == dtype
    np.testing.assert_array_equal(out_fast, out_plain)
    np.testing.assert_array_equal(dx_fast, dx_plain)
    np.testing.assert_array_equal(fast.forward(x.copy(), train=False), plain.forward(x, train=False))
    with pytest.raises(RuntimeError, match="^FastRelu.backward needs a forward"):
        fast.backward(dout)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_batchnorm_computes_what_the_readable_batchnorm_computes(rng, dtype):
    plain, fast = BatchNorm(6, dtype=dtype), FastBatchNorm(6, dtype=dtype)
    gamma, beta = rng.standard_normal(6), rng.standard_normal(6)
    for layer in (plain, fast):
        layer.params["gamma"][:], layer.params["beta"][:] = gamma, beta
    tol = {"rtol": 1e-10, "atol": 1e-10} if dtype == np.float64 else {"rtol": 1e-4, "atol": 1e-4}
    for _ in range(3):
        x = (rng.standard_normal((50, 6)) * [1, 5, 0.1, 2, 3, 1] + [0, 3, -1, 10, 0, 2]).astype(dtype)
        dout = rng.standard_normal((50, 6)).astype(dtype)
        out_plain, out_fast = plain.forward(x), fast.forward(x)
        assert out_fast.dtype == out_plain.dtype == dtype
        np.testing.assert_allclose(out_fast, out_plain, **tol)
        np.testing.assert_allclose(fast.backward(dout), plain.backward(dout), **tol)
        for name in ("gamma", "beta"):
            np.testing.assert_allclose(fast.grads[name], plain.grads[name], **tol)
    np.testing.assert_allclose(fast.running_mean, plain.running_mean, **tol)
    np.testing.assert_allclose(fast.running_var, plain.running_var, **tol)
    np.testing.assert_allclose(fast.forward(x, train=False), plain.forward(x, train=False), **tol)
    with pytest.raises(RuntimeError, match="^FastBatchNorm.backward needs a forward"):
        fast.backward(dout)


def test_batchnorm_forward_follows_the_slide_and_keeps_x_hat(rng):
    layer = random_batchnorm(rng, 4)
    x = rng.standard_normal((10, 4)) * 3 + 1
    out = layer.forward(x)
    mu = x.sum(axis=0) / 10
    var = ((x - mu) ** 2).sum(axis=0) / 10
    x_hat = (x - mu) / np.sqrt(var + layer.eps)
    np.testing.assert_allclose(layer.x_hat, x_hat)
    np.testing.assert_allclose(out, layer.params["gamma"] * x_hat + layer.params["beta"])


def test_batchnorm_train_output_has_zero_mean_unit_std_per_feature(rng):
    x = (rng.standard_normal((200, 4)) * [1, 10, 0.1, 5] + [3, -2, 0, 100]).astype(np.float32)
    out = BatchNorm(4).forward(x, train=True)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)


def test_batchnorm_running_statistics_start_at_zero_and_converge_to_the_data(rng):
    layer = BatchNorm(3, momentum=0.9, dtype=np.float64)
    np.testing.assert_array_equal(layer.running_var, 0)
    np.testing.assert_array_equal(layer.running_mean, 0)
    for _ in range(200):
        layer.forward(rng.normal([5, -1, 0], [2, 0.5, 3], size=(100, 3)), train=True)
    np.testing.assert_allclose(layer.running_mean, [5, -1, 0], atol=0.15)
    np.testing.assert_allclose(layer.running_var, [4, 0.25, 9], rtol=0.1)


def test_batchnorm_running_update_follows_the_momentum_formula(rng):
    layer = BatchNorm(2, momentum=0.8, dtype=np.float64)
    x = rng.standard_normal((10, 2))
    layer.forward(x, train=True)
    np.testing.assert_allclose(layer.running_mean, 0.2 * x.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.2 * x.var(axis=0))


def test_batchnorm_test_mode_uses_running_statistics_gamma_beta_and_is_deterministic(rng):
    layer = random_batchnorm(rng, 3)
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.1, 4, 3)
    layer.running_mean, layer.running_var = running_mean.copy(), running_var.copy()
    x = rng.standard_normal((5, 3))
    out1 = layer.forward(x, train=False)
    out2 = layer.forward(x, train=False)
    np.testing.assert_array_equal(out1, out2)
    expected = layer.params["gamma"] * (x - running_mean) / np.sqrt(running_var + layer.eps) + layer.params["beta"]
    np.testing.assert_allclose(out1, expected)
    np.testing.assert_array_equal(layer.running_mean, running_mean)  # test mode must not update them
    np.testing.assert_array_equal(layer.running_var, running_var)


def test_batchnorm_checks_its_settings_where_they_are_given():
    with pytest.raises(ValueError, match=r"^dim must be an integer in \[1, inf\], got 0"):
        BatchNorm(0)
    with pytest.raises(ValueError, match=r"^momentum must be in \[0, 1\)"):
        BatchNorm(3, momentum=1.0)
    with pytest.raises(ValueError, match=r"^eps must be in \(0, inf\]"):
        BatchNorm(3, eps=0)


@pytest.mark.parametrize("inverted", [False, True])
def test_dropout_backward_matches_numerical_gradient(rng, inverted):
    assert check_layer_gradients(Dropout(0.3, inverted=inverted, rng=1), rng.standard_normal((6, 10)))["x"] < TOL


@pytest.mark.parametrize("inverted", [False, True])
def test_dropout_backward_passes_the_gradient_only_through_kept_units(rng, inverted):
    layer = Dropout(0.5, inverted=inverted, rng=2)
    x = rng.standard_normal((4, 6))
    out = layer.forward(x)
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx == 0, ~layer.mask)
    np.testing.assert_allclose(out, x * dx)  # y = x * (what backward multiplies by)


@pytest.mark.parametrize("dropout_ratio", [0.15, 0.5, 0.8])
def test_dropout_drops_the_given_fraction(dropout_ratio):
    out = Dropout(dropout_ratio, rng=0).forward(np.ones((1000, 100), dtype=np.float32))
    assert out.dtype == np.float32
    assert abs(np.mean(out == 0) - dropout_ratio) < 0.01


@pytest.mark.parametrize("inverted", [False, True])
def test_dropout_expected_train_output_equals_test_output(inverted):
    layer = Dropout(dropout_ratio=0.4, inverted=inverted, rng=0)
    x = np.linspace(-2, 2, 50)[None, :].repeat(20000, axis=0)
    train_mean = layer.forward(x, train=True).mean(axis=0)
    np.testing.assert_allclose(train_mean, layer.forward(x[:1], train=False)[0], atol=0.03)


def test_dropout_book_convention_scales_at_test_time_and_inverted_does_not():
    x = np.ones((2, 3), dtype=np.float32)
    book, inverted = Dropout(0.25).forward(x, train=False), Dropout(0.25, inverted=True).forward(x, train=False)
    np.testing.assert_allclose(book, 0.75)
    assert book.dtype == np.float32
    np.testing.assert_array_equal(inverted, 1)


@pytest.mark.parametrize("inverted", [False, True])
def test_dropout_of_integer_input_gives_the_same_numbers_as_float_input(inverted):
    integers = np.array([[-2, -1, 0, 1, 2]])
    for train in (False, True):
        out = Dropout(0.15, inverted=inverted, rng=0).forward(integers, train=train)
        expected = Dropout(0.15, inverted=inverted, rng=0).forward(integers.astype(np.float64), train=train)
        np.testing.assert_allclose(out, expected)
    np.testing.assert_allclose(Dropout(0.15, rng=0).forward(integers, train=False), [[-1.7, -0.85, 0, 0.85, 1.7]])


def test_dropout_mask_is_reproducible_from_the_seed_or_a_generator():
    x = np.ones((5, 8))
    np.testing.assert_array_equal(Dropout(0.5, rng=3).forward(x), Dropout(0.5, rng=3).forward(x))
    np.testing.assert_array_equal(Dropout(0.5, rng=np.random.default_rng(3)).forward(x), Dropout(0.5, rng=3).forward(x))
    assert not np.array_equal(Dropout(0.5, rng=3).forward(x), Dropout(0.5, rng=4).forward(x))


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"dropout_ratio": 1.0}, ValueError, r"^dropout_ratio must be in \[0, 1\), got 1.0"),
        ({"inverted": "False"}, TypeError, "^inverted must be True or False"),
        ({"rng": -1}, ValueError, r"^rng must be an integer in \[0, inf\], got -1"),
        ({"rng": None}, TypeError, r"^rng must be a np.random.Generator or a seed \(an integer >= 0\), got None"),
    ],
)
def test_dropout_checks_its_settings_where_they_are_given(kwargs, error, words):
    with pytest.raises(error, match=words):
        Dropout(**kwargs)


def test_softmax_with_loss_backward_matches_numerical_gradient(rng):
    class Loss:  # the loss layer as a layer of x alone, for the harness
        params, grads = {}, {}

        def __init__(self):
            self.layer = SoftmaxWithLoss()

        def forward(self, x, train=True):
            return np.asarray(self.layer.forward(x, np.array([0, 3, 1, 1, 2])))

        def backward(self, dout):
            return self.layer.backward(float(dout))

    assert check_layer_gradients(Loss(), rng.standard_normal((5, 4)))["x"] < TOL


def test_softmax_with_loss_is_cross_entropy_and_accepts_one_hot(rng):
    x = rng.standard_normal((3, 4))
    t = np.array([2, 0, 3])
    p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(3), t]))
    assert SoftmaxWithLoss().forward(x, t) == pytest.approx(expected)
    assert SoftmaxWithLoss().forward(x, np.eye(4)[t]) == pytest.approx(expected)


def test_softmax_with_loss_is_finite_for_huge_scores():
    loss = SoftmaxWithLoss().forward(np.array([[1000.0, 0.0], [0.0, -1000.0]]), np.array([0, 0]))
    assert loss == pytest.approx(0.0)


def layers(rng):
    return {
        "Affine": Affine(rng.standard_normal((4, 3)), np.zeros(3)),
        "Relu": Relu(),
        "Sigmoid": Sigmoid(),
        "BatchNorm": BatchNorm(4, dtype=np.float64),
        "Dropout": Dropout(0.5, rng=0),
    }


@pytest.mark.parametrize("name", ["Affine", "Relu", "Sigmoid", "BatchNorm", "Dropout"])
def test_backward_after_a_test_mode_forward_raises_instead_of_using_an_old_batch(rng, name):
    layer = layers(rng)[name]
    layer.forward(rng.standard_normal((5, 4)), train=True)
    layer.backward(np.ones_like(layer.forward(rng.standard_normal((5, 4)), train=True)))  # fine after training
    layer.forward(rng.standard_normal((5, 4)), train=False)
    with pytest.raises(RuntimeError, match=rf"^{name}.backward needs a forward\(x, train=True\) before it"):
        layer.backward(np.ones((5, 4 if name != "Affine" else 3)))


@pytest.mark.parametrize("name", ["Affine", "Relu", "Sigmoid", "BatchNorm", "Dropout"])
def test_backward_before_any_forward_raises(rng, name):
    with pytest.raises(RuntimeError, match=rf"^{name}.backward needs a forward\(x, train=True\)"):
        layers(rng)[name].backward(np.ones((5, 4)))
    with pytest.raises(RuntimeError, match=r"^SoftmaxWithLoss.backward needs a forward"):
        SoftmaxWithLoss().backward()


# --- A layer used on its own: a wrong shape is named, not left to a NumPy broadcast error -----------------------


@pytest.mark.parametrize(
    ("forward", "match"),
    [
        (
            lambda: BatchNorm(100).forward(np.ones((10, 784))),
            r"BatchNorm: x must have shape \(N, 100\), got shape \(10, 784\)",
        ),
        (lambda: BatchNorm(784).forward(np.ones(784)), r"BatchNorm: x must have shape \(N, 784\), got shape \(784,\)"),
        (lambda: BatchNorm(784).forward(np.ones(784), train=False), r"BatchNorm: x must have shape \(N, 784\)"),
        (
            lambda: BatchNorm(4).forward(np.ones((1, 4))),
            r"BatchNorm needs at least 2 samples in a training batch, got 1",
        ),
        (
            lambda: Affine(np.zeros((784, 10)), np.zeros(10)).forward(np.ones((5, 700))),
            r"Affine: x must have shape \(N, 784\), got shape \(5, 700\)",
        ),
        (lambda: Affine(np.zeros((784, 10)), np.zeros(784)), r"Affine: b must have shape \(10,\), got shape \(784,\)"),
        (lambda: Affine(np.zeros(784), np.zeros(10)), r"Affine: W must have shape \(D_in, D_out\), got shape \(784,\)"),
        (
            lambda: SoftmaxWithLoss().forward(np.zeros((10, 10)), np.arange(9)),
            r"t \(one label per row of x\) must have shape \(10,\), got shape \(9,\)",
        ),
        (
            lambda: SoftmaxWithLoss().forward(np.zeros((10, 10)), np.arange(10) + 5),
            r"labels in t must be in \[0, 9\], got 5 \.\. 14",
        ),
        (
            lambda: SoftmaxWithLoss().forward(np.zeros((3, 10)), np.array([1.0, 2.0, 3.0])),
            r"t must hold integer labels, got dtype float64",
        ),
        (
            lambda: SoftmaxWithLoss().forward(np.zeros((3, 10)), np.zeros((3, 9))),
            r"one-hot t must have shape \(3, 10\), got shape \(3, 9\)",
        ),
    ],
)
def test_a_wrong_shape_given_to_a_layer_is_named_with_both_shapes(forward, match):
    with pytest.raises(ValueError, match=match):
        forward()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Affine(np.zeros((6, 4)), np.zeros(4)),
        Relu,
        Sigmoid,
        lambda: BatchNorm(6, dtype=np.float64),
        lambda: Dropout(0.5, rng=0),
    ],
    ids=["Affine", "Relu", "Sigmoid", "BatchNorm", "Dropout"],
)
def test_a_backward_with_a_dout_of_another_shape_than_the_output_is_refused(make):
    layer = make()
    out = layer.forward(np.ones((5, 6)), train=True)
    with pytest.raises(
        ValueError, match=rf"dout \(the gradient of the forward's output\) must have shape \(5, {out.shape[1]}\)"
    ):
        layer.backward(np.ones((5, out.shape[1] + 1)))
    assert layer.backward(np.ones(out.shape)).shape == (5, 6)  # the right shape works


@pytest.mark.parametrize(
    "layer",
    [Affine(np.ones((2, 3)), np.zeros(3)), Relu(), Sigmoid(), BatchNorm(2), Dropout(0.5, rng=0)],
    ids=["Affine", "Relu", "Sigmoid", "BatchNorm", "Dropout"],
)
def test_a_layer_takes_a_list_of_rows_as_the_array_it_holds(layer):
    rows = [[1.0, -2.0], [3.0, 4.0]]
    twin = copy.deepcopy(layer)
    np.testing.assert_array_equal(layer.forward(rows), twin.forward(np.array(rows)))
    assert layer.backward(np.ones(layer.forward(rows).shape)).shape == (2, 2)
