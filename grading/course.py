"""Running nbgrader in a course root and reading scores from its gradebook."""

import os
import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook


def run_nbgrader(course_root, *args, check=True, timeout=3600):
    """Run a real nbgrader command in course_root; return the finished process.

    nbgrader reads nbgrader_config.py from its working directory only, and
    calls the environment's `alembic` command when it creates a gradebook, so
    the command runs in course_root with this interpreter's bin/ on PATH.
    """
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    process = subprocess.run([sys.executable, "-m", "nbgrader", *args],
                             cwd=course_root, env=env, capture_output=True,
                             text=True, timeout=timeout)
    if check and process.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed "
                           f"(exit {process.returncode}):\n{process.stderr[-3000:]}")
    return process


def _course_directory(course_root):
    """nbgrader's CourseDirectory of course_root, configured by its nbgrader_config.py."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    coursedir = CourseDirectory(config=config)
    coursedir.root = str(Path(course_root).resolve())
    return coursedir


def gradebook_url(course_root):
    """The gradebook's database URL, as nbgrader_config.py of course_root sets it."""
    return _course_directory(course_root).db_url


def open_gradebook(course_root):
    """The course's gradebook, opened for the course's own id: a Gradebook
    opened without one adds a course named "default_course" to the database."""
    coursedir = _course_directory(course_root)
    return Gradebook(coursedir.db_url, course_id=coursedir.course_id)


def scores(course_root, assignment, notebook):
    """{student: {test cell: (score, max score)}} for the autograded code cells.

    (Written answers are graded by hand; nbgrader only gives an unchanged one 0.)
    """
    result = {}
    with open_gradebook(course_root) as gradebook:
        for submission in gradebook.assignment_submissions(assignment):
            graded = gradebook.find_submission_notebook(
                notebook, assignment, submission.student.id)
            result[submission.student.id] = {
                grade.name: (grade.score, grade.max_score)
                for grade in graded.grades if grade.cell.cell_type == "code"}
    return result
