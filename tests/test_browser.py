"""The slider panels in a real browser: JupyterLab and Debian's Chromium, driven by Playwright.

A JupyterLab of its own (a free port, a random token; Jupyter's, IPython's and Chromium's folders in a temp
dir, so no settings in $HOME are read or written) runs tests/browser/panels.ipynb; the tests then use its
panels like a student: move the std slider with the keyboard, press Train and Stop, fill the batch-norm grid,
run the search panel with its defaults, and read the status lines, the readouts and the plots from the page.
Times from a click to what the page shows are printed (-s to see them). The page shows Hangul in the font that
koreanize-matplotlib ships (NanumGothic), given to Chromium through a fontconfig file of its own, so the test
needs no system font.
Screenshots go to screenshots/ (printed); with DL4_UPDATE_FIGURES=1 a panel mid-training also goes to
figures/panel_live.png, the README's picture (so an ordinary test run leaves the repository unchanged).
Without Chromium or Playwright the tests are skipped, unless DL4_REQUIRE_BROWSER=1 (CI): then they fail.
"""

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by chromium_path(): a skip, or a failure in CI
    expect = sync_playwright = None

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = Path(__file__).parent / "browser" / "panels.ipynb"
SCREENSHOTS = ROOT / "screenshots"
README_FIGURE = ROOT / "figures" / "panel_live.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BN_EPOCHS = 20  # the settings of the panels in panels.ipynb
LONG_EPOCHS = 400
GRID_CELLS = 16
SEARCH_TIMEOUT_MS = 180_000  # the default search: ~10 s on 2 idle cores, much longer beside JupyterLab on a busy one
# Status lines in either language (the kernel's language comes from DL4_LANG or the folder's name)
EPOCH = "(?:에폭|epoch)"
STOPPED = re.compile(r"(?:에폭 \d+에서 정지|stopped at epoch \d+)")
FROM_CACHE = re.compile(r" \((?:저장된 결과|from cache)\)$")
TIMEOUT_MS = 30_000  # for each wait in the page: generous for a busy 2-core machine
START_TIMEOUT_S = 60  # for JupyterLab to answer, and for the notebook and its kernel to be ready
# The news feed and the update check would reach for the network and pop up a notification.
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification": '{"fetchNews": "false", "checkForUpdates": false}'}


def unavailable(reason):
    """Skip, or fail where the browser test is required (CI sets DL4_REQUIRE_BROWSER=1)."""
    if os.environ.get("DL4_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (DL4_REQUIRE_BROWSER=1: the browser test must run)")
    pytest.skip(reason)


def chromium_path():
    path = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        unavailable(f"Chromium not found at {path}: `apt-get install chromium`, or set CHROMIUM=/path/to/chromium")
    if sync_playwright is None:
        unavailable("Playwright is not installed: pip install -r requirements.txt")
    return path


# --- JupyterLab -------------------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def lab_folders(folder):
    """The notebook's copy in a fresh root dir, and every Jupyter/IPython folder in `folder`."""
    root = folder / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root)
    for name, text in LAB_SETTINGS.items():
        path = folder / "settings" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True)
        path.write_text(text)
    env = {
        **os.environ,  # keeps DL4_MNIST_SOURCE=offline from conftest.py for the kernel
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        "JUPYTER_DATA_DIR": str(folder / "data"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "IPYTHONDIR": str(folder / "ipython"),
    }  # the kernel still uses the MNIST and matplotlib caches in ~/.cache, like the notebooks' tests
    return root, env


def start_lab(folder, port, token):
    root, env = lab_folders(folder)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={folder / 'settings'}", f"--LabApp.workspaces_dir={folder / 'workspaces'}",
        "--LabApp.expose_app_in_browser=True",
        "--LanguageServerManager.autodetect=False",  # else jupyter-lsp runs `npm`, which logs to ~/.npm
    ]  # fmt: skip
    with open(folder / "jupyter.log", "wb") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_serving(server, url, log):
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"JupyterLab exited:\n{log.read_text()[-3000:]}"
        try:
            with no_proxy.open(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)  # polls a starting server; the page itself is only waited on explicitly
    raise TimeoutError(f"JupyterLab did not answer in {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


def stop_lab(server):
    """SIGTERM: the server shuts its kernels down and exits. Whatever is left after that is killed."""
    try:
        children = psutil.Process(server.pid).children(recursive=True)  # the kernels
    except psutil.NoSuchProcess:
        children = []
    server.terminate()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    _, alive = psutil.wait_procs(children, timeout=5)
    for process in alive:
        process.kill()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A temp folder for the server's and the browser's files; skips (or fails) first if there is no browser."""
    chromium_path()
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="module")
def lab(workdir):
    """The base URL and token of a JupyterLab serving a copy of panels.ipynb."""
    port, token = free_port(), secrets.token_hex(24)
    server = start_lab(workdir, port, token)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(server, f"{base}/api/status?token={token}", workdir / "jupyter.log")
        yield base, token
    finally:
        stop_lab(server)


# --- the browser ---------------------------------------------------------------------------------------------


def korean_fonts_config(folder):
    """A fontconfig file: the system's fonts plus NanumGothic from koreanize-matplotlib (the Korean text)."""
    import koreanize_matplotlib

    fonts = Path(koreanize_matplotlib.__file__).parent / "fonts"
    config = folder / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
        f"  <dir>{fonts}</dir>\n  <cachedir>{folder / 'fontconfig-cache'}</cachedir>\n</fontconfig>\n"
    )
    return config


def launch_chromium(playwright, folder):
    """Debian's Chromium, headless, with a fresh profile; its per-user folders (crash reports, dconf) in `folder`."""
    home = folder / "home"
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "FONTCONFIG_FILE": str(korean_fonts_config(folder)),
    }
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, env=env)


def open_notebook(page, base, token, url_path=f"/lab/tree/{NOTEBOOK.name}", query="&reset"):
    """Open panels.ipynb and wait until its kernel really answers (the idle indicator shows before that).
    url_path: where the frontend shows a notebook (JupyterLab's by default; Notebook 7 uses /notebooks/...)."""
    page.goto(f"{base}{url_path}?token={token}{query}")
    page.wait_for_function(
        "name => window.jupyterapp?.shell.currentWidget?.context?.path === name",
        arg=NOTEBOOK.name,
        timeout=START_TIMEOUT_S * 1000,
    )
    page.evaluate(
        """async () => {
            const session = window.jupyterapp.shell.currentWidget.sessionContext;
            await session.ready;
            await session.session.kernel.info;
        }"""
    )


def run_all(page):
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")


@pytest.fixture(scope="module")
def page(lab, workdir):
    """A page showing panels.ipynb after Run All; a screenshot of it at the end, pass or fail."""
    base, token = lab
    SCREENSHOTS.mkdir(exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright, workdir)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(TIMEOUT_MS)
            open_notebook(page, base, token)
            run_all(page)
            yield page
            page.screenshot(path=SCREENSHOTS / "lab.png", full_page=True)
        finally:
            browser.close()


# --- the panels -----------------------------------------------------------------------------------------------


def panel_with(page, control):
    """The panel holding the control with this CSS class, once it is drawn."""
    panel = page.locator(".dl-panel", has=page.locator(control))
    expect(panel).to_be_visible(timeout=START_TIMEOUT_S * 1000)
    return panel


def status(panel):
    return panel.locator(".dl-status .widget-html-content")


def status_text(panel):
    return status(panel).text_content()


def epoch_of(text):
    """(epoch, total) from a status line '에폭 3/10 · ...' ('epoch 3/10 · ...' in English)."""
    epoch, total = re.match(rf"{EPOCH} (\d+)/(\d+) ", text).groups()
    return int(epoch), int(total)


def wait_until_idle(panel):
    """Training has ended: Stop is disabled again and the sliders take input."""
    expect(panel.locator(".dl-stop")).to_be_disabled()
    expect(panel.locator(".noUi-target[disabled]")).to_have_count(0)


def wait_for_epoch(page, panel, at_least, frames=1):
    """Wait until the status line shows epoch `at_least` or later and the plot has changed `frames` times
    since Train was pressed (train_and_time_first_frame counts them)."""
    page.wait_for_function(
        """([status, n, frames]) => Number(/^(?:에폭|epoch) (\\d+)\\//.exec(status.textContent)?.[1]) >= n
                                    && window.dlProbe.frames >= frames""",
        arg=[status(panel).element_handle(), at_least, frames],
    )


def train_and_time_first_frame(page, panel):
    """Press Train; return the seconds from the click to the first new plot image, measured in the page.
    The page counts the new images in window.dlProbe.frames."""
    panel.evaluate(
        """panel => {
            window.dlProbe?.observer.disconnect();  // the previous press's
            const probe = {click: null, frame: null, frames: 0};
            panel.querySelector('.dl-train').addEventListener('click', () => { probe.click = performance.now(); },
                                                               {capture: true, once: true});
            probe.observer = new MutationObserver(() => {
                if (probe.click === null) return;
                probe.frame ??= performance.now();
                probe.frames += 1;
            });
            probe.observer.observe(panel.querySelector('.dl-plot'), {attributes: true, attributeFilter: ['src']});
            window.dlProbe = probe;
        }"""
    )
    panel.locator(".dl-train").click()
    page.wait_for_function("() => window.dlProbe.frame !== null")
    return page.evaluate("() => (window.dlProbe.frame - window.dlProbe.click) / 1000")


def train_to_the_end(page, panel):
    """Train with the current settings until the last epoch; returns (status, seconds to the first frame)."""
    first_frame = train_and_time_first_frame(page, panel)  # Stop is enabled before a new frame is sent
    wait_until_idle(panel)  # the final status is sent before Stop is disabled
    text = status_text(panel)
    assert re.match(rf"{EPOCH} {BN_EPOCHS}/{BN_EPOCHS} · std \S+ · ", text), text
    return text, first_frame


def press(panel, slider, key):
    """Move a slider with the keyboard: focus its handle, press an arrow key. Returns the new readout."""
    readout = panel.locator(f"{slider} .widget-readout")
    before = readout.text_content()
    panel.locator(f"{slider} .noUi-handle").press(key)
    expect(readout).not_to_have_text(before)
    return readout.text_content()


# --- the tests --------------------------------------------------------------------------------------------------


def test_std_slider_moved_with_the_keyboard_trains_that_std_and_redraws(page):
    panel = panel_with(page, ".dl-std")
    first, cold = train_to_the_end(page, panel)
    std = panel.locator(".dl-std .widget-readout").text_content()

    new_std = press(panel, ".dl-std", "ArrowRight")
    src = panel.locator(".dl-plot").get_attribute("src")
    second, warm = train_to_the_end(page, panel)
    panel.screenshot(path=SCREENSHOTS / "batchnorm_panel.png")
    print(
        f"batch norm, std {std} -> {new_std}: Train click to the first new plot image {cold:.3f} s (first run), "
        f"{warm:.3f} s (second run, pressed right after the first ended)"
    )
    assert panel.locator(".dl-plot").get_attribute("src") != src
    assert f"std {new_std} ·" in second and f"std {std} ·" in first, (first, second)
    assert second != first, "another std trained to the same accuracies: the slider's value did not reach the run"

    assert press(panel, ".dl-std", "ArrowLeft") == std
    expect(status(panel)).to_have_text(re.compile(re.escape(first) + FROM_CACHE.pattern))  # the first std: at once


def test_stop_ends_a_long_run_early(page):
    panel = panel_with(page, ".dl-lambda")
    first_frame = train_and_time_first_frame(page, panel)
    print(f"regularization: Train click to the first plot image {first_frame:.3f} s")
    wait_for_epoch(page, panel, 30, frames=3)  # curves to show, even where frames lag behind on a busy machine
    shot = SCREENSHOTS / "panel_live.png"
    panel.screenshot(path=shot)
    epoch, _ = epoch_of(status_text(panel))
    assert epoch < LONG_EPOCHS, "the run ended before it could be stopped"
    if os.environ.get("DL4_UPDATE_FIGURES") == "1":
        shutil.copy(shot, README_FIGURE)  # taken mid-training: the README's picture of a live panel

    clicked = time.perf_counter()
    panel.locator(".dl-stop").click()
    expect(status(panel)).to_contain_text(STOPPED)
    print(f"regularization: Stop click to 'stopped' in the status line {time.perf_counter() - clicked:.3f} s")
    text = status_text(panel)
    epoch, total = epoch_of(text)
    assert total == LONG_EPOCHS and 30 <= epoch < LONG_EPOCHS
    assert text.endswith((f"에폭 {epoch}에서 정지", f"stopped at epoch {epoch}")), text
    wait_until_idle(panel)
    expect(panel.locator(".dl-train")).to_be_enabled()
    panel.screenshot(path=SCREENSHOTS / "regularization_stopped.png")


def tall_screenshot(page, element, path):
    """A screenshot of an element taller than the 1000-px window: JupyterLab's notebook is the scrolling box, so
    the window grows for the shot and shrinks back."""
    page.set_viewport_size({"width": 1280, "height": 2400})
    try:
        element.scroll_into_view_if_needed()
        element.screenshot(path=path)
    finally:
        page.set_viewport_size({"width": 1280, "height": 1000})


def hidden_text(panel):
    """The readouts and descriptions of the panel whose text does not fit their box (cut off on the page)."""
    return panel.evaluate(
        """panel => [...panel.querySelectorAll('.widget-readout, .widget-label, button')]
                .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
                .map(e => `${e.textContent} (${e.scrollWidth} px in ${e.clientWidth} px)`)"""
    )


def test_the_grid_button_fills_the_4x4_grid_and_the_histograms_show(page):
    panel = panel_with(page, ".dl-grid")
    cells = panel.locator(".dl-grid-cell")
    expect(cells).to_have_count(GRID_CELLS)
    started = time.perf_counter()
    panel.locator(".dl-grid").click()
    expect(panel.locator(".dl-grid-status")).to_contain_text(
        re.compile(rf"(?:그리드: {GRID_CELLS}/{GRID_CELLS}쌍 완료|grid: {GRID_CELLS}/{GRID_CELLS} pairs done)"),
        timeout=120_000,
    )
    wait_until_idle(panel)
    seconds = time.perf_counter() - started
    page.wait_for_function(
        "cells => cells.every(img => img.complete && img.naturalWidth > 0)",
        arg=[cells.nth(i).element_handle() for i in range(GRID_CELLS)],
    )
    shot = SCREENSHOTS / "batchnorm_grid.png"
    tall_screenshot(page, panel, shot)
    text = panel.locator(".dl-grid-status").text_content()
    print(f"batch-norm grid: click to all {GRID_CELLS} cells drawn {seconds:.1f} s in the page; '{text}'; {shot}")
    expect(panel.locator(".dl-histograms")).to_be_visible()  # from the pair trained by the first test
    assert not hidden_text(panel), hidden_text(panel)


def test_the_search_panel_with_its_defaults_finds_the_slides_accuracy_and_shows_every_readout(page):
    panel = panel_with(page, ".dl-trials")
    assert not hidden_text(panel), hidden_text(panel)
    lr_range = panel.locator(".dl-lr-range .widget-readout").text_content()
    assert re.fullmatch(r"\s*[-−]6\.0\s*[-–]\s*[-−]2\.0\s*", lr_range), lr_range  # the whole range, not "-6.0 – -2.("
    started = time.perf_counter()
    panel.locator(".dl-train").click()
    expect(panel.locator(".dl-stop")).to_be_enabled()
    expect(panel.locator(".dl-stop")).to_be_disabled(timeout=SEARCH_TIMEOUT_MS)
    seconds = time.perf_counter() - started
    text = status_text(panel)
    best = float(re.search(r"(?:최고 검증 정확도|best val acc) (\d\.\d+)", text).group(1))
    plot = panel.locator(".dl-plot").element_handle()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot)
    shot = SCREENSHOTS / "search_panel.png"
    tall_screenshot(page, panel, shot)
    print(f"search panel, defaults: '{text}', {seconds:.1f} s from the click in the page; {shot}")
    assert text.startswith(("시행 40/40 ", "trial 40/40 ")) and best >= 0.7, text
    assert not hidden_text(panel), hidden_text(panel)
