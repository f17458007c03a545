"""Grade the bundled example classes with the course's grading command.

    python -m examples.grade_examples        (run from the course root)

For each assignment, writes each example student (example_class.py for
initialization, example_class_deep.py for initialization_deep) into
submitted/<student>/<assignment>/ (answers typed into the release, the
changes some made to the file, the time each handed it in), then grades them
as `python -m grading.grade <assignment>` does, with one worker per core.
"""

import os
from datetime import timedelta

from nbgrader.utils import parse_utc

from examples import example_class, example_class_deep
from examples.students import write_submission
from grading.course import Course
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


def main(course_root="."):
    for example in CLASSES:
        write_example_class(course_root, example)
        grade_class(course_root, example.ASSIGNMENT, workers=os.cpu_count() or 1)
        print()


if __name__ == "__main__":
    main()
