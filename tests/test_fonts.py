"""helpers.fonts: Korean figure text renders with real glyphs, and the minus sign of negative ticks too.

Each check runs in a fresh Python, where matplotlib has not been configured by any other test."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

DRAW = """
import io, json, sys, warnings
import matplotlib
matplotlib.use("Agg")
if sys.argv[1] == "with-fonts":
    import helpers.plots  # registers the Korean font
from matplotlib.figure import Figure

fig = Figure()
ax = fig.add_subplot()
ax.plot([-2, -1, 0, 1], label="훈련 데이터(train)")
ax.set_title("배치 정규화(Batch Normalization)")
ax.set_xlabel("에폭(epoch)")
ax.set_ylabel("정확도(accuracy)")
ax.legend(title="가중치 감소")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    fig.savefig(io.BytesIO(), format="png")
ticks = [t.get_text() for t in ax.get_yticklabels()]
print(json.dumps({"warnings": [str(w.message) for w in caught], "ticks": ticks}))
"""


def draw(mode):
    """Render a figure with Korean text and negative ticks in a new process; its warnings and y tick labels."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", DRAW, mode], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def without_fonts():
    return draw("plain")


def test_the_check_sees_missing_glyphs_when_no_korean_font_is_set(without_fonts):
    assert any("Glyph" in w and "missing" in w for w in without_fonts["warnings"]), without_fonts


def test_korean_text_and_negative_ticks_render_with_every_glyph():
    drawn = draw("with-fonts")
    assert not [w for w in drawn["warnings"] if "Glyph" in w], drawn["warnings"]
    assert "\N{MINUS SIGN}2.0" in drawn["ticks"]  # the true minus sign, not a hyphen, and it has a glyph
