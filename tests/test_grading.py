"""The grading command on the example class: real nbgrader, real sandboxed
kernels, real gradebook. One run grades every student of
tests/fixtures/example_class.py; the tests read what it left behind."""

import csv
import html
import os
import re
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import REPO
from fixtures import example_class
from grading.course import gradebook_url, scores
from grading.example_class import write_example_class
from grading.submissions import fill_in

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.DOTALL)


def run_grading_command(course, *arguments):
    """`python -m grading.grade ...` in the course root, as an instructor runs it."""
    process = subprocess.run([sys.executable, "-m", "grading.grade", *arguments],
                             cwd=course, capture_output=True, text=True, timeout=3600)
    assert process.returncode == 0, process.stderr[-3000:]
    return process.stdout


@pytest.fixture(scope="module")
def graded_class(course):
    write_example_class(course, example_class)
    summary = run_grading_command(course, example_class.ASSIGNMENT)
    return course, summary


def summary_row(summary, student):
    rows = [line for line in summary.splitlines() if line.startswith(student + " ")]
    assert len(rows) == 1, f"{student} has {len(rows)} rows in the summary"
    return rows[0]


# Students whose file cannot be read: never handed to nbgrader, so they have
# no submission in the gradebook (the grades file lists them with 0).
UNREADABLE = {"corrupt-file"}


def test_every_student_gets_the_expected_score_per_exercise(graded_class):
    course, _ = graded_class
    recorded = scores(course, example_class.ASSIGNMENT, example_class.NOTEBOOK)
    assert set(recorded) == set(example_class.STUDENTS) - UNREADABLE
    with Gradebook(gradebook_url(course)) as gradebook:
        assert UNREADABLE <= {student.id for student in gradebook.students}
    wrong = {}
    for student, case in example_class.STUDENTS.items():
        if student in UNREADABLE:
            continue
        expected = {cell: (points, example_class.POINTS[cell])
                    for cell, points in case["expected"].items()}
        if recorded[student] != expected:
            wrong[student] = recorded[student]
    assert not wrong


def test_summary_lists_every_student_with_total_and_reason(graded_class):
    _, summary = graded_class
    for student, case in example_class.STUDENTS.items():
        row = summary_row(summary, student)
        total = sum(case["expected"].values()) - case.get("late_penalty", 0)
        assert f" {total:g}  " in row + "  ", row
        if "reason" in case:
            assert case["reason"] in row, row
    # A wrong answer needs no reason: the feedback shows the test's message.
    assert summary_row(summary, "he-uses-fan-out").rstrip().endswith("5")


def test_progress_is_shown_per_student(graded_class):
    _, summary = graded_class
    count = len(example_class.STUDENTS)
    progress = re.findall(rf"^\[\s*(\d+)/{count}\] (\S+)", summary, re.MULTILINE)
    assert [int(number) for number, _ in progress] == list(range(1, count + 1))


def test_late_penalties_follow_the_policy_in_the_config(graded_class):
    course, _ = graded_class
    with Gradebook(gradebook_url(course)) as gradebook:
        for student, case in example_class.STUDENTS.items():
            if student in UNREADABLE:
                continue
            notebook = gradebook.find_submission_notebook(
                example_class.NOTEBOOK, example_class.ASSIGNMENT, student)
            penalty = notebook.late_submission_penalty or 0.0
            assert penalty == pytest.approx(case.get("late_penalty", 0.0)), student


def test_grades_file_has_every_student(graded_class):
    course, _ = graded_class
    with open(course / "grades.csv", newline="") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    assert set(rows) == set(example_class.STUDENTS)
    late = rows["late-by-30-hours"]
    assert float(late["raw_score"]) == 8.0
    assert float(late["late_submission_penalty"]) == pytest.approx(1.6)
    assert float(late["score"]) == pytest.approx(6.4)
    assert float(rows["corrupt-file"]["score"]) == 0.0


def test_hostile_code_left_nothing_behind(graded_class):
    course, _ = graded_class
    # The write outside the submission's folder did not happen, and the
    # gradebook it tried to overwrite still holds every student's grades.
    assert not (course / "written-by-a-student.txt").exists()
    assert len(scores(course, example_class.ASSIGNMENT, example_class.NOTEBOOK)) \
        == len(example_class.STUDENTS) - len(UNREADABLE)
    # No process of a sandboxed kernel (the fork loop's included) outlived it.
    if os.getuid() == 0:
        left = subprocess.run(["pgrep", "-u", "nobody"], capture_output=True, text=True)
        assert left.stdout == ""


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


def feedback_text(course, student):
    path = (course / "feedback" / student / example_class.ASSIGNMENT /
            (example_class.NOTEBOOK + ".html"))
    return html.unescape(path.read_text())


def test_feedback_shows_failures_but_never_hidden_tests(graded_class):
    course, _ = graded_class
    secret = hidden_test_lines()
    assert secret
    files = sorted((course / "feedback").rglob("*.html"))
    # Everyone but the unreadable file gets feedback.
    assert len(files) == len(example_class.STUDENTS) - 1
    for path in files:
        page = re.sub(r"<style.*?</style>", "", path.read_text(), flags=re.DOTALL)
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path.name} of {path.parts[-3]} shows {leaked[:2]}"
    # A visible test's message reaches the student in full...
    assert "Fan-in error" in feedback_text(course, "he-uses-fan-out")
    # ...and a hidden test's failure as one line, without its code.
    faked = feedback_text(course, "patches-np-allclose")
    assert "AssertionError: hidden test: values of W1 for a deeper network" in faked


def test_fill_in_refuses_an_unknown_cell():
    release = nbformat.read(REPO / "release" / example_class.ASSIGNMENT /
                            (example_class.NOTEBOOK + ".ipynb"), as_version=4)
    with pytest.raises(KeyError, match="no_such_cell"):
        fill_in(release, {"no_such_cell": "x = 1"})
