"""nbgrader's own commands, run in a course root as an instructor runs them,
and the environment nbgrader needs in this process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from grading.errors import GradingError


def nbgrader_path() -> str:
    """PATH with this interpreter's bin/ first: where nbgrader finds `alembic`."""
    return str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


@contextlib.contextmanager
def environment_variable(name: str, value: str):
    """name=value in this process's environment for the block, as it was after.
    (nbgrader.utils.setenv cannot be nested: it looks up the old value by the
    new one, and its exit deletes a variable an outer block still holds.)"""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


@contextlib.contextmanager
def alembic_on_path():
    """This interpreter's bin/ first on PATH for the block: nbgrader runs the
    `alembic` command when it creates a gradebook, in this process too."""
    with environment_variable("PATH", nbgrader_path()):
        yield


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
