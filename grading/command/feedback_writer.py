"""Feedback for one student at a time, with one HTML exporter kept.

nbgrader's `generate_feedback` builds a new HTML exporter on every call,
which compiles its Jinja templates and reads its CSS again: about a third of
the 0.6 s a student's feedback takes. The grading command writes feedback
one student at a time (in each Dask worker), so each Course keeps one
converter and its exporter (one per process in the command and in each
worker) and reuses them. The feedback is the same: the
same converter, configuration and preprocessors (HideHiddenTests among
them) as `nbgrader generate_feedback`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from nbconvert.writers import FilesWriter
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log

# What nbgrader's release_feedback reads beside the feedback page: the time
# of the submission and the secret that names it in the exchange.
EXCHANGE_FILES = ("timestamp.txt", "submission_secret.txt")


class ReusingGenerateFeedback(GenerateFeedback):
    """GenerateFeedback that builds its exporter once and keeps it."""

    _kept_exporter = None

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        # nbgrader copies every other file of the autograded folder (the
        # helpers, a student's extra files) next to the feedback, and
        # release_feedback would publish them. Only the two small files that
        # release_feedback needs to file the feedback are copied.
        source, destination = (
            Path(self.coursedir.format_path(folder, student_id, assignment_id))
            for folder in (self.coursedir.autograded_directory, self.coursedir.feedback_directory)
        )
        for name in EXCHANGE_FILES:
            path = source / name
            if path.is_file() and not path.is_symlink() and path.stat().st_size < 1024:
                destination.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination / name)

    def start(self) -> None:
        # BaseConverter.start, except that the exporter is built only once.
        self.init_notebooks()
        self.writer = FilesWriter(parent=self, config=self.config)
        if self._kept_exporter is None:
            self._kept_exporter = self.exporter_class(parent=self, config=self.config)
            for preprocessor in self.preprocessors:
                self._kept_exporter.register_preprocessor(preprocessor)
        self.exporter = self._kept_exporter
        here = os.getcwd()
        os.chdir(self.coursedir.root)
        try:
            self.convert_notebooks()
        finally:
            os.chdir(here)


class FeedbackWriter:
    """Writes one student's feedback at a time, as `nbgrader generate_feedback
    ASSIGNMENT --student STUDENT --force` would."""

    def __init__(self, config, log):
        # A CourseDirectory of its own: its student and assignment change per call.
        self.coursedir = CourseDirectory(config=config)
        self.converter = ReusingGenerateFeedback(coursedir=self.coursedir, config=config, log=log)
        self.converter.force = True

    def write(self, assignment: str, student: str) -> dict:
        """nbgrader's result: {"success": bool, "error": traceback, "log": text}."""
        self.coursedir.assignment_id = assignment
        self.coursedir.student_id = student
        return capture_log(self.converter)
