"""Bringing submissions into the course's submitted/ folder."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from grading.course import Course, run_nbgrader
from grading.errors import GradingError


def is_nbgrader_layout(folder: Path, assignment: str) -> bool:
    """True when folder holds <student>/<assignment>/ subfolders."""
    return any((path / assignment).is_dir() for path in Path(folder).iterdir() if path.is_dir())


def collect(course: Course, assignment: str, source: str | Path) -> None:
    """Bring submissions from source into submitted/<student>/<assignment>/.

    source is a folder in nbgrader's layout (copied), or a zip file or folder
    of notebooks downloaded from a learning platform (handed to nbgrader's
    zip_collect, which names the students from the file names).
    """
    source = Path(source).resolve()
    submitted = course.submitted_root()
    if source.is_dir() and is_nbgrader_layout(source, assignment):
        if source != submitted.resolve():
            for student_folder in sorted(source.iterdir()):
                if (student_folder / assignment).is_dir():
                    destination = course.folder("submitted", student_folder.name, assignment)
                    shutil.rmtree(destination, ignore_errors=True)
                    shutil.copytree(student_folder / assignment, destination)
        return
    if not (source.is_dir() or zipfile.is_zipfile(source)):
        raise GradingError(f"{source} is neither a folder nor a zip file")
    archive = course.archive_folder(assignment)
    shutil.rmtree(archive, ignore_errors=True)
    archive.mkdir(parents=True)
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file():
                shutil.copy(path, archive / path.name)
    else:
        shutil.copy(source, archive / source.name)
    print(f"Collecting {source.name} with nbgrader zip_collect...", flush=True)
    run_nbgrader(course.root, "zip_collect", assignment, "--force")
