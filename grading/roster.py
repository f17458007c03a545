"""A roster for nbgrader from Canvas's gradebook export.

    python -m grading.roster canvas-gradebook.csv > roster.csv
    nbgrader db student import roster.csv

Canvas's gradebook export (Grades → Export → Export Entire Gradebook) has
the columns Student ("Last, First"), ID (the Canvas user id, which the
names of downloaded submissions carry), SIS User ID, SIS Login ID and
Section, then one per assignment; below the header, rows such as
"Points Possible" and "Manual Posting", and Canvas's own "Student, Test".
nbgrader's import wants id, first_name, last_name, email and lms_user_id.

A student's nbgrader id (which names their folders) is their SIS User ID,
else their SIS Login ID, when it is a valid id (grading/submissions.py:
letters, digits and .@+-); else `canvas-<Canvas user id>`. Their email is
the SIS Login ID when it is one. Moodle's exports carry no user id (the
names of its downloads do): its roster is written by hand.
"""

from __future__ import annotations

import argparse
import csv
import sys

from grading.submissions import valid_student_id

ROSTER_COLUMNS = ["id", "first_name", "last_name", "email", "lms_user_id"]
IDENTITY_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID"]
# Rows of Canvas's export that are no student: what its first cell starts with.
NOT_STUDENTS = ("Points Possible", "Manual Posting", "Muted")
TEST_STUDENT = ("Student, Test", "Test Student")


class RosterError(Exception):
    """The file is not a Canvas gradebook export."""


def from_canvas(lines) -> list[dict]:
    """The roster rows of a Canvas gradebook export (lines of CSV text)."""
    rows = csv.DictReader(line.lstrip("\ufeff") if number == 0 else line for number, line in enumerate(lines))
    missing = [column for column in IDENTITY_COLUMNS if column not in (rows.fieldnames or [])]
    if missing:
        raise RosterError(f"not a Canvas gradebook export: no column {', '.join(missing)}")
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
        roster.append(
            {
                "id": student_id,
                "first_name": first.strip(),
                "last_name": last.strip(),
                "email": login if "@" in login else "",
                "lms_user_id": canvas_id,
            }
        )
    return roster


def nbgrader_id(row: dict, canvas_id: str) -> str:
    for column in ("SIS User ID", "SIS Login ID"):
        candidate = (row[column] or "").strip()
        if candidate and valid_student_id(candidate):
            return candidate
    if not canvas_id.isdigit():
        raise RosterError(f"{row['Student']!r} has no valid SIS id and no Canvas user id")
    return f"canvas-{canvas_id}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.roster", description=__doc__.splitlines()[0])
    parser.add_argument("export", help="Canvas's gradebook export (CSV)")
    args = parser.parse_args(argv)
    try:
        with open(args.export, newline="", encoding="utf-8") as file:
            roster = from_canvas(file)
    except (OSError, UnicodeDecodeError, RosterError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    writer = csv.DictWriter(sys.stdout, ROSTER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(roster)
    return 0


if __name__ == "__main__":
    sys.exit(main())
