"""Regenerate every figure in figures/ from the experiments: `python -m helpers.figures`.

Deterministic: the same data source and seeds give the same pictures. Uses `load_mnist()`, so the
figures show the full MNIST set when it is available and the offline digits otherwise (the title says).
"""

import argparse
import json
import os
from pathlib import Path

from tqdm.auto import tqdm

from helpers import experiments as ex
from helpers.data import load_mnist
from helpers.plots import plot_best_curves, plot_best_so_far, plot_grid, plot_search_scatter

FIGURES = Path(__file__).resolve().parent.parent / "figures"


def bn_grid(data):
    grid = ex.batchnorm_grid(data=data)
    return plot_grid(
        {f"std={std:.2g}": runs for std, runs in grid.items()},
        title="train accuracy with vs without batch norm (1000 MNIST training images, 20 epochs)",
        ylabel="train accuracy",
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
        sharex=False,
    )


MAKERS = {
    "bn_grid.png": bn_grid,
    "overfitting.png": overfitting,
}


# --- 03 Hyperparameter search: the seminar's full search, made once and shared by its figures ---------------

FULL_SEARCH = {"n_trials": 100, "epochs": 50}  # the seminar's setting
FULL_HALVING = {"n_trials": 100, "min_epochs": 2, "max_epochs": 50, "eta": 3}  # the same 100 candidates
_full_searches = {}  # id(data) -> (SearchResults, HalvingResults): the figures below share one search


def full_search(data):
    """The seminar's 100 trials x 50 epochs and successive halving over the same 100 candidates, on both cores."""
    if id(data) not in _full_searches:
        n_jobs = min(2, os.cpu_count() or 1)
        results = ex.seminar_search(**FULL_SEARCH, data=data, n_jobs=n_jobs)
        halving = ex.search_halving(**FULL_HALVING, data=data, n_jobs=n_jobs, progress=True)
        _full_searches[id(data)] = (results, halving)
    return _full_searches[id(data)]


def search_best20(data):
    results, _ = full_search(data)
    return plot_best_curves(
        results,
        20,
        title=f"the best 20 of {len(results)} trials, {results.epochs} epochs each: validation (solid), train (dashed)",
    )


def search_scatter(data):
    results, _ = full_search(data)
    return plot_search_scatter(
        results, title=f"{len(results)} trials: validation accuracy after {results.epochs} epochs"
    )


def search_halving(data):
    results, halving = full_search(data)
    rungs = " → ".join(str(n) for n, _ in halving.schedule)
    return plot_best_so_far(
        {
            f"random search ({len(results)} trials × {results.epochs} epochs)": results.best_so_far(),
            f"successive halving ({rungs} trials)": halving.best_so_far(),
        },
        title=f"the same {len(halving.rungs[0])} candidates: best validation accuracy against epochs spent",
        log_x=True,
    )


def show_figure(name):
    """A figure saved in figures/, for a notebook cell to display: an output works in every frontend (JupyterLab,
    Voilà, GitHub), where a Markdown link to ../figures/ does not (Voilà refuses paths outside its root)."""
    from IPython.display import Image

    path = FIGURES / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; make it with: python -m helpers.figures {name}")
    return Image(filename=path)


class JsonFile:
    """Plain data that a MAKERS entry saves like a figure: JsonFile(data).savefig(path) writes it as JSON."""

    def __init__(self, data):
        self.data = data

    def savefig(self, path):
        Path(path).write_text(json.dumps(self.data, indent=1) + "\n")


def search_numbers(data):
    source = f"MNIST, the first 500 of {len(data[0][0])} training images"
    return JsonFile(ex.search_summary(*full_search(data), source=source))


MAKERS.update(
    {
        "search_best20.png": search_best20,
        "search_scatter.png": search_scatter,
        "search_halving.png": search_halving,
        "search_full.json": search_numbers,
    }
)


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
