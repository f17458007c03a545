"""Shared fixtures: paths, and a scratch copy of the course for nbgrader."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = {"initialization": "Initialization.ipynb"}

# What a course root needs for nbgrader; instructor work folders are left out.
COURSE_FILES = ["nbgrader_config.py", "grading", "utils", "source", "release"]


def nbgrader(course_root, *args, check=True):
    """Run a real nbgrader command in course_root and return the finished process."""
    env = dict(os.environ)
    # nbgrader calls the environment's `alembic` command to create a gradebook.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]
    process = subprocess.run([sys.executable, "-m", "nbgrader", *args],
                             cwd=course_root, env=env, capture_output=True,
                             text=True, timeout=1800)
    if check and process.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n"
                             f"{process.stdout}\n{process.stderr}")
    return process


def copy_course(destination):
    """Copy the course (links kept as links) to destination and return it."""
    for name in COURSE_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__",
                                                          ".ipynb_checkpoints"))
        else:
            shutil.copy2(source, destination / name)
    return destination


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch course root with the assignment generated into a fresh gradebook."""
    root = copy_course(tmp_path_factory.mktemp("course"))
    shutil.rmtree(root / "release")
    for assignment in ASSIGNMENTS:
        nbgrader(root, "generate_assignment", assignment, "--force")
    return root
