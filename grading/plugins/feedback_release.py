"""Releasing feedback to a class that handed in both ways (docs/upstream.md).

ReleaseFeedbackToExchange (the exchange's release_feedback, nbgrader_config.py) skips, with a warning,
each student with no exchange secret (an LMS download), where nbgrader 0.9.6 stops at the first:
their page waits in feedback/<student>/<assignment>/ to attach in the LMS.

KeepOnlyFeedbackPages (GenerateFeedback's post_convert_hook) removes the other files generate_feedback
copies beside the pages (helpers, a student's files), which an instructor uploading the folder would
hand out. The grading command does not copy them at all (grading/command/feedback_writer.py).
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback

import grading.compat  # noqa: F401 (checks the nbgrader whose copy_files this wraps)

SECRET = "submission_secret.txt"
# What release_feedback reads beside the pages: the submission's time and its exchange secret.
EXCHANGE_FILES = ("timestamp.txt", SECRET)
EXCHANGE_FILE_LIMIT = 1024  # bytes; nbgrader writes a few dozen
LOG = logging.getLogger(__name__)


def is_exchange_file(path: Path) -> bool:
    """Whether path is one of the small files release_feedback needs."""
    return (
        path.name in EXCHANGE_FILES
        and path.is_file()
        and not path.is_symlink()
        and path.stat().st_size < EXCHANGE_FILE_LIMIT
    )


def keep_only_feedback_pages(folder: Path, notebooks: list[str]) -> None:
    """Remove from a student's feedback folder all but the pages of notebooks (names without .ipynb)
    and the exchange files; links are removed, never followed."""
    pages = {f"{name}.html" for name in notebooks}
    for path in folder.iterdir():
        if (path.name in pages and path.is_file() and not path.is_symlink()) or is_exchange_file(path):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


class KeepOnlyFeedbackPages:
    """GenerateFeedback's post_convert_hook: keep only the pages and exchange files in feedback folders.

    nbgrader passes the assignment, the student (maybe "*") and the converted notebooks' paths,
    whose folders name the students."""

    def __init__(self, config):
        self.config = config

    def __call__(self, assignment: str, student: str, notebooks: list[str]) -> None:
        # nbgrader logs a hook's failure at INFO, where nobody sees it: files may be left to hand out.
        try:
            self.clean(notebooks)
        except Exception:
            LOG.exception("Feedback folders of %s may still hold files that are not feedback pages", student)
            raise

    def clean(self, notebooks: list[str]) -> None:
        # Made now: the course root is nbgrader's working directory unless configured.
        coursedir = CourseDirectory(config=self.config)
        autograded = coursedir.format_path(
            coursedir.autograded_directory, "(?P<student>[^/]+)", "(?P<assignment>[^/]+)", escape=True
        )
        folders = {os.path.dirname(os.path.abspath(path)) for path in notebooks}
        for folder in folders:
            found = re.fullmatch(autograded, folder)
            if found is None:
                LOG.error(
                    "%s is not an autograded folder of the course at %s: its feedback folder may still hold "
                    "files that are not feedback pages; check it before handing it out",
                    folder,
                    coursedir.root,
                )
                continue
            feedback = Path(
                coursedir.format_path(coursedir.feedback_directory, found["student"], found["assignment"])
            )
            if feedback.is_dir() and not feedback.is_symlink():
                names = [
                    Path(path).stem for path in notebooks if os.path.dirname(os.path.abspath(path)) == folder
                ]
                keep_only_feedback_pages(feedback, names)


class ReleaseFeedbackToExchange(ExchangeReleaseFeedback):
    """nbgrader's release_feedback, skipping the students with no exchange secret."""

    def copy_files(self):
        skipped = self.students_without_secret()
        for student in skipped:
            self.log.warning(
                "Skipping %s: their submission did not come through the exchange (an LMS "
                "download?); attach %s to it in the LMS",
                student,
                self.feedback_folder(student),
            )
        excluded = self.coursedir.student_id_exclude
        self.coursedir.student_id_exclude = ",".join(filter(None, [excluded, *skipped]))
        try:
            super().copy_files()
        finally:
            self.coursedir.student_id_exclude = excluded

    def feedback_folder(self, student: str, escape: bool = False) -> str:
        coursedir = self.coursedir
        return coursedir.format_path(coursedir.feedback_directory, student, coursedir.assignment_id, escape)

    def students_without_secret(self) -> list[str]:
        """The students whose feedback pages here have no exchange secret beside them."""
        folder_of = re.compile(self.feedback_folder("(?P<student_id>.*)", escape=True))
        students = set()
        for page in glob.glob(os.path.join(self.src_path, "*.html")):
            folder = os.path.dirname(page)
            found = folder_of.fullmatch(folder)
            if found and not os.path.isfile(os.path.join(folder, SECRET)):
                students.add(found["student_id"])
        return sorted(students)
