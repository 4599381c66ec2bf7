"""The language of what a student reads in figures and panels: Korean (the seminar's) or English.

The Korean notebooks live in notebooks/, the English edition in notebooks/en/, with the same code in every code
cell (only the comments are translated): the language comes from where the notebook runs, not from its code.
`language()` is "en" when the environment variable DL4_LANG is "en", or, when DL4_LANG is unset, when the current
folder (a notebook kernel's is the notebook's own) is named "en"; otherwise "ko".
"""

import os
from pathlib import Path

LANGUAGES = ("ko", "en")


def language():
    """ "ko" or "en": DL4_LANG if set, else "en" inside a folder named en, else "ko"."""
    value = os.environ.get("DL4_LANG", "").strip().lower()
    if value:
        if value not in LANGUAGES:
            raise ValueError(f"DL4_LANG (environment variable) must be one of {LANGUAGES}, got {value!r}")
        return value
    return "en" if Path.cwd().name == "en" else "ko"


def tr(ko, en):
    """The Korean or the English text, by `language()`: tr("에폭(epoch)", "epoch")."""
    return en if language() == "en" else ko
