"""Companion notebooks handed out with an assignment.

An assignment can point its students to ungraded notebooks that explain more
(``source/initialization/companion/DataAndHelpersTour.ipynb``, a link to
``notebooks/``). nbgrader copies every other file of the source folder into
the release, but never a notebook: it treats notebooks only as the
assignment's own, and those live at the top of the folder. This
preprocessor, one of the GenerateAssignment steps, copies the notebooks that
sit in sub-folders of the source folder into the same place in the release,
so that students who fetch the assignment, from the exchange or a download,
get them too. It runs whenever `nbgrader generate_assignment` (or
formgrader's Generate button) does; the assignment's notebook passes through
unchanged. The grading command ignores companions handed back
(Course.companion_notebooks).
"""

import shutil
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor


def companion_paths(source_folder: Path) -> list[Path]:
    """The notebooks below the top of an assignment's source folder, relative
    to it, sorted (Jupyter's checkpoints left out)."""
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
