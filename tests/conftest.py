"""Shared fixtures: paths, and a scratch copy of the course for nbgrader."""

import contextlib
import glob
import html
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

from examples.course_copy import REPO, copy_course  # noqa: F401 (the tests' copy_course)
from examples.nbgrader_runs import run_nbgrader
from grading.command.results import StudentResult, exercise_names
from grading.configuration import course_config, delimiters
from grading.gradebook import create_gradebook
from grading.report.mistakes import NOT_MISTAKES

# Every assignment (a folder of source/, the Chinese editions <name>_zh
# included) and the name of its one notebook.
ASSIGNMENTS = {
    folder.name: next(folder.glob("*.ipynb")).name
    for folder in sorted((REPO / "source").iterdir())
    if folder.is_dir()
}


# The course's configuration, as nbgrader_config.py sets it (the sandbox's
# limits among it).
COURSE_CONFIG = course_config(REPO)

# The modules of the visible checks that the grader replays, as
# nbgrader_config.py names them for the assignments.
CHECKS = sorted(
    {module for modules in COURSE_CONFIG.SandboxedExecute.check_modules.values() for module in modules}
)

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


def printed(outputs) -> str:
    """What a cell printed: the text of its stream outputs, joined."""
    return "".join(output.get("text", "") for output in outputs if output.output_type == "stream")


def output_text(outputs) -> str:
    """What a cell printed, without the whitespace around it."""
    return printed(outputs).strip()


def printed_by_notebook(notebook) -> str:
    """What every code cell of a notebook printed, a cell's text per line group."""
    return "\n".join(printed(cell.outputs) for cell in notebook.cells if cell.cell_type == "code")


def graded_cell(source, grade_id, error=None, solution=False):
    """A code cell of nbgrader's: a graded test (or a solution), with the error
    (name, value) it raised, if any."""
    cell = new_code_cell(
        source, metadata={"nbgrader": {"grade": not solution, "solution": solution, "grade_id": grade_id}}
    )
    if error:
        cell.outputs = [new_output("error", ename=error[0], evalue=error[1], traceback=[])]
    return cell


def page_text(page_source):
    """The text an HTML page shows: tags, styles and scripts dropped, entities
    decoded (nbconvert splits each code line into highlighting spans, so the
    raw HTML never holds a line of code whole)."""
    page_source = re.sub(r"<(style|script)\b.*?</\1>", "", page_source, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", page_source))


def leaked_hidden_tests(assignment, text):
    """The lines of the assignment's hidden tests that text shows."""
    return sorted(line for line in hidden_test_lines(assignment) if line in text)


# The longest modules, longest first, with the seconds each took in a full run
# on 2 cores. pytest-xdist hands out whole modules in the order of the
# collection (pytest.ini turns off its own order, most tests first, which
# started the 77 s browser module of 3 tests last, one process running alone
# at the end): longest first, the short ones fill in at the end.
LONGEST_FIRST = [
    "tests/test_grading.py",  # 198 s
    "tests/test_term.py",  # 92
    "tests/test_browser_student.py",  # 77
    "tests/test_grading_parallel.py",  # 75
    "tests/test_execute.py",  # 74
    "tests/test_grading_intake.py",  # 70
    "tests/test_grading_boundary.py",  # 41
    "tests/test_class_report.py",  # 40
    "tests/test_browser_formgrader.py",  # 38
    "source/initialization_deep/InitializationDeep.ipynb",  # 28
    "source/initialization_deep_zh/InitializationDeep.ipynb",  # 28
]


def pytest_collection_modifyitems(items):
    """nbval's notebook cells run in real kernels, and a test on the
    generated course waits for nbgrader's generate_assignment (once in each
    test process): both belong to the slow tests. The longest modules go
    first (LONGEST_FIRST); a module's own tests, and a notebook's cells, keep
    their order."""
    for item in items:
        if item.path.suffix == ".ipynb" or "generated_course" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    rank = {module: place for place, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(LONGEST_FIRST)))


def unwritable(*folders):
    """Why a test that plants files in these folders of the machine cannot run
    here, or None when it can: the folders this user cannot write (root can,
    as a grading server's administrator can, unless one is missing or read-only)."""
    missing = [folder for folder in folders if not os.access(folder, os.W_OK)]
    if not missing:
        return None
    if os.geteuid() != 0:
        return f"plants files in {', '.join(missing)}, which only root may write: run as root"
    return f"plants files in {', '.join(missing)}, missing or read-only here"


def exit_status(example, students=None):
    """The grading command's exit status for an example class (or the named
    students of it): 2 when a file cannot be read, so is not graded; else 0."""
    cases = {name: case for name, case in example.STUDENTS.items() if students is None or name in students}
    return 2 if any(case.get("unreadable") for case in cases.values()) else 0


def descendants(pid: int) -> list[str]:
    """The processes that pid started, and theirs (Linux's /proc/PID/task/TID/children)."""
    found, waiting = [], [str(pid)]
    while waiting:
        for children in glob.glob(f"/proc/{waiting.pop()}/task/*/children"):
            with contextlib.suppress(OSError):
                pids = Path(children).read_text().split()
                found += pids
                waiting += pids
    return found


def decided_by_visible_checks(case: dict) -> bool:
    """Whether an example student's points are what the visible checks say
    of plain answers: nothing the sandbox stops, no tampered file, no late
    penalty, no cheat, no answer that needs the experiments run first."""
    return not {"reason", "tamper", "late_penalty", "cheats", "needs_experiments"} & set(case)


def known_mistakes(example, students=None) -> dict:
    """{(mistake id, exercise's short name): sorted students} that the class
    report must name for an example class (or the named students of it):
    the mistakes its cases declare, less those the report lists apart
    (grading/report/mistakes.py's NOT_MISTAKES)."""
    short = dict(zip(example.POINTS, exercise_names(list(example.POINTS))))
    rows = {}
    for student, case in example.STUDENTS.items():
        if students is not None and student not in students:
            continue
        for cell, mistake in case.get("mistakes", {}).items():
            if mistake not in NOT_MISTAKES:
                rows.setdefault((mistake, short[cell]), []).append(student)
    return {key: sorted(names) for key, names in rows.items()}


@dataclass
class GradingRun:
    """One run of the grading command: what it printed, its --json summary,
    and what it wrote on stderr."""

    printed: str
    summary: dict
    stderr: str = ""

    @property
    def students(self) -> list[str]:
        """The students graded, in the summary's order."""
        return [row["student"] for row in self.summary["students"]]

    def result(self, student: str) -> StudentResult:
        """The student's result, as the command returned it."""
        (row,) = [row for row in self.summary["students"] if row["student"] == student]
        return StudentResult.from_json(row)


def run_grading_command(course, *arguments, status=0) -> GradingRun:
    """`python -m grading.grade ... --json FILE` in the course root, as an
    instructor runs it; returns what it printed and its summary. status is the
    exit status expected: 0 when everything handed in is graded, 2 when
    something is not."""
    with tempfile.TemporaryDirectory(prefix="grading-summary-") as folder:
        summary = Path(folder) / "summary.json"
        process = subprocess.run(
            [sys.executable, "-m", "grading.grade", *arguments, "--json", str(summary)],
            cwd=course,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        assert process.returncode == status, process.stderr[-3000:] + process.stdout[-3000:]
        return GradingRun(process.stdout, json.loads(summary.read_text(encoding="utf-8")), process.stderr)


@pytest.fixture(scope="session")
def generated_course(tmp_path_factory):
    """The course with every assignment generated by nbgrader into a fresh
    gradebook, once in each test process (each xdist worker): tests take
    copies of it (copy_generated), never
    change it."""
    root = copy_course(tmp_path_factory.mktemp("generated"))
    shutil.rmtree(root / "release")
    # Every assignment in one command, as scripts/main.sh generates them.
    run_nbgrader(root, "generate_assignment", "*", "--force")
    assert sorted(path.name for path in (root / "release").iterdir()) == sorted(ASSIGNMENTS)
    # The first grading of each copy would run every reference solution (about a second each):
    # run them once here, into .reference-runs/, which the copies' commands read back (the same
    # fingerprint). Only a cache: where they cannot run here, each command runs them itself.
    with contextlib.suppress(subprocess.TimeoutExpired):
        command = [sys.executable, "-c", KEEP_REFERENCE_RUNS, *ASSIGNMENTS]
        subprocess.run(command, cwd=root, capture_output=True, timeout=900)
    return root


KEEP_REFERENCE_RUNS = """
import sys
from grading.command.course import Course
from grading.command.pipeline import time_the_reference
course = Course(".")
for assignment in sys.argv[1:]:
    time_the_reference(course, assignment, course.release_notebooks(assignment))
"""


def copy_generated(generated_course, destination):
    """A copy of the generated course (its gradebook included) in
    destination, made if missing; returns destination."""
    shutil.copytree(generated_course, destination, symlinks=True, dirs_exist_ok=True)
    return destination


@pytest.fixture(scope="module")
def course(generated_course, tmp_path_factory):
    """A scratch course root of this module's own, every assignment generated."""
    return copy_generated(generated_course, tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="session")
def empty_gradebook(tmp_path_factory):
    """An empty nbgrader gradebook (SQLite, no course in it), made once in
    each test process: nbgrader runs `alembic heads` in a subprocess for
    every gradebook it creates, a second or more on a busy machine. Tests
    take copies of it (gradebook_url)."""
    path = tmp_path_factory.mktemp("empty-gradebook") / "gradebook.db"
    create_gradebook(f"sqlite:///{path}", course_id="")
    return path


@pytest.fixture
def gradebook_url(empty_gradebook, tmp_path):
    """The db_url of a fresh copy of the empty gradebook, tmp_path/gradebook.db."""
    path = tmp_path / "gradebook.db"
    shutil.copyfile(empty_gradebook, path)
    return f"sqlite:///{path}"


def failed_nbgrader_step(gradebook_url, folder, error: Exception) -> dict:
    """The outcome ({"success", "error", "log"}) of a real nbgrader converter
    (generate_assignment, run as the grading command runs each step) that
    fails because a preprocessor raised error: the log and traceback text
    are nbgrader's own, for the tests of the code that reads them."""
    from nbformat.v4 import new_notebook
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.preprocessors import NbGraderPreprocessor
    from traitlets.config import Config

    from grading.compat import run_converter

    class Failing(NbGraderPreprocessor):
        def preprocess(self, nb, resources):
            raise error

    (folder / "source" / "a1").mkdir(parents=True)
    nbformat.write(new_notebook(cells=[new_code_cell("x = 1")]), folder / "source" / "a1" / "Notebook.ipynb")
    config = Config()
    config.CourseDirectory.root = str(folder)
    config.CourseDirectory.db_url = gradebook_url
    config.GenerateAssignment.preprocessors = [Failing]
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = "a1"
    return run_converter(GenerateAssignment(coursedir=coursedir, config=config))


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


SCREENSHOTS = "screenshots"  # the user property that names their root folder
FAILED = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether a test failed, for its fixtures' teardown."""
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    return report


def screenshot_folder(request, tmp_path_factory):
    """The folder of a test's screenshots. Its root travels with the test's
    reports (user_properties), so that the run's summary can print it even
    when an xdist worker ran the test."""
    root = tmp_path_factory.getbasetemp() / "screenshots"
    request.node.user_properties.append((SCREENSHOTS, str(root)))
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
    roots = sorted(
        {
            value
            for reports in terminalreporter.stats.values()
            for report in reports
            for name, value in getattr(report, "user_properties", ())
            if name == SCREENSHOTS
        }
    )
    for root in roots:
        terminalreporter.write_line(f"Browser screenshots, one folder a test: {root}")


@contextlib.contextmanager
def gradebook_locked(grading_course):
    """The course's SQLite gradebook locked by another connection (no reader
    nor writer gets in), grading_course told to wait 0.2 s for a lock."""
    database = grading_course.root / "gradebook.db"
    grading_course.coursedir.db_url = f"sqlite:///{database}?timeout=0.2"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()
