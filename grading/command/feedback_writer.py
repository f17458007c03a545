"""Feedback for one student at a time, with one HTML exporter kept.

Each Course keeps one converter and its exporter and reuses them; the
feedback is what `nbgrader generate_feedback ASSIGNMENT --student STUDENT`
gives, with the same configuration, preprocessors and files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

from grading.compat import ExporterKeepingFeedback, run_converter
from grading.plugins.feedback_release import EXCHANGE_FILES, is_exchange_file


class FeedbackPagesConverter(ExporterKeepingFeedback):
    """GenerateFeedback that copies only the exchange files, not the whole
    autograded folder that nbgrader copies and its post_convert_hook removes."""

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        source, destination = (
            Path(self.coursedir.format_path(folder, student_id, assignment_id))
            for folder in (self.coursedir.autograded_directory, self.coursedir.feedback_directory)
        )
        for name in EXCHANGE_FILES:
            if is_exchange_file(source / name):
                destination.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / name, destination / name)


class FeedbackWriter:
    """Writes one student's feedback at a time, as `nbgrader generate_feedback
    ASSIGNMENT --student STUDENT --force` would."""

    def __init__(self, config, log):
        # A CourseDirectory of its own: its student and assignment change per call.
        self.coursedir = CourseDirectory(config=config)
        self.converter = FeedbackPagesConverter(coursedir=self.coursedir, config=config, log=log)
        self.converter.force = True

    def write(self, assignment: str, student: str) -> dict:
        """nbgrader's result: {"success": bool, "error": traceback, "log": text}."""
        self.coursedir.assignment_id = assignment
        self.coursedir.student_id = student
        return run_converter(self.converter)
