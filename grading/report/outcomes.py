"""What decided each student's points for each exercise, for the class report (why a 0 was a 0).

Lost points have one cause, the first that applies: refused or not graded, not answered, an error or
a stop (time-outs included), a diagnosed mistake (mistakes.py; "hidden-tests" and "unclassified"
included), else no reason recorded.
"""

from __future__ import annotations

from grading.reasons import Why
from grading.report.mistakes import NOT_MISTAKES, title

# Which list of the report's "attention" part each kind of reason puts a student on.
ATTENTION = {
    "refused": {Why.REFUSED, Why.UNREADABLE, Why.MISSING_NOTEBOOK},
    "not_graded": {
        Why.COURSE_FAULT,
        Why.NBGRADER_FAILED,
        Why.DATABASE_LOCKED,
        Why.KERNEL_NOT_STARTED,
        Why.WORKER_DIED,
        Why.GRADER_FAILED,
        Why.EARLIER_GRADE,
    },
    "timed_out": {Why.TIMED_OUT, Why.NOT_RUN},
    "stopped": {
        Why.KERNEL_STOPPED,
        Why.OUT_OF_MEMORY,
        Why.EXITED,
        Why.TOO_MANY_PROCESSES,
        Why.WRITE_BLOCKED,
        Why.NETWORK_BLOCKED,
        Why.SYNTAX_ERROR,
        Why.ERROR,
        Why.NO_ANSWERS,
    },
    "notebook_changed": {Why.RESTORED_CELL, Why.IGNORED_CELL, Why.EXTRA_NOTEBOOK},
}
ERROR_KINDS = ATTENTION["timed_out"] | ATTENTION["stopped"]

# Causes of lost points, named and ordered as the page and figure show them (outcome() checks another order).
CAUSES = {
    "mistake": "diagnosed mistake",
    "error": "error or stopped",
    "not_answered": "not answered",
    "not_graded": "refused or not graded",
    "other": "no reason recorded",
}


def outcome(result, exercise: dict) -> dict:
    """{"points", "max", "cause" (a key of CAUSES, None at full points), "why" (what the instructor
    reads)} of one exercise of the report's data ({"cell", "name", "max"}) in a StudentResult."""
    maximum = exercise["max"]
    points = result.points.get(exercise["cell"], (0.0, maximum))[0]
    mistake = result.mistakes.get(exercise["name"])
    reasons = [reason for reason in result.reasons if reason.exercise == exercise["name"]]
    if not result.graded:
        whole = [reason.text for reason in result.reasons if reason.exercise is None]
        cause, why = "not_graded", "; ".join(whole) or "not graded"
    elif points >= maximum:
        cause, why = None, "correct"
    elif mistake == "not-answered" or any(reason.why is Why.NOT_ANSWERED for reason in reasons):
        cause, why = "not_answered", "not answered"
    elif mistake in NOT_MISTAKES or any(reason.why in ERROR_KINDS for reason in reasons):
        errors = [reason.text for reason in reasons if reason.why in ERROR_KINDS]
        cause, why = "error", "; ".join(errors) or title(mistake)
    elif mistake:
        cause, why = "mistake", title(mistake)
    else:
        texts = [reason.text for reason in reasons]
        cause, why = "other", "; ".join(texts) or "lost points, no reason recorded"
    return {"points": points, "max": maximum, "cause": cause, "why": why}


def zero_causes(results, exercise: dict) -> dict[str, int]:
    """{cause: students} with 0 points for the exercise, every cause of CAUSES counted (0 where none)."""
    counts = dict.fromkeys(CAUSES, 0)
    for result in results:
        decided = outcome(result, exercise)
        if decided["points"] == 0 and decided["cause"]:
            counts[decided["cause"]] += 1
    return counts
