"""The class report: what the instructor opens in a browser after grading.

After each run the grading command (grading/grade.py) calls ``write_class_report``: it records each
student graded (records.py), works out what changed and why (changes.py), and writes
reports/<assignment>/: index.html, its figures, report.json, mistakes.csv and students.csv (data.py,
figures.py, page.py; parts: counts.py, outcomes.py, table.py, similarity.py, times.py).
``python -m grading.report initialization initialization_zh`` reports both editions (__main__.py).
"""

from __future__ import annotations

from pathlib import Path

from grading.report.changes import class_changes
from grading.report.data import report_data
from grading.report.page import write_report
from grading.report.records import (
    REPORTS,
    course_files,
    load_changes,
    load_store,
    merge_run,
    now,
    report_folder,
    roster_and_other_edition,
    save_changes,
    save_store,
    student_record,
)


def write_class_report(course, assignment: str, run) -> tuple[Path, dict]:
    """Record the run's students, compare with the last grading, write the report and any combined one:
    (the report's page, what the run changed: changes.py's class_changes)."""
    store = load_store(course.root, assignment)
    graded_at = now()
    files = course_files(course, assignment)
    with course.gradebook() as gradebook:
        records = {
            result.student: student_record(course, assignment, result, gradebook, files, graded_at)
            for result in run.results
        }
        roster, other_edition = roster_and_other_edition(gradebook, assignment)
    changes = class_changes(store, records)
    refusals = [
        {"student_or_file": refusal.student_or_file, "reason": refusal.reason} for refusal in run.refusals
    ]
    store = merge_run(store, records, refusals, roster, other_edition)
    save_store(course.root, store)
    save_changes(course.root, assignment, changes)
    page = write_report(report_data(course, [store], changes), report_folder(course.root, assignment))
    for folder in sorted((course.root / REPORTS).glob("*+*")):
        if assignment in folder.name.split("+"):
            write_combined(course, folder.name.split("+"))
    return page, changes


def write_combined(course, assignments: list[str]) -> Path:
    """Write the report of several assignments together (two editions) in reports/<a>+<b>/, or of one
    again with the last run's changes; returns its page's path."""
    stores = [load_store(course.root, assignment) for assignment in assignments]
    changes = load_changes(course.root, assignments[0]) if len(assignments) == 1 else None
    folder = report_folder(course.root, "+".join(assignments))
    return write_report(report_data(course, stores, changes), folder)
