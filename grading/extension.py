"""Give a student more time for an assignment, before or after they hand in.

    python -m grading.extension initialization ada --days 2 [--hours 6] [--root COURSE]

nbgrader keeps an extension with each submission, and the late penalty counts
from the extended due date (grading/plugins/late.py). It is also written to
extensions.csv in the course root, so that it can be granted before the
student hands in (grading.plugins.late.GiveRecordedExtension gives it at
autograding), and holds for both editions. Granting again replaces it;
`--days 0` removes it. Grade a graded student again (--student) to update their feedback.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from datetime import datetime, timedelta
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from grading.atomic import write_atomically
from grading.gradebook import open_gradebook
from grading.submissions import editions

EXTENSIONS_FILE = "extensions.csv"  # in the course root; personal data, ignored by git
COLUMNS = ["assignment", "student", "days", "hours"]


class ExtensionsError(Exception):
    """extensions.csv cannot be read, or an extension cannot be granted: what is wrong."""


def read_extensions(root) -> dict[tuple[str, str], tuple[float, float]]:
    """{(assignment, student): (days, hours)} of the course's extensions.csv ({} without one)."""
    path = Path(root) / EXTENSIONS_FILE
    if not path.exists():
        return {}
    extensions = {}
    try:
        with open(path, newline="", encoding="utf-8") as file:
            rows = csv.DictReader(file)
            if rows.fieldnames != COLUMNS:
                raise ExtensionsError(f"{path}: the columns must be {','.join(COLUMNS)}")
            for number, row in enumerate(rows, start=2):
                try:
                    days, hours = float(row["days"] or 0), float(row["hours"] or 0)
                except (TypeError, ValueError):
                    raise ExtensionsError(f"{path}, line {number}: days and hours must be numbers") from None
                if not (math.isfinite(days) and math.isfinite(hours)) or days < 0 or hours < 0:
                    raise ExtensionsError(f"{path}, line {number}: days and hours must be 0 or more")
                extensions[(row["assignment"], row["student"])] = (days, hours)
    except (OSError, UnicodeDecodeError) as error:
        raise ExtensionsError(f"{path} cannot be read: {error}") from None
    return extensions


def write_extensions(root, extensions: dict[tuple[str, str], tuple[float, float]]) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for (assignment, student), (days, hours) in sorted(extensions.items()):
        writer.writerow([assignment, student, f"{days:g}", f"{hours:g}"])
    write_atomically(Path(root) / EXTENSIONS_FILE, text.getvalue())


def grant(
    root, assignment: str, student: str, days: float = 0, hours: float = 0
) -> tuple[datetime | None, bool]:
    """Write the extension to extensions.csv (under the English assignment) and give
    it to the student's submission of either edition, if the gradebook has one.
    Returns (the student's due date now or None, whether a submission has it).
    Raises MissingEntry for an unknown assignment, ExtensionsError when
    extensions.csv cannot be read or the student is not on the roster."""
    extensions = read_extensions(root)
    english = editions(assignment)[0]
    with open_gradebook(root) as gradebook:
        due = gradebook.find_assignment(assignment).duedate
        enrolled = {known.id for known in gradebook.students}
        if student not in enrolled:
            raise ExtensionsError(
                f"{student} is not in the gradebook's roster: check the id, or add them "
                f"(`nbgrader db student add {student}`) first"
            )
        if days or hours:
            extensions[(english, student)] = (days, hours)
        else:
            extensions.pop((english, student), None)
        write_extensions(root, extensions)
        given = False
        for edition in editions(assignment):
            try:
                gradebook.grant_extension(edition, student, days=days, hours=hours)
            except MissingEntry:
                continue
            due, given = gradebook.find_submission(edition, student).duedate, True
        if not given and due:
            due += timedelta(days=days, hours=hours)
        return due, given


def recorded_extension(root, assignment: str, student: str) -> tuple[float, float]:
    """(days, hours) that extensions.csv records for the student's assignment
    (of either edition); (0, 0) if none."""
    return read_extensions(root).get((editions(assignment)[0], student), (0, 0))


def give_recorded_extension(gradebook: Gradebook, root, assignment: str, student: str) -> None:
    """Give the student's submission the extension extensions.csv records for it,
    if any (before the late penalty, and again as the grading command reads scores)."""
    days, hours = recorded_extension(root, assignment, student)
    if not (days or hours):
        return  # none written: a gradebook's own extension stays as it is
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return  # not graded (an unreadable notebook): nothing to give it to yet
    if submission.extension != timedelta(days=days, hours=hours):
        gradebook.grant_extension(assignment, student, days=days, hours=hours)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.extension", description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("student")
    parser.add_argument("--days", type=float, default=0)
    parser.add_argument("--hours", type=float, default=0)
    parser.add_argument("--root", default=".", help="course root (default: .)")
    args = parser.parse_args(argv)
    if args.days < 0 or args.hours < 0:
        parser.error("--days and --hours are 0 or more")
    try:
        due, given = grant(args.root, args.assignment, args.student, args.days, args.hours)
    except MissingEntry:
        print(f"error: the gradebook has no assignment {args.assignment}: generate it first", file=sys.stderr)
        return 1
    except ExtensionsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.student}'s {args.assignment} is due {due} UTC" if due else "the assignment has no due date")
    if not given:
        print(f"written to {EXTENSIONS_FILE}: given as {args.student}'s submission is graded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
