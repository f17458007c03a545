"""Shared fixtures: paths, and a scratch copy of the course for nbgrader."""

import shutil
import subprocess
import sys

import pytest

from examples.course_copy import REPO, copy_course  # noqa: F401 (the tests' copy_course)
from grading.course import run_nbgrader

# Every assignment (a folder of source/, the Chinese editions <name>_zh
# included) and the name of its one notebook.
ASSIGNMENTS = {
    folder.name: next(folder.glob("*.ipynb")).name
    for folder in sorted((REPO / "source").iterdir())
    if folder.is_dir()
}


def pytest_collection_modifyitems(items):
    """nbval's notebook cells run in real kernels: they belong to the slow tests."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)


def run_grading_command(course, *arguments):
    """`python -m grading.grade ...` in the course root, as an instructor runs it;
    returns what it printed."""
    process = subprocess.run(
        [sys.executable, "-m", "grading.grade", *arguments],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=3600,
    )
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
