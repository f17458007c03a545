"""A busy grading server costs no honest student a point.

A cell's budget counts the seconds its kernel would have taken on an idle
machine: the box subtracts the time the kernel waited for a CPU
(grading/plugins/box_runner.py). Here honest students are graded beside
CPU hogs on every core, with every budget a quarter of its size (as on a
machine four times slower than the one that measured the reference), among
them the slowest honest path: an answer that reads an experiment's result,
so that its notebook runs again in full.

The negative control grades them again beside the same hogs with the wall
clock as the only measure (max_slowdown = 1: a cell stops once its wall
time reaches its budget): then load costs points, so the test can fail.
"""

import os
import subprocess
import sys

import pytest

from conftest import copy_generated, run_grading_command
from examples import example_class
from examples.students import write_submission
from grading.reasons import Why

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

ASSIGNMENT, NOTEBOOK = example_class.ASSIGNMENT, example_class.NOTEBOOK
HONEST = ["correct-variants", "correct-textbook", "he-reads-earlier-predictions"]
HOGS = 4 * (os.cpu_count() or 1)  # busy processes: a load of 4 per core
SLOWER = "c.SandboxedExecute.budget_scale = 0.25"


def grade_beside_hogs(generated_course, folder, *config_lines):
    """The honest students graded one at a time beside HOGS busy processes:
    the command's run."""
    course = copy_generated(generated_course, folder)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\n" + "\n".join(config_lines) + "\n")
    for student in HONEST:
        write_submission(
            course, student, ASSIGNMENT, f"{NOTEBOOK}.ipynb", example_class.STUDENTS[student]["answers"]
        )
    # Each in a session of its own, as other users' work is: Linux's
    # autogroup scheduling would otherwise give them one share between them.
    hogs = [
        subprocess.Popen(
            [sys.executable, "-c", "import time\nend = time.time() + 900\nwhile time.time() < end: pass"],
            start_new_session=True,
        )
        for _ in range(HOGS)
    ]
    try:
        return run_grading_command(course, ASSIGNMENT, "--workers", "1")
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


@pytest.fixture(scope="module")
def under_load(generated_course, tmp_path_factory):
    return grade_beside_hogs(generated_course, tmp_path_factory.mktemp("load") / "course", SLOWER)


def test_honest_students_keep_full_marks_on_a_busy_server(under_load):
    for student in HONEST:
        result = under_load.result(student)
        assert not result.has(Why.TIMED_OUT) and not result.has(Why.NOT_RUN), result.reasons
        assert result.total == sum(example_class.FULL.values()), (student, result.reasons)


def test_wall_clock_budgets_would_cost_points_under_the_same_load(generated_course, tmp_path_factory):
    """The negative control: with wall time as the only measure, the load
    makes honest cells run over their budgets."""
    run = grade_beside_hogs(
        generated_course,
        tmp_path_factory.mktemp("wall") / "course",
        SLOWER,
        "c.SandboxedExecute.max_slowdown = 1.0",
    )
    assert any(run.result(student).has(Why.TIMED_OUT) for student in HONEST), [
        run.result(student).reasons for student in HONEST
    ]
