"""Companion notebooks handed out with an assignment.

nbgrader copies every file of an assignment's source folder into the release but notebooks below
its top, such as ``source/initialization/companion/DataAndHelpersTour.ipynb``. HandOutCompanions, a
GenerateAssignment step, copies those too, so students who fetch the assignment get them. The
grading command ignores companions handed back (Course.companion_notebooks).
"""

import shutil
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor


def companion_paths(source_folder: Path) -> list[Path]:
    """The notebooks below the top of a source folder, relative to it, sorted (checkpoints left out)."""
    return sorted(
        path.relative_to(source_folder)
        for path in source_folder.glob("*/**/*.ipynb")
        if ".ipynb_checkpoints" not in path.parts
    )


class HandOutCompanions(NbGraderPreprocessor):
    """Copy the assignment's companion notebooks into its release folder."""

    def preprocess(self, nb, resources):
        coursedir = CourseDirectory(parent=self)
        assignment = resources["nbgrader"]["assignment"]
        source = Path(coursedir.format_path(coursedir.source_directory, ".", assignment))
        release = Path(coursedir.format_path(coursedir.release_directory, ".", assignment))
        for relative in companion_paths(source):
            (release / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / relative, release / relative)  # a link's target, as a file
        return nb, resources
