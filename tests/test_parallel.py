"""grading/command/parallel.py's own rules, without grading anyone:
tests/test_grading_parallel.py grades on real worker processes and on a
Dask cluster."""

import os
import threading
import time

import pytest

import grading.command.parallel as parallel
from examples.course_copy import copy_course
from grading.command.parallel import worker_course
from grading.command.results import StudentResult


def test_a_process_grades_one_submission_at_a_time(monkeypatch):
    """A Dask worker started with several threads still grades one
    submission at a time: nbgrader changes the shared course and the working
    folder while it grades."""
    running, most = [], []

    def grading(root, assignment, student, *rest):
        running.append(student)
        most.append(len(running))
        time.sleep(0.05)
        running.remove(student)
        return StudentResult(student)

    monkeypatch.setattr(parallel, "graded_here", grading)
    threads = [
        threading.Thread(target=parallel.grade_on_worker, args=("course", "initialization", name))
        for name in ("ada", "bo", "cy", "di")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == [1, 1, 1, 1]


@pytest.mark.slow  # builds the course's gradebook (nbgrader, alembic)
def test_a_worker_loads_the_course_again_once_its_configuration_changes(tmp_path):
    """A Dask worker outlives the command that used it: the next command's
    tasks see the configuration as it is then (a new due date, say)."""
    root = str(copy_course(tmp_path))
    first = worker_course(root, False)
    assert worker_course(root, False) is first
    with open(os.path.join(root, "nbgrader_config.py"), "a") as config:
        config.write("\nc.Grading.due_dates = {}\n")
    assert worker_course(root, False) is not first
