"""Regenerate every figure in figures/ from the experiments: `python -m helpers.figures`.

Korean figures go to figures/, the English edition's to figures/en/ (`--lang ko` or `--lang en` makes one
set only). Deterministic: the same data source and seeds give the same pictures. Uses `load_mnist()`, so the
figures show the full MNIST set when it is available and the book's shipped images otherwise; the
seminar's experiments train on x_train[:N] and score the 10 000 official test images either way.
"""

import argparse
import contextlib
import json
import os
from functools import cached_property
from pathlib import Path

from tqdm.auto import tqdm

from helpers import experiments as ex
from helpers.data import load_mnist
from helpers.lang import LANGUAGES, language, tr
from helpers.plots import plot_best_curves, plot_best_so_far, plot_grid, plot_search_scatter

FIGURES = Path(__file__).resolve().parent.parent / "figures"

FULL_SEARCH = {"n_trials": 100, "epochs": 50}  # the seminar's setting
FULL_HALVING = {"n_trials": 100, "min_epochs": 2, "max_epochs": 50, "eta": 3}  # the same 100 candidates


class Experiments:
    """The runs behind the figures, each made once when a figure first needs it (a search feeds four files)."""

    def __init__(self, data):
        self.data = data
        self.n_jobs = min(2, os.cpu_count() or 1)

    @cached_property
    def bn_grid(self):
        return ex.batchnorm_grid(data=self.data)

    @cached_property
    def overfitting(self):
        """The three runs on one epoch range: the book's dropout experiment's 300 epochs."""
        settings = {"plain": {}, "decay": {"weight_decay_lambda": 0.1}, "dropout": {"dropout_ratio": 0.15}}
        return {
            name: ex.overfitting_run(epochs=ex.DROPOUT_EPOCHS, data=self.data, **kwargs).history
            for name, kwargs in settings.items()
        }

    @cached_property
    def full_search(self):
        """The seminar's 100 trials x 50 epochs, and successive halving over the same 100 candidates."""
        results = ex.seminar_search(**FULL_SEARCH, data=self.data, n_jobs=self.n_jobs)
        halving = ex.search_halving(**FULL_HALVING, data=self.data, n_jobs=self.n_jobs, progress=True)
        return results, halving


def bn_grid(runs):
    names = {"with BN": tr("배치 정규화 있음", "with BN"), "without BN": tr("배치 정규화 없음", "without BN")}
    return plot_grid(
        {f"std={std:.2g}": {names[label]: h for label, h in pair.items()} for std, pair in runs.bn_grid.items()},
        title=tr(
            "배치 정규화 유무에 따른 훈련 정확도 (MNIST 훈련 이미지 1000장, 20에폭)",
            "train accuracy with vs without batch norm (1000 MNIST training images, 20 epochs)",
        ),
        ylabel=tr("훈련 정확도", "train accuracy"),
    )


def overfitting(runs):
    names = {
        "plain": tr("정규화 없음", "no regularization"),
        "decay": tr("가중치 감소 λ=0.1", "weight decay λ=0.1"),
        "dropout": tr("드롭아웃 0.15", "dropout 0.15"),
    }
    return plot_grid(
        {names[key]: {"": history} for key, history in runs.overfitting.items()},
        eval_name="test",
        ncols=3,
        title=tr(
            "훈련 이미지 300장, 784-100x6-10: 훈련(실선) 대 시험(점선)",
            "300 training images, 784-100x6-10: train (solid) vs test (dashed)",
        ),
        width=11,
    )


def search_best20(runs):
    results, _ = runs.full_search
    return plot_best_curves(
        results,
        20,
        title=tr(
            f"시행 {len(results)}번 중 상위 20개, 각 {results.epochs}에폭: 검증(실선), 훈련(점선)",
            f"the best 20 of {len(results)} trials, {results.epochs} epochs each: validation (solid), train (dashed)",
        ),
    )


def search_scatter(runs):
    results, _ = runs.full_search
    return plot_search_scatter(
        results,
        title=tr(
            f"시행 {len(results)}번: {results.epochs}에폭 뒤의 검증 정확도",
            f"{len(results)} trials: validation accuracy after {results.epochs} epochs",
        ),
    )


def search_halving(runs):
    results, halving = runs.full_search
    rungs = " → ".join(str(n) for n, _ in halving.schedule)
    return plot_best_so_far(
        {
            tr(
                f"무작위 탐색 (시행 {len(results)}번 × {results.epochs}에폭)",
                f"random search ({len(results)} trials × {results.epochs} epochs)",
            ): results.best_so_far(),
            tr(f"연속 반감법 (시행 {rungs})", f"successive halving ({rungs} trials)"): halving.best_so_far(),
        },
        title=tr(
            f"같은 후보 {len(halving.rungs[0])}개: 쓴 에폭 수에 따른 최고 검증 정확도",
            f"the same {len(halving.rungs[0])} candidates: best validation accuracy against epochs spent",
        ),
        log_x=True,
    )


class JsonFile:
    """Plain data that a MAKERS entry saves like a figure: JsonFile(data).savefig(path) writes it as JSON."""

    def __init__(self, data):
        self.data = data

    def savefig(self, path):
        Path(path).write_text(json.dumps(self.data, indent=1) + "\n")


def search_numbers(runs):
    source = f"MNIST, the first 500 of {len(runs.data[0][0])} training images"
    return JsonFile(ex.search_summary(*runs.full_search, source=source))


MAKERS = {
    "bn_grid.png": bn_grid,
    "overfitting.png": overfitting,
    "search_best20.png": search_best20,
    "search_scatter.png": search_scatter,
    "search_halving.png": search_halving,
    "search_full.json": search_numbers,  # numbers, the same in both languages: saved in figures/ only
}


def figure_folder(lang=None):
    """figures/ for the Korean figures, figures/en/ for the English edition's."""
    return FIGURES / "en" if (lang or language()) == "en" else FIGURES


def show_figure(name):
    """A figure saved in figures/ (figures/en/ in the English edition), for a notebook cell to display: an output
    works in every frontend (JupyterLab, Voilà, GitHub), where a Markdown link to ../figures/ does not (Voilà
    refuses paths outside its root)."""
    from IPython.display import Image

    path = (FIGURES if name.endswith(".json") else figure_folder()) / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; make it with: python -m helpers.figures {name}")
    return Image(filename=path)


@contextlib.contextmanager
def _language(lang):
    """DL4_LANG set to `lang` inside the block (helpers.lang reads it), restored afterwards."""
    before = os.environ.get("DL4_LANG")
    os.environ["DL4_LANG"] = lang
    try:
        yield
    finally:
        if before is None:
            del os.environ["DL4_LANG"]
        else:
            os.environ["DL4_LANG"] = before


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"figures to make (default all): {', '.join(MAKERS)}")
    parser.add_argument("--lang", choices=[*LANGUAGES, "both"], default="both", help="which edition's figures")
    args = parser.parse_args(argv)
    names = args.names or list(MAKERS)
    unknown = set(names) - set(MAKERS)
    if unknown:
        parser.error(f"unknown figure(s) {sorted(unknown)}; known: {', '.join(MAKERS)}")
    languages = LANGUAGES if args.lang == "both" else (args.lang,)
    runs = Experiments(load_mnist())
    for lang in languages:
        folder = figure_folder(lang)
        folder.mkdir(parents=True, exist_ok=True)
        with _language(lang):
            for name in tqdm(names, desc=f"figures ({lang})"):
                if name.endswith(".json") and lang != "ko":
                    continue
                MAKERS[name](runs).savefig(folder / name)
        print(f"wrote the {lang} figures to {folder}")


if __name__ == "__main__":
    main()
