"""Every layer's backward against a numerical gradient in float64, plus batch norm and dropout behaviour."""

import warnings

import numpy as np
import pytest

from helpers.gradcheck import numerical_gradient, rel_error
from helpers.layers import Affine, BatchNorm, Dropout, Relu, Sigmoid, SoftmaxWithLoss

TOL = 1e-6


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def check_layer_gradients(layer, x, rng, train=True):
    """Compare backward with central differences of sum(forward(x) * dout) for a random dout."""
    out = layer.forward(x, train)
    dout = rng.standard_normal(out.shape)  # random, not ones: ones hide batch-norm bugs

    def f():
        return float(np.sum(layer.forward(x, train) * dout))

    layer.forward(x, train)
    dx = layer.backward(dout)
    errors = {"x": rel_error(dx, numerical_gradient(f, x))}
    for name, value in getattr(layer, "params", {}).items():
        errors[name] = rel_error(layer.grads[name], numerical_gradient(f, value))
    return errors


def test_affine_backward_matches_numerical_gradient(rng):
    layer = Affine(rng.standard_normal((5, 3)), rng.standard_normal(3))
    errors = check_layer_gradients(layer, rng.standard_normal((4, 5)), rng)
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
    assert check_layer_gradients(Relu(), x, rng)["x"] < TOL


def test_relu_forward_zeroes_negatives_without_changing_input(rng):
    x = rng.standard_normal((3, 4))
    x_before = x.copy()
    out = Relu().forward(x)
    np.testing.assert_array_equal(out, np.maximum(x_before, 0))
    np.testing.assert_array_equal(x, x_before)


def test_sigmoid_backward_matches_numerical_gradient(rng):
    assert check_layer_gradients(Sigmoid(), rng.standard_normal((6, 7)), rng)["x"] < TOL


def test_sigmoid_of_huge_negative_input_is_zero_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Sigmoid().forward(np.array([[-1000.0, 0.0, 1000.0]]))
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0]])


def test_batchnorm_backward_matches_numerical_gradient(rng):
    layer = BatchNorm(5, dtype=np.float64)
    layer.params["gamma"][:] = rng.standard_normal(5)
    layer.params["beta"][:] = rng.standard_normal(5)
    x = 3 * rng.standard_normal((8, 5)) + 2
    errors = check_layer_gradients(layer, x, rng)
    assert set(errors) == {"x", "gamma", "beta"}
    assert max(errors.values()) < TOL, errors


def test_batchnorm_train_output_has_zero_mean_unit_std_per_feature(rng):
    x = (rng.standard_normal((200, 4)) * [1, 10, 0.1, 5] + [3, -2, 0, 100]).astype(np.float32)
    out = BatchNorm(4).forward(x, train=True)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-3)


def test_batchnorm_running_statistics_converge_to_the_data(rng):
    layer = BatchNorm(3, momentum=0.9, dtype=np.float64)
    np.testing.assert_array_equal(layer.running_var, 1)
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
    np.testing.assert_allclose(layer.running_var, 0.8 * 1 + 0.2 * x.var(axis=0))


def test_batchnorm_test_mode_uses_running_statistics_gamma_beta_and_is_deterministic(rng):
    layer = BatchNorm(3, dtype=np.float64)
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    layer.params["gamma"][:], layer.params["beta"][:] = gamma, beta
    running_mean, running_var = rng.standard_normal(3), rng.uniform(0.1, 4, 3)
    layer.running_mean, layer.running_var = running_mean.copy(), running_var.copy()
    x = rng.standard_normal((5, 3))
    out1 = layer.forward(x, train=False)
    out2 = layer.forward(x, train=False)
    np.testing.assert_array_equal(out1, out2)
    np.testing.assert_allclose(out1, gamma * (x - running_mean) / np.sqrt(running_var + layer.eps) + beta)
    np.testing.assert_array_equal(layer.running_mean, running_mean)  # test mode must not update them
    np.testing.assert_array_equal(layer.running_var, running_var)


def test_batchnorm_refuses_a_training_batch_of_one_sample_but_predicts_one(rng):
    layer = BatchNorm(3, dtype=np.float64)
    with pytest.raises(ValueError, match="at least 2 samples per training batch, got 1: the batch variance"):
        layer.forward(rng.standard_normal((1, 3)), train=True)
    np.testing.assert_array_equal(layer.running_var, 1)  # untouched
    assert layer.forward(rng.standard_normal((1, 3)), train=False).shape == (1, 3)


@pytest.mark.parametrize(
    ("dim", "error", "words"),
    [
        (-1, ValueError, r"dim must be an integer in \[1, inf\], got -1"),
        (0, ValueError, "dim"),
        (2.5, TypeError, "dim must be an integer"),
    ],
)
def test_batchnorm_rejects_a_bad_dim(dim, error, words):
    with pytest.raises(error, match=words):
        BatchNorm(dim)


@pytest.mark.parametrize("inverted", [False, True])
def test_dropout_backward_matches_numerical_gradient_with_fixed_mask(rng, inverted):
    layer = Dropout(0.3, inverted=inverted, rng=1)
    x = rng.standard_normal((6, 10))
    dout = rng.standard_normal((6, 10))
    layer.forward(x)
    mask = layer.mask.copy()

    def f():
        layer.rng = np.random.default_rng(1)  # the same mask on every call
        return float(np.sum(layer.forward(x) * dout))

    f()
    np.testing.assert_array_equal(layer.mask, mask)
    assert rel_error(layer.backward(dout), numerical_gradient(f, x)) < TOL


@pytest.mark.parametrize("ratio", [0.15, 0.5, 0.8])
def test_dropout_drops_the_given_fraction(ratio):
    out = Dropout(ratio, rng=0).forward(np.ones((1000, 100), dtype=np.float32))
    assert abs(np.mean(out == 0) - ratio) < 0.01


@pytest.mark.parametrize("inverted", [False, True])
def test_dropout_expected_train_output_equals_test_output(inverted):
    layer = Dropout(0.4, inverted=inverted, rng=0)
    x = np.linspace(-2, 2, 50)[None, :].repeat(20000, axis=0)
    train_mean = layer.forward(x, train=True).mean(axis=0)
    np.testing.assert_allclose(train_mean, layer.forward(x[:1], train=False)[0], atol=0.03)


def test_dropout_book_convention_scales_at_test_time_and_inverted_does_not():
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_allclose(Dropout(0.25).forward(x, train=False), 0.75)
    np.testing.assert_array_equal(Dropout(0.25, inverted=True).forward(x, train=False), 1)


def test_dropout_mask_is_reproducible_from_the_seed():
    x = np.ones((5, 8))
    np.testing.assert_array_equal(Dropout(0.5, rng=3).forward(x), Dropout(0.5, rng=3).forward(x))
    assert not np.array_equal(Dropout(0.5, rng=3).forward(x), Dropout(0.5, rng=4).forward(x))


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5])
def test_dropout_rejects_ratio_outside_0_1_naming_ratio(ratio):
    with pytest.raises(ValueError, match=r"^ratio must be in \[0, 1\)"):
        Dropout(ratio)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"inverted": "False"}, TypeError, "inverted must be True or False, got 'False'"),
        ({"rng": -1}, ValueError, r"rng must be an integer in \[0, inf\], got -1"),
        ({"rng": 1.5}, TypeError, "rng must be a np.random.Generator or a seed"),
        ({"rng": None}, TypeError, "rng must be a np.random.Generator or a seed"),
    ],
)
def test_dropout_rejects_a_string_flag_and_a_bad_seed(kwargs, error, words):
    with pytest.raises(error, match=words):
        Dropout(0.5, **kwargs)


def test_dropout_takes_a_generator_and_draws_its_masks_from_it():
    x = np.ones((5, 8))
    np.testing.assert_array_equal(Dropout(0.5, rng=np.random.default_rng(3)).forward(x), Dropout(0.5, rng=3).forward(x))


def test_softmax_with_loss_backward_matches_numerical_gradient(rng):
    layer = SoftmaxWithLoss()
    x = rng.standard_normal((5, 4))
    t = np.array([0, 3, 1, 1, 2])
    layer.forward(x, t)
    dx = layer.backward(1.0)
    assert rel_error(dx, numerical_gradient(lambda: layer.forward(x, t), x)) < TOL


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
