"""The nbgrader round trip: release -> submissions -> autograde -> gradebook
-> feedback, with real nbgrader commands on the example class."""

import html
import re

import nbformat
import pytest

from conftest import REPO
from fixtures import example_class
from grading.course import run_nbgrader, scores
from grading.submissions import fill_in, write_submission

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.DOTALL)


@pytest.fixture(scope="module")
def graded_course(course):
    for student, case in example_class.STUDENTS.items():
        write_submission(course, student, example_class.ASSIGNMENT,
                         example_class.NOTEBOOK + ".ipynb", case["answers"])
    run_nbgrader(course, "autograde", example_class.ASSIGNMENT, "--force")
    run_nbgrader(course, "generate_feedback", example_class.ASSIGNMENT, "--force")
    return course


def test_every_student_gets_the_expected_score_per_exercise(graded_course):
    recorded = scores(graded_course, example_class.ASSIGNMENT, example_class.NOTEBOOK)
    assert set(recorded) == set(example_class.STUDENTS)
    for student, case in example_class.STUDENTS.items():
        expected = {cell: (points, example_class.POINTS[cell])
                    for cell, points in case["expected"].items()}
        assert recorded[student] == expected, student


def hidden_test_lines():
    source = (REPO / "source" / example_class.ASSIGNMENT /
              (example_class.NOTEBOOK + ".ipynb")).read_text()
    notebook = nbformat.reads(source, as_version=4)
    lines = set()
    for cell in notebook.cells:
        for region in HIDDEN.findall(cell.source):
            lines.update(line.strip() for line in region.splitlines()
                         if len(line.strip()) >= 12)
    return lines


def test_feedback_shows_failures_but_never_hidden_tests(graded_course):
    secret = hidden_test_lines()
    assert secret
    files = sorted((graded_course / "feedback").rglob("*.html"))
    assert len(files) == len(example_class.STUDENTS)
    for path in files:
        page = re.sub(r"<style.*?</style>", "", path.read_text(), flags=re.DOTALL)
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path.name} of {path.parts[-3]} shows {leaked[:2]}"
    # A visible test's message reaches the student in full...
    assert "Fan-in error" in feedback_text(graded_course, "he-uses-fan-out")
    # ...and a hidden test's failure as one line, without its code.
    faked = feedback_text(graded_course, "patches-np-allclose")
    assert "AssertionError: hidden test: values of W1 for a deeper network" in faked


def feedback_text(course, student):
    path = (course / "feedback" / student / example_class.ASSIGNMENT /
            (example_class.NOTEBOOK + ".html"))
    return html.unescape(path.read_text())


def test_fill_in_refuses_an_unknown_cell():
    release = nbformat.read(REPO / "release" / example_class.ASSIGNMENT /
                            (example_class.NOTEBOOK + ".ipynb"), as_version=4)
    with pytest.raises(KeyError, match="no_such_cell"):
        fill_in(release, {"no_such_cell": "x = 1"})
