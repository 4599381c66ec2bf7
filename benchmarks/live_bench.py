"""Speed of the live panels, measured headless (the browser adds its own PNG decode, not included here).

    python benchmarks/live_bench.py

Prints, side by side in one run:
- Train click -> first frame in the plot widget (target <= 0.3 s);
- a whole batch-norm pair (2 x 20 epochs, 1000 samples) trained and drawn live (target <= 2 s);
- a 200-epoch overfitting run drawn live vs the same run without drawing (target ratio <= 1.5).
"""

import time

from helpers import experiments as ex
from helpers.data import load_mnist
from helpers.widgets import BatchNormPanel, RegularizationPanel


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


def whole_run_seconds(panel):
    start = time.perf_counter()
    panel.train_button.click()
    panel.join()
    return time.perf_counter() - start, panel.live.frames


def main(repeat=3):
    data = load_mnist()
    rows = []
    first = min(first_frame_seconds(BatchNormPanel(data, std=0.01 * (i + 1))) for i in range(repeat))
    rows.append(("Train click -> first frame (BN panel)", first, 0.3))
    pair = min(whole_run_seconds(BatchNormPanel(data, std=0.01 * (i + 1)))[0] for i in range(repeat))
    rows.append(("BN pair 2 x 20 epochs, drawn live", pair, 2.0))
    live = min(whole_run_seconds(RegularizationPanel(data, epochs=200, seed=i))[0] for i in range(repeat))
    plain = []
    for i in range(repeat):
        start = time.perf_counter()
        ex.overfitting_run(epochs=200, data=data, seed=i)
        plain.append(time.perf_counter() - start)
    rows.append(("overfitting run, 200 epochs, drawn live", live, None))
    rows.append(("overfitting run, 200 epochs, not drawn", min(plain), None))
    print(f"{'measurement':<42}{'seconds':>9}{'target':>9}")
    for name, seconds, target in rows:
        print(f"{name:<42}{seconds:>9.2f}{'' if target is None else f'<= {target}':>9}")
    print(f"{'live / not drawn (200-epoch run)':<42}{live / min(plain):>9.2f}{'<= 1.5':>9}")


if __name__ == "__main__":
    main()
