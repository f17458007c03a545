"""A busy grading server costs no honest student a point (until it slows a
cell past max_slowdown times its budget in wall time: README, Time limits).

A cell's budget counts the seconds its kernel would have taken on an idle
machine: the box subtracts the time the kernel's main thread waited for a
CPU (grading/plugins/box_runner.py). Here a cell that needs one second of
CPU, with a budget of two, runs beside CPU hogs on every core (four per
core, each in a session of its own as other users' work is: Linux's
autogroup scheduling would otherwise give them one share between them), so
that it takes several seconds of wall time. The hogs wait, idle, until the
cell starts (it names its kernel process for them): they load the machine
while it runs, not while the box and the kernel start. The wall-clock cap
(max_slowdown) is raised for that run: the tests running beside this one
load the machine too, and only the budget is under test.

The negative control runs it again beside the same hogs with the wall clock
as the only measure (max_slowdown = 1: a cell stops once its wall time
reaches its budget): then the load costs the cell, so the test can fail.
The whole notebook's budget is covered by the reference (tests/test_grading.py
grades honest students, one of them graded again in full, with every budget
a quarter of its size).
"""

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from test_execute import errors, run_submission, tiny_course  # noqa: F401 (a fixture)

from conftest import descendants

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

HOGS = 4 * (os.cpu_count() or 1)
# The name the busy cell gives its kernel process as it starts.
GO = "busy-cell-runs"
# A hog waits for a byte on its stdin (at most 5 minutes; it ends at once if
# the test process is gone), then keeps a CPU busy for a minute at most.
HOG = (
    "import select, sys, time\n"
    "if not select.select([sys.stdin], [], [], 300)[0] or not sys.stdin.read(1):\n    sys.exit()\n"
    "end = time.time() + 60\nwhile time.time() < end:\n    pass"
)
BUSY_CELL = (
    f"with open('/proc/self/comm', 'w') as name:\n    name.write({GO!r})\n"
    "import time\nstart = time.process_time()\nwhile time.process_time() - start < 1.0:\n    pass"
)


def process_name(pid: str) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/comm").read_text().strip()
    return ""


@pytest.fixture
def busy_machine():
    started, done = threading.Event(), threading.Event()
    hogs = []

    def start_hogs_with_the_cell():
        while not done.wait(0.02):
            if any(process_name(pid) == GO for pid in descendants(os.getpid())):
                for hog in hogs:
                    hog.stdin.write(b"!")
                    hog.stdin.flush()
                started.set()
                return

    watcher = threading.Thread(target=start_hogs_with_the_cell, daemon=True)
    try:
        for _ in range(HOGS):
            hogs.append(
                subprocess.Popen([sys.executable, "-c", HOG], stdin=subprocess.PIPE, start_new_session=True)
            )
        watcher.start()
        yield
    finally:
        done.set()
        if watcher.is_alive():
            watcher.join()
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert started.is_set(), "the busy cell never ran"


def run_beside_hogs(course, **settings):
    """The busy cell's error name (None if it ran to its end) and its wall seconds."""
    notebook, seconds = run_submission(course, "def f(n):\n    return n * 2", added=[BUSY_CELL], **settings)
    return errors(notebook).get("added-0"), seconds


def test_an_honest_cell_keeps_its_budget_on_a_busy_machine(tiny_course, busy_machine):  # noqa: F811
    # The wall-clock cap (max_slowdown times the budget, 4 by default) is a
    # safety net of its own: the hogs and the tests running beside this one
    # may slow the cell more than that, and this test is about the budget.
    error, seconds = run_beside_hogs(tiny_course, timeout=2, max_slowdown=20.0)
    assert error is None, f"the busy cell was stopped after {seconds:.1f} s in all"


def test_wall_clock_budgets_would_stop_it(tiny_course, busy_machine):  # noqa: F811
    """The negative control: the same cell, judged by its wall time alone."""
    error, _ = run_beside_hogs(tiny_course, timeout=2, max_slowdown=1.0)
    assert error == "CellTimeoutError"
