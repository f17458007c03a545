"""Grading several submissions at once, on Dask distributed.

Each submission is one Dask task that autogrades it with nbgrader and
writes its feedback (grading.command.pipeline.grade_and_give_feedback), in a worker
process with its own sandboxed kernel. By default the tasks run on an
embedded local cluster, one single-threaded worker process per requested
worker, each forked from a server that imported the pipeline once
(grading/command/worker_server.py); with a scheduler address they run on an
existing Dask cluster.

Every worker reads and writes the course root by its path, so on a real
cluster each worker machine needs the course folder at the same path (a
shared file system), the course environment, bubblewrap, and a gradebook it
can reach: PostgreSQL (a `db_url` in nbgrader_config.py) when the workers
are on several machines, since SQLite only works on one.

A task whose worker dies (the machine drops out, the process is killed) is
run once more on another worker; if that dies too, the submission is
reported as not graded. Nothing else is retried: a student's own crash is a
result, not a failure.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dask
from dask.distributed import Client, LocalCluster, as_completed
from distributed.scheduler import KilledWorker

from grading.command.course import Course
from grading.command.pipeline import grade_and_give_feedback, grading_failed, keeping_the_gradebook
from grading.command.results import StudentResult
from grading.command.worker_server import start_worker_server
from grading.reasons import Reason, Why

# A task is lost with its worker; Dask then reruns it elsewhere. One rerun,
# then KilledWorker: a submission that kills two workers is reported.
ALLOWED_FAILURES = 1


@functools.lru_cache(maxsize=None)
def worker_course(root: str, full: bool, sandbox: bool = True) -> Course:
    """The course as a worker process sees it, loaded once per process."""
    return Course(root, full=full, sandbox=sandbox)


def grade_on_worker(
    root: str,
    assignment: str,
    student: str,
    full: bool = False,
    references: dict | None = None,
    sandbox: bool = True,
    attempts: str | None = None,
) -> StudentResult:
    """The Dask task: grade one submission in this worker process, with the
    reference times the command measured (else the worker measures them).
    attempts is a folder where each task marks that it started, so that a
    rerun (its first worker died) knows it is one."""
    retried = started_before(attempts, student)
    try:
        course = worker_course(root, full, sandbox)
    except Exception as error:  # the course cannot be read here: the command says so
        return StudentResult(student, reasons=[grading_failed(error)], retried=retried)
    course.reference_runs.measured.update(references or {})
    releases = course.release_notebooks(assignment)
    result = grade_and_give_feedback(course, assignment, student, releases)
    if result.has(Why.DATABASE_LOCKED):
        # Another worker held SQLite's write lock past the timeout: grade again.
        result = grade_and_give_feedback(course, assignment, student, releases)
    result.retried = retried  # also when the rerun failed
    return result


def started_before(attempts: str | None, student: str) -> bool:
    """Mark in the folder attempts that grading student has started; True
    when an earlier attempt had (Dask reruns a task whose worker died).
    Student ids are letters, digits and .@+- (grading/submissions.py): file names."""
    if attempts is None:
        return False
    try:
        (Path(attempts) / student).touch(exist_ok=False)
    except FileExistsError:
        return True
    return False


def grade_on_cluster(
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
    """Grade students on Dask; call report(result) as each one finishes.

    prepare() runs here while the cluster starts, and returns the reference
    times (grading.command.pipeline.time_the_reference) the workers use
    instead of measuring again. It changes nothing the starting workers
    could inherit (this process's environment, working directory and
    configuration stay as they are: its children get theirs), so they start
    beside it and the command saves the seconds of one or the other.
    Returns the StudentResults in the order of `students`.
    """
    with ThreadPoolExecutor(max_workers=1) as starter:
        connecting = starter.submit(connect, workers, scheduler)
        try:
            references = prepare()
        except BaseException:
            disconnect(*connecting.result())
            raise
    client, cluster = connecting.result()
    finished = False
    try:
        # Where workers on other machines can see it too: the course folder.
        with tempfile.TemporaryDirectory(prefix=".grading-attempts-", dir=course.root) as attempts:
            results = _run(client, course, assignment, students, report, full, references, sandbox, attempts)
        finished = True
        return results
    finally:
        if finished:
            # Every result is in: the workers stop (half a second) while the
            # command exports the grades and writes the report. Python waits
            # for this thread before the process ends.
            threading.Thread(target=disconnect, args=(client, cluster), name="dask-shutdown").start()
        else:
            disconnect(client, cluster)


def disconnect(client: Client, cluster: LocalCluster | None) -> None:
    client.close()
    if cluster is not None:
        cluster.close()


def connect(workers: int, scheduler: str | None) -> tuple[Client, LocalCluster | None]:
    """A client of the scheduler at that address, or of a new local cluster
    whose worker processes import the grading pipeline as they start."""
    if scheduler:
        return Client(scheduler), None
    settings = {
        # The scheduler reads this from Dask's configuration as it starts; one
        # started elsewhere takes it from its own (see the README).
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        # Workers forked from the server that imported the pipeline (worker_server.py).
        "distributed.worker.multiprocessing-method": "forkserver",
    }
    start_worker_server()  # if the command has not started it yet
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            preload=["grading.command.pipeline"],
            # Dask's own warnings ("Worker process still alive after 4.0 seconds,
            # killing" as it closes) say nothing an instructor acts on; a worker
            # that dies is in the summary.
            silence_logs=logging.ERROR,
        )
    return Client(cluster), cluster


def task_key(course_id: str, assignment: str, student: str, run: str) -> str:
    """The Dask key of one student's grading. Keys name results on the
    scheduler, which other courses and other runs may share (the README's
    --scheduler): with the course and the run in it, a run never receives
    another's result for the same assignment and student id."""
    return f"grade-{course_id}-{assignment}-{student}-{run}"


def _run(client, course, assignment, students, report, full, references, sandbox, attempts):
    run = uuid.uuid4().hex
    futures = {
        client.submit(
            grade_on_worker,
            str(course.root),
            assignment,
            student,
            full,
            references,
            sandbox,
            attempts,
            key=task_key(course.coursedir.course_id, assignment, student, run),
            pure=False,
        ): student
        for student in students
    }
    results = {}
    for future in as_completed(futures):
        student = futures[future]
        try:
            result = future.result()
        except KilledWorker:
            # As many deaths as the scheduler allows (twice on the cluster this
            # module starts; a scheduler started elsewhere has its own setting).
            died = Reason(Why.WORKER_DIED, "not graded: each worker it ran on died, and Dask gave up on it")
            result = StudentResult(student, reasons=[died], retried=True)
        except Exception as error:  # the task never ran its own code (it could not be sent, say)
            result = StudentResult(student, reasons=[grading_failed(error)])
        if not result.points:  # not graded here: show what the gradebook holds
            keeping_the_gradebook(course, assignment, result)
        results[student] = result
        report(result)
    return [results[student] for student in students]
