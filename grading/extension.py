"""Give a student more time for an assignment.

    python -m grading.extension initialization ada --days 2 [--hours 6] [--root COURSE]

nbgrader keeps an extension with each submission (its gradebook's
grant_extension): the student's due date becomes the assignment's plus the
extension, and every place the late penalty is worked out from the final
score (the grading command, feedback, every export: grading/plugins/late.py)
counts from it. The student must have handed in and been graded once, since
the extension belongs to that submission; it stays through every rerun.
Granting again replaces the extension; `--days 0` (no time at all) removes it.
Then grade the student again (`python -m grading.grade initialization
--student ada`) to bring the summary and feedback up to date.
"""

from __future__ import annotations

import argparse
import sys

from nbgrader.api import MissingEntry

from grading.gradebook import open_gradebook


def grant(root, assignment: str, student: str, days: float = 0, hours: float = 0):
    """Grant the extension; return the student's due date now (None when
    the assignment has none). Raises MissingEntry when there is no such submission."""
    with open_gradebook(root) as gradebook:
        gradebook.grant_extension(assignment, student, days=days, hours=hours)
        return gradebook.find_submission(assignment, student).duedate


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.extension", description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("student")
    parser.add_argument("--days", type=float, default=0)
    parser.add_argument("--hours", type=float, default=0)
    parser.add_argument("--root", default=".", help="course root (default: .)")
    args = parser.parse_args(argv)
    try:
        due = grant(args.root, args.assignment, args.student, args.days, args.hours)
    except MissingEntry:
        print(f"error: no graded submission of {args.assignment} by {args.student}", file=sys.stderr)
        return 1
    print(f"{args.student}'s {args.assignment} is due {due} UTC" if due else "the assignment has no due date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
