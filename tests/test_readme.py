"""README.md: its layout names every module of helpers/, and its commands are the ones .ci/run runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_layout_names_every_module():
    layout = README.split("## 안에 든 것", 1)[1].split("```")[1]
    named = set(re.findall(r"[\w]+\.py|[\w]+/", layout))
    modules = {path.name for path in (ROOT / "helpers").glob("*.py") if path.name != "__init__.py"}
    packages = {f"{path.name}/" for path in (ROOT / "helpers").iterdir() if (path / "__init__.py").exists()}
    assert modules | packages <= named, f"not in README's layout: {sorted((modules | packages) - named)}"


def test_the_test_command_installs_the_test_set_itself():
    test_block = README.split("<!-- test -->", 1)[1].split("```")[1]
    assert "pip install -r requirements-dev.txt" in test_block and "python -m pytest" in test_block
