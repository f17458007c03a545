"""Whose notebook a downloaded file is, read from the name nbgrader, Canvas or Moodle gave it.

    ada_Initialization.ipynb                          nbgrader: <student>_<notebook>
    ada_attempt_2026-12-05T120000_Initialization.ipynb          ..._attempt_<UTC time>_...
    youngcy_5551_88888_Initialization-1.ipynb         Canvas: <name>_<user id>_<submission id>_<file>
    deedee_late_7777_99999_Initialization.ipynb               ..._late_... when Canvas marked it late
    John Doe_6661_assignsubmission_file_/Initialization.ipynb   Moodle, a folder per student
    John Doe_6661_assignsubmission_file_Initialization.ipynb    Moodle, all in one folder

The uploaded name loses Canvas's "-1" (uploaded again) and a browser's " (1)". A Canvas or Moodle
user id maps to an nbgrader id through the roster's lms_user_id (`nbgrader db student import`).
Moodle's number is a participant number of one assignment: with LmsFileNames.moodle_worksheets it is
matched through that assignment's grading worksheet to the roster's email.

LmsFileNames is zip_collect's collector (nbgrader_config.py); the grading command asks it why a file
was not taken (identify).
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

from nbgrader.api import Gradebook
from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Dict, Unicode

from grading.gradebook import course_gradebook
from grading.roster import Participant, RosterError, read_moodle_worksheet
from grading.submissions import english_assignment

# Moodle's folder for a student's files, and its name for a file when all are in one folder.
MOODLE_FOLDER = re.compile(r"(?P<name>[^/_]+)_(?P<lms_user_id>[0-9]+)_assignsubmission_file_")
MOODLE = re.compile(r"(?P<name>[^/_]+)_(?P<lms_user_id>[0-9]+)_assignsubmission_file_(?P<original>[^/]+)")
NBGRADER_ATTEMPT = re.compile(
    r"(?P<student>[^_/]+)_attempt_(?P<timestamp>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{6})_(?P<original>[^/]+)"
)
CANVAS = re.compile(
    r"(?P<name>[^_/]+)_(?P<late>late_)?(?P<lms_user_id>[0-9]+)_(?P<submission_id>[0-9]+)_(?P<original>[^/]+)"
)
NBGRADER = re.compile(r"(?P<student>[^_/]+)_(?P<original>[^/]+)")

BROWSER_COPY = re.compile(r"(?P<stem>.+?) \([0-9]+\)$")  # "Initialization (1)"
CANVAS_REUPLOAD = re.compile(r"(?P<stem>.+?)-[0-9]+$")  # "Initialization-1"


# identify()'s default: the file's name not read yet.
MISSING = object()


@dataclass(frozen=True)
class DownloadName:
    """What a downloaded file's name says."""

    platform: str  # "nbgrader", "Canvas" or "Moodle"
    original: str  # the file name the student uploaded, as the platform kept it
    student: str | None = None  # the nbgrader id, in nbgrader's names
    lms_user_id: str | None = None  # the platform's user id, in Canvas's and Moodle's
    lms_name: str = ""  # the student's name as the platform wrote it
    timestamp: str | None = None  # time of submission (UTC), in nbgrader's attempt names
    late: bool = False  # Canvas marked it late (its name carries no time)

    def who(self) -> str:
        """The student as the name gives them, for messages."""
        if self.student:
            return self.student
        return f"{self.platform} user {self.lms_user_id} ({self.lms_name})"


def read_download_name(path: str) -> DownloadName | None:
    """What a downloaded file's name says, or None when nbgrader, Canvas and Moodle give no such name.

    path: the file's path in the download. A file anywhere inside a Moodle student folder (the
    outermost so named) is that student's; otherwise only the file's name is read, and a name both
    Moodle's and Canvas's rules read is no name.
    """
    # Only "/" separates folders, as in zip: a backslash is part of a name, which a student may choose.
    parts = PurePosixPath(path).parts
    for folder in parts[:-1]:
        if match := MOODLE_FOLDER.fullmatch(folder):
            return DownloadName("Moodle", parts[-1], lms_user_id=match["lms_user_id"], lms_name=match["name"])
    name = parts[-1] if parts else ""
    moodle, canvas = MOODLE.fullmatch(name), CANVAS.fullmatch(name)
    if moodle and canvas:
        return None
    if moodle:
        return DownloadName(
            "Moodle", moodle["original"], lms_user_id=moodle["lms_user_id"], lms_name=moodle["name"]
        )
    if match := NBGRADER_ATTEMPT.fullmatch(name):
        return DownloadName(
            "nbgrader", match["original"], student=match["student"], timestamp=match["timestamp"]
        )
    if canvas:
        return DownloadName(
            "Canvas",
            canvas["original"],
            lms_user_id=canvas["lms_user_id"],
            lms_name=canvas["name"],
            late=bool(canvas["late"]),
        )
    if match := NBGRADER.fullmatch(name):
        return DownloadName("nbgrader", match["original"], student=match["student"])
    return None


def notebook_name(original: str, release_names: list[str], platform: str = "nbgrader") -> str:
    """The release notebook (of release_names, "Initialization.ipynb") a student's file is once the
    platform's and browser's additions are taken off, case ignored; else original."""
    if original in release_names:
        return original
    stem, extension = os.path.splitext(original)
    candidates = [stem]
    if match := BROWSER_COPY.fullmatch(stem):
        candidates.append(match["stem"])
    if platform == "Canvas":
        candidates += [
            match["stem"] for stem in list(candidates) if (match := CANVAS_REUPLOAD.fullmatch(stem))
        ]
    by_lower_case = {name.lower(): name for name in release_names}
    releases = (by_lower_case.get(f"{candidate}{extension}".lower()) for candidate in candidates)
    return next((release for release in releases if release), original)


def roster(gradebook: Gradebook) -> dict[str, list[str]]:
    """{lms_user_id: [nbgrader ids]} of the gradebook's students that have one."""
    ids: dict[str, list[str]] = {}
    for student in gradebook.students:
        if student.lms_user_id:
            ids.setdefault(str(student.lms_user_id).strip(), []).append(student.id)
    return ids


def roster_emails(gradebook: Gradebook) -> dict[str, list[str]]:
    """{email, in lower case: [nbgrader ids]} of the gradebook's students that have one."""
    ids: dict[str, list[str]] = {}
    for student in gradebook.students:
        if student.email:
            ids.setdefault(student.email.strip().lower(), []).append(student.id)
    return ids


def student_of(name: DownloadName, lms_ids: dict[str, list[str]]) -> tuple[str | None, str | None]:
    """(nbgrader id, None), or (None, why not): a Canvas or Moodle user id on no roster row, or on two."""
    if name.student:
        return name.student, None
    students = lms_ids.get(name.lms_user_id, [])
    if len(students) == 1:
        return students[0], None
    if not students and name.platform == "Moodle":
        return None, (
            f"{name.who()} is on no student's row of the roster (lms_user_id): Moodle numbers the "
            "participants of each assignment anew, so name this assignment's grading worksheet in "
            "c.LmsFileNames.moodle_worksheets (README, step 1), then collect again"
        )
    if not students:
        return None, (
            f"{name.who()} is on no student's row of the roster (lms_user_id): add them with "
            "`nbgrader db student add` or `nbgrader db student import`, then collect again"
        )
    return None, f"{name.who()} is the lms_user_id of {len(students)} students: {', '.join(students)}"


def same_name(one: str, other: str) -> bool:
    """Whether two spellings of a name are the same but for case, spaces and punctuation (Moodle
    writes a folder's name with "_" made " " and some characters left out)."""

    def letters(name: str) -> str:
        composed = unicodedata.normalize("NFC", name)  # "é" as one character, as macOS may not write it
        return "".join(character for character in composed.casefold() if character.isalnum())

    return letters(one) == letters(other)


def participant_of(
    name: DownloadName, worksheet: str, participants: dict[str, Participant], roster_ids: dict[str, list[str]]
) -> tuple[str | None, str | None]:
    """(nbgrader id, None), or (None, why not) for a Moodle name matched through a grading worksheet.

    participants: the worksheet's {participant number: Participant}; roster_ids: {email in lower
    case: [nbgrader ids]}. The folder's name must be the worksheet's for that number, so a worksheet
    of another assignment files nobody.
    """
    participant = participants.get(name.lms_user_id)
    if participant is None:
        return None, (
            f"{name.who()} is not in the grading worksheet {worksheet}: Moodle numbers the participants "
            "of each assignment anew, so download this assignment's worksheet again"
        )
    if not same_name(participant.full_name, name.lms_name):
        return None, (
            f"{name.who()} is {participant.full_name} in the grading worksheet {worksheet}: is it this "
            "assignment's worksheet? Download it again"
        )
    email = participant.email
    students = roster_ids.get(email.lower(), [])
    if len(students) == 1:
        return students[0], None
    if not students:
        return None, (
            f"{name.who()} has the email {email} in {worksheet}, which is on no student's row of the "
            "roster: add them with `nbgrader db student import`, then collect again"
        )
    return None, f"{name.who()} has the email {email} of {len(students)} students: {', '.join(students)}"


class LmsFileNames(FileNameCollectorPlugin):
    """zip_collect's collector for nbgrader, Canvas and Moodle download names (see the module)."""

    worksheet_mismatches = 0  # Moodle folders named otherwise than the worksheet names their number

    moodle_worksheets = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help=(
            "Moodle's grading worksheet (a CSV file, from the course root) of each assignment, by "
            "assignment id: the participant numbers of that assignment's download are matched through "
            "it to the roster's emails, instead of to lms_user_id."
        ),
    ).tag(config=True)

    def identify(
        self, submitted_file: str, name: DownloadName | None = MISSING
    ) -> tuple[dict | None, str | None]:
        """(zip_collect's {student_id, file_id[, timestamp]}, None), or (None, why the file is not
        taken); name: read_download_name's result, when the caller has it."""
        if os.path.splitext(submitted_file)[1] not in self.valid_ext:
            return None, f"{submitted_file} is not a notebook (.ipynb)"
        if name is MISSING:
            name = read_download_name(submitted_file)
        if name is None:
            return None, (
                f"{submitted_file} is not named as a student's notebook by nbgrader "
                "(<student>_<notebook>), Canvas or Moodle"
            )
        student, problem = self.student_of(name)
        if problem:
            return None, f"{submitted_file}: {problem}"
        info = {
            "student_id": student,
            "file_id": notebook_name(name.original, self.release_names(), name.platform),
        }
        if name.timestamp:
            info["timestamp"] = name.timestamp
        return info, None

    def collect(self, submitted_file: str) -> dict | None:
        info, problem = self.identify(submitted_file)
        if problem:
            self.log.warning("Skipped: %s", problem)
        return info

    def student_of(self, name: DownloadName) -> tuple[str | None, str | None]:
        """(nbgrader id, None), or (None, why the name has no student). An nbgrader name's student
        must be on the roster once there is one, so that a typo makes no new student."""
        if name.student:
            enrolled = self.enrolled
            if enrolled and name.student not in enrolled:
                return None, (
                    f"{name.student} is not in the gradebook's roster: rename the file, or add them "
                    f"(`nbgrader db student add {name.student}`) and collect again"
                )
            return name.student, None
        worksheet = self.worksheet()
        if name.platform != "Moodle" or not worksheet:
            return student_of(name, self.lms_ids)
        participants = self.worksheet_participants
        if isinstance(participants, str):
            return None, participants
        student, problem = participant_of(name, worksheet, participants, self.roster_emails)
        number = participants.get(name.lms_user_id)
        if number is not None and not same_name(number.full_name, name.lms_name):
            self.worksheet_mismatches += 1
        return student, problem

    def worksheet(self) -> str | None:
        """The assignment's configured Moodle grading worksheet; a Chinese edition's is the English one's."""
        assignment = self.coursedir.assignment_id if self.coursedir is not None else ""
        worksheets = self.moodle_worksheets
        return worksheets.get(assignment) or worksheets.get(english_assignment(assignment))

    @property
    def coursedir(self):
        """zip_collect's course directory (None for a plugin made without one)."""
        return getattr(self.parent, "coursedir", None)

    @cached_property
    def worksheet_participants(self) -> dict[str, Participant] | str:
        """{participant number: Participant} of the assignment's Moodle worksheet, or why it is unreadable."""
        worksheet = self.worksheet()
        path = os.path.join(self.coursedir.root, worksheet) if self.coursedir is not None else worksheet
        try:
            with open(path, newline="", encoding="utf-8") as file:
                participants = read_moodle_worksheet(file)
        except (OSError, UnicodeDecodeError, RosterError) as error:
            where = f"the grading worksheet {worksheet} (LmsFileNames.moodle_worksheets)"
            return f"{where} is unreadable: {error}"
        return {participant.number: participant for participant in participants}

    @cached_property
    def enrolled(self) -> set[str]:
        """The ids of the gradebook's students (empty before any roster or grading)."""
        return self.read_gradebook(lambda gradebook: {student.id for student in gradebook.students})

    @cached_property
    def lms_ids(self) -> dict[str, list[str]]:
        """The roster, read from the gradebook once per plugin."""
        return self.read_gradebook(roster)

    @cached_property
    def roster_emails(self) -> dict[str, list[str]]:
        """The roster's emails, read from the gradebook once per plugin."""
        return self.read_gradebook(roster_emails)

    def read_gradebook(self, read):
        """read(gradebook), or {} when the plugin has no course directory."""
        if self.coursedir is None:
            return {}
        with course_gradebook(self.coursedir) as gradebook:
            return read(gradebook)

    def release_names(self) -> list[str]:
        """The file names of the assignment's release notebooks ([] when unknown)."""
        coursedir = self.coursedir
        if coursedir is None or not coursedir.assignment_id:
            return []
        folder = Path(coursedir.format_path(coursedir.release_directory, ".", coursedir.assignment_id))
        return sorted(path.name for path in folder.glob("*.ipynb"))
