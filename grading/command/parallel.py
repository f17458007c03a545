"""Grading a class: one submission after another in this process, several at
once in processes of this machine, or on Dask distributed. Every way ends the
same: a submission another process held the gradebook's lock on is graded once
more, and one not graded where it was sent (its worker died, another run
still grades that student) shows the gradebook's grade.

Here, worker processes forked from one server (worker_server.py) grade a
submission at a time each; on a cluster, each submission is one Dask task,
and every worker needs the course at the same path, its environment,
bubblewrap and a reachable gradebook (PostgreSQL across machines). A
submission whose worker dies is graded once more, then reported; a
student's own crash is a result, not a failure.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import logging
import multiprocessing
import os
import queue
import signal
import threading
import uuid
from collections.abc import Callable

from grading.command.course import Course
from grading.command.pipeline import graded_again_if_locked, grading_failed, keeping_the_gradebook
from grading.command.results import StudentResult
from grading.command.worker_server import start_worker_server
from grading.errors import GradingError
from grading.reasons import Reason, Why

# How often a submission is graded again after its worker died: once, then it is reported.
ALLOWED_FAILURES = 1
WORKER_DIED = "not graded: each process it was graded in died"
STOP_SECONDS = 5  # what a worker process has to end once told to
ONE_AT_A_TIME = threading.Lock()


def worker_course(root: str, full: bool, sandbox: bool = True) -> Course:
    """The course as a worker process sees it: loaded once per process, and again
    once nbgrader_config.py has changed (a Dask worker outlives the command)."""
    return loaded_course(root, full, sandbox, configuration_stamp(root))


def configuration_stamp(root: str) -> tuple[int, int] | None:
    """(modification time, size) of the course's nbgrader_config.py, or None."""
    with contextlib.suppress(OSError):
        info = os.stat(os.path.join(root, "nbgrader_config.py"))
        return info.st_mtime_ns, info.st_size
    return None


@functools.lru_cache(maxsize=4)
def loaded_course(root: str, full: bool, sandbox: bool, stamp: tuple[int, int] | None) -> Course:
    return Course(root, full=full, sandbox=sandbox)


def grade_on_worker(
    root: str,
    assignment: str,
    student: str,
    full: bool = False,
    references: dict | None = None,
    sandbox: bool = True,
    command: str = "",
) -> StudentResult:
    """Grade one submission in this process, with the reference times the
    command measured (else this process measures them)."""
    # One grading at a time per process, whatever the Dask worker's threads: nbgrader
    # changes the shared course's student and working folder while it grades.
    with ONE_AT_A_TIME:
        return graded_here(root, assignment, student, full, references, sandbox, command)


def graded_here(root, assignment, student, full, references, sandbox, command="") -> StudentResult:
    """grade_on_worker's work, in the course as this process loaded it."""
    try:
        course = worker_course(root, full, sandbox)
    except Exception as error:  # the course cannot be read here: the command says so
        return StudentResult(student, reasons=[grading_failed(error)])
    course.reference_runs.start_from(references or {}, command)
    return graded_again_if_locked(course, assignment, student, course.release_notebooks(assignment))


def grade_all(
    course: Course,
    assignment: str,
    students: list[str],
    workers: int,
    scheduler: str | None,
    report: Callable[[StudentResult], None],
    full: bool = False,
    prepare: Callable[[], dict] = dict,
    sandbox: bool = True,
) -> list[StudentResult]:
    """Grade students on the Dask cluster at scheduler, else workers at a time here (one: in this
    process); call report(result) in this thread as each finishes. prepare() returns the reference
    times (pipeline.time_the_reference) every grading uses. Returns the StudentResults in the order
    of `students`."""
    if scheduler:
        grade = grade_on_cluster
    else:
        grade = grade_here if min(workers, len(students)) > 1 else grade_one_by_one
    results = {}
    # closing: an error here stops the workers at once, not when collected
    with contextlib.closing(
        grade(course, assignment, students, workers, scheduler, full, prepare, sandbox)
    ) as graded:
        for result in graded:
            if not result.gradebook_read:  # not graded there: show what the gradebook holds
                keeping_the_gradebook(course, assignment, result)
            results[result.student] = result
            report(result)
    return [results[student] for student in students]


def grade_one_by_one(course, assignment, students, workers, scheduler, full, prepare, sandbox):
    """Each student's StudentResult as it comes, graded in this process, one after another."""
    prepare()  # the reference runs, kept in course.reference_runs
    releases = course.release_notebooks(assignment)
    for student in students:
        yield graded_again_if_locked(course, assignment, student, releases)


def grade_here(course, assignment, students, workers, scheduler, full, prepare, sandbox):
    """Each student's StudentResult as it comes, from `workers` local processes."""
    start_worker_server()  # if the command has not started it yet
    task = (str(course.root), assignment, full, prepare(), sandbox, uuid.uuid4().hex)
    waiting, graded, stopping = queue.SimpleQueue(), queue.SimpleQueue(), threading.Event()
    for student in students:
        waiting.put(student)
    for _ in range(min(workers, len(students))):
        threading.Thread(
            target=keep_grading, args=(task, waiting, graded, stopping), name="grading", daemon=True
        ).start()
    try:
        for _ in students:
            yield graded.get()
    finally:
        stopping.set()  # also when the command is interrupted: no new worker starts


def keep_grading(task: tuple, waiting: queue.SimpleQueue, graded: queue.SimpleQueue, stopping) -> None:
    """Grade the students in waiting one at a time in one worker process, into
    graded; a worker that dies is replaced, and its student graded once more."""
    worker = None
    try:
        while not stopping.is_set():
            try:
                student = waiting.get_nowait()
            except queue.Empty:
                return
            for attempt in range(1 + ALLOWED_FAILURES):
                if stopping.is_set():  # interrupted: no new worker
                    return
                try:
                    worker = worker or WorkerProcess(task)
                    result = worker.grade(student)
                except Exception:  # no worker could start (the fork failed), or its answer was unreadable
                    result = None
                if result is not None:
                    result.retried = attempt > 0
                    break
                if worker is not None:
                    worker.stop()  # it died
                worker = None
            else:
                result = StudentResult(student, reasons=[Reason(Why.WORKER_DIED, WORKER_DIED)], retried=True)
            graded.put(result)
    finally:
        if worker is not None:
            worker.stop()


class WorkerProcess:
    """A process forked from the worker server that grades one student at a
    time, by its task (root, assignment, full, references, sandbox, command id)."""

    def __init__(self, task: tuple):
        context = multiprocessing.get_context("forkserver")
        self.connection, worker_end = context.Pipe()
        # daemon: the command's end ends it (an interrupted command too)
        self.process = context.Process(target=serve, args=(worker_end, task), daemon=True)
        try:
            self.process.start()
        except BaseException:
            self.connection.close()
            raise
        finally:
            worker_end.close()  # only the worker holds it now: its end closes it

    def grade(self, student: str) -> StudentResult | None:
        """student's StudentResult; None if the worker died first."""
        try:
            self.connection.send(student)
            return self.connection.recv()
        except (EOFError, OSError):
            return None

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.connection.close()
        self.process.join(timeout=STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def serve(connection, task: tuple) -> None:
    """In a worker process: grade each student sent, until None comes."""
    # Ctrl-C is the command's to handle: it stops the workers as it ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root, assignment, full, references, sandbox, command = task
    while (student := connection.recv()) is not None:
        try:
            connection.send(grade_on_worker(root, assignment, student, full, references, sandbox, command))
        except Exception as error:  # a grader bug: the student gets a reason, the worker goes on
            connection.send(StudentResult(student, reasons=[grading_failed(error)]))


CONNECT_SECONDS = 30  # Dask's own default wait for a scheduler


def scheduler_problem(address: str) -> str | None:
    """Why the command sends no work to the Dask scheduler at address, or None.
    A scheduler runs whatever any client that reaches it sends: plain tcp only on
    loopback, else tls://, where Dask's mutual TLS admits only the cluster's
    certificate holders (docs/cluster.md)."""
    from distributed.comm.addressing import parse_address, parse_host_port  # read as Dask reads it

    try:
        scheme, location = parse_address(address, strict=False)  # no scheme: Dask's tcp
        host = parse_host_port(location, 8786)[0] if scheme == "tcp" else None
    except ValueError:
        scheme = host = None  # Dask cannot read it either: refused below, then by Dask
    if scheme == "tls" or host == "localhost":
        return None
    with contextlib.suppress(ValueError):
        if host is not None and ipaddress.ip_address(host).is_loopback:
            return None
    return (
        f"--scheduler {address}: a Dask scheduler runs whatever any client that reaches it sends, so the "
        "command only uses one on this machine's loopback (tcp://127.0.0.1:PORT) or one at a tls:// "
        "address, with the cluster's certificates (docs/cluster.md)"
    )


def grade_on_cluster(course, assignment, students, workers, scheduler, full, prepare, sandbox):
    """Each student's StudentResult as it comes, from the Dask cluster whose
    scheduler is at the address scheduler (workers is the cluster's)."""
    from dask.distributed import Client  # Dask only when asked for

    problem = scheduler_problem(scheduler)
    if problem:
        raise GradingError(problem)
    references = prepare()  # first: no thread of Dask's runs while this process sets itself up
    try:
        client = Client(scheduler, timeout=CONNECT_SECONDS)
    # OSError: no scheduler there; ValueError: a malformed address; TypeError:
    # a tls:// address without the client's certificate in Dask's configuration.
    except (OSError, ValueError, TypeError) as error:
        raise GradingError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    try:
        task = (str(course.root), assignment, full, references, sandbox, uuid.uuid4().hex)
        yield from grade_tasks(client, course.coursedir.course_id, students, task)
    finally:
        # Disconnecting takes a second or so: done during the export (Python waits at exit).
        threading.Thread(target=client.close, name="dask-disconnect").start()


def grade_tasks(client, course_id: str, students: list[str], task: tuple):
    """Submit one Dask task for each student; yield their results as they come."""
    from dask.distributed import as_completed
    from distributed.scheduler import KilledWorker

    root, assignment, full, references, sandbox, run = task
    futures = {}  # {future: its student}
    for student in students:
        arguments = (root, assignment, student, full, references, sandbox, run)
        key = task_key(course_id, assignment, student, run)
        futures[client.submit(grade_on_worker, *arguments, key=key, pure=False)] = student
    told_unknown = False  # whether the instructor was told that reruns go unflagged
    for future in as_completed(futures):
        student = futures.pop(future)
        try:
            result = future.result()
            deaths = worker_deaths(client, future.key)
            if deaths is None and not told_unknown:
                logging.getLogger(__name__).warning(
                    "The Dask scheduler cannot say which students were graded again after a worker died: "
                    "the summary flags none as retried."
                )
                told_unknown = True
            result.retried = bool(deaths)
            yield result
        except KilledWorker:
            # As many deaths as the scheduler allows (docs/cluster.md's: two).
            yield StudentResult(student, reasons=[Reason(Why.WORKER_DIED, WORKER_DIED)], retried=True)
        except Exception as error:  # the task never ran its own code (it could not be sent, say)
            yield StudentResult(student, reasons=[grading_failed(error)])
        finally:
            # Let the scheduler forget the result: a worker that dies later
            # holding it would otherwise make it grade the student again.
            future.release()


def worker_deaths(client, key: str) -> int | None:
    """How many workers died holding the task key (Dask's "suspicious" count),
    or None when the scheduler cannot say. The task's future must still be held.
    A worker retired on purpose hands its tasks back without a death."""

    # Defined here so that it is sent by value: the scheduler need not be
    # able to import the grading package (docs/cluster.md starts a bare one).
    def suspicious_count(dask_scheduler):
        task = dask_scheduler.tasks.get(key)
        return task.suspicious if task is not None else 0

    try:
        return client.run_on_scheduler(suspicious_count)
    except Exception:  # the grade stands, unflagged (grade_tasks says so once)
        return None


def task_key(course_id: str, assignment: str, student: str, run: str) -> str:
    """The Dask key of one student's grading: with the course and the run in it,
    a run sharing the scheduler never receives another run's result."""
    return f"grade-{course_id}-{assignment}-{student}-{run}"
