"""Re-execute the notebooks and save them with their outputs, ready to commit:

    python scripts/execute_notebooks.py [notebooks/01_batch_normalization.ipynb ...]

Without arguments: every notebook of both editions, the Korean ones in notebooks/ and the English ones in
notebooks/en/ (each kernel starts in its notebook's folder, which is how helpers.lang knows the language).

Runs each notebook top to bottom on a fresh kernel with the offline digits (DL4_MNIST_SOURCE=offline, as the
tests do, so the saved outputs match what nbval checks), then removes what only adds noise to a diff:
widget state (the panels are live objects; their saved state would only show a stale picture) and
per-cell execution timestamps.
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(path):
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=False,
    ).execute()
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)
    return time.perf_counter() - start


def main(paths):
    os.environ["DL4_MNIST_SOURCE"] = "offline"
    for path in paths or sorted([*NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"), *NOTEBOOKS.glob("en/[0-9][0-9]_*.ipynb")]):
        print(f"{path}: executed in {execute(Path(path)):.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
