"""Time the seminar's workloads four ways, side by side in one run, and print the ratios.

    python benchmarks/bench.py            # full: 100 trials of W3 (about 15 minutes on 2 cores)
    python benchmarks/bench.py --quick    # 10 trials of W3, fewer repeats (about 3 minutes)

Workloads (784 inputs, 10 classes, ReLU, He init, SGD, batch 100; every run scores the whole training
set and each eval set at epoch 0 and after every epoch, as `helpers.fit` does):
    W1  batch-norm pair: 1000 samples, 784-100x5-10, lr 0.01, 20 epochs, with and without batch norm
    W2  overfitting: 300 samples, 784-100x6-10, lr 0.01, 200 epochs, test accuracy on 4000 samples
    W3  random search: 100 trials of 50 epochs on 400 train / 100 validation samples, 784-100x6-10,
        each trial a new net with its own lr (1e-6 .. 1e-2) and weight decay (1e-8 .. 1e-4)

Implementations:
    helpers  MultiLayerNet + fit, float32
    book     book-style NumPy written for this file: layer objects chained in Python, float64
    floor    only the matrix products of the same steps (forward and backward GEMMs of every step,
             and the forward GEMMs of every evaluation, in helpers' chunks), float32, one BLAS thread
    torch    PyTorch on the CPU, if it can be imported: nn.Sequential, float32, one thread
    numpy    (W2 and W3, after the table) the fastest plain-NumPy version of the same training: the products
             and every elementwise operation SGD needs, into arrays made once; what no NumPy net can beat
One BLAS thread everywhere, as helpers.train uses; the last section measures what two threads would do.

Each unit of work (W1: each run of the pair, W2: the run, W3: a trial) is timed for every implementation
in turn. The table shows each unit's fastest time over the repeats; each ratio is the median over the
repeats of the ratio measured within one repeat. This machine's speed drifts by 10-25 % over seconds
(turbo, neighbours on the host, another job on the other core): pairing the two sides of a ratio
in time cancels most of that drift, comparing fastest times would not.
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import helpers.net
import helpers.train
from helpers.data import load_mnist
from helpers.net import MultiLayerNet
from helpers.optim import SGD
from helpers.train import fit

F32 = np.float32
EVAL_CHUNK = getattr(helpers.net, "EVAL_CHUNK", None)  # helpers scores this many samples at a time


# ----------------------------------------------------------------------------------------------- data


def load_data():
    """5000 real digits that need no network: 4000 train / 1000 test (helpers.data's offline subset)."""
    (x, t), (x_test, t_test) = load_mnist(source="offline", verbose=False)
    return x, t, x_test, t_test, "real MNIST digits (helpers.data offline subset)"


@dataclass
class Run:
    """One training run: what every implementation trains and scores."""

    x: np.ndarray
    t: np.ndarray
    hidden: tuple
    epochs: int
    lr: float = 0.01
    weight_decay: float = 0.0
    batchnorm: bool = False
    eval_sets: dict = field(default_factory=dict)
    batch_size: int = 100
    seed: int = 0

    @property
    def sizes(self):
        return (self.x.shape[1], *self.hidden, 10)


def workloads(data, trials):
    """{name: list of units}; a unit is a list of Runs timed together (W1: one unit per run)."""
    x, t, x_test, t_test = data
    w1 = [[Run(x[:1000], t[:1000], (100,) * 5, epochs=20, batchnorm=bn)] for bn in (True, False)]
    # 4000 held-out digits for W2: the 1000 test digits and 3000 training digits not among the 300 used
    x_held, t_held = np.concatenate([x_test, x[1000:4000]]), np.concatenate([t_test, t[1000:4000]])
    w2 = [[Run(x[:300], t[:300], (100,) * 6, epochs=200, eval_sets={"test": (x_held, t_held)})]]
    rng = np.random.default_rng(0)
    w3 = []
    for trial in range(trials):
        lr, decay = 10 ** rng.uniform(-6, -2), 10 ** rng.uniform(-8, -4)
        val = {"val": (x[400:500], t[400:500])}
        w3.append([Run(x[:400], t[:400], (100,) * 6, epochs=50, lr=lr, weight_decay=decay, eval_sets=val, seed=trial)])
    return {"W1": w1, "W2": w2, "W3": w3}


# -------------------------------------------------------------------------------------------- helpers


def helpers_train(run):
    net = MultiLayerNet(hidden_sizes=run.hidden, use_batchnorm=run.batchnorm, weight_decay_lambda=run.weight_decay)
    history = fit(net, run.x, run.t, epochs=run.epochs, batch_size=run.batch_size, optimizer=SGD(run.lr),
                  eval_sets=run.eval_sets, seed=run.seed)  # fmt: skip
    return {"train": history.final(), **{name: history.final(name) for name in run.eval_sets}}


# -------------------------------------------------- book style: float64 layer objects chained in Python


class BookAffine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x, train):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class BookRelu:
    def forward(self, x, train):
        self.negative = x <= 0
        out = x.copy()
        out[self.negative] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.negative] = 0
        return dx


class BookBatchNorm:
    """Forward and backward through the graph mean -> centre -> variance -> normalize, node by node."""

    def __init__(self, dim):
        self.gamma, self.beta = np.ones(dim), np.zeros(dim)
        self.running_mean, self.running_var = np.zeros(dim), np.ones(dim)

    def forward(self, x, train):
        if not train:
            return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + 1e-7) + self.beta
        mean = np.mean(x, axis=0)
        self.centred = x - mean
        var = np.mean(self.centred**2, axis=0)
        self.std = np.sqrt(var + 1e-7)
        self.normed = self.centred / self.std
        self.running_mean = 0.9 * self.running_mean + 0.1 * mean
        self.running_var = 0.9 * self.running_var + 0.1 * var
        return self.gamma * self.normed + self.beta

    def backward(self, dout):
        n = len(dout)
        self.dbeta = np.sum(dout, axis=0)
        self.dgamma = np.sum(self.normed * dout, axis=0)
        dnormed = self.gamma * dout
        dcentred = dnormed / self.std
        dstd = -np.sum(dnormed * self.centred / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dcentred += (2.0 / n) * self.centred * dvar
        dmean = np.sum(dcentred, axis=0)
        return dcentred - dmean / n


class BookSoftmaxWithLoss:
    def forward(self, x, t):
        exp = np.exp(x - np.max(x, axis=1, keepdims=True))
        self.y, self.t = exp / np.sum(exp, axis=1, keepdims=True), t
        return -np.sum(np.log(self.y[np.arange(len(t)), t] + 1e-7)) / len(t)

    def backward(self):
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx / len(self.t)


class BookNet:
    def __init__(self, sizes, batchnorm, weight_decay, seed):
        rng = np.random.default_rng(seed)
        self.weight_decay = weight_decay
        self.layers, self.affines = [], []
        for i in range(len(sizes) - 1):
            W = rng.standard_normal((sizes[i], sizes[i + 1])) * np.sqrt(2.0 / sizes[i])
            self.affines.append(BookAffine(W, np.zeros(sizes[i + 1])))
            self.layers.append(self.affines[-1])
            if i < len(sizes) - 2:
                self.layers += [BookBatchNorm(sizes[i + 1])] if batchnorm else []
                self.layers.append(BookRelu())
        self.last = BookSoftmaxWithLoss()

    def predict(self, x, train):
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def loss(self, x, t):
        decay = sum(0.5 * self.weight_decay * np.sum(a.W**2) for a in self.affines)
        return self.last.forward(self.predict(x, True), t) + decay

    def sgd_step(self, x, t, lr):
        self.loss(x, t)
        dout = self.last.backward()
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        for layer in self.layers:
            if isinstance(layer, BookAffine):
                layer.W -= lr * (layer.dW + self.weight_decay * layer.W)
                layer.b -= lr * layer.db
            elif isinstance(layer, BookBatchNorm):
                layer.gamma -= lr * layer.dgamma
                layer.beta -= lr * layer.dbeta

    def accuracy(self, x, t):
        return np.mean(np.argmax(self.predict(x, False), axis=1) == t)


def book_train(run):
    net = BookNet(run.sizes, run.batchnorm, run.weight_decay, run.seed)
    x = run.x.astype(np.float64)
    scored = {"train": (x, run.t)} | {name: (xe.astype(np.float64), te) for name, (xe, te) in run.eval_sets.items()}
    rng = np.random.default_rng(run.seed)
    with threadpool_limits(1, "blas"):
        for epoch in range(run.epochs + 1):
            if epoch > 0:
                order = rng.permutation(len(x))
                for start in range(0, len(x), run.batch_size):
                    batch = order[start : start + run.batch_size]
                    net.sgd_step(x[batch], run.t[batch], run.lr)
            accuracies = {name: net.accuracy(xs, ts) for name, (xs, ts) in scored.items()}
    return accuracies


# ------------------------------------------------------------------------- floor: the products alone


def floor_train(run, train=True, evaluate=True):
    """The forward and backward GEMMs of every step and the GEMMs of every evaluation, nothing else.

    float32, into preallocated outputs, one BLAS thread; the evaluation products in helpers' chunks of
    rows. Returns nothing useful: there is no learning here."""
    rng = np.random.default_rng(0)
    sizes, bs = run.sizes, run.batch_size
    Ws = [(rng.standard_normal((a, b)) / np.sqrt(a)).astype(F32) for a, b in zip(sizes, sizes[1:], strict=False)]
    dWs = [np.empty_like(W) for W in Ws]
    outs = [np.empty((bs, W.shape[1]), F32) for W in Ws]  # forward outputs of one batch
    deltas = [rng.standard_normal((bs, W.shape[1])).astype(F32) for W in Ws]  # backward inputs of one batch
    scored = [run.x] + [x for x, _ in run.eval_sets.values()]
    chunk = EVAL_CHUNK or max(len(x) for x in scored)
    eval_outs = [np.empty((chunk, W.shape[1]), F32) for W in Ws]
    n = len(run.x)
    for epoch in range(run.epochs + 1):
        if train and epoch > 0:
            with threadpool_limits(1, "blas"):
                for start in range(0, n, bs):
                    size = min(bs, n - start)
                    h = run.x[start : start + size]
                    for W, out in zip(Ws, outs, strict=True):
                        h = np.matmul(h, W, out=out[:size])
                    for i in reversed(range(len(Ws))):
                        inputs = run.x[start : start + size] if i == 0 else outs[i - 1][:size]
                        np.matmul(inputs.T, deltas[i][:size], out=dWs[i])
                        if i > 0:  # the first layer's input gradient is never needed
                            np.matmul(deltas[i][:size], Ws[i].T, out=deltas[i - 1][:size])
        if evaluate:
            with threadpool_limits(1, "blas"):
                for x in scored:
                    for start in range(0, len(x), chunk):
                        h = x[start : start + chunk]
                        for W, out in zip(Ws, eval_outs, strict=True):
                            h = np.matmul(h, W, out=out[: len(h)])
    return {}


# ------------------------------------------------ numpy floor: every operation a NumPy net must do


class NumpyFloor:
    """The fastest plain-NumPy version of helpers' training without batch norm or dropout: the GEMMs and every
    elementwise operation that SGD with ReLU, softmax cross-entropy and weight decay needs (shuffle and gather
    the batch, add biases, ReLU and its mask, softmax, bias sums, dW + lambda W, W -= lr dW), each into an array
    made once, in place where it can be; float32, one BLAS thread. No argument checks, no layer objects."""

    def __init__(self, run):
        rng = np.random.default_rng(run.seed)
        sizes, bs = run.sizes, run.batch_size
        self.Ws = [
            (rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(F32) for a, b in zip(sizes, sizes[1:], strict=False)
        ]
        self.bs = [np.zeros(W.shape[1], F32) for W in self.Ws]
        self.dWs = [np.empty_like(W) for W in self.Ws]
        self.scratch = [np.empty_like(W) for W in self.Ws]
        self.outs = [np.empty((bs, W.shape[1]), F32) for W in self.Ws]
        self.deltas = [np.empty((bs, W.shape[1]), F32) for W in self.Ws]
        self.masks = [np.empty((bs, W.shape[1]), bool) for W in self.Ws]
        self.batch = np.empty((bs, sizes[0]), F32)
        self.lr, self.lam = F32(run.lr), F32(run.weight_decay)

    def step(self, x, t):
        last = len(self.Ws) - 1
        h = x
        for i, (W, b, out) in enumerate(zip(self.Ws, self.bs, self.outs, strict=True)):
            h = np.matmul(h, W, out=out[: len(x)])
            h += b
            if i < last:
                np.maximum(h, 0, out=h)
                np.greater(h, 0, out=self.masks[i][: len(x)])
        rows = np.arange(len(x))
        shifted = h - h.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        penalty = 0.5 * self.lam * sum(np.vdot(W, W) for W in self.Ws)
        loss = -(shifted[rows, t] - np.log(total[:, 0])).mean() + penalty
        delta = np.divide(exp, total, out=self.deltas[last][: len(x)])
        delta[rows, t] -= 1
        delta *= F32(1 / len(x))
        for i in range(last, -1, -1):
            inputs, delta = (x if i == 0 else self.outs[i - 1][: len(x)]), self.deltas[i][: len(x)]
            np.matmul(inputs.T, delta, out=self.dWs[i])
            db = delta.sum(axis=0)
            if self.lam:
                self.dWs[i] += np.multiply(self.Ws[i], self.lam, out=self.scratch[i])
            if i > 0:
                np.matmul(delta, self.Ws[i].T, out=self.deltas[i - 1][: len(x)])
                self.deltas[i - 1][: len(x)] *= self.masks[i - 1][: len(x)]
            self.Ws[i] -= np.multiply(self.dWs[i], self.lr, out=self.scratch[i])
            self.bs[i] -= self.lr * db
        return loss

    def accuracy(self, x, t):
        correct, chunk = 0, EVAL_CHUNK or len(x)
        for start in range(0, len(x), chunk):
            h = x[start : start + chunk]
            for i, (W, b) in enumerate(zip(self.Ws, self.bs, strict=True)):
                h = h @ W
                h += b
                if i < len(self.Ws) - 1:
                    np.maximum(h, 0, out=h)
            correct += np.count_nonzero(h.argmax(axis=1) == t[start : start + len(h)])
        return correct / len(x)


def numpy_floor_train(run):
    if run.batchnorm:
        raise ValueError("the NumPy floor has no batch norm")
    net, rng = NumpyFloor(run), np.random.default_rng(run.seed)
    scored = {"train": (run.x, run.t)} | run.eval_sets
    with threadpool_limits(1, "blas"):
        for epoch in range(run.epochs + 1):
            if epoch > 0:
                order = rng.permutation(len(run.x))
                for start in range(0, len(run.x), run.batch_size):
                    batch = order[start : start + run.batch_size]
                    x = np.take(run.x, batch, axis=0, out=net.batch[: len(batch)])
                    net.step(x, run.t[batch])
            accuracies = {name: net.accuracy(xs, ts) for name, (xs, ts) in scored.items()}
    return accuracies


# ---------------------------------------------------------------------------------------------- torch


def torch_train(run):
    import torch

    torch.set_num_threads(1)  # as helpers: one thread for training and scoring
    torch.manual_seed(run.seed)
    layers = []
    for i, (a, b) in enumerate(zip(run.sizes, run.sizes[1:], strict=False)):
        layers.append(torch.nn.Linear(a, b))
        torch.nn.init.normal_(layers[-1].weight, std=np.sqrt(2.0 / a))  # He init and zero biases, as helpers
        torch.nn.init.zeros_(layers[-1].bias)
        if i < len(run.sizes) - 2:
            layers += [torch.nn.BatchNorm1d(b, eps=1e-7, momentum=0.1)] if run.batchnorm else []
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight") and p.dim() == 2]
    others = [p for name, p in model.named_parameters() if not (name.endswith("weight") and p.dim() == 2)]
    groups = [{"params": weights, "weight_decay": run.weight_decay}, {"params": others, "weight_decay": 0.0}]
    optimizer = torch.optim.SGD(groups, lr=run.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, t = torch.from_numpy(run.x), torch.from_numpy(run.t)
    scored = {"train": (x, t)} | {k: (torch.from_numpy(a), torch.from_numpy(b)) for k, (a, b) in run.eval_sets.items()}
    rng = np.random.default_rng(run.seed)
    for epoch in range(run.epochs + 1):
        if epoch > 0:
            model.train()
            order = torch.from_numpy(rng.permutation(len(x)))
            for start in range(0, len(x), run.batch_size):
                batch = order[start : start + run.batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss_fn(model(x[batch]), t[batch]).backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            accuracies = {k: (model(xs).argmax(1) == ts).float().mean().item() for k, (xs, ts) in scored.items()}
    return accuracies


def torch_available():
    try:
        import torch

        return torch.__version__
    except ImportError:
        return None


# -------------------------------------------------------------------------------------------- timing


def seconds(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


def time_units(units, implementations, repeat):
    """Time every unit with every implementation, `repeat` times over.

    Each repeat runs the whole workload once, unit by unit, and each unit with every implementation in turn,
    so that within one repeat the implementations meet the same machine conditions.
    Returns (times, results): times[r][u] = {implementation: seconds} of unit u in repeat r, and
    {implementation: [results per unit]} of the last repeat."""
    times = []
    for _ in range(repeat):
        times.append([])
        results = {name: [] for name in implementations}
        for unit in units:
            unit_times = {}
            for name, train in implementations.items():
                unit_times[name], unit_results = seconds(lambda train=train, unit=unit: [train(run) for run in unit])
                results[name].append(unit_results)
            times[-1].append(unit_times)
    return times, results


def summarize(times, units=None):
    """(fastest seconds, ratios) of a workload, or of the listed units only.

    fastest: {implementation: sum over units of each unit's fastest time}.
    ratios: {implementation: median over repeats of helpers' time / its time in the same repeat} — paired,
    so a slow spell of the machine, which lasts seconds here, slows both sides of a ratio alike."""
    units = range(len(times[0])) if units is None else units
    names = list(times[0][0])
    fastest = {name: sum(min(repeat[u][name] for repeat in times) for u in units) for name in names}
    totals = [{name: sum(repeat[u][name] for u in units) for name in names} for repeat in times]
    ratios = {name: float(np.median([total["helpers"] / total[name] for total in totals])) for name in names}
    return fastest, ratios


def accuracy_summary(name, results):
    """A short line showing that the implementations learn alike (floor: nothing to show)."""
    if name == "W1":
        (with_bn,), (without_bn,) = results
        return f"train {with_bn['train']:.3f} with BN, {without_bn['train']:.3f} without"
    if name == "W3":
        return f"best val {max(unit[0]['val'] for unit in results):.3f}"
    return " ".join(f"{key} {value:.3f}" for key, value in results[0][0].items())


def min_time(function, repeat):
    return min(seconds(function)[0] for _ in range(repeat))


# ------------------------------------------------------------------------------------------- reports


def print_table(rows):
    """rows: {label: (fastest seconds, ratios)} from summarize."""
    names = list(next(iter(rows.values()))[0])
    header = "".join(f"{name:>10}" for name in names) + f"{'helpers/floor':>15}{'book/helpers':>14}"
    header += f"{'torch/helpers':>15}" if "torch" in names else ""
    print(f"\n{'seconds (fastest)':<18}{header}")
    for workload, (fastest, ratios) in rows.items():
        line = f"{workload:<18}" + "".join(f"{fastest[name]:>10.2f}" for name in names)
        line += f"{ratios['floor']:>15.2f}{1 / ratios['book']:>14.2f}"
        line += f"{1 / ratios['torch']:>15.2f}" if "torch" in names else ""
        print(line)
    print("ratios: median over the repeats of the ratio within each repeat (W3: one repeat, trials interleaved)")


def w2_breakdown(run, repeat):
    """Where helpers' W2 time goes: training steps vs scoring (fit's record_accuracy), next to the floor."""
    record = helpers.train.record_accuracy
    scoring = [0.0]

    def timed_record(*args):
        elapsed, _ = seconds(record, *args)
        scoring[0] += elapsed

    best = {"training": np.inf, "evaluation": np.inf}
    helpers.train.record_accuracy = timed_record
    try:
        for _ in range(repeat):
            scoring[0] = 0.0
            total, _ = seconds(helpers_train, run)
            best["training"] = min(best["training"], total - scoring[0])
            best["evaluation"] = min(best["evaluation"], scoring[0])
    finally:
        helpers.train.record_accuracy = record
    floor = {
        "training": min_time(lambda: floor_train(run, evaluate=False), repeat),
        "evaluation": min_time(lambda: floor_train(run, train=False), repeat),
    }
    n_scored = len(run.x) + sum(len(x) for x, _ in run.eval_sets.values())
    print(f"\nW2, where helpers' time goes ({run.epochs + 1} scorings of {n_scored} samples, fastest of {repeat}):")
    for part, mine in best.items():
        print(f"  {part:<10} {mine:6.2f} s   floor {floor[part]:6.2f} s   helpers/floor {mine / floor[part]:5.2f}")


def numpy_floor_comparison(units_by_label, repeats):
    """helpers next to the NumPy floor (every operation a NumPy net must do) and the product floor, interleaved.
    units_by_label: {label: units}; repeats: {label: how many times to run them}."""
    implementations = {"helpers": helpers_train, "numpy": numpy_floor_train, "floor": floor_train}
    runs = ", ".join(f"{label} {n}x" for label, n in repeats.items())
    print(f"\nAgainst the NumPy floor (the products plus every elementwise step, in place; {runs})")
    print(
        f"  {'':<16}{'helpers/numpy':>15}{'numpy/floor':>13}{'helpers/floor':>15}   final accuracies (helpers, numpy)"
    )
    for name, units in units_by_label.items():
        times, results = time_units(units, implementations, repeats[name])
        _, ratios = summarize(times)
        totals = [{impl: sum(unit[impl] for unit in one) for impl in implementations} for one in times]
        numpy_floor = float(np.median([total["numpy"] / total["floor"] for total in totals]))
        accuracies = "; ".join(accuracy_summary(name.split()[0], results[impl]) for impl in ("helpers", "numpy"))
        print(f"  {name:<16}{ratios['numpy']:>15.2f}{numpy_floor:>13.2f}{ratios['floor']:>15.2f}   {accuracies}")


def spinning_process(duration=300):
    """A process that keeps one core busy, as another job (a test run, a browser) would; it stops by itself."""
    code = f"import time\nend = time.time() + {duration}\nwhile time.time() < end:\n    pass"
    return subprocess.Popen([sys.executable, "-c", code])


def thread_experiment(x_eval, t_eval, repeat):
    """Does a second BLAS thread help? The large evaluation products, scoring, and batch-100 training steps,
    with the other core idle and with it kept busy."""
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((784, 100)) * 0.05).astype(F32)
    out = np.empty((len(x_eval), 100), F32)
    net = MultiLayerNet(hidden_sizes=(100,) * 6)
    x_batch, t_batch = x_eval[:100], t_eval[:100]
    sgd = SGD(0.01)

    def train_steps():
        for _ in range(10):
            sgd.update(net.params, net.gradient(x_batch, t_batch))

    tests = {
        f"GEMM {len(x_eval)}x784 @ 784x100": lambda: np.matmul(x_eval, W, out=out),
        f"net.accuracy, {len(x_eval)} samples": lambda: net.accuracy(x_eval, t_eval),
        "net.accuracy, 300 samples": lambda: net.accuracy(x_eval[:300], t_eval[:300]),
        "10 training steps, batch 100": train_steps,
    }
    n = 5 * repeat
    print(f"\nBLAS threads, 1 vs 2 (OpenBLAS): median of {n} interleaved repeats (fastest in brackets), ms")
    print(f"  {'':<32}{'other core':<12}{'1 thread':>16}{'2 threads':>16}{'1 / 2':>14}")
    for condition in ("idle", "busy"):
        spinner = spinning_process() if condition == "busy" else None
        try:
            for label, test in tests.items():
                times = {1: [], 2: []}
                for _ in range(n):
                    for threads, spent in times.items():
                        with threadpool_limits(threads, "blas"):
                            spent.append(seconds(test)[0] * 1e3)
                median = {k: np.median(v) for k, v in times.items()}
                fastest = {k: min(v) for k, v in times.items()}
                cells = [f"{median[k]:7.2f} ({fastest[k]:5.2f})" for k in (1, 2)]
                ratio = f"{median[1] / median[2]:5.2f} ({fastest[1] / fastest[2]:4.2f})"
                print(f"  {label:<32}{condition:<12}{cells[0]:>16}{cells[1]:>16}{ratio:>14}")
        finally:
            if spinner:
                spinner.kill()
                spinner.wait()
    print("  'idle' is idle as far as this benchmark knows: another job may run there too (see the load).")


def load():
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 trials of W3, fewer repeats of W1, W2")
    parser.add_argument("--repeat", type=int, help="repeats of W1 and W2 (default: W1 9, W2 3; W3 runs once)")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if it is installed")
    args = parser.parse_args()
    repeats = {"W1": 3 if args.quick else 9, "W2": 2 if args.quick else 3, "W3": 1}
    if args.repeat:
        repeats.update(W1=args.repeat, W2=args.repeat)
    trials = 10 if args.quick else 100

    *data, source = load_data()
    torch_version = None if args.no_torch else torch_available()
    blas = ", ".join(f"{i['internal_api']} {i['version']}" for i in threadpool_info() if i["user_api"] == "blas")
    print(f"numpy {np.__version__} ({blas}), python {platform.python_version()}, torch {torch_version or 'not used'}")
    print(f"{os.cpu_count()} cores, {load()}; data: {source}")
    print(f"one BLAS/torch thread everywhere (as helpers.train); scoring in chunks of {EVAL_CHUNK or 'all'} samples")
    print("repeats: " + ", ".join(f"{name} {n}" for name, n in repeats.items()))
    if args.quick:
        print(f"--quick: W3 runs {trials} trials instead of 100")

    implementations = {"helpers": helpers_train, "book": book_train, "floor": floor_train}
    if torch_version:
        implementations["torch"] = torch_train
    rows = {}
    for name, units in workloads(data, trials).items():
        label = f"{name} ({len(units)} trials)" if name == "W3" else name
        times, results = time_units(units, implementations, repeats[name])
        rows[label] = summarize(times)
        if name == "W1":  # the two runs differ a lot: show them apart too
            rows["  with BN"], rows["  without BN"] = summarize(times, [0]), summarize(times, [1])
        summaries = "; ".join(f"{impl}: {accuracy_summary(name, res)}" for impl, res in results.items() if res[0][0])
        print(f"{label} done. final accuracies: {summaries}", flush=True)
    print_table(rows)
    w2 = workloads(data, 0)["W2"][0][0]
    w2_breakdown(w2, repeats["W2"])
    every, w3 = workloads(data, trials), f"W3 ({trials} trials)"
    numpy_floor_comparison({"W2": every["W2"], w3: every["W3"]}, {"W2": repeats["W2"], w3: 1})
    x_eval, t_eval = w2.eval_sets["test"]
    thread_experiment(x_eval, t_eval, repeats["W2"])
    print(f"\n{load()}")


if __name__ == "__main__":
    main()
