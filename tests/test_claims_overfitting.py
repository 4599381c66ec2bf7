"""What notebooks 02 (weight decay) and 03 (dropout) say, checked on the book's images with the notebooks' settings.

The long runs are made once per module and shared: the plain net trains 300 epochs (notebook 03's range); its
first 200 epochs are notebook 02's run (the same seed gives the same steps), so 02's claims read them there.
"""

import numpy as np
import pytest

from helpers import experiments as ex
from helpers.data import load_mnist
from helpers.layers import Dropout
from helpers.net import MultiLayerNet

EPOCHS_02 = ex.WEIGHT_DECAY_EPOCHS  # 200
SWEEP = (0.0, 0.001, 0.01, 0.03, 0.1, 0.3)


@pytest.fixture(scope="module")
def data():
    return load_mnist(verbose=False)


@pytest.fixture(scope="module")
def plain(data):
    return ex.overfitting_run(epochs=ex.DROPOUT_EPOCHS, data=data)


@pytest.fixture(scope="module")
def decayed(data):
    return ex.overfitting_run(weight_decay_lambda=0.1, data=data)


@pytest.fixture(scope="module")
def dropout(data):
    return ex.overfitting_run(dropout_ratio=0.15, epochs=ex.DROPOUT_EPOCHS, data=data)


@pytest.fixture(scope="module")
def sweep(data, decayed):
    runs = {0.1: decayed}
    for lam in SWEEP:
        runs.setdefault(lam, ex.overfitting_run(weight_decay_lambda=lam, test_every_epoch=False, data=data))
    return {lam: ex.final_accuracies(runs[lam], data=data) for lam in SWEEP}


def at_epoch(run, epoch):
    """(train accuracy, test accuracy) of a run after `epoch` epochs."""
    return run.history.train_acc[epoch], run.history.eval_acc["test"][epoch]


# --- The measurements behind the claims ------------------------------------------------------------------------


def test_test_accuracy_and_loss_come_from_one_pass_and_match_the_net(data):
    run = ex.overfitting_run(weight_decay_lambda=0.1, epochs=2, n_test=700, data=data)
    (x, t), (x_test, t_test) = ex.first_samples(data, 300, 700)
    net = run.net
    assert len(run.history.eval_acc["test"]) == len(run.test_loss) == len(run.train_loss) == 3
    assert run.history.eval_acc["test"][-1] == net.accuracy(x_test, t_test)
    # the loss curves leave the penalty out
    assert run.test_loss[-1] == pytest.approx(net.loss(x_test, t_test, train=False) - net.weight_decay_term(), rel=1e-5)
    assert run.train_loss[-1] == pytest.approx(net.loss(x, t, train=False) - net.weight_decay_term(), rel=1e-5)


def test_a_run_without_test_scoring_trains_the_same_net(data):
    scored = ex.overfitting_run(epochs=3, n_test=200, data=data)
    unscored = ex.overfitting_run(epochs=3, test_every_epoch=False, data=data)
    assert unscored.history.eval_acc == {} and unscored.test_loss == []
    assert unscored.history.train_acc == scored.history.train_acc
    assert (
        ex.final_accuracies(unscored, sets=("test",), data=data)["test"]
        == ex.final_accuracies(scored, sets=("test",), data=data)["test"]
    )


def test_learned_norm_is_the_distance_from_the_start_without_decay_and_from_the_shrunk_start_with_it(data):
    for lam in (0.0, 0.5):
        run = ex.overfitting_run(weight_decay_lambda=lam, epochs=2, n_test=100, data=data)
        start = MultiLayerNet(hidden_sizes=(100,) * 6, seed=0).params  # the same seed: the same W₀
        shrunk = (1 - 0.01 * lam) ** 6  # 2 epochs x 3 steps
        expected = np.sqrt(sum(np.sum((run.net.params[k] - shrunk * start[k]) ** 2) for k in start if k[0] == "W"))
        assert run.learned_norm[0] == 0
        assert run.learned_norm[-1] == pytest.approx(expected, rel=1e-5)


def test_the_shrinkage_curve_is_one_minus_lr_lambda_to_the_number_of_steps():
    curve = ex.shrinkage_curve(35.0, 0.1)
    assert len(curve) == 201
    assert curve[1] == pytest.approx(35.0 * 0.999**3)  # 300 images in batches of 100: 3 steps per epoch
    assert curve[-1] == pytest.approx(35.0 * 0.999**600)
    assert ex.shrinkage_curve(35.0, 0.1, epochs=1, n_train=1000)[1] == pytest.approx(35.0 * 0.999**10)


def test_validation_images_are_the_training_images_after_the_first_300(data):
    (x_train, t_train), _ = data
    x_val, t_val = ex.validation_images(data)
    assert np.array_equal(x_val, x_train[300:1300]) and np.array_equal(t_val, t_train[300:1300])


def test_mask_ensemble_scores_each_thinned_net_and_their_average(data):
    x, t = data[1][0][:500], data[1][1][:500]
    no_dropout = ex.mask_ensemble(MultiLayerNet(hidden_sizes=(100,) * 6, seed=0), x, t, n_masks=(1, 3))
    assert no_dropout.single_masks == [no_dropout.weight_scaling] * 3  # no units to drop: every forward is the same
    assert no_dropout.averaged == {1: no_dropout.weight_scaling, 3: no_dropout.weight_scaling}
    net = MultiLayerNet(hidden_sizes=(100,) * 6, dropout_ratio=0.5, seed=0)
    first, again = ex.mask_ensemble(net, x, t, n_masks=(2,)), ex.mask_ensemble(net, x, t, n_masks=(2,))
    assert len(first.single_masks) == 2 and first.single_masks != again.single_masks  # new masks on every call
    with pytest.raises(ValueError, match="n_masks must be an integer in"):
        ex.mask_ensemble(net, x, t, n_masks=(0,))


def test_final_accuracies_names_the_sets_it_knows(data):
    run = ex.overfitting_run(epochs=0, test_every_epoch=False, data=data)
    with pytest.raises(ValueError, match=r"sets must be a tuple of names from \('train', 'validation', 'test'\)"):
        ex.final_accuracies(run, sets=("val",), data=data)
    with pytest.raises(ValueError, match="sets must be a tuple"):
        ex.final_accuracies(run, sets="test", data=data)


# --- 02: overfitting -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_02_the_plain_net_learns_its_300_images_and_stays_far_lower_on_the_test_set(plain):
    train, test = at_epoch(plain, EPOCHS_02)
    assert train == 1.0
    assert train - test > 0.10


@pytest.mark.slow
def test_02_after_100_percent_the_train_loss_keeps_falling_and_the_test_loss_rises_again(plain):
    reach = ex.epochs_to_reach(plain.history.train_acc[: EPOCHS_02 + 1], 1.0)
    train_loss, test_loss = plain.train_loss[: EPOCHS_02 + 1], plain.test_loss[: EPOCHS_02 + 1]
    assert train_loss[-1] < 0.5 * train_loss[reach]
    lowest = int(np.argmin(test_loss))
    assert 0 < lowest < EPOCHS_02
    assert test_loss[-1] > test_loss[lowest] + 0.02
    # while test accuracy stays about the same: it is the confidence, not the count of errors
    assert abs(plain.history.eval_acc["test"][EPOCHS_02] - plain.history.eval_acc["test"][lowest]) < 0.03


# --- 02: weight decay ------------------------------------------------------------------------------------------


def test_02_the_loss_with_weight_decay_is_the_loss_plus_half_lambda_sum_of_squares(data):
    x, t = data[0][0][:5], data[0][1][:5]
    no_decay, decay = MultiLayerNet(seed=1), MultiLayerNet(weight_decay_lambda=0.1, seed=1)
    sum_w2 = sum(float(np.sum(W.astype(np.float64) ** 2)) for name, W in decay.params.items() if name[0] == "W")
    assert decay.loss(x, t) - no_decay.loss(x, t) == pytest.approx(0.5 * 0.1 * sum_w2, rel=1e-4)


@pytest.mark.slow
def test_02_lambda_0_1_shrinks_the_gap_keeps_train_below_100_and_lowers_test_accuracy(plain, decayed):
    train, test = at_epoch(plain, EPOCHS_02)
    assert decayed.gap < train - test
    assert decayed.history.final("train") < 1.0
    assert decayed.history.final("test") < test


@pytest.mark.slow
def test_02_with_weight_decay_the_train_loss_stays_up_and_the_test_loss_hardly_rises(plain, decayed):
    assert decayed.train_loss[-1] > 0.3
    assert decayed.test_loss[-1] - min(decayed.test_loss) < 0.01
    assert min(decayed.test_loss) > min(plain.test_loss[: EPOCHS_02 + 1])


@pytest.mark.slow
def test_02_the_plain_weights_do_not_grow_and_the_decayed_norm_follows_pure_shrinkage(plain, decayed):
    norms = plain.weight_norm[: EPOCHS_02 + 1]
    assert abs(norms[-1] / norms[0] - 1) < 0.02
    learned = plain.learned_norm[EPOCHS_02]
    assert learned < 0.1 * norms[-1]  # what training moved is small next to the random start
    shrinkage = ex.shrinkage_curve(decayed.weight_norm[0], 0.1)
    assert np.all(np.abs(np.array(decayed.weight_norm) / shrinkage - 1) < 0.05)
    # the part the data built does not shrink with weight decay; its share of ‖W‖ more than doubles
    assert decayed.learned_norm[-1] >= learned
    assert decayed.learned_norm[-1] / decayed.weight_norm[-1] > 2 * learned / norms[-1]


@pytest.mark.slow
def test_02_the_sweep_shrinks_the_gap_only_from_lambda_0_1_and_0_3_learns_nothing(sweep):
    gaps = {lam: scores["train"] - scores["test"] for lam, scores in sweep.items()}
    for lam in (0.001, 0.01, 0.03):
        assert sweep[lam]["train"] == 1.0
        assert abs(sweep[lam]["test"] - sweep[0.0]["test"]) < 0.02
    assert gaps[0.1] < gaps[0.0] - 0.03
    assert all(scores < 0.2 for scores in sweep[0.3].values())


@pytest.mark.slow
def test_02_validation_follows_test_and_the_lambda_it_chooses_is_only_a_little_better(sweep):
    val = [sweep[lam]["validation"] for lam in SWEEP]
    test = [sweep[lam]["test"] for lam in SWEEP]
    assert np.corrcoef(val, test)[0, 1] > 0.95
    chosen = max(SWEEP, key=lambda lam: sweep[lam]["validation"])
    assert 0 < chosen < 0.1
    assert 0 <= sweep[chosen]["test"] - sweep[0.0]["test"] < 0.03


# --- 03: dropout -----------------------------------------------------------------------------------------------


def test_03_the_mask_drops_the_ratio_and_the_test_output_is_the_training_mean():
    train_out, mask, test_out = ex.dropout_demo(dropout_ratio=0.5, shape=(3, 8), seed=0)
    assert set(np.unique(mask)) <= {0, 1} and np.array_equal(train_out, mask.astype(train_out.dtype))
    assert np.all(test_out == 0.5)
    layer = Dropout(0.15, rng=0)
    x = np.array([[-2, -1, 0, 1, 2]], dtype=np.float32).repeat(100_000, axis=0)
    train_mean = layer.forward(x, train=True).mean(axis=0)
    assert np.mean(layer.mask == 0) == pytest.approx(0.15, abs=0.005)
    assert train_mean == pytest.approx(layer.forward(x[:1], train=False)[0], abs=0.01)


@pytest.mark.slow
def test_03_dropout_shrinks_the_gap_keeps_train_below_100_and_is_still_learning_at_300(plain, dropout):
    assert dropout.gap < plain.gap
    assert dropout.history.final("train") < 1.0
    assert dropout.history.final("test") < plain.history.final("test")
    assert dropout.history.final("train") - dropout.history.train_acc[-51] > 0.02


@pytest.mark.slow
def test_03_at_the_same_train_accuracy_dropout_has_the_higher_test_accuracy(plain, dropout):
    def test_at(run, level=0.8):
        return run.history.eval_acc["test"][ex.epochs_to_reach(run.history.train_acc, level)]

    assert test_at(dropout) > test_at(plain) + 0.01


@pytest.mark.slow
def test_03_inverted_dropout_learns_faster_than_the_books_form_and_slower_than_no_dropout(data, plain, dropout):
    inverted = ex.overfitting_run(
        dropout_ratio=0.15, dropout_inverted=True, epochs=ex.DROPOUT_EPOCHS, test_every_epoch=False, data=data
    )
    never = ex.DROPOUT_EPOCHS + 1
    reach = {
        name: ex.epochs_to_reach(run.history.train_acc, 0.95) or never
        for name, run in (("plain", plain), ("book", dropout), ("inverted", inverted))
    }
    assert reach["plain"] < reach["inverted"] < reach["book"]


@pytest.mark.slow
def test_03_the_test_time_rule_matches_the_average_of_many_thinned_networks(data, dropout):
    ensemble = ex.mask_ensemble(dropout.net, *data[1], n_masks=(1, 50))
    single = np.mean(ensemble.single_masks)
    assert single < ensemble.weight_scaling - 0.05
    assert ensemble.averaged[50] > ensemble.averaged[1] + 0.05
    assert abs(ensemble.averaged[50] - ensemble.weight_scaling) < 0.01
