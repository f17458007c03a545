"""nbgrader's own commands, run in a course root as an instructor runs them,
with the PATH they need given to the child process alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from grading.errors import GradingError


def nbgrader_path() -> str:
    """PATH with this interpreter's bin/ first: where nbgrader finds `alembic`."""
    return str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


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
