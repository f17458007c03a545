"""What grading again changed, and why, for each student whose grade changed (for regrade requests).

A change is an exercise's points, the points given by hand or still waiting, the late penalty or the
total. Its causes, as far as the records (records.py) tell: a new submission, another time of
submission or due date, hand grades, the instructor's notebook or checks, and each exercise's
verdict before and after.
"""

from __future__ import annotations

from grading.command.results import StudentResult, exercise_names
from grading.report.mistakes import title
from grading.report.times import shown

UNKNOWN = "at an unknown time"


def student_change(before: dict, after: dict) -> dict | None:
    """{"student", "before", "after", "changes", "why"} for one student's two records, or None when
    the grade did not change. "before" and "after" are grade_of's; "changes" lines such as "he: 0 -> 3
    of 3 (was: Fan-out instead of fan-in; now: correct)"; "why" the causes found, as lines."""
    old, new = StudentResult.from_json(before["result"]), StudentResult.from_json(after["result"])
    old_grade, new_grade = grade_of(old), grade_of(new)
    if old_grade == new_grade:
        return None
    changes = []
    for name, (score, maximum) in new_grade["exercises"].items():
        was = old_grade["exercises"].get(name, (None, maximum))[0]
        if was != score:
            changes.append(
                f"{name}: {_number(was)} -> {_number(score)} of {maximum:g} "
                f"(was: {verdict(old, name, was, maximum)}; now: {verdict(new, name, score, maximum)})"
            )
    for key, label in (("written", "given by hand"), ("pending", "waiting for hand grading")):
        if old_grade[key] != new_grade[key]:
            changes.append(f"{label}: {old_grade[key]:g} -> {new_grade[key]:g}")
    if old_grade["late_penalty"] != new_grade["late_penalty"]:
        changes.append(
            f"late penalty: {_penalty(old_grade['late_penalty'])} -> {_penalty(new_grade['late_penalty'])}"
        )
    changes.append(f"total: {old_grade['total']:g} -> {new_grade['total']:g} of {new.max_score:g}")
    return {
        "student": new.student,
        "before": old_grade,
        "after": new_grade,
        "changes": changes,
        "why": causes(before, after) or [UNEXPLAINED],
    }


UNEXPLAINED = (
    "the submission, its time, the due date, the hand grades and the course's notebook and checks "
    "are as they were: grading itself gave another result (a cell over its time budget on a busy "
    "machine, say): see the reasons"
)


def grade_of(result: StudentResult) -> dict:
    """What a grade is made of, as plain data that compares with ==."""
    names = exercise_names(list(result.points))
    return {
        "exercises": {
            name: (score, maximum) for name, (score, maximum) in zip(names, result.points.values())
        },
        "written": result.written[0],
        "pending": result.pending,
        "late_penalty": round(result.late_penalty, 6),
        "total": result.total,
    }


def verdict(result: StudentResult, exercise: str, score, maximum) -> str:
    """What decided an exercise's points: "correct" (full points), its mistake's name, or its reasons."""
    if score is None:
        return "not graded"
    if score >= maximum:
        return "correct"
    reasons = [reason.text for reason in result.reasons if reason.exercise == exercise]
    mistake = result.mistakes.get(exercise)
    named = ([title(mistake)] if mistake else []) + reasons
    return "; ".join(named) or "lost points"


def _penalty(points: float) -> str:
    return f"-{points:g}" if points else "0"


def _number(value) -> str:
    return "none" if value is None else f"{value:g}"


def causes(before: dict, after: dict) -> list[str]:
    """The differences between two records that can change a grade."""
    why = []
    if before.get("submission") != after.get("submission"):
        why.append(
            f"a new submission (handed in {shown(after.get('timestamp'), UNKNOWN)}; "
            f"the one graded before: {shown(before.get('timestamp'), UNKNOWN)})"
        )
    elif before.get("timestamp") != after.get("timestamp"):
        why.append(
            f"the time of submission changed: {shown(before.get('timestamp'), 'none')} -> "
            f"{shown(after.get('timestamp'), 'none')}"
        )
    if before.get("duedate") != after.get("duedate"):
        old_due, new_due = shown(before.get("duedate"), "none"), shown(after.get("duedate"), "none")
        moved = f"the due date changed: {old_due} -> {new_due}"
        if before.get("extension") != after.get("extension"):
            moved += f" (extension: {_days(before.get('extension'))} -> {_days(after.get('extension'))})"
        why.append(moved)
    old_hand, new_hand = before.get("hand_grades", {}), after.get("hand_grades", {})
    for cell in sorted(set(old_hand) | set(new_hand)):
        was, now = old_hand.get(cell), new_hand.get(cell)
        if was != now:
            why.append(f"hand grade of {cell}: {_given(was)} -> {_given(now)}")
    changed = changed_course_files(before.get("course", {}), after.get("course", {}))
    if changed:
        why.append(f"the course changed since: {', '.join(changed)} (a hidden test or a check fixed)")
    return why


def changed_course_files(old: dict, new: dict) -> list[str]:
    """The course files ({file: content hash}, records.course_files) whose content changed between
    two records, named as the newer names them; a file only moved (init_checks.py kept as
    utils/init_checks.py) is the same file."""
    old_hashes, new_hashes = set(old.values()), set(new.values())
    if old_hashes == new_hashes:
        return []
    added = {name for name, digest in new.items() if digest not in old_hashes}
    renamed = {name.rsplit("/", 1)[-1] for name in new}
    removed = {
        name
        for name, digest in old.items()
        if digest not in new_hashes and name.rsplit("/", 1)[-1] not in renamed
    }
    return sorted(added | removed)


def _days(seconds) -> str:
    return "none" if not seconds else f"{seconds / 86400:g} days"


def _given(score) -> str:
    return "waiting" if score is None else f"{score:g}"


def class_changes(store: dict, records: dict) -> dict:
    """What this run changed: {"since" (the store's last update, or None), "changed" (student_change
    of each), "unchanged" (how many graded again kept their grade), "new" (graded for the first time)}."""
    changed, unchanged, new = [], 0, []
    for student, record in sorted(records.items()):
        earlier = store["students"].get(student)
        if earlier is None:
            new.append(student)
            continue
        change = student_change(earlier, record)
        if change is None:
            unchanged += 1
        else:
            change["since"] = earlier["graded_at"]
            changed.append(change)
    return {"since": store.get("updated"), "changed": changed, "unchanged": unchanged, "new": new}


def changes_block(changes: dict, printable=str) -> str:
    """The changes as the command prints them ("" when no student was graded before)."""
    if changes["since"] is None or not (changes["changed"] or changes["unchanged"]):
        return ""
    if not changes["changed"]:
        graded_again = changes["unchanged"]
        return f"Changes since the last grading: none ({graded_again} graded again, every grade as it was)."
    graded_again = changes["unchanged"] + len(changes["changed"])
    changed = len(changes["changed"])
    lines = [
        f"Changes since the last grading: {changed} of the {graded_again} students "
        "graded again got a different result:"
    ]
    for change in changes["changed"]:
        lines.append(f"  {printable(change['student'])} (graded before at {shown(change['since'])}):")
        lines += [f"    {printable(line)}" for line in change["changes"]]
        lines += [f"    why: {printable(line)}" for line in change["why"]]
    return "\n".join(lines)
