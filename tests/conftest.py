"""Shared fixtures: paths, and a scratch copy of the course for nbgrader."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grading.course import run_nbgrader

REPO = Path(__file__).resolve().parents[1]
# Every assignment, the Chinese editions (<name>_zh, built by
# scripts/translate.py) included, and its notebook.
ASSIGNMENTS = {"initialization": "Initialization.ipynb",
               "initialization_deep": "InitializationDeep.ipynb",
               "initialization_zh": "Initialization.ipynb",
               "initialization_deep_zh": "InitializationDeep.ipynb"}

# What a course root needs for nbgrader; instructor work folders are left out.
COURSE_FILES = ["nbgrader_config.py", "grading", "utils", "source", "release"]


def pytest_collection_modifyitems(items):
    """nbval's notebook cells run in real kernels: they belong to the slow tests."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)


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


def run_grading_command(course, *arguments):
    """`python -m grading.grade ...` in the course root, as an instructor runs it;
    returns what it printed."""
    process = subprocess.run([sys.executable, "-m", "grading.grade", *arguments],
                             cwd=course, capture_output=True, text=True, timeout=3600)
    assert process.returncode == 0, process.stderr[-3000:]
    return process.stdout


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch course root with the assignment generated into a fresh gradebook."""
    root = copy_course(tmp_path_factory.mktemp("course"))
    shutil.rmtree(root / "release")
    for assignment in ASSIGNMENTS:
        run_nbgrader(root, "generate_assignment", assignment, "--force")
    return root
