"""Live curves in a plain notebook cell, run headless (as nbval and nbconvert do): many frames are sent while
the cell runs, yet the saved notebook holds exactly one figure, the final one."""

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

CELL = """
import time
from helpers.live import LiveCurves
from helpers.train import History

live = LiveCurves(epochs=20, min_interval=0.0)
for epoch in range(21):
    history = History(epochs=20)
    history.train_acc = [i / 20 for i in range(epoch + 1)]
    live.update("run", history)
    time.sleep(0.05)
"""


def test_headless_live_cell_saves_exactly_one_final_figure():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(CELL),
            nbformat.v4.new_code_cell("live.frames, len(live.figure.axes[0].lines[0].get_xdata())"),
        ]
    )
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    outputs = notebook.cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"]
    assert "image/png" in outputs[0].data
    frames, epochs_drawn = eval(notebook.cells[1].outputs[0].data["text/plain"])
    assert frames > 2  # frames were drawn live, and each replaced the last
    assert epochs_drawn == 21  # the saved one is the final frame: epochs 0..20
