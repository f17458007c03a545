"""Grade the bundled example class with the course's grading command.

    python -m grading.example_class        (run from the course root)

Writes each example student of tests/fixtures/example_class.py into
submitted/<student>/initialization/ (answers typed into the release, the
changes some made to the file, the time each handed it in), then runs
`python -m grading.grade initialization` on them.
"""

import importlib.util
from datetime import timedelta
from pathlib import Path

from grading.grade import Course, grade_class
from nbgrader.utils import parse_utc
from grading.submissions import write_submission

FIXTURE = Path("tests") / "fixtures" / "example_class.py"


def load_example_class(course_root):
    spec = importlib.util.spec_from_file_location("example_class",
                                                  Path(course_root) / FIXTURE)
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
    example = load_example_class(course_root)
    write_example_class(course_root, example)
    grade_class(course_root, example.ASSIGNMENT)


if __name__ == "__main__":
    main()
