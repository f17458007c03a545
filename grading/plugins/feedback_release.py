"""Releasing feedback to a class that handed in both ways.

nbgrader's `release_feedback` (and formgrader's Release Feedback button)
files each student's feedback page in the exchange under a name made from
the secret the exchange gave their submission (`submission_secret.txt`). A
student whose work came from an LMS download has no such secret, and
nbgrader 0.9.6 stops at the first of them: nobody after them gets feedback.

ReleaseFeedbackToExchange releases to every student who handed in through
the exchange and skips, with a warning, each one who did not: their page is
ready in feedback/<student>/<assignment>/ to attach to their submission in
the LMS. nbgrader_config.py makes it the exchange's release_feedback.

What a feedback folder holds is decided here too: the feedback pages, and
the two small files release_feedback reads beside them. nbgrader's
generate_feedback first copies every other file of the autograded folder
next to the pages (the course's helpers, a student's extra files, what the
student's code left there), and an instructor who uploads the folder to an
LMS would hand them out. KeepOnlyFeedbackPages, the `post_convert_hook` of
GenerateFeedback in nbgrader_config.py, removes them after each student, for
plain `nbgrader generate_feedback` and formgrader; the grading command does
not copy them at all (grading/command/feedback_writer.py).
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
# What release_feedback reads beside the feedback pages: the time of the
# submission and the secret that names it in the exchange.
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
    """Remove from a student's feedback folder everything but the pages of
    the notebooks (their names without .ipynb) and the exchange files.
    Links are removed, never followed."""
    pages = {f"{name}.html" for name in notebooks}
    for path in folder.iterdir():
        if path.name in pages and path.is_file() and not path.is_symlink():
            continue
        if is_exchange_file(path):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


class KeepOnlyFeedbackPages:
    """GenerateFeedback's post_convert_hook: after each student's feedback,
    keep only the pages and the exchange files in their feedback folder.

    nbgrader calls the hook with the assignment and the student it was asked
    for (a student may be "*") and the paths of the autograded notebooks
    just converted, whose folder names the student."""

    def __init__(self, config):
        self.config = config

    def __call__(self, assignment: str, student: str, notebooks: list[str]) -> None:
        # nbgrader logs a hook's failure at INFO only, where nobody sees it:
        # say it as an error, since files may be left to hand out.
        try:
            self.clean(notebooks)
        except Exception:
            LOG.exception("Feedback folders of %s may still hold files that are not feedback pages", student)
            raise

    def clean(self, notebooks: list[str]) -> None:
        # Made now, not when the configuration is read: the course root is
        # the working directory nbgrader runs in unless configured.
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
