"""grading/gradebook.py: creating and opening the course's gradebook."""

import os

from conftest import copy_generated
from grading.command.course import Course
from grading.gradebook import open_gradebook


def test_a_missing_gradebook_is_created_without_touching_this_process_environment(
    generated_course, tmp_path, monkeypatch
):
    """nbgrader needs the `alembic` command on PATH to create a gradebook. The
    child process that creates it gets that PATH; this process's environment,
    which threads and Dask workers share, stays exactly as it was."""
    root = copy_generated(generated_course, tmp_path / "course")
    (root / "gradebook.db").unlink()
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no alembic here
    before = dict(os.environ)
    course = Course(root)
    assert dict(os.environ) == before
    with course.gradebook() as gradebook:
        assert gradebook.course_id == "initializing-neural-networks"
        assert gradebook.assignments == []
    with open_gradebook(root) as gradebook:  # opening an existing one changes nothing either
        assert gradebook.course_id == "initializing-neural-networks"
    assert dict(os.environ) == before
