"""Speed of the live panels, measured headless (the browser adds its own PNG decode, not included here).

    python benchmarks/live_bench.py

Prints, side by side in one run (the time of each panel from its button click until its work has ended):
- Train click -> first frame in the plot widget (target <= 0.3 s);
- a whole batch-norm pair (2 x 20 epochs, 1000 samples) trained and drawn live (target <= 2 s);
- a 100-epoch overfitting run drawn live, as the regularization panel runs it (target <= 3 s);
- a 200-epoch overfitting run drawn live vs the same run without drawing (target ratio <= 1.5);
- the whole batch-norm grid, 16 pairs in 2 worker processes, each cell drawn as it finishes (target <= 8 s);
- the search panel with its defaults: its time (target <= 15 s) and its best validation accuracy (>= 0.7).
"""

import time

from helpers import experiments as ex
from helpers.data import load_mnist
from helpers.widgets import TEST_SUBSET, BatchNormPanel, RegularizationPanel, SearchPanel


def first_frame_seconds(panel):
    """Seconds from the Train click until the plot widget holds a new image."""
    before = panel.plot.value
    start = time.perf_counter()
    panel.train_button.click()
    while panel.plot.value == before:
        time.sleep(0.001)
    seconds = time.perf_counter() - start
    panel.join()
    return seconds


def whole_run_seconds(panel, button=None):
    start = time.perf_counter()
    (button or panel.train_button).click()
    panel.join()
    return time.perf_counter() - start


def main(repeat=3):
    data = load_mnist()
    rows = []
    first = min(first_frame_seconds(BatchNormPanel(data, std=0.01 * (i + 1))) for i in range(repeat))
    rows.append(("Train click -> first frame (BN panel)", first, "<= 0.3"))
    pair = min(whole_run_seconds(BatchNormPanel(data, std=0.01 * (i + 1))) for i in range(repeat))
    rows.append(("BN pair 2 x 20 epochs, drawn live", pair, "<= 2"))
    hundred = min(whole_run_seconds(RegularizationPanel(data, epochs=100, seed=i)) for i in range(repeat))
    rows.append((f"overfitting run, 100 epochs, live ({TEST_SUBSET} test)", hundred, "<= 3"))
    live = min(whole_run_seconds(RegularizationPanel(data, epochs=200, seed=i)) for i in range(repeat))
    plain = []
    for i in range(repeat):
        start = time.perf_counter()
        ex.overfitting_run(epochs=200, data=data, seed=i, n_test=TEST_SUBSET)
        plain.append(time.perf_counter() - start)
    rows.append(("overfitting run, 200 epochs, drawn live", live, ""))
    rows.append(("overfitting run, 200 epochs, not drawn", min(plain), ""))
    grids = []
    for i in range(repeat):
        panel = BatchNormPanel(data, seed=i)
        grids.append(whole_run_seconds(panel, panel.grid_button))
    rows.append(("BN grid, 16 pairs in 2 processes, live", min(grids), "<= 8"))
    search = SearchPanel(data)
    rows.append(("search panel, defaults (40 x 50 epochs)", whole_run_seconds(search), "<= 15"))
    print(f"{'measurement':<46}{'seconds':>9}{'target':>9}")
    for name, seconds, target in rows:
        print(f"{name:<46}{seconds:>9.2f}{target:>9}")
    print(f"{'live / not drawn (200-epoch run)':<46}{live / min(plain):>9.2f}{'<= 1.5':>9}")
    print(f"{'search panel, defaults: best val acc':<46}{search.results.best.val_acc:>9.2f}{'>= 0.7':>9}")


if __name__ == "__main__":
    main()
