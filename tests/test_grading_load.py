"""A busy grading server costs no honest student a point.

A cell's budget counts the seconds its kernel would have taken on an idle
machine: the box subtracts the time the kernel's main thread waited for a
CPU (grading/plugins/box_runner.py). Here a cell that needs one second of
CPU, with a budget of two, runs beside CPU hogs on every core (four per
core, each in a session of its own as other users' work is: Linux's
autogroup scheduling would otherwise give them one share between them), so
that it takes several seconds of wall time.

The negative control runs it again beside the same hogs with the wall clock
as the only measure (max_slowdown = 1: a cell stops once its wall time
reaches its budget): then the load costs the cell, so the test can fail.
The whole notebook's budget is covered by the reference (tests/test_grading.py
grades honest students, one of them graded again in full, with every budget
a quarter of its size).
"""

import os
import subprocess
import sys

import pytest
from test_execute import errors, run_submission, tiny_course  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

HOGS = 4 * (os.cpu_count() or 1)
ONE_CPU_SECOND = (
    "import time\nstart = time.process_time()\nwhile time.process_time() - start < 1.0:\n    pass"
)


@pytest.fixture
def busy_machine():
    hogs = [
        subprocess.Popen(
            [sys.executable, "-c", "import time\nend = time.time() + 300\nwhile time.time() < end: pass"],
            start_new_session=True,
        )
        for _ in range(HOGS)
    ]
    yield
    for hog in hogs:
        hog.kill()
        hog.wait()


def run_beside_hogs(course, **settings):
    """The busy cell's error name (None if it ran to its end) and its wall seconds."""
    notebook, seconds = run_submission(
        course, "def f(n):\n    return n * 2", added=[ONE_CPU_SECOND], **settings
    )
    return errors(notebook).get("added-0"), seconds


def test_an_honest_cell_keeps_its_budget_on_a_busy_machine(tiny_course, busy_machine):  # noqa: F811
    error, seconds = run_beside_hogs(tiny_course, timeout=2)
    assert error is None, f"the busy cell was stopped after {seconds:.1f} s in all"


def test_wall_clock_budgets_would_stop_it(tiny_course, busy_machine):  # noqa: F811
    """The negative control: the same cell, judged by its wall time alone."""
    error, _ = run_beside_hogs(tiny_course, timeout=2, max_slowdown=1.0)
    assert error == "CellTimeoutError"
