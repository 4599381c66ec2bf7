"""The code style is part of the tests: ruff's lint rules (pyproject.toml) hold everywhere, notebooks included."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing_to_complain_about():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "--no-cache", str(ROOT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_notebook_markdown_links_no_file_outside_the_notebooks_folder():
    """Voilà refuses to render a notebook whose Markdown links a file outside its root (../figures/...):
    saved figures are shown as outputs with helpers.figures.show_figure instead."""
    outside = re.compile(r"\]\(\.\./")
    offenders = [
        f"{path.name} cell {i}"
        for path in sorted((ROOT / "notebooks").rglob("*.ipynb"))
        for i, cell in enumerate(nbformat.read(path, as_version=4).cells)
        if cell.cell_type == "markdown" and outside.search(cell.source)
    ]
    assert not offenders, offenders
