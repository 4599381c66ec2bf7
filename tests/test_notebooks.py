"""The notebooks as files: Korean first, an English edition with the very same code (its comments in English), the
exercise stubs the checkers know, no test scaffolding.

(nbval executes every notebook of both editions; this file checks what executing them cannot.)
"""

import io
import json
import re
import tokenize
from pathlib import Path

import pytest

from helpers import exercises

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KOREAN = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
LETTER = re.compile(r"[^\W\d_]")
# what the Markdown keeps out of the letter count: LaTeX, code, links' targets, HTML tags
NOT_PROSE = re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$|```.*?```|`[^`\n]*`|\]\([^)]*\)|<[^>]+>", re.DOTALL)


def cells(path, kind):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [cell for cell in notebook["cells"] if cell["cell_type"] == kind]


def source(cell):
    return "".join(cell["source"])


def code_and_comments(cell):
    """A code cell as (its tokens without comments and blank lines, its comments)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source(cell)).readline))
    code = [(token.type, token.string) for token in tokens if token.type not in (tokenize.COMMENT, tokenize.NL)]
    return code, [token.string for token in tokens if token.type == tokenize.COMMENT]


def hangul_share(path):
    """The share of Hangul among the letters of a notebook's Markdown prose."""
    prose = NOT_PROSE.sub(" ", "\n".join(source(cell) for cell in cells(path, "markdown")))
    letters = LETTER.findall(prose)
    return sum(1 for letter in letters if HANGUL.match(letter)) / max(len(letters), 1)


def test_there_are_korean_notebooks():
    assert len(KOREAN) >= 4


@pytest.mark.parametrize("path", KOREAN, ids=lambda path: path.name)
def test_korean_notebook_markdown_is_mostly_hangul(path):
    share = hangul_share(path)
    print(f"{path.name}: {share:.0%} of the Markdown letters are Hangul")
    assert share >= 0.6


@pytest.mark.parametrize("path", KOREAN, ids=lambda path: path.name)
def test_english_edition_has_identical_code_cells_with_english_comments(path):
    english = NOTEBOOKS / "en" / path.name
    assert english.exists(), f"no English edition {english}"
    korean_cells, english_cells = cells(path, "code"), cells(english, "code")
    assert len(english_cells) == len(korean_cells)
    for number, (korean_cell, english_cell) in enumerate(zip(korean_cells, english_cells, strict=True)):
        (korean_code, korean_comments), (english_code, english_comments) = map(
            code_and_comments, (korean_cell, english_cell)
        )
        assert english_code == korean_code, f"code cell {number} differs in code, not only in its comments"
        assert len(english_comments) == len(korean_comments), f"code cell {number}"
        assert not [comment for comment in english_comments if HANGUL.search(comment)], f"code cell {number}"
    assert hangul_share(english) < 0.1


@pytest.mark.parametrize("name", exercises.STUBS)
def test_each_exercise_cell_starts_from_the_stub_its_checker_knows(name):
    """exercises.STUBS[name] is in one Korean code cell word for word (the English cell has the same code, above)."""
    holding = [cell for path in KOREAN for cell in cells(path, "code") if exercises.STUBS[name] in source(cell)]
    assert len(holding) == 1, f"{name}: {len(holding)} cells hold the stub"


@pytest.mark.parametrize("path", [*KOREAN, *sorted(NOTEBOOKS.glob("en/*.ipynb"))], ids=lambda path: str(path.name))
def test_no_test_scaffolding_in_what_a_student_reads(path):
    for cell in cells(path, "code"):
        assert "NBVAL" not in source(cell), "nbval markers belong in cell tags, not in a student's code"
    for cell in cells(path, "markdown"):
        assert not re.search(r"\bthe tests? (check|pin)|테스트(가|는) .*(확인|검사)", source(cell)), source(cell)[:80]
