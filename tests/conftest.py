"""Shared fixtures: paths, and a scratch copy of the course for nbgrader."""

import html
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from examples.course_copy import REPO, copy_course  # noqa: F401 (the tests' copy_course)
from grading.course import delimiters, run_nbgrader

# Every assignment (a folder of source/, the Chinese editions <name>_zh
# included) and the name of its one notebook.
ASSIGNMENTS = {
    folder.name: next(folder.glob("*.ipynb")).name
    for folder in sorted((REPO / "source").iterdir())
    if folder.is_dir()
}


HIDDEN = re.compile("{}(.*?){}".format(*map(re.escape, delimiters(REPO)["hidden tests"])), re.DOTALL)


def hidden_test_lines(assignment):
    """The lines of an assignment's hidden tests (12 characters or more, so
    that lines such as "):" do not count), which no student may see."""
    notebook = nbformat.read(REPO / "source" / assignment / ASSIGNMENTS[assignment], as_version=4)
    lines = set()
    for cell in notebook.cells:
        for region in HIDDEN.findall(cell.source):
            lines.update(line.strip() for line in region.splitlines() if len(line.strip()) >= 12)
    assert lines, f"{assignment} has no hidden tests to look for"
    return lines


def page_text(page_source):
    """The text an HTML page shows: tags, styles and scripts dropped, entities
    decoded (nbconvert splits each code line into highlighting spans, so the
    raw HTML never holds a line of code whole)."""
    page_source = re.sub(r"<(style|script)\b.*?</\1>", "", page_source, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", page_source))


def leaked_hidden_tests(assignment, text):
    """The lines of the assignment's hidden tests that text shows."""
    return sorted(line for line in hidden_test_lines(assignment) if line in text)


def pytest_collection_modifyitems(items):
    """nbval's notebook cells run in real kernels: they belong to the slow tests."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)


def exit_status(example, students=None):
    """The grading command's exit status for an example class (or the named
    students of it): 2 when a file cannot be read, so is not graded; else 0."""
    cases = {name: case for name, case in example.STUDENTS.items() if students is None or name in students}
    return 2 if any(case.get("unreadable") for case in cases.values()) else 0


def run_grading_command(course, *arguments, status=0):
    """`python -m grading.grade ...` in the course root, as an instructor runs it;
    returns what it printed. status is the exit status expected: 0 when
    everything handed in is graded, 2 when something is not."""
    process = subprocess.run(
        [sys.executable, "-m", "grading.grade", *arguments],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert process.returncode == status, process.stderr[-3000:] + process.stdout[-3000:]
    return process.stdout


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch course root with the assignment generated into a fresh gradebook."""
    root = copy_course(tmp_path_factory.mktemp("course"))
    shutil.rmtree(root / "release")
    for assignment in ASSIGNMENTS:
        run_nbgrader(root, "generate_assignment", assignment, "--force")
    return root


# ------------------------------------------------------------ browser tests


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium driven by Playwright (tests/lab_driver.py)."""
    from playwright.sync_api import sync_playwright

    from lab_driver import launch_chromium

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


SCREENSHOTS = pytest.StashKey()
FAILED = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether a test failed, for its fixtures' teardown."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


def screenshot_folder(request, tmp_path_factory):
    """The folder of a test's screenshots (the run's summary prints their root)."""
    root = tmp_path_factory.getbasetemp() / "screenshots"
    request.config.stash[SCREENSHOTS] = root
    return root / request.node.name


@pytest.fixture
def page(chromium, request, tmp_path_factory):
    """A fresh browser page at a laptop's size (offline: see CHROMIUM_ARGS);
    a screenshot of it is saved if the test fails."""
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    if request.node.stash.get(FAILED, False):
        folder = screenshot_folder(request, tmp_path_factory)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=folder / "at-failure.png")
    context.close()


@pytest.fixture
def screenshots(request, tmp_path_factory):
    """Screenshots of each step of a browser test, in a folder named after it."""
    from lab_driver import Screenshots

    return Screenshots(screenshot_folder(request, tmp_path_factory))


def pytest_terminal_summary(terminalreporter, config):
    if SCREENSHOTS in config.stash:
        terminalreporter.write_line(f"Browser screenshots, one folder a test: {config.stash[SCREENSHOTS]}")
