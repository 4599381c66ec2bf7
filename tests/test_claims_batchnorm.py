"""Notebook 01's claims, each checked on the book's data (x_train[:1000] or x_train[:300] of the shipped
images, all 10 000 test images) with the notebook's settings."""

import numpy as np
import pytest

from helpers import experiments as ex
from helpers.data import load_mnist

SMALL_STD = 0.0074  # the book's grid has 0.0074 (np.logspace(0, -4, 16)[8]): tiny weights, true variance ~0.003


@pytest.fixture(scope="module")
def data():
    return load_mnist(source="offline", verbose=False)


@pytest.fixture(scope="module")
def modes(data):
    return ex.batchnorm_scoring_modes(SMALL_STD, epochs=6, data=data)


def test_with_bn_train_accuracy_after_two_epochs_at_a_small_std_is_at_least_half(data):
    """Scored in test mode as the book scores it, median of 5 seeds, lr 0.01, batch 100: 20 steps."""
    after_two = [
        ex.batchnorm_pair(SMALL_STD, epochs=2, lr=0.01, batch_size=100, seed=seed, data=data)["with BN"].train_acc[2]
        for seed in range(5)
    ]
    assert np.median(after_two) >= 0.5, after_two


def test_running_statistics_change_the_score_not_the_training(modes):
    assert modes[0.0].train_mode.train_acc == modes[1.0].train_mode.train_acc
    assert modes[0.0].data_var == modes[1.0].data_var


def test_running_variance_from_one_leaves_test_mode_at_chance_for_four_epochs_while_the_net_learns(modes):
    from_one = modes[1.0]
    assert max(from_one.test_mode.train_acc[1:5]) < 0.2
    assert min(from_one.train_mode.train_acc[1:5]) > 0.7
    assert from_one.test_mode.train_acc[6] > 0.9  # then it catches up
    assert from_one.running_var[4] > 3 * from_one.data_var[4]  # 1 * 0.9**40 is still far above the true variance


def test_running_variance_from_zero_costs_a_short_warm_up(modes):
    from_zero = modes[0.0]
    test_mode, train_mode = from_zero.test_mode.train_acc, from_zero.train_mode.train_acc
    assert test_mode[1] < train_mode[1] - 0.1  # after one epoch the running averages still lag
    assert test_mode[2] > 0.7  # the notebook: "after 2 epochs above 0.7"
    assert abs(test_mode[4] - train_mode[4]) < 0.05  # four epochs later they agree
    assert from_zero.running_var[2] == pytest.approx(from_zero.data_var[2], rel=0.3)


def test_train_mode_accuracy_leaves_the_running_averages_alone(data):
    from helpers.layers import BatchNorm
    from helpers.net import MultiLayerNet

    (x, t), _ = ex.first_samples(data, 200, 0)
    net = MultiLayerNet(use_batchnorm=True, seed=0)
    layer = next(layer for layer in net.layers if isinstance(layer, BatchNorm))
    layer.running_mean[:] = 0.5
    before = layer.running_mean.copy(), layer.running_var.copy()
    accuracy = ex.train_mode_accuracy(net, x, t)
    assert 0 <= accuracy <= 1
    np.testing.assert_array_equal(layer.running_mean, before[0])
    np.testing.assert_array_equal(layer.running_var, before[1])
    assert accuracy != net.accuracy(x, t)  # the batch statistics are not the (made-up) running ones


def test_live_part_of_the_grid_with_bn_learns_at_every_std_without_bn_at_none(data):
    grid = ex.batchnorm_grid(ex.BN_STDS[::5], data=data, progress=False)
    for std, runs in grid.items():
        assert runs["with BN"].final() > 0.3, std
        assert runs["without BN"].final() < 0.3, std
    assert grid[float(ex.BN_STDS[0])]["without BN"].diverged  # std 1 explodes in float32
    for std in ex.BN_STDS[5::5]:  # std <= 0.05: the BN curve rises from the first epoch on
        assert grid[float(std)]["with BN"].train_acc[1] > 0.15, std


@pytest.mark.slow
def test_full_grid_matches_what_the_notebook_says_of_it(data):
    grid = ex.batchnorm_grid(data=data, progress=False)
    stds = list(grid)  # 1, 0.54, 0.29, 0.16, 0.086, 0.046, ... 1e-4
    bn = {std: runs["with BN"] for std, runs in grid.items()}
    plain = {std: runs["without BN"] for std, runs in grid.items()}
    assert all(history.final() > 0.3 for history in bn.values())  # batch norm learns at every std
    assert [std for std in stds if plain[std].final() > 0.8] == stds[2:4]  # 0.29 and 0.16 only
    assert plain[stds[4]].final() < 0.4
    assert plain[stds[0]].diverged and plain[stds[1]].diverged
    for std in stds:
        if std <= 0.05:  # rises from the first epoch; two epochs in, far ahead of the plain net (below 0.2)
            assert bn[std].train_acc[1] > 0.15, std
            assert bn[std].train_acc[2] > 0.35 > 0.2 > plain[std].train_acc[2], std
        if 0.002 <= std <= 0.05:
            assert bn[std].final() >= 0.96, std
        if std > 0.1:  # slow even with batch norm: about 0.5-0.8 after 20 epochs
            assert 0.4 < bn[std].final() < 0.9, std
        if std < 0.001:  # a little lower at the tiny end: about 0.6-0.9
            assert 0.5 < bn[std].final() < 0.95, std
    for std in stds[2:4]:  # near He's sqrt(2/100): the plain net is faster
        assert plain[std].train_acc[5] > bn[std].train_acc[5], std


def test_without_bn_activations_shrink_layer_by_layer_with_bn_they_keep_their_spread(data):
    def spreads(use_batchnorm):
        return [a[a != 0].std() for a in ex.batchnorm_activations(0.01, use_batchnorm=use_batchnorm, data=data)]

    without, with_bn = spreads(False), spreads(True)
    assert all(later < earlier / 5 for earlier, later in zip(without, without[1:], strict=False))
    assert all(0.8 < spread / with_bn[0] < 1.25 for spread in with_bn)


@pytest.mark.slow
def test_batch_norm_does_not_shrink_the_overfitting_gap_on_300_images(data):
    """The slide's "오버피팅 억제" does not show in the 300-image experiment: with batch norm the net learns the
    training images faster and the train-test gap grows."""
    runs = ex.batchnorm_overfitting(data=data)
    plain, bn = runs["without BN"], runs["with BN"]
    assert plain.train == bn.train == 1.0
    assert bn.gap > plain.gap + 0.1
    assert ex.epochs_to_reach(bn.history.train_acc, 1.0) < ex.epochs_to_reach(plain.history.train_acc, 1.0)


# --- Bad input: clear errors naming the argument --------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "error", "message"),
    [(1.0, TypeError, "running_var_starts must be a non-empty tuple"), ((0.0, -1.0), ValueError, "running_var_starts")],
)
def test_scoring_modes_rejects_bad_running_var_starts(data, starts, error, message):
    with pytest.raises(error, match=message):
        ex.batchnorm_scoring_modes(running_var_starts=starts, epochs=1, data=data)


def test_train_mode_accuracy_rejects_a_batch_of_one_and_mismatched_labels(data):
    from helpers.net import MultiLayerNet

    (x, t), _ = ex.first_samples(data, 10, 0)
    net = MultiLayerNet(use_batchnorm=True)
    with pytest.raises(ValueError, match="batch_size"):
        ex.train_mode_accuracy(net, x, t, batch_size=1)
    with pytest.raises(ValueError, match="same length"):
        ex.train_mode_accuracy(net, x, t[:5])
