"""Grade the bundled example class with nbgrader and print a score table.

    python -m grading.example_class        (run from the course root)

Writes each example student's answers (tests/fixtures/example_class.py) into
submitted/<student>/initialization/, then runs nbgrader's autograde,
generate_feedback and export, and prints every student's points per exercise
from the gradebook. Grades go to grades.csv, feedback to feedback/.
"""

import importlib.util
from pathlib import Path

from grading.course import run_nbgrader, scores
from grading.submissions import write_submission

FIXTURE = Path("tests") / "fixtures" / "example_class.py"


def load_example_class(course_root):
    spec = importlib.util.spec_from_file_location("example_class",
                                                  Path(course_root) / FIXTURE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def score_table(recorded, exercises):
    """Rows of 'student  points per exercise  total' as text."""
    short = [name.replace("test_initialize_parameters_", "") for name in exercises]
    width = max(len(student) for student in recorded) + 2
    lines = ["student".ljust(width) + "".join(f"{name:>8}" for name in short)
             + f"{'total':>8}"]
    for student in sorted(recorded):
        points = [recorded[student][name][0] for name in exercises]
        lines.append(student.ljust(width) + "".join(f"{p:>8g}" for p in points)
                     + f"{sum(points):>8g}")
    maximum = [next(iter(recorded.values()))[name][1] for name in exercises]
    lines.append("out of".ljust(width) + "".join(f"{p:>8g}" for p in maximum)
                 + f"{sum(maximum):>8g}")
    return "\n".join(lines)


def main(course_root="."):
    example = load_example_class(course_root)
    for student, case in example.STUDENTS.items():
        write_submission(course_root, student, example.ASSIGNMENT,
                         example.NOTEBOOK + ".ipynb", case["answers"])
    print(f"Autograding {len(example.STUDENTS)} example submissions...", flush=True)
    run_nbgrader(course_root, "autograde", example.ASSIGNMENT, "--force")
    run_nbgrader(course_root, "generate_feedback", example.ASSIGNMENT, "--force")
    run_nbgrader(course_root, "export", "--to", "grades.csv")
    recorded = scores(course_root, example.ASSIGNMENT, example.NOTEBOOK)
    print(score_table(recorded, list(example.POINTS)))
    print("Grades: grades.csv   Feedback: feedback/<student>/"
          f"{example.ASSIGNMENT}/{example.NOTEBOOK}.html")


if __name__ == "__main__":
    main()
