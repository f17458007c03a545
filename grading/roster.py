"""A roster for nbgrader from Canvas's gradebook export or Moodle's grading
worksheet, and the participant numbers of a Moodle assignment.

    python -m grading.roster canvas-gradebook.csv > roster.csv
    python -m grading.roster moodle-worksheet.csv > roster.csv
    nbgrader db student import roster.csv

Canvas (Grades → Export → Export Entire Gradebook): a student's nbgrader id
is their SIS User ID, else SIS Login ID, when it is a valid id
(grading/submissions.py), else `canvas-<Canvas user id>`; the Canvas user
id, which downloaded file names carry, is the lms_user_id.

Moodle (an assignment's *Download grading worksheet*, with the "Offline
grading worksheet" feedback type): the id is the email's part before the @
(the whole email when two students share it), underscores made hyphens.
Moodle numbers participants anew in each assignment, so a download is
matched through its own assignment's worksheet
(LmsFileNames.moodle_worksheets, grading/plugins/download_names.py).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass

from grading.submissions import valid_student_id

ROSTER_COLUMNS = ["id", "first_name", "last_name", "email", "lms_user_id"]
IDENTITY_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID"]
# Rows of Canvas's export that are no student: what its first cell starts with.
NOT_STUDENTS = ("Points Possible", "Manual Posting", "Muted")
TEST_STUDENT = ("Student, Test", "Test Student")


WORKSHEET_COLUMNS = ["Identifier", "Full name", "Email address"]
PARTICIPANT_NUMBER = re.compile(r"[^0-9]*([0-9]+)\s*")  # "Participant 6661", in any language


def plain_name(name: str) -> str:
    """A student's name as the LMS gives it, without < and >: students may
    choose their display name there, and formgrader writes a submission's
    names into its page unescaped, where a tag would run as the instructor."""
    return name.replace("<", "").replace(">", "").strip()


def roster_row(student_id: str, first: str, last: str, email: str, lms_user_id: str) -> dict:
    """A row of the roster ({column of ROSTER_COLUMNS: value}), the names made plain (plain_name)."""
    return dict(zip(ROSTER_COLUMNS, (student_id, plain_name(first), plain_name(last), email, lms_user_id)))


class RosterError(Exception):
    """The file is not the LMS export it was read as."""


def csv_rows(lines) -> csv.DictReader:
    """The rows of CSV text, without the byte-order mark an LMS may put first."""
    return csv.DictReader(line.lstrip("\ufeff") if number == 0 else line for number, line in enumerate(lines))


def from_canvas(lines) -> list[dict]:
    """The roster rows of a Canvas gradebook export (lines of CSV text)."""
    rows = csv_rows(lines)
    missing = [column for column in IDENTITY_COLUMNS if column not in (rows.fieldnames or [])]
    if missing:
        raise RosterError(
            "neither a Canvas gradebook export nor a Moodle grading worksheet (Identifier, Full name, "
            f"Email address): no column {', '.join(missing)}"
        )
    roster, taken = [], set()
    for row in rows:
        name = (row["Student"] or "").strip()
        if not name or name.startswith(NOT_STUDENTS) or name in TEST_STUDENT:
            continue
        last, _, first = name.rpartition(", ") if ", " in name else (name, "", "")
        canvas_id = (row["ID"] or "").strip()
        student_id = nbgrader_id(row, canvas_id)
        if student_id in taken:
            raise RosterError(f"two students would have the id {student_id!r}: make their SIS ids differ")
        taken.add(student_id)
        login = (row["SIS Login ID"] or "").strip()
        roster.append(roster_row(student_id, first, last, login if "@" in login else "", canvas_id))
    return roster


def nbgrader_id(row: dict, canvas_id: str) -> str:
    for column in ("SIS User ID", "SIS Login ID"):
        candidate = (row[column] or "").strip()
        if candidate and valid_student_id(candidate):
            return candidate
    if not canvas_id.isdigit():
        raise RosterError(f"{row['Student']!r} has no valid SIS id and no Canvas user id")
    return f"canvas-{canvas_id}"


@dataclass(frozen=True)
class Participant:
    """A row of a Moodle grading worksheet."""

    number: str  # the participant number of the assignment's download ("6661")
    full_name: str
    email: str


def read_moodle_worksheet(lines) -> list[Participant]:
    """The participants of a Moodle grading worksheet (lines of CSV text,
    with Moodle's English column names)."""
    rows = csv_rows(lines)
    missing = [column for column in WORKSHEET_COLUMNS if column not in (rows.fieldnames or [])]
    if missing:
        raise RosterError(f"not a Moodle grading worksheet in English: no column {', '.join(missing)}")
    participants = []
    for row in rows:
        number = PARTICIPANT_NUMBER.fullmatch(row["Identifier"] or "")
        if not number:
            raise RosterError(f"{row['Identifier']!r} is not a participant of a Moodle grading worksheet")
        email = (row["Email address"] or "").strip()
        participants.append(Participant(number[1], (row["Full name"] or "").strip(), email))
    return participants


def from_moodle_worksheet(lines) -> list[dict]:
    """The roster rows of a Moodle grading worksheet (lines of CSV text)."""
    participants = read_moodle_worksheet(lines)
    local_parts = [participant.email.lower().partition("@")[0] for participant in participants]
    roster, taken = [], set()
    for participant, local_part in zip(participants, local_parts, strict=True):
        if "@" not in participant.email:
            raise RosterError(f"{participant.full_name!r} has no email address in the worksheet")
        shared = local_parts.count(local_part) > 1
        student_id = (participant.email.lower() if shared else local_part).replace("_", "-")
        if not valid_student_id(student_id) or student_id in taken:
            raise RosterError(f"{participant.email!r} gives no nbgrader id of its own: write its row by hand")
        taken.add(student_id)
        first, _, last = participant.full_name.rpartition(" ")
        roster.append(roster_row(student_id, first or last, last if first else "", participant.email, ""))
    return roster


def read_roster(lines) -> list[dict]:
    """The roster rows of a Canvas gradebook export or a Moodle grading worksheet."""
    lines = list(lines)
    header = next(csv.reader(lines[:1]), [])
    if header and header[0].lstrip("\ufeff") == "Identifier":
        return from_moodle_worksheet(lines)
    return from_canvas(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.roster", description=__doc__.splitlines()[0])
    parser.add_argument("export", help="Canvas's gradebook export or Moodle's grading worksheet (CSV)")
    args = parser.parse_args(argv)
    try:
        with open(args.export, newline="", encoding="utf-8") as file:
            roster = read_roster(file)
    except (OSError, UnicodeDecodeError, RosterError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    writer = csv.DictWriter(sys.stdout, ROSTER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(roster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
