"""Grade a class with nbgrader: one command from submissions to grades.

    python -m grading.grade ASSIGNMENT [SUBMISSIONS] [--student NAME] [--root COURSE] [--csv FILE]
                            [--json FILE]

Run it from the course root (or name it with --root). SUBMISSIONS is left out
(the course's submitted/), a folder in nbgrader's layout, or a zip or folder
downloaded from a learning platform (then only the students it brought in are
graded). Each submission is autograded with the kernel in a sandbox; then the
feedback, the grades CSV, a summary (--json: as data too) and the class report
(grading/report/) are written. Grading again gives the same results.

Exit status: 0 when everything handed in was graded, 2 when something was
not (named in the summary), 1 when the class could not be graded at all.
This module orders the steps (grading/command/).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

from grading.atomic import write_json
from grading.command.course import Course
from grading.command.intake import collect, submitted_students
from grading.command.parallel import grade_all, scheduler_problem
from grading.command.pipeline import (
    ensure_assignment_in_gradebook,
    set_due_date,
    time_the_reference,
)
from grading.command.reporting import (
    Progress,
    block,
    feedback_line,
    hand_grading_line,
    plural,
    printable,
    summary_table,
)
from grading.command.results import ClassGrading
from grading.command.worker_server import start_worker_server
from grading.errors import GradingError
from grading.extension import ExtensionsError, read_extensions
from grading.plugins.sandbox import SANDBOX_FIXES, SandboxKernelManager, sandbox_problem
from grading.submissions import assignment_name_problem, valid_student_id


def grade_class(
    root,
    assignment: str,
    submissions=None,
    csv_name: str = "grades.csv",
    workers: int = 1,
    scheduler: str | None = None,
    full: bool = False,
    sandbox: bool = True,
    students: list[str] | None = None,
    json_path: Path | None = None,
) -> ClassGrading:
    """Collect, autograde, write feedback, export; return what was done.

    Grades the students named in students, else those that submissions brought in,
    else all in submitted/: workers at once here, or on the Dask cluster at
    scheduler. full=True also re-runs the ungraded experiments; sandbox=False
    runs student code unsandboxed (trusted notebooks only). Raises GradingError
    when the class cannot be graded (before writing anything if the sandbox cannot
    start). Checkpointed as students finish: a killed command loses no grade given."""
    if problem := assignment_name_problem(assignment):  # it names folders that are emptied: checked first
        raise GradingError(problem)
    course = Course(root, full=full, sandbox=sandbox)
    if problem := course.unknown_assignment_problem(assignment):  # before a download is filed under it
        raise GradingError(problem)
    try:
        read_extensions(course.root)  # read again for each student: a mistake stops nothing half-way
    except ExtensionsError as error:
        raise GradingError(str(error)) from None
    if SandboxKernelManager(config=course.config).enabled:
        if problem := sandbox_problem():
            raise GradingError(f"{problem}\n{SANDBOX_FIXES}")
    else:
        print(NO_SANDBOX_WARNING, file=sys.stderr, flush=True)
    if workers > 1 and scheduler is None and (students is None or len(students) > 1):
        start_worker_server()  # it imports for the workers while the class is collected
    with course.gradebook():
        pass  # created now if missing: nbgrader's plugins, collecting too, open it themselves
    run = ClassGrading(assignment=assignment)
    wanted = students
    if submissions is not None:
        collected = collect(course, assignment, submissions)
        run.refusals, run.notes = collected.refusals, notes_about(collected.notes, students)
        wanted = students or collected.students
    # An invalid student id never reaches nbgrader; a folder holding a link is refused later
    # (grading/command/pipeline.py).
    to_grade, invalid_ids = submitted_students(course, assignment)
    run.refusals += invalid_ids
    if wanted is not None:
        absent = sorted(set(wanted) - set(to_grade))
        if students and absent:
            raise GradingError(
                f"no submission of {assignment} in {course.submitted_root()} for {', '.join(absent)}"
            )
        to_grade = [student for student in to_grade if student in wanted]
    if not to_grade:
        print(block("Not graded:", run.refusals), file=sys.stderr)
        if submissions is not None and not students:
            raise GradingError(f"nothing in {submissions} was filed as a submission of {assignment}")
        raise GradingError(f"no submissions of {assignment} to grade in {course.submitted_root()}")
    # Written once there is someone to grade: a command that grades no one
    # adds no assignment, due date or row to the gradebook.
    ensure_assignment_in_gradebook(course, assignment)
    set_due_date(course, assignment)
    course.add_default_course()
    releases = course.release_notebooks(assignment)
    print(f"Grading {assignment}: {plural(len(to_grade), 'submission')}", flush=True)
    checkpoint = Checkpoint(course, assignment, run, csv_name, json_path)
    run.results = grade_students(
        course, assignment, to_grade, releases, workers, scheduler, full, sandbox, checkpoint.add
    )
    if tidy_problem := course.drop_empty_default_course():
        print(tidy_problem, file=sys.stderr)
    run.export_problem = export_grades(course, csv_name)
    report_problem = class_report(course, assignment, run)
    print_summary(run, assignment, csv_name, report_problem)
    return run


def export_grades(course, csv_name: str) -> str | None:
    """Write csv_name; None, or why it could not be written. The grades are
    in the gradebook either way: the run ends with its summary, not a traceback."""
    try:
        course.export_grades(csv_name)
    except GradingError as refusal:  # the course's LMS exporter refused: written answers wait
        problem = str(refusal)
    except Exception as error:  # noqa: BLE001 (one student's row may fail; every grade stays given)
        problem = f"{csv_name} could not be written ({type(error).__name__}: {error})."
    else:
        return None
    return (
        f"{problem} Every grade is in the gradebook: fix what is named, then export again with "
        "`nbgrader export`."
    )


def class_report(course, assignment: str, run: ClassGrading) -> str | None:
    """Write the class report (grading/report/) and note its page and changes in
    run; None, or why it could not be written (the grades stand either way)."""
    from grading.report import write_class_report  # matplotlib: imported once the grades are out

    try:
        page, run.changes = write_class_report(course, assignment, run)
    except Exception as error:  # noqa: BLE001 (the report is a view of the grades, never a reason to lose them)
        return f"The class report could not be written ({type(error).__name__}: {error})."
    run.report = str(page)
    return None


def notes_about(notes: list[str], students: list[str] | None) -> list[str]:
    """The notes ("<student>[, <student>...]: ...") about the students named
    with --student, or all of them when none is named."""
    if not students:
        return notes
    return [note for note in notes if set(note.split(": ", 1)[0].split(", ")) & set(students)]


# Seconds between two checkpoints of a class being graded (see grade_class).
CHECKPOINT_SECONDS = 10.0


class Checkpoint:
    """Writes the grades file and the unfinished summary while a class is graded."""

    def __init__(self, course, assignment, run: ClassGrading, csv_name: str, json_path: Path | None):
        self.course, self.assignment, self.run = course, assignment, run
        self.csv_name, self.json_path = csv_name, json_path
        self.finished: list = []  # StudentResults, in the order they finished
        self.written_at: float | None = None  # never yet
        self.export_problem: str | None = None  # why the grades file was not written last time

    def add(self, result) -> None:
        """Note a student's result; write the files for the first, then if
        the last were written long enough ago."""
        self.finished.append(result)
        if self.written_at is not None and time.monotonic() - self.written_at < CHECKPOINT_SECONDS:
            return
        # Each file on its own: a grades file the exporter refuses must not keep the
        # summary from saying that this run is unfinished.
        problem = export_grades(self.course, self.csv_name)
        if problem and problem != self.export_problem:  # said once, not at every checkpoint
            print(f"The grades so far: {problem}", file=sys.stderr)
        self.export_problem = problem
        if self.json_path is not None:
            unfinished = ClassGrading(
                list(self.finished), self.run.refusals, self.run.notes, assignment=self.run.assignment
            )
            try:
                write_json(
                    self.json_path, {**unfinished.to_json(), "everything_graded": False, "unfinished": True}
                )
            except Exception as error:  # noqa: BLE001 (the final summary says what is wrong; grading goes on)
                problem = f"{type(error).__name__}: {error}"
                print(f"could not write the summary so far ({problem})", file=sys.stderr)
        self.written_at = time.monotonic()


def grade_students(course, assignment, students, releases, workers, scheduler, full, sandbox, finished):
    """Autograde and give feedback to each student, here or on Dask; their
    StudentResults. finished(result) is called as each student is done."""
    counter = Progress(len(students), name_width=max(map(len, students)), workers=min(workers, len(students)))

    def progress(result):
        counter.report(result)
        finished(result)

    def prepare() -> dict:  # the reference times every grading uses
        return time_the_reference(course, assignment, releases)

    return grade_all(
        course,
        assignment,
        students,
        workers,
        scheduler,
        report=progress,
        full=full,
        prepare=prepare,
        sandbox=sandbox,
    )


def print_summary(run: ClassGrading, assignment: str, csv_name: str, report_problem: str | None = None):
    """The summary, ending with the changes since the last grading and the
    line that names the class report."""
    print()
    print(summary_table(run.results))
    print()
    print(hand_grading_line(run.results))
    for text in (block("Notes:", run.notes), block("Not graded:", run.refusals)):
        if text:
            print(text)
    print(run.export_problem or feedback_line(run.results, assignment, csv_name))
    if not run.everything_graded:
        print(NOT_EVERYTHING_GRADED)
    from grading.report.changes import changes_block

    changes = changes_block(run.changes, printable) if run.changes else ""
    if changes:
        print(changes)
    print(report_problem or f"Class report: {run.report}")


NOT_EVERYTHING_GRADED = (
    "Something handed in was not graded (see above): the exit status is 2. "
    "A student whose file is unreadable or refused hands in again; for anything else, fix "
    "what is named. Then grade those students again with --student NAME."
)


NO_SANDBOX_WARNING = (
    "WARNING: the grading sandbox is OFF. Student code runs as this user, with "
    "this user's files, network and environment. Use this only for notebooks you trust."
)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m grading.grade",
        description="Autograde a class with nbgrader, write feedback, export grades and print a summary.",
    )
    parser.add_argument("assignment", help="assignment name, such as initialization")
    parser.add_argument(
        "submissions",
        nargs="?",
        help="zip file or folder of submissions (default: the course's submitted/ folder)",
    )
    parser.add_argument("--root", default=".", help="course root (default: .)")
    parser.add_argument(
        "--student",
        action="append",
        metavar="NAME",
        help="grade only this student (repeat for more); the others keep their grades",
    )
    parser.add_argument("--csv", default="grades.csv", help="grades file, relative to the course root")
    parser.add_argument(
        "--json",
        metavar="FILE",
        help="also write the summary as JSON to this file, relative to the course root",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded at once on this machine "
        "(default: the number of cores; 1 grades one at a time)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a running Dask cluster, such as tls://10.0.0.5:8786 (with certificates) "
        "or tcp://127.0.0.1:8786, instead of this machine",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="also re-run the ungraded experiments (cells tagged skip-when-grading in source/); "
        "slower, and the scores are the same",
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run student code without the sandbox: only for notebooks you trust",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    for name in args.student or []:
        if not valid_student_id(name):
            parser.error(f"--student {name!r} is not a valid student id")
    if args.scheduler and scheduler_problem(args.scheduler):
        parser.error(scheduler_problem(args.scheduler))
    try:
        run = grade_class(
            args.root,
            args.assignment,
            args.submissions,
            args.csv,
            args.workers,
            args.scheduler,
            args.full,
            sandbox=not args.no_sandbox,
            students=args.student,
            json_path=Path(args.root) / args.json if args.json else None,
        )
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        if args.json:  # no summary of an earlier run may stay behind as if it were this one's
            failed = {"assignment": args.assignment, "everything_graded": False, "error": str(error)}
            write_json(Path(args.root) / args.json, failed)
        return 1
    if args.json:
        write_json(Path(args.root) / args.json, run.to_json())
    return 0 if run.everything_graded and not run.export_problem else 2


if __name__ == "__main__":
    status = main()
    # Everything is written: frozen, the run's objects are left to the operating
    # system instead of Python's last garbage collections at exit.
    gc.freeze()
    sys.exit(status)
