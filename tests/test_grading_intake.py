"""The grading command on submissions downloaded from a learning platform:
a zip of notebooks named <student>_[attempt_<time>_]<notebook>.ipynb,
collected by nbgrader's zip_collect. Grading twice changes nothing; grades
given by hand and grades of earlier runs are kept."""

import shutil
import sqlite3
import zipfile

import nbformat
import pytest

from conftest import copy_course, run_grading_command
from examples import example_class
from examples.students import fill_in
from grading.course import open_gradebook, run_nbgrader, scores

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

RELEASE_NAME = example_class.NOTEBOOK + ".ipynb"
# Submitted a day and an hour after the due date in nbgrader_config.py:
# two started days late.
LATE_NAME = f"bob_attempt_2026-12-06T005900_{RELEASE_NAME}"
CLASS = {
    f"alice_{RELEASE_NAME}": example_class.CORRECT,
    LATE_NAME: example_class.correct_but(he=example_class.XAVIER_SCALE),
    f"carol_{RELEASE_NAME}": example_class.CORRECT,
}


def make_zip(course, path, files):
    """A zip of the files {name: answers, or the file's text as a string}."""
    release = nbformat.read(course / "release" / example_class.ASSIGNMENT / RELEASE_NAME, as_version=4)
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            if not isinstance(content, str):
                content = nbformat.writes(fill_in(release, content))
            archive.writestr(name, content)
    return path


def grade(course, *arguments):
    return run_grading_command(course, example_class.ASSIGNMENT, *arguments)


def table_sizes(course):
    """Rows in every gradebook table: regrading must not add any."""
    with sqlite3.connect(course / "gradebook.db") as database:
        tables = [name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: database.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables}


@pytest.fixture(scope="module")
def zip_course(tmp_path_factory):
    root = copy_course(tmp_path_factory.mktemp("zip_course"))
    shutil.rmtree(root / "release")
    run_nbgrader(root, "generate_assignment", example_class.ASSIGNMENT, "--force")
    archive = make_zip(root, tmp_path_factory.mktemp("lms") / "download.zip", CLASS)
    first = grade(root, str(archive))
    return root, archive, first


def test_a_zip_download_is_collected_and_graded(zip_course):
    course, _, summary = zip_course
    recorded = scores(course, example_class.ASSIGNMENT, example_class.NOTEBOOK)
    assert (
        recorded["alice"]
        == recorded["carol"]
        == {cell: (points, points) for cell, points in example_class.POINTS.items()}
    )
    assert recorded["bob"][example_class.HE] == (0.0, 3.0)
    # The time in bob's file name: two started days late, 20% of his 5 points.
    assert (
        (course / "submitted" / "bob" / example_class.ASSIGNMENT / "timestamp.txt")
        .read_text()
        .startswith("2026-12-06 00:59:00")
    )
    with open_gradebook(course) as gradebook:
        bob = gradebook.find_submission_notebook(example_class.NOTEBOOK, example_class.ASSIGNMENT, "bob")
        assert bob.late_submission_penalty == pytest.approx(1.0)
    assert "Collecting download.zip" in summary


def test_grading_again_changes_nothing_and_keeps_hand_grades(zip_course):
    course, archive, _ = zip_course
    # The instructor grades a written answer by hand between the two runs.
    with open_gradebook(course) as gradebook:
        answer = gradebook.find_grade(
            "observations_he", example_class.NOTEBOOK, example_class.ASSIGNMENT, "alice"
        )
        answer.manual_score = 1.0
        gradebook.db.commit()
    before = table_sizes(course)
    grades_before = (course / "grades.csv").read_text()
    assert "alice,,,,8.0,0.0,8.0" in grades_before
    grade(course, str(archive))
    assert table_sizes(course) == before
    assert (course / "grades.csv").read_text() == grades_before.replace(
        "alice,,,,8.0,0.0,8.0", "alice,,,,9.0,0.0,9.0"
    )
    with open_gradebook(course) as gradebook:
        assert (
            gradebook.find_grade(
                "observations_he", example_class.NOTEBOOK, example_class.ASSIGNMENT, "alice"
            ).score
            == 1.0
        )


def test_an_unreadable_resubmission_keeps_the_earlier_grade(zip_course, tmp_path):
    course, _, _ = zip_course
    files = {name: answers for name, answers in CLASS.items() if "carol" not in name}
    files[f"carol_{RELEASE_NAME}"] = '{"cells": [{"cell_type": "code", "sour'
    summary = grade(course, str(make_zip(course, tmp_path / "again.zip", files)))
    carol = next(line for line in summary.splitlines() if line.startswith("carol "))
    assert "unreadable" in carol and "earlier run" in carol
    assert scores(course, example_class.ASSIGNMENT, example_class.NOTEBOOK)["carol"][example_class.HE] == (
        3.0,
        3.0,
    )
