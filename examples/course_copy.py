"""A scratch copy of the course, for tests and benchmarks that grade in it."""

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# What a course root needs for nbgrader (notebooks/ holds the companions and
# requirements/ the students' packages that source/ links to); instructor
# work folders are left out.
COURSE_FILES = ["nbgrader_config.py", "grading", "utils", "source", "release", "notebooks", "requirements"]


def copy_course(destination: Path) -> Path:
    """Copy the course (links kept as links) to destination and return it."""
    for name in COURSE_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(
                source,
                destination / name,
                symlinks=True,
                ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"),
            )
        else:
            shutil.copy2(source, destination / name)
    return destination
