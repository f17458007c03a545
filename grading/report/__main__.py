"""Write a class report again from the records of the last gradings.

    python -m grading.report ASSIGNMENT [ASSIGNMENT ...] [--root COURSE]

One assignment: reports/<assignment>/index.html, as last written but for the changes. Several (the
two editions of one): their report together in reports/<a>+<b>/index.html, which the grading
command rewrites whenever it grades one of them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grading.command.course import Course
from grading.report import write_combined
from grading.report.records import STORE, report_folder


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.report", description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="+", metavar="ASSIGNMENT")
    parser.add_argument("--root", default=".", help="course root (default: .)")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if len(set(args.assignments)) != len(args.assignments):
        parser.error("an assignment is named twice")
    missing = [name for name in args.assignments if not (report_folder(root, name) / STORE).is_file()]
    if missing:
        print(
            f"error: no grading recorded for {', '.join(missing)} in {root / 'reports'}: "
            "grade it first (python -m grading.grade ASSIGNMENT)",
            file=sys.stderr,
        )
        return 1
    page = write_combined(Course(root), args.assignments)
    print(f"Class report: {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
