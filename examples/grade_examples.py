"""Grade the bundled example classes with the course's grading command.

    python -m examples.grade_examples --into DIR [--students a,b]   (from the course root)

For each assignment, writes each example student (example_class.py for
initialization, example_class_deep.py for initialization_deep) into
submitted/<student>/<assignment>/ (answers typed into the release, the
changes some made to the file, the time each handed it in), then grades them
as `python -m grading.grade <assignment>` does, with one worker per core.
"""

import argparse
import os
import shutil
from datetime import timedelta
from pathlib import Path

from nbgrader.utils import parse_utc

from examples import example_class, example_class_deep
from examples.course_copy import COURSE_FILES, REPO, copy_course
from examples.students import write_submission
from grading.command.course import Course
from grading.grade import grade_class

CLASSES = [example_class, example_class_deep]


def write_example_class(course_root, example, students=None):
    """Write the example students (all, or the names given) into submitted/."""
    due = Course(course_root).settings.due_dates.get(example.ASSIGNMENT)
    for student in students or example.STUDENTS:
        case = example.STUDENTS[student]
        timestamp = None
        if "hours_late" in case:
            timestamp = parse_utc(due) + timedelta(hours=case["hours_late"])
        path = write_submission(
            course_root, student, example.ASSIGNMENT, example.NOTEBOOK + ".ipynb", case["answers"], timestamp
        )
        if "tamper" in case:
            case["tamper"](path)


MARKER = ".example-course"  # marks a folder this script made, and may make again


def scratch_problem(scratch: Path) -> str | None:
    """Why scratch may not be (re)made as the scratch course, or None.

    It is emptied first, so it must be a folder of its own: not the course,
    nothing above it or inside its course folders, and, when it exists, a
    scratch course made by this script before (it holds MARKER) or empty."""
    if scratch == REPO or scratch in REPO.parents:
        return f"{scratch} holds the course: give a folder of its own"
    if REPO in scratch.parents and scratch.relative_to(REPO).parts[0] in COURSE_FILES:
        return f"{scratch} is inside the course's own files: give a folder of its own"
    if scratch.exists() and any(scratch.iterdir()) and not (scratch / MARKER).exists():
        return f"{scratch} exists and was not made by this script: give a new or empty folder"
    return None


def main(argv=None):
    """Copy the course to --into (made anew), then write and grade every
    example class there; --students limits both classes to those names."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.grade_examples", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--into", required=True, help="the scratch course to make and grade in")
    parser.add_argument("--students", help="comma-separated example students to grade (default: all)")
    args = parser.parse_args(argv)
    scratch = Path(args.into).resolve()
    problem = scratch_problem(scratch)
    if problem:
        parser.error(problem)
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    (scratch / MARKER).write_text("A scratch course made by examples/grade_examples.py; safe to delete.\n")
    copy_course(scratch)
    wanted = set(args.students.split(",")) if args.students else None
    print(f"Grading the example classes in a scratch copy of the course: {scratch}", flush=True)
    for example in CLASSES:
        students = [name for name in example.STUDENTS if wanted is None or name in wanted]
        if not students:
            continue
        write_example_class(scratch, example, students)
        grade_class(scratch, example.ASSIGNMENT, workers=os.cpu_count() or 1)
        print()
    print(f"The scratch course stays in {scratch}: submitted/, autograded/, feedback/, grades.csv")


if __name__ == "__main__":
    main()
