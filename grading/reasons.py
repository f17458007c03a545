"""Why a student's result carries a reason: the kinds (Why), one reason
(Reason), and the reasons read from an autograded notebook.

A wrong answer fails an assertion and needs no reason here: the student's
feedback shows the test's message. Every other error gets a short reason for
the instructor's summary: a timeout, a crash, a sandbox limit, an
unanswered exercise. The submission's own problems (a refused folder, an
unreadable file, restored cells) and grading's (nbgrader failed, a worker
died) are reasons too, with their own kinds, so that code decides by the
kind and only people read the text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from grading.errors import CELL_TIMEOUT, JUDGING_FAILED, KERNEL_DIED, NO_REFERENCE, NOT_RUN


class Why(enum.Enum):
    """The kind of a reason. The value is the name the --json summary uses."""

    # The submission, read before nbgrader sees it.
    REFUSED = "refused"  # a link or a special file in the folder: not handed to nbgrader
    MISSING_NOTEBOOK = "missing-notebook"
    UNREADABLE = "unreadable"  # not a valid notebook
    EXTRA_NOTEBOOK = "extra-notebook"  # not a notebook of the assignment: ignored
    RESTORED_CELL = "restored-cell"  # a grade cell deleted, duplicated, retyped or edited
    # An exercise, from the error its test cell (or the solution above it) shows.
    TIMED_OUT = "timed-out"
    NOT_RUN = "not-run"  # left out after earlier cells ran out of time
    KERNEL_STOPPED = "kernel-stopped"
    OUT_OF_MEMORY = "out-of-memory"
    EXITED = "exited"  # called sys.exit()
    COURSE_FAULT = "course-fault"  # the reference or the judging failed: not the student's doing
    NO_ANSWERS = "no-answers"  # the test cell handed in nothing to judge
    NOT_ANSWERED = "not-answered"
    SYNTAX_ERROR = "syntax-error"
    TOO_MANY_PROCESSES = "too-many-processes"
    WRITE_BLOCKED = "write-blocked"
    NETWORK_BLOCKED = "network-blocked"
    ERROR = "error"  # any other exception
    # Grading itself.
    NBGRADER_FAILED = "nbgrader-failed"
    DATABASE_LOCKED = "database-locked"  # another process held SQLite's write lock too long
    KERNEL_NOT_STARTED = "kernel-not-started"
    WORKER_DIED = "worker-died"
    GRADER_FAILED = "grader-failed"  # an exception in the grading code
    EARLIER_GRADE = "earlier-grade"  # not graded in this run: the gradebook's grade stands


@dataclass(frozen=True)
class Reason:
    """One reason in a student's result: its kind, the text the summary
    prints, and the exercise it concerns (None for the whole submission)."""

    why: Why
    text: str
    exercise: str | None = None

    def __str__(self) -> str:
        return f"{self.exercise}: {self.text}" if self.exercise else self.text

    def for_exercise(self, exercise: str) -> Reason:
        return Reason(self.why, self.text, exercise)

    def to_json(self) -> dict:
        return {"why": self.why.value, "exercise": self.exercise, "text": self.text}

    @classmethod
    def from_json(cls, data: dict) -> Reason:
        return cls(Why(data["why"]), data["text"], data.get("exercise"))


# Errors that mean "the answer is wrong", as opposed to "the code broke".
WRONG_ANSWER = {"AssertionError"}


def describe_error(ename: str, evalue: str, timeout: float) -> Reason | None:
    """The reason for an error output, or None for a wrong answer."""
    if ename in WRONG_ANSWER:
        return None
    if ename in (CELL_TIMEOUT, "KeyboardInterrupt"):
        if evalue.startswith("the cell ran over"):  # its budget (grading/plugins/execute.py)
            return Reason(Why.TIMED_OUT, f"timed out ({evalue})")
        return Reason(Why.TIMED_OUT, f"timed out (a cell ran over {timeout:g} s)")
    if ename == NOT_RUN:  # after too long in stuck cells (grading/plugins/execute.py)
        return Reason(Why.NOT_RUN, "not run: earlier cells ran out of time")
    if ename == KERNEL_DIED:
        if evalue.startswith("the kernel stopped"):
            return Reason(Why.KERNEL_STOPPED, "kernel stopped (os._exit, a crash or a sandbox limit)")
        return Reason(Why.KERNEL_STOPPED, "not run: the kernel had stopped in an earlier cell")
    if ename == "MemoryError":
        return Reason(Why.OUT_OF_MEMORY, "ran out of memory (sandbox limit)")
    if ename == "SystemExit":
        return Reason(Why.EXITED, "called sys.exit()")
    if ename in (NO_REFERENCE, JUDGING_FAILED):  # grading/plugins/execute.py: the course's fault
        return Reason(Why.COURSE_FAULT, f"not graded: {evalue[:80]}")
    if ename == "MissingAnswer":  # grading/plugins/verdicts.py
        return Reason(Why.NO_ANSWERS, "handed in no answers")
    if ename in ("NotImplementedError", "NotAnswered"):  # NotAnswered: utils/init_checks.py
        return Reason(Why.NOT_ANSWERED, "not answered")
    if ename in ("SyntaxError", "IndentationError", "TabError"):
        return Reason(Why.SYNTAX_ERROR, f"{ename}: {evalue}")
    if ename == "BlockingIOError" or "Resource temporarily unavailable" in evalue:
        return Reason(Why.TOO_MANY_PROCESSES, "started too many processes (sandbox limit)")
    if "Read-only file system" in evalue or "Permission denied" in evalue:
        return Reason(Why.WRITE_BLOCKED, "tried to write outside its folder (blocked)")
    if (
        ename in ("gaierror", "URLError", "ConnectionRefusedError", "ConnectionError")
        or "Network is unreachable" in evalue
        or "name resolution" in evalue
    ):
        return Reason(Why.NETWORK_BLOCKED, "tried to use the network (blocked)")
    return Reason(Why.ERROR, f"{ename}: {evalue[:80]}")


def first_error(cell) -> tuple[str, str] | None:
    """The cell's first error; a timeout before the KeyboardInterrupt that stopped it."""
    errors = [
        (output.ename, output.get("evalue", ""))
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    timeouts = [error for error in errors if error[0] == CELL_TIMEOUT]
    return (timeouts or errors or [None])[0]


def lost_point_reasons(notebook, lost_cells: list[str], timeout: float) -> list[tuple[str, Reason]]:
    """[(test cell, reason), ...] for the test cells in lost_cells that errored.

    A test cell's own error is the reason, except a NameError: then the
    function under test was never defined, and the reason is the error of the
    student's solution cell above it (a syntax error, say), if it has one.
    """
    reasons = []
    solution_errors = []  # errors of solution cells since the last test cell
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        grade = cell.metadata.get("nbgrader", {})
        error = first_error(cell)
        if grade.get("solution") and error:
            solution_errors.append(error)
        if not grade.get("grade"):
            continue
        if grade.get("grade_id") in lost_cells and error:
            if error[0] == "NameError" and solution_errors:
                error = solution_errors[0]
            reason = describe_error(*error, timeout)
            if reason:
                reasons.append((grade["grade_id"], reason))
        solution_errors = []
    return reasons
