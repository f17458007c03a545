"""What the class report keeps of each graded student, between runs.

Each student graded gets a record in reports/<assignment>/students.json; the others keep theirs, so
grading one student (--student) still gives the whole class's report, and the next run compares with
these (changes.py). Grades and students' code: personal data, like the gradebook (.gitignore).

A record: {"student", "graded_at" (the run's time, UTC), "result" (the StudentResult's JSON),
"timestamp" and "duedate" (the submission's, extension included; None if none), "extension" (seconds,
or None), "hand_grades" ({grade id: the score given by hand; for a written answer not graded by hand,
None while it waits, or nbgrader's score of an unchanged one}), "submission" (a hash of the notebooks
handed in), "course" ({file: hash} of the instructor's notebooks and checks), "code" ({graded
function: its normalised code, similarity.py})}.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path

import nbformat
from nbgrader.api import MissingEntry

from grading.atomic import write_json
from grading.report.similarity import normalised
from grading.submissions import other_edition

REPORTS = "reports"  # the folder of the class reports, in the course root
STORE = "students.json"
CHANGES = "changes.json"  # what the last run changed (grading/report/changes.py)
HISTORY = "changes-history.jsonl"  # and every run before it, a line each


def report_folder(root: Path, name: str) -> Path:
    """reports/<name>/ in the course root (name: an assignment, or a combined report's joined by "+")."""
    return Path(root) / REPORTS / name


def now() -> str:
    """The time now, as the records and the report write it: "2026-12-05 10:30:00 UTC"."""
    return f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


# ------------------------------------------------------------------ the store


def load_store(root: Path, assignment: str) -> dict:
    """The assignment's records: {"assignment", "updated", "students": {student: record}, "refusals":
    [{"student_or_file", "reason"}], "roster": [students], "other_edition": [students]}; empty at first."""
    path = report_folder(root, assignment) / STORE
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"assignment": assignment, "updated": None, "students": {}, "refusals": [], "roster": []}


def save_store(root: Path, store: dict) -> None:
    """Write the store, under another name first: never seen half written."""
    folder = report_folder(root, store["assignment"])
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / STORE, store)


def save_changes(root: Path, assignment: str, changes: dict) -> None:
    """Write the run's changes as the last ones, and add them to the history."""
    folder = report_folder(root, assignment)
    record = {"at": now(), **changes}
    write_json(folder / CHANGES, record)
    with open(folder / HISTORY, "a", encoding="utf-8") as history:
        history.write(json.dumps(record, ensure_ascii=False) + "\n")


def load_changes(root: Path, assignment: str) -> dict | None:
    path = report_folder(root, assignment) / CHANGES
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def merge_run(store: dict, records: dict, refusals: list, roster: list, in_other_edition: list) -> dict:
    """The store with this run's records (replacing those students'), its
    refusals (replacing those of the same student or file; a student graded
    now is no longer refused) and the gradebook's roster as it is now."""
    students = {**store["students"], **records}
    kept = {
        refusal["student_or_file"]: refusal
        for refusal in store.get("refusals", [])
        if refusal["student_or_file"] not in records
    }
    kept.update({refusal["student_or_file"]: refusal for refusal in refusals})
    return {
        "assignment": store["assignment"],
        "updated": now(),
        "students": dict(sorted(students.items())),
        "refusals": sorted(kept.values(), key=lambda refusal: refusal["student_or_file"]),
        "roster": sorted(roster),
        "other_edition": sorted(in_other_edition),
    }


# ------------------------------------------------------------- one student


def student_record(course, assignment: str, result, gradebook, course_files: dict, graded_at: str) -> dict:
    """The record of one student just graded (see the module's docstring)."""
    record = {
        "student": result.student,
        "graded_at": graded_at,
        "result": result.to_json(),
        "timestamp": None,
        "duedate": None,
        "extension": None,
        "hand_grades": {},
        "submission": submission_hash(course.folder("submitted", result.student, assignment)),
        "course": course_files,
        "code": graded_code(course.folder("autograded", result.student, assignment)),
    }
    try:
        submission = gradebook.find_submission(assignment, result.student)
    except MissingEntry:
        return record  # never autograded: an unreadable or refused notebook
    record["timestamp"] = _time(submission.timestamp)
    record["duedate"] = _time(submission.duedate)
    record["extension"] = submission.extension.total_seconds() if submission.extension else None
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.manual_score is not None:
                record["hand_grades"][grade.name] = grade.manual_score
            elif grade.cell.cell_type != "code":
                # Waiting (None), or nbgrader's score: an answer left as released gets 0 without a look.
                record["hand_grades"][grade.name] = None if grade.needs_manual_grade else grade.auto_score
    return record


def _time(value) -> str | None:
    return None if value is None else f"{value:%Y-%m-%d %H:%M:%S} UTC"


HASH_CHUNK = 2**20


def submission_hash(folder: Path) -> str | None:
    """A short hash of the notebooks in a submission's folder (None if none): a new one has another."""
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.ipynb")):
        if path.is_file() and not path.is_symlink():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            # In chunks: a file refused for its size is still hashed, never held whole.
            with open(path, "rb") as file:
                while chunk := file.read(HASH_CHUNK):
                    digest.update(chunk)
    return digest.hexdigest()[:16]


def graded_code(folder: Path) -> dict[str, str]:
    """{solution cell's grade id: normalised code} of a student's autograded notebooks ({} if none)."""
    code = {}
    for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
        if path.is_symlink():
            continue
        code.update(solution_code(nbformat.read(path, as_version=4)))
    return code


def solution_code(notebook) -> dict[str, str]:
    """{grade id: normalised code} of a notebook's code solution cells."""
    return {
        cell.metadata["nbgrader"]["grade_id"]: normalised(cell.source)
        for cell in notebook.cells
        if cell.cell_type == "code"
        and cell.metadata.get("nbgrader", {}).get("solution")
        and "grade_id" in cell.metadata["nbgrader"]
    }


def course_files(course, assignment: str) -> dict[str, str]:
    """{file: short hash} of what a grade comes from besides the submission: the assignment's
    instructor notebooks and its visible checks' modules (utils/init_checks.py), by path from the root."""
    files = sorted(course.folder("source", ".", assignment).glob("*.ipynb"))
    for module in course.config.SandboxedExecute.check_modules.get(assignment, []):
        files.append(course.root / (module.replace(".", "/") + ".py"))
    # Named relative to the root (a source folder configured elsewhere starts with "../").
    return {
        Path(os.path.relpath(path, course.root)).as_posix(): short_hash(path.read_bytes())
        for path in files
        if path.is_file()
    }


def short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def roster_and_other_edition(gradebook, assignment: str) -> tuple[list, list]:
    """(every student in the gradebook, those who handed in the assignment's
    other edition: initialization_zh for initialization and back)."""
    roster = [student.id for student in gradebook.students]
    try:
        submissions = gradebook.assignment_submissions(other_edition(assignment))
        others = [submission.student.id for submission in submissions]
    except MissingEntry:
        others = []
    return roster, others
