"""The seminar's experiments as plain functions with the book's settings as defaults.

Each returns data (histories, arrays) and never draws: the notebooks, the figures command, the slider
panels and the tests call these same functions. `data` is `load_mnist()`'s result; None loads it.
A `callback` gets the current histories after every epoch and may return True to stop (the Stop button).
"""

from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from helpers.checks import check_int
from helpers.data import load_mnist
from helpers.gradcheck import numerical_gradient, rel_error
from helpers.layers import BatchNorm, Dropout, Relu, Sigmoid
from helpers.net import MultiLayerNet
from helpers.optim import SGD
from helpers.train import fit, train_epochs

BN_STDS = np.logspace(0, -4, 16)  # the book's 16 initial weight scales, 1 .. 1e-4
# The book's (non-inverted) dropout at lr 0.01 learns slowly: measured on the offline digits, train accuracy
# with dropout_ratio 0.15 reaches 0.97 after 400 epochs and 1.0 after 600 (200 without dropout).
DROPOUT_EPOCHS = 600


def first_samples(data, n_train, n_test=None):
    """(x_train, t_train), (x_test, t_test) cut to the first n_train / n_test samples, like the book's x_train[:300]."""
    (x_train, t_train), (x_test, t_test) = data if data is not None else load_mnist()
    n_train = check_int("n_train", n_train, low=1, high=len(x_train))
    n_test = len(x_test) if n_test is None else min(check_int("n_test", n_test, low=0), len(x_test))
    return (x_train[:n_train], t_train[:n_train]), (x_test[:n_test], t_test[:n_test])


# --- Recap: activation distributions and the initial weight scale -------------------------------------------


def hidden_activations(net, x, train=True):
    """The output of every hidden activation layer for input x: a list of (N, width) arrays."""
    outputs = []
    out = np.asarray(x, dtype=net.dtype)
    for layer in net.layers:
        out = layer.forward(out, train)
        if isinstance(layer, (Relu, Sigmoid)):
            outputs.append(out)
    return outputs


def activation_histograms(weight_init_std, activation="sigmoid", n_samples=1000, n_layers=5, width=100, seed=0):
    """The recap experiment: 1000 random inputs through 5 layers of 100 units with a given initial std.
    Returns the activations of each layer (a list of (n_samples, width) arrays)."""
    x = np.random.default_rng(seed).standard_normal((n_samples, width))
    net = MultiLayerNet(
        width, (width,) * n_layers, 2, activation=activation, weight_init_std=weight_init_std, seed=seed
    )
    return hidden_activations(net, x)


# --- 01 Batch normalization ------------------------------------------------------------------------------------


def in_step(steps):
    """Advance several `train_epochs` generators together: yields {label: latest History} after each epoch.
    A run that ends early (it diverged) keeps its last History while the others go on."""
    latest = {}
    while True:
        advanced = False
        for label, step in steps.items():
            history = next(step, None)
            if history is not None:
                latest[label] = history
                advanced = True
        if not advanced:
            return
        yield dict(latest)


def batchnorm_pair(
    weight_init_std,
    n_train=1000,
    epochs=20,
    lr=0.01,
    batch_size=100,
    hidden_sizes=(100,) * 5,
    activation="relu",
    batchnorm_position="before",
    seed=0,
    data=None,
    callback=None,
    return_nets=False,
):
    """Train the same net with and without batch norm on identical mini-batches, epoch by epoch in step.
    batchnorm_position: the normalization "before" the activation (the book's order) or "after" it.

    Returns {"with BN": History, "without BN": History} (train accuracy per epoch, as in the book);
    with return_nets=True, (that dict, {"with BN": trained net, "without BN": trained net}).
    """
    (x, t), _ = first_samples(data, n_train, 0)
    runs = {}
    steps = {}
    nets = {}
    for label, use_bn in (("with BN", True), ("without BN", False)):
        net = MultiLayerNet(
            hidden_sizes=hidden_sizes,
            activation=activation,
            weight_init_std=weight_init_std,
            use_batchnorm=use_bn,
            batchnorm_position=batchnorm_position,
            seed=seed,
        )
        nets[label] = net
        steps[label] = train_epochs(net, x, t, epochs=epochs, batch_size=batch_size, optimizer=SGD(lr), seed=seed)
    for runs in in_step(steps):
        if callback is not None and callback(runs):
            for history in runs.values():
                history.stopped = not history.diverged
            break
    return (runs, nets) if return_nets else runs


def batchnorm_grid(stds=BN_STDS, progress=True, **kwargs):
    """batchnorm_pair for every std (the book's 4x4 grid): {std: {"with BN": History, "without BN": History}}."""
    return {float(std): batchnorm_pair(std, **kwargs) for std in tqdm(stds, desc="BN grid", disable=not progress)}


def batchnorm_activations(weight_init_std, use_batchnorm, n_samples=1000, seed=0, data=None):
    """Hidden activations of the BN experiment's net (untrained) on real digits, with or without batch norm."""
    (x, _), _ = first_samples(data, n_samples, 0)
    net = MultiLayerNet(weight_init_std=weight_init_std, use_batchnorm=use_batchnorm, seed=seed)
    return hidden_activations(net, x)


# --- 02 Overfitting, weight decay and dropout -----------------------------------------------------------


@dataclass
class Run:
    """One overfitting-experiment run: its History and the L2 norm of all weights after each epoch."""

    history: object
    weight_norm: list = field(default_factory=list)

    @property
    def gap(self):
        """Final train accuracy minus final test accuracy."""
        return self.history.final("train") - self.history.final("test")


def weight_norm(net):
    """sqrt(sum of W**2 over every weight matrix): the L2 norm that weight decay keeps small."""
    return float(np.sqrt(sum(np.vdot(W, W) for name, W in net.params.items() if name.startswith("W"))))


def overfitting_run(
    weight_decay_lambda=0.0,
    dropout_ratio=0.0,
    n_train=300,
    epochs=200,
    lr=0.01,
    batch_size=100,
    hidden_sizes=(100,) * 6,
    dropout_inverted=False,
    use_batchnorm=False,
    n_test=None,
    seed=0,
    data=None,
    callback=None,
):
    """The overfitting experiment: 300 samples, 784-100x6-10 ReLU, SGD, train and test accuracy each epoch.

    weight_decay_lambda and dropout_ratio switch on the two cures, use_batchnorm a batch norm before every
    activation. Returns a Run.
    """
    (x, t), (x_test, t_test) = first_samples(data, n_train, n_test)
    net = MultiLayerNet(
        hidden_sizes=hidden_sizes,
        weight_decay_lambda=weight_decay_lambda,
        dropout_ratio=dropout_ratio,
        dropout_inverted=dropout_inverted,
        use_batchnorm=use_batchnorm,
        seed=seed,
    )
    run = Run(history=None)

    def record(history):
        run.weight_norm.append(weight_norm(net))
        return callback(history) if callback is not None else False

    run.history = fit(
        net,
        x,
        t,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=SGD(lr),
        eval_sets={"test": (x_test, t_test)},
        seed=seed,
        callbacks=[record],
    )
    return run


def epochs_to_reach(curve, level):
    """The first epoch at which `curve` (accuracy per epoch) reaches `level`, or None if it never does."""
    reached = np.flatnonzero(np.asarray(curve) >= level)
    return int(reached[0]) if len(reached) else None


def dropout_demo(ratio=0.5, shape=(4, 6), seed=0, inverted=False):
    """Dropout on a small array of ones: (train output, mask, test output), for the mechanics section."""
    layer = Dropout(ratio, inverted=inverted, rng=seed)
    x = np.ones(shape, dtype=np.float32)
    train_out = layer.forward(x, train=True)
    return train_out, layer.mask, layer.forward(x, train=False)


def batchnorm_gradient_check(n_samples=8, n_features=5, seed=0):
    """BatchNorm's backward vs central differences in float64, for a random batch and a random upstream
    gradient: {"x": rel error, "gamma": ..., "beta": ...}."""
    rng = np.random.default_rng(seed)
    layer = BatchNorm(n_features, dtype=np.float64)
    layer.params["gamma"][:] = rng.standard_normal(n_features)
    layer.params["beta"][:] = rng.standard_normal(n_features)
    x = 3 * rng.standard_normal((n_samples, n_features)) + 2
    dout = rng.standard_normal((n_samples, n_features))

    def loss():
        return float(np.sum(layer.forward(x) * dout))

    layer.forward(x)
    errors = {"x": rel_error(layer.backward(dout), numerical_gradient(loss, x))}
    for name, value in layer.params.items():
        errors[name] = rel_error(layer.grads[name], numerical_gradient(loss, value))
    return errors


def batchnorm_modes_demo(n_features=3, batch_size=100, n_batches=100, seed=0):
    """Train mode vs test mode on data with feature means (5, -3, 0) and stds (1, 10, 0.1).

    Returns per-feature means/stds of the train-mode output, the running mean after the first batch
    ("running_mean_first") and after all `n_batches` ("running_mean_last"), and the test-mode output's
    means/stds after them, rounded to 2 decimals.
    """
    rng = np.random.default_rng(seed)

    def batch():
        return (rng.standard_normal((batch_size, n_features)) * [1, 10, 0.1] + [5, -3, 0]).astype(np.float32)

    layer = BatchNorm(n_features)
    x = batch()
    train_out = layer.forward(x, train=True)
    result = {
        "data_mean": x.mean(axis=0),
        "train_mean": train_out.mean(axis=0),
        "train_std": train_out.std(axis=0),
        "running_mean_first": layer.running_mean.copy(),
    }
    for _ in range(n_batches - 1):
        layer.forward(batch(), train=True)
    test_out = layer.forward(batch(), train=False)
    result.update(
        running_mean_last=layer.running_mean.copy(), test_mean=test_out.mean(axis=0), test_std=test_out.std(axis=0)
    )
    return {name: np.round(values, 2) + 0.0 for name, values in result.items()}  # + 0.0 turns -0.0 into 0.0


# --- 03 Hyperparameter search ---------------------------------------------------------------------------------


def search_split(data=None, n_samples=500, ratio=0.2, seed=0):
    """The seminar's search data: the first 500 training images, of which 20 % (100), picked at random with
    `seed`, become the validation set. Returns (x_train, t_train), (x_val, t_val). The test set is not used."""
    from helpers.data import split_validation

    (x, t), _ = first_samples(data, n_samples, 0)
    return split_validation(x, t, ratio=ratio, seed=seed)


def search_objective(data=None, n_samples=500, ratio=0.2, split_seed=0):
    """The seminar's objective: 784-100x6-10 ReLU, SGD, batches of 100, trained on 400 images, scored on 100."""
    from helpers.search import ValidationObjective

    return ValidationObjective(*search_split(data, n_samples, ratio, split_seed))


def seminar_search(
    n_trials=100, epochs=50, ranges=None, seed=0, n_jobs=1, progress=True, data=None, callback=None, n_samples=500
):
    """The seminar's experiment: lr = 10^U(-6,-2), weight decay = 10^U(-8,-4), 100 trials x 50 epochs.

    Returns SearchResults. With the same seed, the first k trials of any search are the k-trial search."""
    from helpers.search import SEMINAR_RANGES, random_search

    objective = search_objective(data, n_samples)
    return random_search(
        objective, ranges or SEMINAR_RANGES, n_trials, epochs, seed, n_jobs=n_jobs, progress=progress, callback=callback
    )


@dataclass
class SearchRound:
    """One round of coarse-to-fine search: the ranges it sampled, its results, the range `narrow` proposes
    next, and the warnings narrow gave (best values at an edge of the range)."""

    ranges: dict
    results: object
    proposal: dict
    warnings: list


def coarse_to_fine(
    first=None, rounds=3, n_trials=20, epochs=20, top_k=5, ranges=None, seed=0, n_jobs=1, progress=False, data=None
):
    """Steps 2-5 of the seminar, repeated: search, narrow to the best top_k trials' range, search again.

    first: the results of round 1 if they exist already (e.g. the seminar's search), else round 1 is run here.
    Round r uses seed + r. Returns a list of SearchRound.
    """
    import warnings

    from helpers.search import SEMINAR_RANGES, narrow, random_search

    objective = search_objective(data)
    ranges = ranges or SEMINAR_RANGES
    history = []
    for number in range(rounds):
        if number == 0 and first is not None:
            results = first
        else:
            results = random_search(
                objective, ranges, n_trials, epochs, seed + number, n_jobs=n_jobs, progress=progress
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            proposal = narrow(results, top_k)
        history.append(SearchRound(results.ranges, results, proposal, [str(w.message) for w in caught]))
        ranges = proposal
    return history


def evaluate_on_test(values, epochs=50, data=None, n_samples=500, seed=0):
    """The final step: train with the chosen values on all n_samples images (training + validation parts),
    then evaluate once on the test set - the only time it is looked at. Returns the test accuracy."""
    (x, t), (x_test, t_test) = first_samples(data, n_samples)
    net = MultiLayerNet(hidden_sizes=(100,) * 6, weight_decay_lambda=values.get("weight_decay", 0.0), seed=seed)
    fit(net, x, t, epochs=epochs, optimizer=SGD(values["lr"]), seed=seed)
    return float(net.accuracy(x_test, t_test))


def grid_vs_random(points=3, epochs=20, ranges=None, seed=0, n_jobs=1, progress=False, data=None, random=None):
    """Grid search (points per axis, every combination) against random search with as many trials.

    random: the random search's results if they exist (its first points**2 trials are used).
    Returns (grid results, random results)."""
    from helpers.search import SEMINAR_RANGES, grid_search, random_search

    objective = search_objective(data)
    ranges = ranges or SEMINAR_RANGES
    n = points ** len(ranges)
    grid = grid_search(objective, ranges, points, epochs, seed, n_jobs=n_jobs, progress=progress)
    if random is None:
        random = random_search(objective, ranges, n, epochs, seed, n_jobs=n_jobs, progress=progress)
    return grid, random[:n]


def search_halving(
    n_trials=27, min_epochs=2, max_epochs=20, eta=3, ranges=None, seed=0, n_jobs=1, progress=False, data=None
):
    """Successive halving on the seminar's objective: the same first trials as seminar_search with this seed."""
    from helpers.search import SEMINAR_RANGES, successive_halving

    return successive_halving(
        search_objective(data), ranges or SEMINAR_RANGES, n_trials, min_epochs, max_epochs, eta, seed, n_jobs, progress
    )


def epochs_to_match(spent, best, level):
    """The epochs spent when a best-so-far curve (from .best_so_far()) first reaches `level`, or None."""
    reached = np.flatnonzero(np.asarray(best) >= level)
    return int(np.asarray(spent)[reached[0]]) if len(reached) else None


def search_summary(results, halving, source=""):
    """The numbers of a full search and a successive halving as plain data (for figures/search_full.json)."""
    spent, best = results.best_so_far()
    h_spent, h_best = halving.best_so_far()
    return {
        "source": source,
        "trials": len(results),
        "epochs": results.epochs,
        "log": [str(trial) for trial in results],
        "ranking": results.ranking().splitlines(),
        "table": results.table(),
        "epochs_spent": results.epochs_spent,
        "best_so_far": [spent.tolist(), best.tolist()],
        "halving": {
            "schedule": halving.schedule,
            "epochs_spent": halving.epochs_spent,
            "best": str(halving.best),
            "best_so_far": [h_spent.tolist(), h_best.tolist()],
            "epochs_to_match": epochs_to_match(h_spent, h_best, results.best.val_acc),
        },
    }


def load_search_summary(path=None):
    """The saved numbers of the full search (figures/search_full.json, made by python -m helpers.figures)."""
    import json
    from pathlib import Path

    path = Path(path) if path else Path(__file__).resolve().parent.parent / "figures" / "search_full.json"
    return json.loads(path.read_text())


# --- Live panels: the batch-norm grid in worker processes ------------------------------------------------------


def _one_blas_thread_per_worker():
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # one pair per core; a second BLAS thread would only compete


def batchnorm_grid_parallel(stds=BN_STDS, n_jobs=2, n_train=1000, data=None, on_pair=None, stop=None, **kwargs):
    """batchnorm_grid with the pairs trained in n_jobs worker processes at once (one BLAS thread each), for the
    live grid: measured on 2 cores, the 16 pairs of 20 epochs take about half the time of one after the other.

    on_pair: called here as on_pair(std, {"with BN": History, "without BN": History}) as each pair finishes
        (in the order they finish, not the order of `stds`).
    stop: a threading.Event, or None; once it is set, the pairs not yet started are cancelled and the function
        returns after the running ones (at most n_jobs pairs) have finished.
    Other keyword arguments go to batchnorm_pair. Returns {std: runs} of the finished pairs, in the order of stds.
    """
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_all_start_methods, get_context

    n_jobs = check_int("n_jobs", n_jobs, low=1)
    (x, t), _ = first_samples(data, n_train, 0)
    subset = ((x, t), (x[:0], t[:0]))  # the workers get the n_train images only, not the whole data set
    method = "forkserver" if "forkserver" in get_all_start_methods() else "spawn"  # never fork a threaded kernel
    finished = {}
    with ProcessPoolExecutor(n_jobs, get_context(method), initializer=_one_blas_thread_per_worker) as pool:
        futures = {
            pool.submit(batchnorm_pair, float(std), n_train=n_train, data=subset, **kwargs): float(std) for std in stds
        }
        for future in as_completed(futures):
            std = futures[future]
            finished[std] = future.result()
            if on_pair is not None:
                on_pair(std, finished[std])
            if stop is not None and stop.is_set():
                for other in futures:
                    other.cancel()
                break
    return {float(std): finished[float(std)] for std in stds if float(std) in finished}
