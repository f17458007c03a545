"""grading/command/parallel.py's own rules, without grading anyone:
tests/test_grading_parallel.py grades on real worker processes and on a
Dask cluster."""

import multiprocessing
import os
import queue
import threading
import time

import pytest

import grading.command.parallel as parallel
from examples.course_copy import copy_course
from grading import grade
from grading.command.parallel import worker_course
from grading.command.results import StudentResult
from grading.errors import GradingError
from grading.reasons import Why


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


def test_a_grader_error_in_a_worker_process_is_the_students_reason(monkeypatch):
    """Grading that raises inside a local worker process gives that student
    the error as a reason, and the worker goes on with the next; it is not
    taken for a worker that died."""

    def broken(*arguments):
        raise OSError("disk full")

    monkeypatch.setattr(parallel, "grade_on_worker", broken)
    monkeypatch.setattr(parallel.signal, "signal", lambda *arguments: None)  # pytest keeps its Ctrl-C
    ours, theirs = multiprocessing.Pipe()
    for message in ("ada", "bo", None):
        ours.send(message)
    parallel.serve(theirs, ("course", "initialization", False, {}, True, "command-1"))
    results = [ours.recv(), ours.recv()]
    assert [result.student for result in results] == ["ada", "bo"]
    assert all([reason.why for reason in result.reasons] == [Why.GRADER_FAILED] for result in results)
    assert "OSError: disk full" in str(results[0].reasons[0])


def test_a_worker_process_that_cannot_start_costs_a_reason_not_a_hang(monkeypatch):
    """When no worker process can be forked (a process limit, say), each
    student is reported as not graded, and the command goes on."""

    class Unstartable:
        def __init__(self, task):
            raise EOFError("unexpected EOF")  # what multiprocessing raises when the forkserver fails

    monkeypatch.setattr(parallel, "WorkerProcess", Unstartable)
    waiting, graded = queue.SimpleQueue(), queue.SimpleQueue()
    for student in ("ada", "bo"):
        waiting.put(student)
    parallel.keep_grading(
        ("course", "initialization", False, {}, True, "command-1"), waiting, graded, threading.Event()
    )
    results = [graded.get(timeout=1), graded.get(timeout=1)]
    assert [(result.student, result.retried) for result in results] == [("ada", True), ("bo", True)]
    assert all([reason.why for reason in result.reasons] == [Why.WORKER_DIED] for result in results)


@pytest.mark.dask
def test_a_scheduler_that_cannot_be_reached_is_a_grading_error(monkeypatch):
    """No scheduler at the address: the command ends with one line naming it
    (grade.main's `error:`), not a Dask traceback."""
    monkeypatch.setattr(parallel, "CONNECT_SECONDS", 1)
    address = "tcp://127.0.0.1:1"
    students = parallel.grade_on_cluster(None, "initialization", ["ada"], 1, address, False, dict, True)
    with pytest.raises(GradingError, match=f"cannot reach the Dask scheduler at {address}: "):
        next(students)


def test_grading_on_an_open_scheduler_is_refused_before_anything_runs():
    """Not only the command line: grading itself refuses plain tcp off this machine."""
    ran = []
    address = "tcp://10.0.0.5:8786"
    prepare = lambda: ran.append("reference") or {}  # noqa: E731
    students = parallel.grade_on_cluster(None, "initialization", ["ada"], 1, address, False, prepare, True)
    with pytest.raises(GradingError, match="only uses one on this machine's loopback"):
        next(students)
    assert ran == []  # the reference was not run


@pytest.mark.parametrize(
    "address, used",
    [
        ("tcp://127.0.0.1:8786", True),
        ("127.0.0.1:8786", True),  # Dask's tcp by default
        ("tcp://localhost:8786", True),
        ("tcp://[::1]:8786", True),
        ("tls://10.0.0.5:8786", True),
        ("tcp://10.0.0.5:8786", False),  # anyone on the network could send it code
        ("tcp://0.0.0.0:8786", False),
        ("ws://127.0.0.1:8786", False),
        ("TLS://10.0.0.5:8786", False),  # Dask's schemes are lower case: it would not read it
        ("tcp://127.0.0.1?x=tcp://10.0.0.5:8786", False),  # Dask reads the host as 10.0.0.5
        ("nonsense://scheduler", False),
    ],
)
def test_only_a_loopback_or_tls_scheduler_is_used(address, used):
    """A Dask scheduler runs whatever a client sends it: the command refuses
    plain tcp off this machine, saying what it accepts instead."""
    problem = parallel.scheduler_problem(address)
    assert (problem is None) == used
    if problem:
        assert problem.startswith(f"--scheduler {address}: ") and "tls://" in problem


def test_the_command_refuses_an_open_scheduler_before_grading(capsys):
    with pytest.raises(SystemExit) as stopped:
        grade.main(["initialization", "--scheduler", "tcp://10.0.0.5:8786"])
    assert stopped.value.code == 2
    assert "only uses one on this machine's loopback" in capsys.readouterr().err


class CourseWithoutNotebooks:
    """What grade_one_by_one asks of a course, for the tests of its rules alone."""

    def release_notebooks(self, assignment):
        return {}


def test_one_by_one_ends_as_the_parallel_ways_do(monkeypatch):
    """Graded in this process (one worker), a student another run still grades gets the
    gradebook's grade read back, as from a worker process or Dask, and the rest keep their order.
    A result already read from the gradebook is not read again, even with no autograded points
    (an assignment of written answers only)."""
    graded = {"ada": StudentResult("ada", gradebook_read=True), "bo": StudentResult("bo")}
    read_back = []
    monkeypatch.setattr(parallel, "graded_again_if_locked", lambda course, a, student, r: graded[student])
    monkeypatch.setattr(parallel, "keeping_the_gradebook", lambda course, a, result: read_back.append(result))
    prepared, reported = [], []
    results = parallel.grade_all(
        CourseWithoutNotebooks(), "initialization", ["bo", "ada"], 1, None, reported.append,
        prepare=lambda: prepared.append(True) or {},
    )  # fmt: skip
    assert [result.student for result in results] == ["bo", "ada"] and prepared == [True]
    assert read_back == [graded["bo"]] and len(reported) == 2


def test_a_student_is_graded_once_more_after_the_gradebook_was_locked(monkeypatch):
    """Another process held SQLite's write lock past its timeout: the student is graded again,
    on every way of grading (grading/command/pipeline.py's graded_again_if_locked)."""
    from grading.command import pipeline
    from grading.reasons import Reason

    locked = StudentResult("ada", reasons=[Reason(Why.DATABASE_LOCKED, "nbgrader could not grade it")])
    attempts = [locked, StudentResult("ada", points={"test_f": (1.0, 1.0)})]
    monkeypatch.setattr(pipeline, "grade_and_give_feedback", lambda *arguments: attempts.pop(0))
    result = pipeline.graded_again_if_locked(None, "initialization", "ada", {})
    assert attempts == [] and result.points == {"test_f": (1.0, 1.0)} and not result.reasons
