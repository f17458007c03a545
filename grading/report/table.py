"""The class report's per-student table, on the page and as students.csv: each exercise's points and
what decided them (outcomes.py), written answers given and waiting, the late penalty, the total.
"""

from __future__ import annotations

import csv
import io

from grading.csv_text import inert
from grading.report.outcomes import outcome


def student_rows(students, exercises: list[dict]) -> list[dict]:
    """[{"student", "edition", "exercises": {short name: {"points", "max",
    "cause", "why"}}, "written", "written_max", "waiting", "late_penalty",
    "total", "max"}] of report_data's students ((label, edition, record,
    StudentResult) each), by student."""
    rows = []
    for label, edition, _, result in sorted(students, key=lambda student: student[0]):
        rows.append(
            {
                "student": label,
                "edition": edition,
                "exercises": {exercise["name"]: outcome(result, exercise) for exercise in exercises},
                "written": result.written[0],
                "written_max": result.written[1],
                "waiting": result.pending,
                "late_penalty": round(result.late_penalty, 6),
                "total": result.total,
                "max": result.max_score,
            }
        )
    return rows


def students_csv(data: dict) -> str:
    """The per-student table as CSV: a row per student, each exercise's points and what decided them."""
    names = [exercise["name"] for exercise in data["exercises"]]
    combined = len(data["editions"]) > 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["student", *(["edition"] if combined else [])]
        + [column for name in names for column in (f"{name} points", f"{name} why")]
        + ["written given", "written waiting", "late penalty", "total", "max"]
    )
    for row in data["table"]:
        cells = [(row["exercises"][name]["points"], row["exercises"][name]["why"]) for name in names]
        writer.writerow(
            [inert(row["student"]), *([row["edition"]] if combined else [])]
            + [value for points, why in cells for value in (f"{points:g}", inert(why))]
            + [f"{row[key]:g}" for key in ("written", "waiting", "late_penalty", "total", "max")]
        )
    return out.getvalue()
