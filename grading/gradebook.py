"""A course's gradebook: created (in a child process, with the PATH nbgrader
needs) and opened under the course's own id, and the autograded scores of
its code cells."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory

from grading.configuration import course_config
from grading.errors import GradingError


def nbgrader_path() -> str:
    """PATH with this interpreter's bin/ first: where nbgrader finds `alembic`."""
    return str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


# Run in a child process: nbgrader creates a gradebook's tables itself and
# asks the `alembic` command, found on PATH, for the schema's version.
CREATE_GRADEBOOK = (
    "import sys; from nbgrader.api import Gradebook; Gradebook(sys.argv[1], course_id=sys.argv[2]).close()"
)


def create_gradebook(db_url: str, course_id: str) -> None:
    """Create the gradebook at db_url if it has no tables yet, in a child process
    whose PATH finds `alembic` (nbgrader_path): this process's environment, which
    threads and workers inherit, is never changed."""
    engine = sqlalchemy.create_engine(db_url)
    try:
        if sqlalchemy.inspect(engine).get_table_names():
            return
    finally:
        engine.dispose()
    created = subprocess.run(
        [sys.executable, "-c", CREATE_GRADEBOOK, db_url, course_id],
        env={**os.environ, "PATH": nbgrader_path()},
        capture_output=True,
        text=True,
    )
    if created.returncode != 0:
        raise GradingError(f"nbgrader could not create the gradebook {db_url}:\n{created.stderr[-2000:]}")


def course_gradebook(coursedir: CourseDirectory, db_url: str | None = None) -> Gradebook:
    """The gradebook at db_url (by default the course's), opened for the course's own
    id: without one, nbgrader adds a "default_course" to the database."""
    return Gradebook(db_url or coursedir.db_url, course_id=coursedir.course_id)


def open_gradebook(course_root: str | Path) -> Gradebook:
    """The course's gradebook, created if missing (course_gradebook)."""
    coursedir = CourseDirectory(config=course_config(course_root))
    coursedir.root = str(Path(course_root).resolve())
    create_gradebook(coursedir.db_url, coursedir.course_id)
    return course_gradebook(coursedir)


def code_cell_scores(submitted_notebook) -> dict:
    """{test cell: (score, max score)} of a SubmittedNotebook's autograded code
    cells (written answers are graded by hand)."""
    return {
        grade.name: (grade.score, grade.max_score)
        for grade in submitted_notebook.grades
        if grade.cell.cell_type == "code"
    }
