"""A Korean font for the figures: NanumGothic, the font koreanize-matplotlib ships.

It is added to matplotlib's font list after the fonts already there, as a fallback: Latin letters, digits
and the minus sign keep matplotlib's default font (DejaVu Sans, which has the true minus sign U+2212, so
`axes.unicode_minus` stays True), and only the characters it lacks, such as Hangul, come from NanumGothic.
(koreanize-matplotlib itself puts NanumGothic first, which has no U+2212, so it switches the minus sign to
a hyphen; its fonts are used here without importing it, which would apply that setting.)

matplotlib's font list and rcParams are the library's own process-wide settings: the one place a font
can be set for every figure, ours and a student's.
"""

import warnings
from importlib.util import find_spec
from pathlib import Path

import matplotlib
from matplotlib import font_manager

KOREAN_FONT = "NanumGothic"


def _font_files():
    """The .ttf files koreanize-matplotlib ships (without importing it: its import changes rcParams)."""
    spec = find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted(Path(spec.submodule_search_locations[0], "fonts").glob("*.ttf"))


def use_korean_font():
    """Register NanumGothic with matplotlib and append it to rcParams["font.family"]. Calling it again
    changes nothing. Without koreanize-matplotlib, a warning says how to install it."""
    if KOREAN_FONT not in {font.name for font in font_manager.fontManager.ttflist}:
        files = _font_files()
        if not files:
            warnings.warn(
                "no Korean font: figure text in Korean will show as boxes; install it with "
                "`pip install koreanize-matplotlib`",
                stacklevel=2,
            )
            return
        for path in files:
            font_manager.fontManager.addfont(str(path))
    families = list(matplotlib.rcParams["font.family"])
    if KOREAN_FONT not in families:
        matplotlib.rcParams["font.family"] = [*families, KOREAN_FONT]
