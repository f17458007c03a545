"""Why an exercise lost its points, read from an autograded notebook.

A wrong answer fails an assertion and needs no reason here: the student's
feedback shows the test's message. Every other error gets a short reason for
the instructor's summary: a timeout, a crash, a sandbox limit, an
unanswered exercise.
"""

from __future__ import annotations

from grading.errors import CELL_TIMEOUT, JUDGING_FAILED, KERNEL_DIED, NO_REFERENCE, NOT_RUN

# Errors that mean "the answer is wrong", as opposed to "the code broke".
WRONG_ANSWER = {"AssertionError"}


def describe_error(ename: str, evalue: str, timeout: float) -> str | None:
    """A short reason for an error output, or None for a wrong answer."""
    if ename in WRONG_ANSWER:
        return None
    if ename in (CELL_TIMEOUT, "KeyboardInterrupt"):
        if evalue.startswith("the cell ran over"):  # its budget (grading/execute.py)
            return f"timed out ({evalue})"
        return f"timed out (a cell ran over {timeout:g} s)"
    if ename == NOT_RUN:  # after too long in stuck cells (grading/execute.py)
        return "not run: earlier cells ran out of time"
    if ename == KERNEL_DIED:
        return (
            "kernel stopped (os._exit, a crash or a sandbox limit)"
            if evalue.startswith("the kernel stopped")
            else "not run: the kernel had stopped in an earlier cell"
        )
    if ename == "MemoryError":
        return "ran out of memory (sandbox limit)"
    if ename == "SystemExit":
        return "called sys.exit()"
    if ename in (NO_REFERENCE, JUDGING_FAILED):  # grading/execute.py: the course's fault
        return f"not graded: {evalue[:80]}"
    if ename == "MissingAnswer":  # grading/verdicts.py
        return "handed in no answers"
    if ename in ("NotImplementedError", "NotAnswered"):  # NotAnswered: utils/init_checks.py
        return "not answered"
    if ename in ("SyntaxError", "IndentationError", "TabError"):
        return f"{ename}: {evalue}"
    if ename == "BlockingIOError" or "Resource temporarily unavailable" in evalue:
        return "started too many processes (sandbox limit)"
    if "Read-only file system" in evalue or "Permission denied" in evalue:
        return "tried to write outside its folder (blocked)"
    if (
        ename in ("gaierror", "URLError", "ConnectionRefusedError", "ConnectionError")
        or "Network is unreachable" in evalue
        or "name resolution" in evalue
    ):
        return "tried to use the network (blocked)"
    return f"{ename}: {evalue[:80]}"


def first_error(cell) -> tuple[str, str] | None:
    """The cell's first error; a timeout before the KeyboardInterrupt that stopped it."""
    errors = [
        (output.ename, output.get("evalue", ""))
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    timeouts = [error for error in errors if error[0] == CELL_TIMEOUT]
    return (timeouts or errors or [None])[0]


def lost_point_reasons(notebook, lost_cells: list[str], timeout: float) -> list:
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
