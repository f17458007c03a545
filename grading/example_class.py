"""Grade the bundled example classes with the course's grading command.

    python -m grading.example_class        (run from the course root)

For each assignment, writes each example student of tests/fixtures/
(example_class.py for initialization, example_class_deep.py for
initialization_deep) into submitted/<student>/<assignment>/ (answers typed
into the release, the changes some made to the file, the time each handed it
in), then grades them as `python -m grading.grade <assignment>` does, with
one worker per core.
"""

import importlib.util
import os
from datetime import timedelta
from pathlib import Path

from nbgrader.utils import parse_utc

from grading.grade import Course, grade_class
from grading.submissions import write_submission

FIXTURES = [Path("tests") / "fixtures" / "example_class.py",
            Path("tests") / "fixtures" / "example_class_deep.py"]


def load_example_class(course_root, fixture=FIXTURES[0]):
    spec = importlib.util.spec_from_file_location(fixture.stem,
                                                  Path(course_root) / fixture)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_example_class(course_root, example, students=None):
    """Write the example students (all, or the names given) into submitted/."""
    due = Course(course_root).settings.due_dates.get(example.ASSIGNMENT)
    for student in students or example.STUDENTS:
        case = example.STUDENTS[student]
        timestamp = None
        if "hours_late" in case:
            timestamp = parse_utc(due) + timedelta(hours=case["hours_late"])
        path = write_submission(course_root, student, example.ASSIGNMENT,
                                example.NOTEBOOK + ".ipynb", case["answers"], timestamp)
        if "tamper" in case:
            case["tamper"](path)


def main(course_root="."):
    for fixture in FIXTURES:
        example = load_example_class(course_root, fixture)
        write_example_class(course_root, example)
        grade_class(course_root, example.ASSIGNMENT, workers=os.cpu_count() or 1)
        print()


if __name__ == "__main__":
    main()
