"""nbgrader's own commands run in a course root as an instructor runs them,
and the scores they leave in the gradebook: what the tests, the benchmarks
and the main job compare the grading command with. The grading package
never runs nbgrader's command line itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grading.errors import GradingError
from grading.gradebook import code_cell_scores, nbgrader_path, open_gradebook


def run_nbgrader(
    course_root: str | Path, *args: str, check: bool = True, timeout: float = 3600
) -> subprocess.CompletedProcess:
    """Run a real nbgrader command in course_root; return the finished process.

    nbgrader reads nbgrader_config.py from its working directory only, and
    calls the environment's `alembic` command when it creates a gradebook, so
    the command runs in course_root with this interpreter's bin/ on PATH.
    """
    process = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course_root,
        env={**os.environ, "PATH": nbgrader_path()},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and process.returncode != 0:
        raise GradingError(
            f"nbgrader {' '.join(args)} failed (exit {process.returncode}):\n{process.stderr[-3000:]}"
        )
    return process


def scores(course_root: str | Path, assignment: str, notebook: str) -> dict:
    """{student: {test cell: (score, max score)}} of every submission of assignment."""
    with open_gradebook(course_root) as gradebook:
        return {
            submission.student.id: code_cell_scores(
                gradebook.find_submission_notebook(notebook, assignment, submission.student.id)
            )
            for submission in gradebook.assignment_submissions(assignment)
        }
