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
"""

from __future__ import annotations

import glob
import os
import re

from nbgrader.exchange.default.release_feedback import ExchangeReleaseFeedback

SECRET = "submission_secret.txt"


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
