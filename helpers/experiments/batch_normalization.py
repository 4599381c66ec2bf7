"""Notebook 01: the recap of initial weight scales and the batch-normalization experiments."""

from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_all_start_methods, get_context

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from helpers.checks import check_int
from helpers.experiments.common import first_samples, hidden_activations, in_step
from helpers.gradcheck import check_layer_gradients
from helpers.layers import BatchNorm
from helpers.net import MultiLayerNet
from helpers.optim import SGD
from helpers.train import asks_to_stop, train_epochs

BN_STDS = np.logspace(0, -4, 16)  # the book's 16 initial weight scales, 1 .. 1e-4


def activation_histograms(weight_init_std, activation="sigmoid", n_samples=1000, n_layers=5, width=100, seed=0):
    """The recap experiment: 1000 random inputs through 5 layers of 100 units with a given initial std.
    Returns the activations of each layer (a list of (n_samples, width) arrays)."""
    x = np.random.default_rng(seed).standard_normal((n_samples, width))
    net = MultiLayerNet(
        width, (width,) * n_layers, 2, activation=activation, weight_init_std=weight_init_std, seed=seed
    )
    return hidden_activations(net, x)


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
        if callback is not None and asks_to_stop(callback, callback(runs)):
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


def batchnorm_gradient_check(n_samples=8, n_features=5, seed=0, backward="backward"):
    """BatchNorm's backward (or "backward_graph") vs central differences in float64, for a random batch and a
    random upstream gradient: {"x": rel error, "gamma": ..., "beta": ...}."""
    rng = np.random.default_rng(seed)
    layer = BatchNorm(n_features, dtype=np.float64)
    layer.params["gamma"][:] = rng.standard_normal(n_features)
    layer.params["beta"][:] = rng.standard_normal(n_features)
    x = 3 * rng.standard_normal((n_samples, n_features)) + 2
    return check_layer_gradients(layer, x, backward=backward, seed=seed)


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


# --- The live panel's grid: the pairs trained in worker processes ------------------------------------------------


def _one_blas_thread_per_worker():
    threadpool_limits(limits=1, user_api="blas")  # one pair per core; a second BLAS thread would only compete


def batchnorm_grid_parallel(stds=BN_STDS, n_jobs=2, n_train=1000, data=None, on_pair=None, stop=None, **kwargs):
    """batchnorm_grid with the pairs trained in n_jobs worker processes at once (one BLAS thread each), for the
    live grid: on 2 cores, the 16 pairs of 20 epochs take about half the time of one after the other.

    on_pair: called here as on_pair(std, {"with BN": History, "without BN": History}) as each pair finishes
        (in the order they finish, not the order of `stds`).
    stop: a threading.Event, or None; once it is set, the pairs not yet started are cancelled and the function
        returns after the running ones (at most n_jobs pairs) have finished.
    Other keyword arguments go to batchnorm_pair. Returns {std: runs} of the finished pairs, in the order of stds.
    """
    n_jobs = check_int("n_jobs", n_jobs, low=1)
    (x, t), _ = first_samples(data, n_train, 0)
    subset = ((x, t), (x[:0], t[:0]))  # the workers get the n_train images only, not the whole data set
    method = "forkserver" if "forkserver" in get_all_start_methods() else "spawn"  # never fork a threaded kernel
    context = get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__])  # numpy & co. imported once, not in every worker
    finished = {}
    with ProcessPoolExecutor(n_jobs, context, initializer=_one_blas_thread_per_worker) as pool:
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
