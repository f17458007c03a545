"""The shape of an example class, written once.

A module such as example_class.py names its assignment and notebook, the
points of each autograded test cell, and its students; each student is a
StudentCase. The main job, the tests and the benchmarks read these names.
"""

from collections.abc import Callable
from typing import NotRequired, TypedDict


# (No `from __future__ import annotations` here: TypedDict must see
# NotRequired to tell the optional keys from the required ones.)
class StudentCase(TypedDict):
    """One student of an example class."""

    answers: dict[str, str]  # grade_id -> what they typed there (examples.students.fill_in)
    expected: dict[str, float]  # test cell grade_id -> the points it must give
    tamper: NotRequired[Callable]  # a change they made to the notebook file itself
    unreadable: NotRequired[bool]  # the change leaves no notebook to grade
    hours_late: NotRequired[float]  # handed in this long after the configured due date
    late_penalty: NotRequired[float]  # the points the late policy must take off
    reason: NotRequired[str]  # text the grading summary must show for them
    # test cell grade_id -> the id of the mistake the grader's replayed check
    # finds there (grading/report/mistakes.py), for each exercise they lose
    # through a wrong answer or an error their function raised
    mistakes: NotRequired[dict[str, str]]
    # their answer rewrites what the visible checks rely on (numpy, print), so
    # that a wrong answer passes those checks where it runs
    cheats: NotRequired[bool]
    # their work needs the ungraded experiments run: an answer reads what an
    # experiment made, or an experiment was edited
    needs_experiments: NotRequired[bool]


# The names every example class module defines, and their types.
MODULE_NAMES = {
    "ASSIGNMENT": str,  # the nbgrader assignment
    "NOTEBOOK": str,  # its notebook, without .ipynb
    "POINTS": dict,  # test cell grade_id -> its points
    "STUDENTS": dict,  # student id -> StudentCase
    "FEEDBACK_SHOWS": dict,  # student id -> text their feedback must show
    "FEEDBACK_SHOWS_ZH": dict,  # the same in the Chinese edition
}


def shape_problems(example) -> list[str]:
    """What in an example class module departs from the shape above."""
    found = [
        f"{name} should be a {kind.__name__}"
        for name, kind in MODULE_NAMES.items()
        if not isinstance(getattr(example, name, None), kind)
    ]
    if found:
        return found
    allowed = set(StudentCase.__annotations__)
    required = StudentCase.__required_keys__
    for student, case in example.STUDENTS.items():
        if set(case) - allowed:
            found.append(f"{student}: unknown keys {sorted(set(case) - allowed)}")
        if required - set(case):
            found.append(f"{student}: missing {sorted(required - set(case))}")
        elif set(case["expected"]) != set(example.POINTS):
            found.append(
                f"{student}: expected points for {sorted(case['expected'])}, "
                f"not for the test cells {sorted(example.POINTS)}"
            )
        elif any(case["expected"].get(cell) != 0.0 for cell in case.get("mistakes", {})):
            found.append(f"{student}: a mistake in an exercise that does not lose its points")
    for name in ("FEEDBACK_SHOWS", "FEEDBACK_SHOWS_ZH"):
        unknown = set(getattr(example, name)) - set(example.STUDENTS)
        if unknown:
            found.append(f"{name} names students not in the class: {sorted(unknown)}")
    return found
