"""The benchmark's bookkeeping: which times it keeps and how it forms its ratios (not its timings)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).parents[1] / "benchmarks" / "bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_summarize_keeps_each_units_fastest_time_and_pairs_ratios_within_a_repeat(bench):
    # Repeat 2 ran during a slow spell: both sides slower by 1.5x. Paired, the ratio stays 1.25 / 1.2;
    # comparing the fastest times alone would mix a fast helpers time with a slow floor time.
    times = [
        [{"helpers": 1.25, "floor": 1.0}, {"helpers": 2.4, "floor": 2.0}],
        [{"helpers": 1.875, "floor": 1.5}, {"helpers": 3.6, "floor": 3.0}],
        [{"helpers": 1.25, "floor": 1.0}, {"helpers": 2.4, "floor": 2.0}],
    ]
    fastest, ratios = bench.summarize(times)
    assert fastest == pytest.approx({"helpers": 1.25 + 2.4, "floor": 3.0})
    assert ratios["floor"] == pytest.approx(3.65 / 3.0)
    assert ratios["helpers"] == 1.0

    fastest, ratios = bench.summarize(times, [1])  # one unit alone, e.g. W1's run without batch norm
    assert fastest == pytest.approx({"helpers": 2.4, "floor": 2.0})
    assert ratios["floor"] == pytest.approx(1.2)


def test_summarize_takes_the_median_of_the_paired_ratios(bench):
    times = [[{"helpers": h, "floor": 1.0}] for h in (1.1, 1.9, 1.2, 1.15, 3.0)]
    assert bench.summarize(times)[1]["floor"] == pytest.approx(1.2)


def test_time_units_runs_every_unit_with_every_implementation_in_each_repeat(bench):
    calls = []

    def make(name):
        def train(run):
            calls.append((name, run))
            return {"train": run}

        return train

    times, results = bench.time_units([[1], [2, 3]], {"a": make("a"), "b": make("b")}, repeat=2)
    assert calls == [("a", 1), ("b", 1), ("a", 2), ("a", 3), ("b", 2), ("b", 3)] * 2
    assert len(times) == 2 and all(len(repeat) == 2 for repeat in times)
    assert all(np.isfinite(t) and t >= 0 for repeat in times for unit in repeat for t in unit.values())
    per_unit = [[{"train": 1}], [{"train": 2}, {"train": 3}]]  # of the last repeat
    assert results == {"a": per_unit, "b": per_unit}


def test_the_numpy_floor_takes_the_step_helpers_takes(bench):
    """The NumPy floor does the same work as helpers: from the same weights, one SGD step with weight decay
    gives the same loss and the same new weights and biases."""
    from helpers.net import MultiLayerNet
    from helpers.optim import SGD

    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((20, 12)).astype(np.float32), rng.integers(0, 10, 20)
    run = bench.Run(x, t, (8, 8), epochs=1, lr=0.1, weight_decay=0.01, batch_size=20)
    floor, net = bench.NumpyFloor(run), MultiLayerNet(12, (8, 8), 10, weight_decay_lambda=0.01, seed=1)
    for i, W in enumerate(floor.Ws, start=1):
        W[:] = net.params[f"W{i}"]
        floor.bs[i - 1][:] = rng.standard_normal(len(floor.bs[i - 1]))
        net.params[f"b{i}"][:] = floor.bs[i - 1]
    loss, grads = net.loss_and_gradient(x, t)
    SGD(0.1).update(net.params, grads)
    assert floor.step(x, t) == pytest.approx(loss, rel=1e-5)
    for i, (W, b) in enumerate(zip(floor.Ws, floor.bs, strict=True), start=1):
        np.testing.assert_allclose(W, net.params[f"W{i}"], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b, net.params[f"b{i}"], rtol=1e-5, atol=1e-6)
    assert floor.accuracy(x, t) == net.accuracy(x, t)
