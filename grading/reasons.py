"""Why a student's result carries a reason: the kinds (Why), one reason
(Reason), and the reasons read from an autograded notebook.

A wrong answer needs no reason: the feedback shows the test's message. Every
other error, and the submission's or grading's own problems, get a short
reason with a kind, which code decides by; only people read the text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from grading.errors import JUDGED, KERNEL_STOPPED, NOT_RUN, TIMED_OUT, marked


class Why(enum.Enum):
    """The kind of a reason. The value is the name the --json summary uses."""

    # The submission, read before nbgrader sees it.
    REFUSED = "refused"  # a link or a special file in the folder: not handed to nbgrader
    MISSING_NOTEBOOK = "missing-notebook"
    UNREADABLE = "unreadable"  # not a valid notebook
    EXTRA_NOTEBOOK = "extra-notebook"  # not a notebook of the assignment: ignored
    RESTORED_CELL = "restored-cell"  # a grade cell deleted, duplicated, retyped or edited
    IGNORED_CELL = "ignored-cell"  # grading metadata naming no cell of the notebook: an ordinary cell
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


# The longest text a reason keeps, whole in the JSON summary; the printed
# table shortens it (grading/command/reporting.py).
MAX_REASON_TEXT = 500


@dataclass(frozen=True)
class Reason:
    """One reason in a student's result: its kind, the text the summary
    prints (at most MAX_REASON_TEXT characters, whatever error it quotes),
    and the exercise it concerns (None for the whole submission)."""

    why: Why
    text: str
    exercise: str | None = None

    def __post_init__(self):
        if len(self.text) > MAX_REASON_TEXT:  # an error message may be as long as a student makes it
            object.__setattr__(self, "text", self.text[: MAX_REASON_TEXT - 3] + "...")

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


@dataclass(frozen=True)
class CellError:
    """A cell's error as the reasons read it: the error shown, and what the
    grader marked on the cell (grading/errors.py), which no kernel can fake."""

    ename: str
    evalue: str
    outcome: str | None = None  # TIMED_OUT, NOT_RUN, KERNEL_STOPPED or JUDGED
    verdict: str | None = None  # of a judged cell: wrong, no-answers, error
    note: str | None = None  # the grader's note in English, where it stopped or judged the cell


def describe_error(error: CellError) -> Reason | None:
    """The reason for a cell's error, or None for a wrong answer."""
    ename, evalue = error.ename, error.evalue
    # The student's notebook shows the grader's note in its own language; the
    # instructor's summary quotes the English one the grader marked.
    note = error.note or evalue
    if error.outcome == TIMED_OUT:
        return Reason(Why.TIMED_OUT, f"timed out ({note})")
    if error.outcome == NOT_RUN:
        return Reason(Why.NOT_RUN, note)
    if error.outcome == KERNEL_STOPPED:
        if note.startswith("the kernel stopped"):
            return Reason(Why.KERNEL_STOPPED, "kernel stopped (os._exit, a crash or a sandbox limit)")
        return Reason(Why.KERNEL_STOPPED, "not run: the kernel had stopped in an earlier cell")
    if error.verdict == "no-answers" and ename == "MissingAnswer":  # grading/plugins/verdicts.py
        return Reason(Why.NO_ANSWERS, "handed in no answers")
    if ename in WRONG_ANSWER:
        return None
    if ename == "MemoryError":
        return Reason(Why.OUT_OF_MEMORY, "ran out of memory (sandbox limit)")
    if ename == "SystemExit":
        return Reason(Why.EXITED, "called sys.exit()")
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
    return Reason(Why.ERROR, f"{ename}: {note}")


def first_error(cell) -> CellError | None:
    """The cell's error: the grader's own when it marked the cell as stopped
    (its last output), else the first one shown."""
    errors = [
        (str(output.get("ename", "")), str(output.get("evalue", "")))
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    if not errors:
        return None
    mark = marked(cell)
    outcome = mark.get("outcome")
    ename, evalue = errors[-1] if outcome in (TIMED_OUT, NOT_RUN, KERNEL_STOPPED) else errors[0]
    note = mark.get("note") if outcome in (TIMED_OUT, NOT_RUN, KERNEL_STOPPED, JUDGED) else None
    return CellError(ename, evalue, outcome, mark.get("verdict"), note if isinstance(note, str) else None)


def lost_point_reasons(notebook, lost_cells: list[str]) -> list[tuple[str, Reason]]:
    """[(test cell, reason), ...] for the test cells in lost_cells that errored.

    A NameError means the function under test was never defined: the reason is
    then the error of the solution cell above it, if it has one.
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
            if error.ename == "NameError" and solution_errors:
                error = solution_errors[0]
            reason = describe_error(error)
            if reason:
                reasons.append((grade["grade_id"], reason))
        solution_errors = []
    return reasons


def judged_mistakes(notebook) -> dict[str, str]:
    """{test cell's grade id: mistake id} of the test cells the grader judged
    wrong, from its marks (grading/plugins/verdicts.py's Verdict.mistake)."""
    mistakes = {}
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        mark = marked(cell)
        if grade_id and mark.get("outcome") == JUDGED and isinstance(mark.get("mistake"), str):
            mistakes[grade_id] = mark["mistake"]
    return mistakes
