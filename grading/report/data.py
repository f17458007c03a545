"""The class report as data, from the records of one assignment or both editions of one (records.py),
written as report.json, mistakes.csv and students.csv beside the page (page.py).

report_data() returns {
  "title", "editions" (assignments), "generated", "graded_at" (as stored; shown as times.py does),
  "students" (how many have a record), "counts" (counts.py), "headline" (the page's first line),
  "exercises": [{"cell" (the test cell's grade id), "name" (its short name: exercise_names),
                 "function" (the solution cell's grade id), "max", "section",
                 "scores" ([[score, students], ...]), "by_edition" ({edition: scores}), "mean",
                 "full", "zero", "zero_causes" ({cause: students} of the zeros: outcomes.py)}],
  "causes": {cause: its name} (outcomes.CAUSES),
  "totals": {"max", "values" (every total, sorted: no names), "mean", "median",
             "waiting" ({"points", "students"} still waiting for hand grading, counted as 0)},
  "mistakes": [{"id", "title", "exercise", "section", "count", "students", "by_edition"}], most first,
  "attention": {"no_submission", "other_edition", "nothing_answered", "not_answered", "refused",
                "not_graded", "waiting", "timed_out", "stopped", "notebook_changed", "late"},
  "identical": {"groups": [{"exercise", "function", "students", "code", "lines",
                            "points" ([lowest, highest] of its students), "max"}],
                "submissions": [{"students", "totals" ([lowest, highest]), "max"}] (byte-identical),
                "left_out": {exercise: {"forced", "common"}}, "common_share", "common_minimum"},
  "table": table.py's student_rows, "changes": the last run's (changes.py), or None,
}
In a combined report, a student of an edition other than the first is named "id (edition)".
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict

import nbformat

from grading.command.results import StudentResult, exercise_names
from grading.csv_text import inert
from grading.report.counts import class_counts, headline
from grading.report.mistakes import NOT_MISTAKES, exercise_sections, title
from grading.report.outcomes import ATTENTION, CAUSES, zero_causes
from grading.report.records import now, solution_code
from grading.report.similarity import COMMON_MINIMUM, COMMON_SHARE, identical_groups, identical_submissions
from grading.report.table import student_rows
from grading.report.times import shown


def report_data(course, stores: list[dict], changes: dict | None = None) -> dict:
    """The report of the stores' assignments (one, or the editions of one) together; course
    (grading/command/course.py's Course) names their notebooks' folders."""
    editions = [store["assignment"] for store in stores]
    first = editions[0]
    students = []  # (label, edition, record, StudentResult)
    for store in stores:
        for student, record in store["students"].items():
            label = student if store["assignment"] == first else f"{student} ({store['assignment']})"
            students.append((label, store["assignment"], record, StudentResult.from_json(record["result"])))
    sections = _sections(course, editions)
    exercises = _exercises(students, editions, sections)
    counts = class_counts(students, stores)
    return {
        "title": " + ".join(editions),
        "editions": editions,
        "generated": now(),
        # The latest, whatever form each record wrote it in (the page shows it so: times.py).
        "graded_at": max((store.get("updated") or "" for store in stores), key=_sortable, default="") or None,
        "students": len(students),
        "counts": counts,
        "headline": headline(counts),
        "exercises": exercises,
        "causes": CAUSES,
        "totals": _totals(students),
        "mistakes": _mistakes(students, editions, exercises),
        "attention": _attention(students, stores),
        "identical": _identical(course, students, editions, exercises),
        "table": student_rows(students, exercises),
        "changes": changes,
    }


def _sortable(time: str) -> str:
    return shown(time, "")


def _sections(course, editions: list[str]) -> dict[str, str]:
    """{test cell: its section, the editions' headings joined by " / " where they differ}."""
    headings = defaultdict(list)
    for edition in editions:
        for path in sorted(course.folder("source", ".", edition).glob("*.ipynb")):
            for cell, heading in exercise_sections(path).items():
                if heading not in headings[cell]:
                    headings[cell].append(heading)
    return {cell: " / ".join(names) for cell, names in headings.items()}


def _exercises(students, editions, sections) -> list[dict]:
    results = [result for _, _, _, result in students if result.points]
    if not results:
        return []
    cells = list(results[0].points)
    exercises = []
    for cell, name in zip(cells, exercise_names(cells)):
        maximum = results[0].points[cell][1]
        scores, by_edition = defaultdict(int), {edition: defaultdict(int) for edition in editions}
        for _, edition, _, result in students:
            score = result.points.get(cell, (0.0, maximum))[0]
            scores[score] += 1
            by_edition[edition][score] += 1
        values = [score for score, count in scores.items() for _ in range(count)]
        exercises.append(
            {
                "cell": cell,
                "name": name,
                "function": cell.removeprefix("test_"),
                "max": maximum,
                "section": sections.get(cell, ""),
                "scores": sorted(map(list, scores.items())),  # pairs: JSON keeps no number as a key
                "by_edition": {
                    edition: sorted(map(list, counts.items())) for edition, counts in by_edition.items()
                },
                "mean": round(statistics.fmean(values), 3),
                "full": scores.get(maximum, 0),
                "zero": scores.get(0.0, 0),
            }
        )
        exercises[-1]["zero_causes"] = zero_causes([result for *_, result in students], exercises[-1])
    return exercises


def _totals(students) -> dict:
    values = sorted(result.total for _, _, _, result in students)
    maximum = max((result.max_score for _, _, _, result in students), default=0.0)
    waiting = [result.pending for _, _, _, result in students if result.pending]
    return {
        "max": maximum,
        "values": values,
        "waiting": {"points": sum(waiting), "students": len(waiting)},
        "mean": round(statistics.fmean(values), 3) if values else None,
        "median": statistics.median(values) if values else None,
    }


def _mistakes(students, editions, exercises) -> list[dict]:
    """One row per (mistake, exercise), most students first."""
    names = {exercise["name"]: exercise for exercise in exercises}
    rows = {}
    for label, edition, _, result in students:
        for exercise, mistake in result.mistakes.items():
            if mistake in NOT_MISTAKES:
                continue
            row = rows.setdefault(
                (mistake, exercise),
                {
                    "id": mistake,
                    "title": title(mistake),
                    "exercise": exercise,
                    "section": names.get(exercise, {}).get("section", ""),
                    "count": 0,
                    "students": [],
                    "by_edition": dict.fromkeys(editions, 0),
                },
            )
            row["count"] += 1
            row["students"].append(label)
            row["by_edition"][edition] += 1
    for row in rows.values():
        row["students"].sort()
    return sorted(rows.values(), key=lambda row: (-row["count"], row["title"], row["exercise"]))


def _attention(students, stores) -> dict:
    lists = {name: [] for name in ATTENTION}
    lists.update(nothing_answered=[], not_answered=[], waiting=[], late=[])
    for label, _, _, result in students:
        for name, kinds in ATTENTION.items():
            for reason in result.reasons:
                if reason.why in kinds:
                    lists[name].append({"student": label, "exercise": reason.exercise, "reason": reason.text})
        unanswered = sorted(
            exercise for exercise, mistake in result.mistakes.items() if mistake == "not-answered"
        )
        if unanswered and len(unanswered) == len(result.points):
            lists["nothing_answered"].append(label)
        elif unanswered:
            lists["not_answered"].append({"student": label, "exercises": unanswered})
        if result.pending:
            lists["waiting"].append({"student": label, "points": result.pending})
        if result.late_penalty:
            lists["late"].append({"student": label, "penalty": result.late_penalty})
    # Refused at intake: files and folders that named no student to grade.
    for store in stores:
        suffix = "" if store is stores[0] else f" ({store['assignment']})"
        lists["refused"] += [
            {"student": refusal["student_or_file"] + suffix, "exercise": None, "reason": refusal["reason"]}
            for refusal in store.get("refusals", [])
        ]
    handed_in = {student for store in stores for student in store["students"]}
    roster = {student for store in stores for student in store.get("roster", [])}
    other = {student for store in stores for student in store.get("other_edition", [])} - handed_in
    if len(stores) == 1:
        lists["other_edition"] = sorted(other)
    else:
        lists["other_edition"] = []  # both editions are here
    lists["no_submission"] = sorted(roster - handed_in - other)
    return lists


def _identical(course, students, editions, exercises) -> dict:
    """Identical answers (similarity.py), exercises by short name, with the points each group scored."""
    code = {label: record.get("code", {}) for label, _, record, _ in students}
    scores = {
        label: {
            exercise["function"]: result.points.get(exercise["cell"], (0.0, exercise["max"]))
            for exercise in exercises
        }
        for label, _, _, result in students
    }
    forced = defaultdict(list)
    for edition in editions:
        for folder in ("release", "source"):
            for path in sorted(course.folder(folder, ".", edition).glob("*.ipynb")):
                for function, text in solution_code(nbformat.read(path, as_version=4)).items():
                    forced[function].append(text)
    names = {exercise["function"]: exercise["name"] for exercise in exercises}
    groups, left_out = identical_groups(code, scores, forced)
    for group in groups:
        group["exercise"] = names.get(group["function"], group["function"])
    results = {label: result for label, _, _, result in students}
    answered_nothing = {
        label
        for label, result in results.items()
        if result.mistakes
        and set(result.mistakes.values()) == {"not-answered"}
        and len(result.mistakes) == len(result.points)
    }
    hashes = {label: record.get("submission") for label, _, record, _ in students}
    submissions = [
        {
            "students": group,
            "totals": [min(results[s].total for s in group), max(results[s].total for s in group)],
            "max": max(results[s].max_score for s in group),
        }
        for group in identical_submissions(hashes, answered_nothing)
    ]
    return {
        "groups": groups,
        "submissions": submissions,
        "left_out": {names.get(function, function): counts for function, counts in left_out.items()},
        "common_share": COMMON_SHARE,
        "common_minimum": COMMON_MINIMUM,
    }


# ------------------------------------------------------------------ files


def mistakes_csv(data: dict) -> str:
    """The mistakes table as CSV: a row per mistake and exercise, the students separated by "; "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["assignment", "mistake", "title", "exercise", "section", "students", "who"])
    for row in data["mistakes"]:
        writer.writerow(
            [
                data["title"],
                row["id"],
                row["title"],
                row["exercise"],
                row["section"],
                row["count"],
                inert("; ".join(row["students"])),
            ]
        )
    return out.getvalue()
