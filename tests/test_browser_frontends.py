"""The slider panels in the two other Jupyter frontends: Notebook 7 and Voilà, in Debian's Chromium via Playwright.

tests/test_browser.py drives the panels in JupyterLab 4; this file proves they work, with nothing beyond what
ipywidgets brings, in
- Notebook 7: its own server (free port, random token, temp root and Jupyter folders, as for JupyterLab) opens
  /notebooks/panels.ipynb, waits for the kernel, runs all cells; then Train on the batch-norm panel runs to the
  last epoch and redraws the plot, and Stop ends the long regularization run early;
- Voilà: `voila panels.ipynb` executes the notebook itself and shows only the outputs; the same Train and Stop.
Each test starts and stops its own server (its kernels are shut down, or killed, even when the test fails).
Requests the page makes beyond 127.0.0.1 are blocked and printed (-s), as are the page's console errors; an
uncaught exception in the page fails the test. Screenshots go to screenshots/ (printed).
Skipped with a message without Chromium, Playwright, Notebook 7 or Voilà, unless DL4_REQUIRE_BROWSER=1: then
they fail. The JupyterLab helpers (ports, folders, Chromium, the panel probes) are those of tests/test_browser.py.
"""

import contextlib
import importlib.metadata
import importlib.util
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _load_lab_test():
    """tests/test_browser.py as a module (tests/ is no package): its helpers, not its tests or fixtures."""
    spec = importlib.util.spec_from_file_location("dl4_lab_browser", Path(__file__).with_name("test_browser.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lab = _load_lab_test()
expect, sync_playwright = lab.expect, lab.sync_playwright
NOTEBOOK, SCREENSHOTS, START_TIMEOUT_S = lab.NOTEBOOK, lab.SCREENSHOTS, lab.START_TIMEOUT_S
LOCAL = "http://127.0.0.1:"
FRONTENDS = {  # distribution: (lowest version, what it is called in messages)
    "notebook": ((7,), "Notebook 7"),
    "voila": ((0, 5), "Voilà 0.5"),
}


def require(distribution):
    """Skip (or fail in CI) unless Chromium, Playwright and this frontend are installed; returns its version."""
    lab.chromium_path()
    lowest, name = FRONTENDS[distribution]
    try:
        version = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        lab.unavailable(f"{name} is not installed: pip install -r requirements.txt")
    if tuple(int(part) for part in re.findall(r"\d+", version)[: len(lowest)]) < lowest:
        lab.unavailable(f"{name} is needed, {distribution} {version} is installed: pip install -r requirements.txt")
    return version


# --- the servers -----------------------------------------------------------------------------------------------


def start_notebook(folder, port, token):
    """Notebook 7 serving a copy of panels.ipynb, with every Jupyter folder in `folder` (as JupyterLab's)."""
    root, env = lab.lab_folders(folder)
    command = [
        sys.executable, "-m", "notebook", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--JupyterNotebookApp.user_settings_dir={folder / 'settings'}",
        f"--JupyterNotebookApp.workspaces_dir={folder / 'workspaces'}",
        "--JupyterNotebookApp.expose_app_in_browser=True",  # window.jupyterapp, as in JupyterLab
        "--LanguageServerManager.autodetect=False",
    ]  # fmt: skip
    with open(folder / "server.log", "wb") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def start_voila(folder, port, token):
    """Voilà serving panels.ipynb: it runs the notebook for each page that opens it. Connection files in `folder`."""
    root, env = lab.lab_folders(folder)
    command = [
        sys.executable, "-m", "voila", NOTEBOOK.name, "--no-browser",
        "--Voila.ip=127.0.0.1", f"--Voila.port={port}", "--Voila.port_retries=0", f"--Voila.token={token}",
        f"--Voila.root_dir={root}", f"--Voila.connection_dir_root={folder / 'runtime'}",
    ]  # fmt: skip
    (folder / "runtime").mkdir()
    with open(folder / "server.log", "wb") as log:
        return subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_until_serving(server, url, log):
    """Poll `url` until it answers 200; fails at once if the server exits."""
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited:\n{log.read_text()[-3000:]}"
        try:
            with no_proxy.open(url, timeout=5):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise TimeoutError(f"the server did not answer {url} in {START_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def serve(start, folder, ready_path):
    """Start a server; gives (base URL, token); stops it and its kernels at the end, pass or fail."""
    port, token = lab.free_port(), secrets.token_hex(24)
    folder.mkdir()
    started = time.perf_counter()
    server = start(folder, port, token)
    try:
        base = f"{LOCAL}{port}"
        wait_until_serving(server, f"{base}{ready_path}?token={token}", folder / "server.log")
        print(f"\n{start.__name__}: answering after {time.perf_counter() - started:.1f} s")
        yield base, token
    finally:
        lab.stop_lab(server)


# --- the browser -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    lab.chromium_path()
    folder = tmp_path_factory.mktemp("frontends")
    lab.expect.set_options(timeout=lab.TIMEOUT_MS)
    SCREENSHOTS.mkdir(exist_ok=True)
    print(f"\nscreenshots: {SCREENSHOTS}")
    with sync_playwright() as playwright:
        chromium = lab.launch_chromium(playwright, folder)
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A page whose requests beyond 127.0.0.1 are blocked, and whose console errors and uncaught exceptions are
    kept and printed when the test ends. `frontend_started()` sets apart the exceptions thrown until then: the
    frontend's own, before the notebook ran (a test asserts that none come after)."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(lab.TIMEOUT_MS)
        self.blocked, self.console_errors, self.startup_errors, self.page_errors = [], [], [], []
        self.context.route(re.compile(r"^(?!http://127\.0\.0\.1:|ws://127\.0\.0\.1:|data:|blob:)"), self._block)
        self.page.on("console", lambda message: message.type == "error" and self.console_errors.append(message.text))
        self.page.on("pageerror", lambda error: self.page_errors.append(error.stack or str(error)))

    def _block(self, route):
        self.blocked.append(route.request.url)
        route.abort()

    def frontend_started(self):
        self.startup_errors, self.page_errors = self.page_errors, []

    def report(self, name):
        for url in self.blocked:
            print(f"{name}: blocked a request beyond 127.0.0.1: {url}")
        for text in self.console_errors:
            print(f"{name}: console error: {text[:300]}")
        for text in self.startup_errors:
            print(f"{name}: uncaught exception while the frontend started, before any cell ran: {text[:400]}")
        for text in self.page_errors:
            print(f"{name}: uncaught exception in the page: {text[:400]}")

    def close(self, name):
        self.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
        self.report(name)
        self.context.close()


@contextlib.contextmanager
def watched_page(browser, name):
    watched = Watched(browser)
    try:
        yield watched
    finally:
        watched.close(name)


@pytest.fixture
def notebook7(browser, tmp_path):
    """Notebook 7 showing panels.ipynb after Run All, with its kernel ready."""
    version = require("notebook")
    with (
        serve(start_notebook, tmp_path / "notebook", "/api/status") as (base, token),
        watched_page(browser, "notebook7") as watched,
    ):
        started = time.perf_counter()
        page = watched.page
        lab.open_notebook(page, base, token, url_path=f"/notebooks/{NOTEBOOK.name}", query="")
        app = page.evaluate("() => `${window.jupyterapp.name} ${window.jupyterapp.version}`")
        print(f"{app} (notebook {version}): notebook open, kernel ready after {time.perf_counter() - started:.1f} s")
        watched.frontend_started()
        lab.run_all(page)
        yield watched


@pytest.fixture
def voila(browser, tmp_path):
    """Voilà showing panels.ipynb, which it has run."""
    version = require("voila")
    with (
        serve(start_voila, tmp_path / "voila", "/voila/templates/base/static/materialcolors.css") as (base, token),
        watched_page(browser, "voila") as watched,
    ):
        started = time.perf_counter()
        watched.page.goto(f"{base}/?token={token}", timeout=START_TIMEOUT_S * 1000)  # loaded: the notebook ran
        print(f"Voilà {version}: page loaded (notebook executed) after {time.perf_counter() - started:.1f} s")
        yield watched


# --- what the tests do in each frontend ---------------------------------------------------------------------------


def train_batchnorm(page, name):
    """Train the batch-norm panel to its last epoch; the plot must show a new image."""
    started = time.perf_counter()
    panel = lab.panel_with(page, ".dl-std")
    print(f"{name}: batch-norm panel drawn after {time.perf_counter() - started:.1f} s")
    plot = panel.locator(".dl-plot")
    before = plot.get_attribute("src")
    started = time.perf_counter()
    text, first_frame = lab.train_to_the_end(page, panel)
    print(
        f"{name}: Train click to the first plot image {first_frame:.3f} s, "
        f"to '{text}' {time.perf_counter() - started:.1f} s"
    )
    expect(plot).not_to_have_attribute("src", before or "")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
    panel.screenshot(path=SCREENSHOTS / f"{name}_batchnorm.png")


def stop_long_run(page, name):
    """Start the 400-epoch regularization run, press Stop after a few epochs: it stops at that epoch."""
    panel = lab.panel_with(page, ".dl-lambda")
    first_frame = lab.train_and_time_first_frame(page, panel)
    lab.wait_for_epoch(page, panel, 3)
    clicked = time.perf_counter()
    panel.locator(".dl-stop").click()
    expect(lab.status(panel)).to_contain_text(lab.STOPPED)
    text = lab.status_text(panel)
    print(
        f"{name}: regularization Train click to the first plot image {first_frame:.3f} s; "
        f"Stop click to '{text}' {time.perf_counter() - clicked:.3f} s"
    )
    epoch, total = lab.epoch_of(text)
    assert total == lab.LONG_EPOCHS and 3 <= epoch < total, text
    assert text.endswith((f"에폭 {epoch}에서 정지", f"stopped at epoch {epoch}")), text
    lab.wait_until_idle(panel)
    expect(panel.locator(".dl-train")).to_be_enabled()
    panel.screenshot(path=SCREENSHOTS / f"{name}_stopped.png")


# --- the tests ---------------------------------------------------------------------------------------------------


def test_notebook7_train_and_stop(notebook7):
    train_batchnorm(notebook7.page, "notebook7")
    stop_long_run(notebook7.page, "notebook7")
    assert not notebook7.page_errors, notebook7.page_errors


def test_voila_train_and_stop(voila):
    expect(voila.page.locator(".dl-panel")).to_have_count(3, timeout=START_TIMEOUT_S * 1000)
    train_batchnorm(voila.page, "voila")
    stop_long_run(voila.page, "voila")
    search = lab.panel_with(voila.page, ".dl-trials")
    search.screenshot(path=SCREENSHOTS / "voila_search.png")
    assert not lab.hidden_text(search), lab.hidden_text(search)  # every readout and description in full
    assert not voila.page_errors, voila.page_errors
