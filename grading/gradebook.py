"""Reading a course's gradebook: opened under the course's own id, and the
autograded scores of its code cells."""

from __future__ import annotations

from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory

from grading.configuration import course_config
from grading.nbgrader_commands import alembic_on_path


def open_gradebook(course_root: str | Path) -> Gradebook:
    """The course's gradebook, opened for the course's own id: a Gradebook
    opened without one adds a course named "default_course" to the database."""
    coursedir = CourseDirectory(config=course_config(course_root))
    coursedir.root = str(Path(course_root).resolve())
    with alembic_on_path():
        return Gradebook(coursedir.db_url, course_id=coursedir.course_id)


def code_cell_scores(submitted_notebook) -> dict:
    """{test cell: (score, max score)} of a SubmittedNotebook's autograded
    code cells. (Written answers are graded by hand; nbgrader only gives an
    unchanged one 0.)"""
    return {
        grade.name: (grade.score, grade.max_score)
        for grade in submitted_notebook.grades
        if grade.cell.cell_type == "code"
    }


def scores(course_root: str | Path, assignment: str, notebook: str) -> dict:
    """{student: {test cell: (score, max score)}} of every submission of assignment."""
    with open_gradebook(course_root) as gradebook:
        return {
            submission.student.id: code_cell_scores(
                gradebook.find_submission_notebook(notebook, assignment, submission.student.id)
            )
            for submission in gradebook.assignment_submissions(assignment)
        }
