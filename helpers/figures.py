"""Regenerate every figure in figures/ from the experiments: `python -m helpers.figures`.

Deterministic: the same data source and seeds give the same pictures. Uses `load_mnist()`, so the
figures show the full MNIST set when it is available and the offline digits otherwise (the title says).
"""

import argparse
from pathlib import Path

from tqdm.auto import tqdm

from helpers import experiments as ex
from helpers.data import load_mnist
from helpers.plots import plot_grid, plot_histograms

FIGURES = Path(__file__).resolve().parent.parent / "figures"


def init_histograms():
    rows = {}
    for activation in ("sigmoid", "relu"):
        for init in (1.0, 0.01, "xavier", "he"):
            rows[f"{activation}\nstd={init}"] = ex.activation_histograms(init, activation)
    return plot_histograms(rows)


def bn_grid(data):
    grid = ex.batchnorm_grid(data=data)
    return plot_grid(
        {f"std={std:.2g}": runs for std, runs in grid.items()},
        title=f"train accuracy, with vs without batch norm ({len(data[0][0])} MNIST train images)",
    )


def overfitting(data):
    runs = {
        "no regularization": ex.overfitting_run(data=data).history,
        "weight decay λ=0.1": ex.overfitting_run(weight_decay_lambda=0.1, data=data).history,
        "dropout 0.15": ex.overfitting_run(dropout_ratio=0.15, epochs=ex.DROPOUT_EPOCHS, data=data).history,
    }
    return plot_grid(
        {name: {"": h} for name, h in runs.items()},
        eval_name="test",
        ncols=3,
        title="300 training images, 784-100x6-10: train (solid) vs test (dashed)",
        width=11,
    )


MAKERS = {
    "init_histograms.png": lambda data: init_histograms(),
    "bn_grid.png": bn_grid,
    "overfitting.png": overfitting,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"figures to make (default all): {', '.join(MAKERS)}")
    names = parser.parse_args(argv).names or list(MAKERS)
    unknown = set(names) - set(MAKERS)
    if unknown:
        parser.error(f"unknown figure(s) {sorted(unknown)}; known: {', '.join(MAKERS)}")
    data = load_mnist()
    FIGURES.mkdir(exist_ok=True)
    for name in tqdm(names, desc="figures"):
        MAKERS[name](data).savefig(FIGURES / name)
    print(f"wrote {len(names)} figure(s) to {FIGURES}")


if __name__ == "__main__":
    main()
