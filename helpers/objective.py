"""The search's objective: train a fresh net with a trial's hyperparameters, score it on the validation data."""

from helpers.checks import check_array, check_int, check_same_length
from helpers.net import MultiLayerNet, check_hidden_sizes
from helpers.optim import SGD
from helpers.train import fit


class ValidationObjective:
    """Trains a fresh MultiLayerNet with a trial's hyperparameters on (x_train, t_train) and records its
    accuracy on (x_val, t_val) after every epoch. The test set is not an argument: it cannot leak in.

    train, val: (x, t) pairs, x: (N, 784) float array, t: (N,) labels.
    Hyperparameter names it understands: "lr" (SGD's learning rate) and "weight_decay" (λ of the L2 penalty).
    hidden_sizes, batch_size: the fixed part of the setting (the seminar's 784-100x6-10, mini-batches of 100).
    """

    names = ("lr", "weight_decay")

    def __init__(self, train, val, hidden_sizes=(100,) * 6, batch_size=100, output_size=10):
        self.x_train, self.t_train = _check_pair("train", train)
        self.x_val, self.t_val = _check_pair("val", val)
        self.hidden_sizes = check_hidden_sizes(hidden_sizes)
        self.batch_size = check_int("batch_size", batch_size, low=1, high=len(self.x_train))
        self.input_size = self.x_train.reshape(len(self.x_train), -1).shape[1]
        self.output_size = check_int("output_size", output_size, low=2)

    def check_names(self, names):
        unknown = [name for name in names if name not in self.names]
        if unknown:
            raise ValueError(f"ranges name {unknown}, but the objective only knows {list(self.names)}")

    def train(self, values, epochs, seed, callbacks=()):
        """Train a new net (initial weights and mini-batch order from `seed`) for `epochs` epochs.

        values: {"lr": ..., "weight_decay": ...}. Returns its History: .train_acc and .eval_acc["val"]
        per epoch, epoch 0 included. The same values, epochs and seed always give the same History.
        callbacks: as for helpers.train.fit (e.g. Optuna's pruning: report, then return STOP).
        """
        net = MultiLayerNet(
            input_size=self.input_size,
            hidden_sizes=self.hidden_sizes,
            output_size=self.output_size,
            weight_decay_lambda=values.get("weight_decay", 0.0),
            seed=seed,
        )
        return fit(
            net,
            self.x_train,
            self.t_train,
            epochs=epochs,
            batch_size=self.batch_size,
            optimizer=SGD(values.get("lr", 0.01)),
            eval_sets={"val": (self.x_val, self.t_val)},
            seed=seed,
            callbacks=callbacks,
        )


def _check_pair(name, pair):
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise TypeError(f"{name} must be a pair (x_{name}, t_{name}), got {type(pair).__name__}")
    x, t = (check_array(f"{part}_{name}", value) for part, value in zip("xt", pair, strict=True))
    check_same_length(f"x_{name}", x, f"t_{name}", t)
    if x.ndim < 2:
        raise ValueError(f"x_{name} must be a batch of samples, shape (N, D), got shape {x.shape}")
    return x, t
