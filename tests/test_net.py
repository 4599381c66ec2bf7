"""MultiLayerNet: layer order, parameter names, whole-net gradient checks, weight decay, bad input."""

import numpy as np
import pytest

from helpers.fast import FastBatchNorm, FastRelu
from helpers.gradcheck import check_net_gradients, numerical_gradient
from helpers.layers import Affine, Dropout, Relu, Sigmoid
from helpers.net import MultiLayerNet

TOL = 1e-6


def small_net(**kwargs):
    settings = dict(input_size=8, hidden_sizes=(6, 5), output_size=4, dtype=np.float64, seed=3)
    return MultiLayerNet(**{**settings, **kwargs})


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.standard_normal((7, 8)), rng.integers(0, 4, size=7)


def gradient_errors(net, x, t):
    errors = check_net_gradients(net, x, t)
    assert set(errors) == set(net.params)
    return errors


def test_layer_order_is_affine_batchnorm_activation_dropout():
    net = small_net(use_batchnorm=True, dropout_ratio=0.2)
    kinds = [type(layer) for layer in net.layers]
    assert kinds == [Affine, FastBatchNorm, FastRelu, Dropout, Affine, FastBatchNorm, FastRelu, Dropout, Affine]


def test_batchnorm_after_the_activation_puts_it_between_activation_and_dropout():
    net = small_net(use_batchnorm=True, dropout_ratio=0.2, batchnorm_position="after")
    kinds = [type(layer) for layer in net.layers]
    assert kinds == [Affine, FastRelu, FastBatchNorm, Dropout, Affine, FastRelu, FastBatchNorm, Dropout, Affine]
    assert net.params["gamma2"] is net.layers[6].params["gamma"]  # numbered by its layer, as before


def test_batchnorm_position_is_ignored_without_batchnorm():
    kinds = [type(layer) for layer in small_net(batchnorm_position="after").layers]
    assert kinds == [type(layer) for layer in small_net().layers] == [Affine, FastRelu, Affine, FastRelu, Affine]


def test_parameter_names_follow_the_book():
    net = small_net(use_batchnorm=True)
    assert sorted(net.params) == sorted(["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"])
    assert net.params["W1"].shape == (8, 6) and net.params["gamma2"].shape == (5,)
    assert net.params["W1"] is net.layers[0].params["W"]  # the same array: optimizers update the layers


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_net_gradient_matches_numerical_gradient(batch, activation):
    errors = gradient_errors(small_net(activation=activation), *batch)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("settings", [{}, {"use_batchnorm": True, "dropout_ratio": 0.3, "weight_decay_lambda": 0.1}])
def test_net_with_in_place_relus_computes_what_it_computes_with_readable_relus(batch, settings):
    fast, plain = small_net(**settings), small_net(**settings)
    plain.layers = [Relu() if isinstance(layer, FastRelu) else layer for layer in plain.layers]
    for _ in range(2):  # two steps: what one backward overwrote in place is not read by the next
        loss_fast, grads_fast = fast.loss_and_gradient(*batch)
        loss_plain, grads_plain = plain.loss_and_gradient(*batch)
        assert loss_fast == loss_plain
        for name in plain.params:
            np.testing.assert_array_equal(grads_fast[name], grads_plain[name])
            plain.params[name] -= 0.1 * grads_plain[name]
            fast.params[name] -= 0.1 * grads_fast[name]
    np.testing.assert_array_equal(fast.predict(batch[0]), plain.predict(batch[0]))


def randomize_batchnorm_parameters(net):
    for name, value in net.params.items():
        if name.startswith(("gamma", "beta")):
            value[:] = np.random.default_rng(len(name)).standard_normal(value.shape)


def test_net_gradient_with_batchnorm_weight_decay_and_dropout_matches_numerical_gradient(batch):
    net = small_net(use_batchnorm=True, weight_decay_lambda=0.1, dropout_ratio=0.3, activation="sigmoid")
    randomize_batchnorm_parameters(net)
    errors = gradient_errors(net, *batch)
    # With batch norm before the activation, a bias just before it cannot change the loss (the batch mean
    # removes it): its true gradient is 0 and the numerical one is rounding noise, so it is checked against 0.
    biases_before_bn = {"b1", "b2"}
    assert max(e for name, e in errors.items() if name not in biases_before_bn) < TOL, errors
    grads = net.gradient(*batch)
    for name in biases_before_bn:
        np.testing.assert_allclose(grads[name], 0, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_net_gradient_with_batchnorm_after_the_activation_matches_numerical_gradient(activation):
    settings = dict(use_batchnorm=True, batchnorm_position="after", weight_decay_lambda=0.1, dropout_ratio=0.3)
    net = small_net(activation=activation, **settings)
    randomize_batchnorm_parameters(net)
    # 20 samples, not 7: a ReLU unit active on a single sample of the batch would give batch norm a column
    # whose normalized values do not depend on that sample's value (true gradient 0, numerically noise).
    rng = np.random.default_rng(0)
    errors = gradient_errors(net, rng.standard_normal((20, 8)), rng.integers(0, 4, size=20))
    assert max(errors.values()) < TOL, errors  # every parameter, the biases too: each one changes the loss


def test_weight_decay_adds_half_lambda_sum_of_squared_weights_only(batch):
    plain, decayed = small_net(), small_net(weight_decay_lambda=0.5, use_batchnorm=False)
    penalty = 0.5 * 0.5 * sum(np.sum(plain.params[f"W{i}"] ** 2) for i in (1, 2, 3))
    assert decayed.loss(*batch) == pytest.approx(plain.loss(*batch) + penalty)


def test_weight_decay_gradient_adds_lambda_w_to_weights_not_biases(batch):
    plain, decayed = small_net(), small_net(weight_decay_lambda=0.5)
    g_plain, g_decayed = plain.gradient(*batch), decayed.gradient(*batch)
    np.testing.assert_allclose(g_decayed["W2"], g_plain["W2"] + 0.5 * plain.params["W2"])
    np.testing.assert_allclose(g_decayed["b2"], g_plain["b2"])


@pytest.mark.parametrize(("init", "expected"), [("he", np.sqrt(2 / 784)), ("xavier", np.sqrt(1 / 784)), (0.01, 0.01)])
def test_weight_init_std_sets_the_scale_of_the_first_layer(init, expected):
    W1 = MultiLayerNet(hidden_sizes=(500,), weight_init_std=init).params["W1"]
    assert W1.std() == pytest.approx(expected, rel=0.02)
    assert W1.dtype == np.float32


def test_same_seed_gives_same_weights_and_other_seed_does_not():
    a, b, c = MultiLayerNet(seed=1), MultiLayerNet(seed=1), MultiLayerNet(seed=2)
    np.testing.assert_array_equal(a.params["W3"], b.params["W3"])
    assert not np.array_equal(a.params["W3"], c.params["W3"])


def test_check_data_returns_the_arrays_the_net_computes_with_and_names_the_data_set(batch):
    x, t = batch
    net = small_net(dtype=np.float32)
    x_checked, labels = net.check_data(x.tolist(), np.eye(4)[t], "train")
    assert x_checked.dtype == np.float32 and x_checked.shape == (7, 8)
    assert labels.dtype == np.intp
    np.testing.assert_array_equal(labels, t)
    again = net.check_data(x_checked, labels, "train")
    assert again[0] is x_checked and again[1] is labels  # checked data passes through without a copy
    with pytest.raises(ValueError, match="^x_val has 3 features per sample"):
        net.check_data(x[:, :3], t, "val")


def test_accuracy_accepts_labels_and_one_hot(batch):
    x, t = batch
    net = small_net()
    predicted = net.predict(x).argmax(axis=1)
    assert net.accuracy(x, predicted) == 1.0
    assert net.accuracy(x, np.eye(4)[predicted]) == 1.0
    assert net.accuracy(x, (predicted + 1) % 4) == 0.0


def test_predict_in_test_mode_is_deterministic_with_dropout_and_batchnorm(batch):
    net = small_net(use_batchnorm=True, dropout_ratio=0.5)
    np.testing.assert_array_equal(net.predict(batch[0]), net.predict(batch[0]))


def test_input_images_are_flattened():
    net = MultiLayerNet(hidden_sizes=(10,))
    assert net.predict(np.zeros((2, 1, 28, 28))).shape == (2, 10)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [  # one case per setting: the checks themselves are tested in test_checks.py
        ({"input_size": 0}, ValueError, r"^input_size must be an integer in \[1, inf\]"),
        ({"output_size": 1}, ValueError, r"^output_size must be an integer in \[2, inf\]"),
        ({"weight_init_std": -0.1}, ValueError, r"^weight_init_std must be in \(0, inf\]"),
        ({"weight_init_std": "lecun"}, ValueError, r"^weight_init_std must be one of 'he', 'xavier', got 'lecun'"),
        ({"weight_init_std": None}, TypeError, r"^weight_init_std must be 'he', 'xavier' or a positive number"),
        ({"dropout_ratio": 1.0}, ValueError, r"^dropout_ratio must be in \[0, 1\)"),
        ({"weight_decay_lambda": -1e-3}, ValueError, r"^weight_decay_lambda must be in \[0, inf\]"),
        ({"activation": "tanh"}, ValueError, "^activation must be one of 'relu', 'sigmoid'"),
        ({"hidden_sizes": (100, 0)}, ValueError, r"^hidden_sizes must be an integer in \[1, inf\], got 0"),
        ({"hidden_sizes": 100}, TypeError, r"^hidden_sizes must be a sequence of layer widths .* got 100 \(int\)"),
        ({"hidden_sizes": "100"}, TypeError, "^hidden_sizes must be a sequence of layer widths"),
        ({"dtype": np.int32}, ValueError, "^dtype must be np.float32 or np.float64"),
        ({"dtype": None}, ValueError, "^dtype must be np.float32 or np.float64, got None"),
        ({"use_batchnorm": "False"}, TypeError, "^use_batchnorm must be True or False, got 'False'"),
        ({"dropout_inverted": "no"}, TypeError, "^dropout_inverted must be True or False"),
        ({"seed": -1}, ValueError, r"^seed must be an integer in \[0, inf\], got -1"),
        ({"batchnorm_position": "middle"}, ValueError, "^batchnorm_position must be one of 'before', 'after'"),
    ],
)
def test_bad_settings_raise_clear_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        MultiLayerNet(**kwargs)


def test_numpy_integers_and_dtype_names_are_accepted():
    net = MultiLayerNet(hidden_sizes=np.array([10, 10]), seed=np.int64(1), dtype="float64")
    assert net.hidden_sizes == (10, 10) and net.dtype == np.float64
    same = MultiLayerNet(hidden_sizes=(10, 10), seed=1, dtype=np.float64)
    np.testing.assert_array_equal(net.params["W1"], same.params["W1"])


def call(method, net, x, t):
    return net.predict(x) if method == "predict" else getattr(net, method)(x, t)


@pytest.mark.parametrize("method", ["predict", "accuracy", "loss", "gradient"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_rejected_naming_x(batch, method, bad):
    x, t = batch
    x = x.copy()
    x[2, 3] = bad
    with pytest.raises(ValueError, match="x must be finite, but 1 of its 56 values are NaN or infinite"):
        call(method, small_net(), x, t)


@pytest.mark.parametrize("method", ["predict", "accuracy", "loss", "gradient"])
def test_an_empty_batch_is_rejected(method):
    with pytest.raises(ValueError, match="x is empty: at least one sample is needed"):
        call(method, MultiLayerNet(), np.zeros((0, 784)), np.zeros(0, dtype=int))


@pytest.mark.parametrize(
    "t",
    [np.zeros((7, 4)), np.full((7, 4), 0.25), np.ones((7, 4)), np.eye(4)[[0, 1, 2, 3, 0, 1, 2]] * 2],
    ids=["all zero", "probabilities", "all ones", "twos"],
)
def test_an_n_by_c_array_that_is_not_one_hot_is_refused(batch, t):
    with pytest.raises(ValueError, match=r"^t of shape \(7, 4\) is read as one-hot labels, which need a single 1"):
        small_net().accuracy(batch[0], t)


def test_raw_uint8_pixels_are_refused_with_the_fix():
    images = np.full((3, 784), 255, dtype=np.uint8)
    with pytest.raises(
        ValueError, match=r"^x holds raw pixel values \(dtype uint8, 0 \.\. 255\).*normalize=True\) or x / 255"
    ):
        MultiLayerNet().predict(images)
    assert MultiLayerNet().predict(images / 255).shape == (3, 10)


def test_a_training_batch_of_one_sample_with_batchnorm_is_refused_but_predicting_one_works(batch):
    x, t = batch
    net = small_net(use_batchnorm=True)
    for call in (lambda: net.gradient(x[:1], t[:1]), lambda: net.loss(x[:1], t[:1]), lambda: net.predict(x[:1], True)):
        with pytest.raises(ValueError, match="^batch norm needs at least 2 samples per training batch, got 1"):
            call()
    assert net.predict(x[:1]).shape == (1, 4)
    assert np.isfinite(net.loss(x[:1], t[:1], train=False))
    np.testing.assert_array_equal(net.layers[1].running_var, 0)  # untouched by the refused calls


def test_numerical_gradient_of_a_loss_with_dropout_is_refused_not_silently_wrong(batch):
    net = small_net(dropout_ratio=0.5)
    with pytest.raises(ValueError, match="Dropout draws a new mask on every forward: use check_net_gradients"):
        numerical_gradient(lambda: net.loss(*batch), net.params["W1"])


def test_accuracy_is_a_plain_float(batch):
    accuracy = small_net().accuracy(*batch)
    assert type(accuracy) is float and repr([accuracy]) == f"[{accuracy}]"


def test_wrong_input_width_names_input_size():
    with pytest.raises(ValueError, match="input_size is 784"):
        MultiLayerNet().predict(np.zeros((3, 100)))


def test_mismatched_x_and_t_lengths_raise():
    with pytest.raises(ValueError, match="same length"):
        MultiLayerNet().loss(np.zeros((3, 784)), np.zeros(4, dtype=int))


def test_labels_out_of_range_raise():
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        MultiLayerNet().accuracy(np.zeros((2, 784)), np.array([3, 10]))


def test_non_numeric_input_raises_type_error():
    with pytest.raises(TypeError, match="x must be an array of numbers"):
        MultiLayerNet().predict([["a"] * 784])


def test_sigmoid_net_builds_sigmoid_layers():
    assert any(isinstance(layer, Sigmoid) for layer in small_net(activation="sigmoid").layers)


def test_accuracy_scored_in_chunks_equals_the_plain_formula_over_the_whole_set():
    rng = np.random.default_rng(1)
    x, t = rng.standard_normal((1300, 8)), rng.integers(0, 4, size=1300)  # more than two EVAL_CHUNKs
    net = small_net(use_batchnorm=True)
    net.loss(x[:100], t[:100])  # a training step's statistics, so that test mode has running averages
    assert net.accuracy(x, t) == np.mean(net.predict(x).argmax(axis=1) == t)
