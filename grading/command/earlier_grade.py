"""A student's earlier grade, kept whole while nbgrader grades them again.

nbgrader's autograde records the new submission's time and deletes the
autograded folder before it grades: a run that fails or is killed would
leave the earlier scores with the new time (a late penalty never earned) and
no graded notebook. So the time is first written to a hidden marker and the
folder moved aside; on success both are dropped, on failure (or before the
next grading, after a killed run) they come back.

A run holds the student's lock (held()) while it grades them, so two runs of
one student never share these files; a run that dies releases it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import time
from datetime import datetime

from nbgrader.api import MissingEntry

from grading.atomic import write_json
from grading.command.course import Course
from grading.errors import GradingError

# How long a run waits for another run of the same student to end: longer than grading
# one student usually takes (a box may run up to an hour), short of holding a worker for good.
GRADING_WAIT_SECONDS = 600


class StillBeingGraded(GradingError):
    """Another run held the student's lock for longer than the wait."""


class EarlierGrade:
    """The earlier grade of one student's assignment: its time in the
    gradebook and its folder autograded/<student>/<assignment>/."""

    def __init__(self, course: Course, assignment: str, student: str):
        self.course, self.assignment, self.student = course, assignment, student
        self.folder = course.folder("autograded", student, assignment)
        self.aside = self.folder.with_name(f".{self.folder.name}.earlier")
        self.marker = self.folder.with_name(f".{self.folder.name}.earlier.json")
        self.lock = self.folder.with_name(f".{self.folder.name}.lock")

    @contextlib.contextmanager
    def held(self, wait: float | None = None):
        """This student's assignment for this run alone, until the block ends;
        StillBeingGraded if another run still holds it after wait seconds
        (GRADING_WAIT_SECONDS by default)."""
        wait = GRADING_WAIT_SECONDS if wait is None else wait
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait
        with open(self.lock, "a") as lock:
            # An advisory lock of the whole file, dropped when it is closed or its process dies.
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StillBeingGraded(
                            f"{self.student} is still being graded by another process "
                            f"after {wait:.0f} s: grade them again once it has ended"
                        ) from None
                    time.sleep(0.2)
            yield

    def put_back_if_interrupted(self) -> None:
        """After a run killed mid-grading (its marker left), the earlier grade
        comes back; else what a finished run left aside is deleted."""
        if self.marker.is_file():
            self.put_back()
        else:
            shutil.rmtree(self.aside, ignore_errors=True)

    def set_aside(self) -> None:
        """Write down the gradebook's time, then move the folder aside."""
        with self.course.gradebook() as gradebook:
            try:
                time = gradebook.find_submission(self.assignment, self.student).timestamp
                record = {"graded": True, "time": time.isoformat() if time else None}
            except MissingEntry:
                record = {"graded": False, "time": None}
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        write_json(self.marker, record)
        if self.folder.is_dir() and not self.folder.is_symlink():
            self.folder.rename(self.aside)

    def keep_new(self) -> None:
        """The new grade counts: the marker goes first (from then on a killed run keeps the new
        grade), then the folder set aside."""
        self.marker.unlink(missing_ok=True)
        shutil.rmtree(self.aside, ignore_errors=True)

    def put_back(self) -> None:
        """The earlier time and folder back in place; the marker goes last,
        so that a put-back that fails half-way is done again next time."""
        record = json.loads(self.marker.read_text(encoding="utf-8"))
        if record["graded"]:
            time = datetime.fromisoformat(record["time"]) if record["time"] else None
            with self.course.gradebook() as gradebook:
                gradebook.update_or_create_submission(self.assignment, self.student, timestamp=time)
        if self.aside.is_dir():
            shutil.rmtree(self.folder, ignore_errors=True)
            self.aside.rename(self.folder)
        self.marker.unlink()
