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


def gradebook_url(course_root):
    """The gradebook's database URL, as nbgrader_config.py of course_root sets it."""
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    default = f"sqlite:///{Path(course_root).resolve() / 'gradebook.db'}"
    return config.CourseDirectory.get("db_url", default)


def scores(course_root, assignment, notebook):
    """{student: {test cell: (score, max score)}} for the autograded code cells.

    (Written answers are graded by hand; nbgrader only gives an unchanged one 0.)
    """
    result = {}
    with Gradebook(gradebook_url(course_root)) as gradebook:
        for submission in gradebook.assignment_submissions(assignment):
            graded = gradebook.find_submission_notebook(
                notebook, assignment, submission.student.id)
            result[submission.student.id] = {
                grade.name: (grade.score, grade.max_score)
                for grade in graded.grades if grade.cell.cell_type == "code"}
    return result
