"""A real JupyterLab server and a real browser, for the tests that act as a
student in JupyterLab or an instructor in formgrader.

The browser is Debian's chromium (`apt install chromium`, done by
scripts/setup.sh), launched by its path: Playwright cannot download its own
browser build here. Each server runs on a free loopback port with a token,
with its own home, settings and runtime folders, so that nothing of the
person running the tests (open tabs, settings, other servers) leaks in.
"""

import json
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
from urllib.parse import urlsplit

from grading.gradebook import nbgrader_path

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# What chromium needs here: no background connections (a closed network
# refuses them, many at a time), and no sandbox of its own (it cannot make
# one as root, nor inside most containers; the pages it opens are ours).
# No host resolves but this machine's loopback, so the tests see the pages
# as a machine without internet does, wherever they run.
CHROMIUM_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# JupyterLab user settings for a test server: keep every cell in the page
# (the notebook otherwise renders only the cells in view, and a test finds
# cells by their position), and do not ask about news over the window.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

# A prompt once its cell has run: "[12]:".
RAN = re.compile(r"^\[\d+\]:$")


def free_port():
    """A loopback port that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JupyterLab:
    """`jupyter lab` serving root_dir, started in cwd (where nbgrader reads
    nbgrader_config.py); its log goes to <home>/lab.log.

    Use as a context manager; url(path) gives a page's address with the token.
    """

    def __init__(self, root_dir, home, cwd=None):
        self.root_dir = Path(root_dir)
        self.home = Path(home)
        self.cwd = Path(cwd or root_dir)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.log_path = self.home / "lab.log"
        self.process = None

    def url(self, path="", query=""):
        """A page's address with the token; query adds parameters ("reset")."""
        extra = f"&{query}" if query else ""
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}?token={self.token}{extra}"

    def log_in(self, page):
        """Log the browser in with the token, at the server's login page, as a
        person does; the server's cookie then lets every page call its APIs."""
        page.goto(f"http://127.0.0.1:{self.port}/login")
        page.locator("#password_input").fill(self.token)
        page.locator("#login_submit").click()
        page.wait_for_url(re.compile(r"/(lab|tree)"))

    def __enter__(self):
        self.home.mkdir(parents=True, exist_ok=True)
        settings = self.home / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = {
            **os.environ,
            "HOME": str(self.home),
            "JUPYTER_CONFIG_DIR": str(self.home / "config"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces"),
            "PATH": nbgrader_path(),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        }
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                command, cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            self._wait_until_up(timeout=180)  # a loaded machine
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_up(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited at start:\n{self.log_path.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(self.url("api/status"), timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"jupyter lab did not answer in {timeout} s:\n{self.log_path.read_text()[-3000:]}")

    def kernel_is_idle(self, path):
        """Whether the notebook at path (relative to root_dir) has a kernel, started and idle."""
        with urllib.request.urlopen(self.url("api/sessions"), timeout=5) as answer:
            sessions = json.load(answer)
        return any(s["path"] == path and s["kernel"]["execution_state"] == "idle" for s in sessions)

    def stop(self):
        """Stop the server (it shuts its kernels down), then anything left in its session."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        try:
            os.killpg(self.process.pid, 9)
        except ProcessLookupError:
            pass

    def __exit__(self, *exc):
        self.stop()


def launch_chromium(playwright):
    """Debian's chromium, headless, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run scripts/setup.sh (it installs Debian's chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def cut_network(page):
    """Let the page load only from this machine (files, data: addresses, the
    loopback servers): every other request is aborted, as a machine with no
    network would fail it, and its address kept in the list returned, which
    the test then expects empty. (CHROMIUM_ARGS already resolves no other
    host: this names what the page asked for.)"""
    asked = []

    def route(route):
        address = urlsplit(route.request.url)
        if address.scheme in ("file", "data", "blob") or address.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            asked.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", route)
    return asked


# The size of each formula MathJax 2 has typeset on the page, once its queue
# (the page's first typesetting among it) has run through.
MATHJAX_OUTPUT = """() => new Promise(resolve => MathJax.Hub.Queue(() => resolve(
    Array.from(document.querySelectorAll('.MathJax, .MathJax_CHTML, .MathJax_SVG, .MathJax_MathML'))
        .map(element => ({width: element.offsetWidth, height: element.offsetHeight}))
)))"""


def mathjax_typeset(page, timeout=120_000):
    """[{width, height}] of each formula MathJax has typeset on the page, once it is done."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("() => window.MathJax && MathJax.isReady", timeout=timeout)
    except PlaywrightTimeout:
        raise AssertionError(
            f"MathJax did not start on the page in {timeout // 1000} s: the Jupyter server serves it when"
            " jupyter-server-mathjax (requirements/instructor.txt) is installed"
        ) from None
    return page.evaluate(MATHJAX_OUTPUT)


class Screenshots:
    """Numbered screenshots of each step, in one folder, for a person to look at."""

    def __init__(self, folder):
        self.folder = Path(folder)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def take(self, page, step, **options):
        """The page as shown (options of page.screenshot: a clip of the whole page, say)."""
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=path, **{"full_page": False, **options})
        return path


class NotebookPage:
    """A notebook open in JupyterLab, driven as a student drives it: clicks,
    keys and menus, never the kernel or the file behind the page's back.

    Cells are found by position, which is their index in the .ipynb file.
    """

    def __init__(self, page, lab, path):
        self.page = page
        # "reset" starts from an empty workspace: no notebook of an earlier
        # test is restored beside this one.
        page.goto(lab.url(f"lab/tree/{path}", query="reset"))
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-current", has_text=Path(path).name)
        self.panel = page.locator(f"[id='{tab.get_attribute('data-id')}']")
        self.panel.locator(".jp-Cell").first.wait_for()
        # The page's kernel indicator says "idle" before a kernel is even
        # connected: ask the server whether this notebook's kernel has started.
        deadline = time.monotonic() + 120
        while not lab.kernel_is_idle(path):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no idle kernel for {path} after 120 s")
            time.sleep(0.2)

    def cell(self, index):
        return self.panel.locator(".jp-Notebook .jp-Cell").nth(index)

    def replace_cell_text(self, index, text):
        """Click into a cell's editor, select all and type text in its place."""
        cell = self.cell(index)
        cell.scroll_into_view_if_needed()
        if "jp-mod-rendered" in (cell.get_attribute("class") or "").split():
            # A rendered markdown cell shows its editor on a double click.
            cell.locator(".jp-MarkdownOutput").dblclick()
        editor = cell.locator(".cm-content")
        editor.click()
        self.page.keyboard.press("Control+A")
        # insert_text types the whole text as one input, as a paste does, so
        # the editor's auto-indent and bracket closing do not alter it.
        self.page.keyboard.insert_text(text)
        self.page.keyboard.press("Escape")

    def menu(self, *labels):
        """Click through the menu bar: menu("Run", "Run All Cells")."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(labels[0])}$")).click()
        for label in labels[1:]:
            self.page.locator(
                ".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")
            ).first.click()

    def run_all(self):
        self.menu("Run", "Run All Cells")

    def run_cell(self, index):
        """Select a cell (a click on its prompt) and run it with Ctrl+Enter;
        returns once it has run."""
        cell = self.cell(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").click()
        self.page.keyboard.press("Control+Enter")
        self.wait_until_ran(index)

    def wait_until_ran(self, index, timeout=180_000):
        """Wait until cell index has run (its prompt shows an execution count)."""
        from playwright.sync_api import expect

        prompt = self.cell(index).locator(".jp-InputArea-prompt")
        expect(prompt).to_have_text(RAN, timeout=timeout)

    def output_text(self, index):
        return self.cell(index).locator(".jp-OutputArea").inner_text()

    def save(self):
        """Save with Ctrl+S and wait until the tab no longer shows unsaved changes."""
        self.page.keyboard.press("Control+S")
        self.page.wait_for_selector(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty", state="detached")

    def validate(self, timeout=180_000):
        """Click nbgrader's Validate button; return the text of the dialog it
        opens once the server has run the notebook."""
        self.panel.get_by_role("button", name="Validate").click()
        dialog = self.page.locator(".jp-Dialog-content").filter(has_text="Validation Results")
        dialog.wait_for(timeout=timeout)
        return dialog.inner_text()
