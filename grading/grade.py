"""Grade a class with nbgrader: one command from submissions to grades.

    python -m grading.grade ASSIGNMENT [SUBMISSIONS] [--root COURSE] [--csv FILE]

Run it from the course root (the folder with nbgrader_config.py), or name
the root with --root. SUBMISSIONS is optional:

- left out: the submissions already in nbgrader's layout under the course's
  submitted/<student>/<ASSIGNMENT>/ (what `nbgrader collect` makes);
- a folder in that layout elsewhere: copied into submitted/ first;
- a zip file, or a folder of notebooks downloaded from a learning platform:
  handed to nbgrader's zip_collect, which files them by the names set in
  nbgrader_config.py (FileNameCollectorPlugin.named_regexp).

Then it autogrades the submissions one student at a time, each in nbgrader's
own pipeline with the kernel in a sandbox (grading/sandbox.py), writes each
student's feedback, exports the gradebook to a CSV file and prints a summary:
points per exercise, the late penalty, the total, and why points were lost
when an error rather than a wrong answer cost them. Grading the same class
again gives the same gradebook, feedback and CSV: nbgrader updates each
submission in place.

This module is the command: it orders the steps and turns a GradingError
into an exit status. The steps live in course.py (the course root and its
gradebook), intake.py (collecting), pipeline.py (one student), parallel.py
(Dask) and reporting.py (progress and summary).
"""

from __future__ import annotations

import argparse
import os
import sys

from grading.course import Course
from grading.errors import GradingError
from grading.intake import collect, submitted_students
from grading.pipeline import (
    StudentResult,
    ensure_assignment_in_gradebook,
    grade_and_give_feedback,
    set_due_date,
    time_the_reference,
)
from grading.reporting import Progress, feedback_line, refusals_block, summary_table
from grading.sandbox import SANDBOX_FIXES, SandboxKernelManager, sandbox_problem
from grading.submissions import valid_student_id


def grade_class(
    root,
    assignment: str,
    submissions=None,
    csv_name: str = "grades.csv",
    workers: int = 1,
    scheduler: str | None = None,
    full: bool = False,
    sandbox: bool = True,
) -> list[StudentResult]:
    """Collect, autograde, write feedback, export; return the StudentResults.

    workers > 1 grades that many submissions at once on an embedded Dask
    cluster; scheduler (an address such as tcp://10.0.0.5:8786) uses a running
    Dask cluster instead. The results are the same either way. full=True
    also re-runs the ungraded experiments, which changes no score.
    sandbox=False runs student code without the sandbox (trusted notebooks
    only). Raises GradingError when the class cannot be graded at all, and
    before anything is written when the sandbox cannot start.
    """
    course = Course(root, full=full, sandbox=sandbox)
    if SandboxKernelManager(config=course.config).enabled:
        problem = sandbox_problem()
        if problem:
            raise GradingError(f"{problem}\n{SANDBOX_FIXES}")
    else:
        print(NO_SANDBOX_WARNING, file=sys.stderr, flush=True)
    refusals = collect(course, assignment, submissions) if submissions is not None else []
    ensure_assignment_in_gradebook(course, assignment)
    set_due_date(course, assignment)
    course.add_default_course()
    releases = course.release_notebooks(assignment)
    students, unfit = submitted_students(course, assignment)
    # A student whose folder holds a link or a special file is listed with
    # 0 points (or an earlier grade) and the reason (grading/pipeline.py);
    # an id that is not a valid student id never reaches nbgrader.
    students = sorted(
        students + [refusal.student_or_file for refusal in unfit if valid_student_id(refusal.student_or_file)]
    )
    refusals += [refusal for refusal in unfit if not valid_student_id(refusal.student_or_file)]
    if not students:
        print(refusals_block(refusals), file=sys.stderr)
        raise GradingError(f"no submissions of {assignment} in {course.submitted_root()}")
    print(f"Grading {assignment}: {len(students)} submissions", flush=True)
    progress = Progress(len(students), name_width=max(map(len, students)))
    if workers == 1 and scheduler is None:
        time_the_reference(course, assignment, releases)
        results = []
        for student in students:
            results.append(grade_and_give_feedback(course, assignment, student, releases))
            progress.report(results[-1])
    else:
        from grading.parallel import grade_on_cluster  # Dask only when asked for

        results = grade_on_cluster(
            course,
            assignment,
            students,
            workers,
            scheduler,
            progress.report,
            full,
            prepare=lambda: time_the_reference(course, assignment, releases),
            sandbox=sandbox,
        )
    course.drop_empty_default_course()
    course.export_grades(csv_name, assignment)
    print()
    print(summary_table(results))
    print()
    if refusals:
        print(refusals_block(refusals))
        print()
    print(feedback_line(results, assignment, csv_name))
    return results


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
    parser.add_argument("--csv", default="grades.csv", help="grades file, relative to the course root")
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
        help="grade on a running Dask cluster, such as tcp://10.0.0.5:8786, instead of this machine",
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
    try:
        grade_class(
            args.root,
            args.assignment,
            args.submissions,
            args.csv,
            args.workers,
            args.scheduler,
            args.full,
            sandbox=not args.no_sandbox,
        )
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
