"""The error of the grading package, and the grader's marks on the cells of
an autograded notebook.

A cell's outputs may come from the student's kernel, which can print any
error name it likes (a student may raise `class NoReference(Exception)`).
So what the grader itself decided about a cell (it ran out of time, was not
run, lost its kernel, was judged, or could not be judged through the
course's fault) is written where no kernel can write: the cell's metadata,
under MARK_KEY, after every such key the submission carried has been
removed (grading/plugins/execute.py). grading/reasons.py reads the marks;
the error names below are only what the student sees.
"""


class GradingError(Exception):
    """A problem that stops grading a class (no course here, no submissions,
    an assignment nbgrader cannot generate). Library functions raise it; the
    command line prints it and exits with status 1."""


class CourseFault(Exception):
    """Grading a submission failed through the course's fault (the reference
    solution or the judge): the student's grade is left as it was, for a
    rerun, instead of being a 0."""


# How a CourseFault begins when the kernel did not start in the sandbox (execute.py): no student
# code ran yet, so the grading command tries once more (pipeline.py).
KERNEL_DID_NOT_START = "the kernel did not start in the sandbox"

# The cell metadata key of the grader's marks: {"outcome": ..., "verdict": ...}.
MARK_KEY = "grading"

# What the grader decided about a cell (the mark's "outcome").
TIMED_OUT = "timed-out"  # the cell ran over its budget
NOT_RUN = "not-run"  # left out: earlier cells ran out of time, or the notebook's budget was spent
KERNEL_STOPPED = "kernel-stopped"  # the kernel stopped in this cell or before it
JUDGED = "judged"  # a graded test cell, whose outputs are the grader's verdict
SKIPPED = "skipped"  # an ungraded experiment left out, with the grader's note

# Error names shown in the student's notebook for those outcomes.
CELL_TIMEOUT = "CellTimeoutError"
KERNEL_DIED = "KernelDied"
NOT_RUN_ERROR = "NotRun"


def mark(cell, outcome: str, **details) -> None:
    """Write the grader's mark on cell."""
    cell.metadata[MARK_KEY] = {"outcome": outcome, **details}


def marked(cell) -> dict:
    """The grader's mark on cell ({} if none)."""
    value = cell.get("metadata", {}).get(MARK_KEY)
    return value if isinstance(value, dict) else {}


def strip_marks(notebook) -> None:
    """Remove every mark a submission carried: only the grader makes them."""
    for cell in notebook.cells:
        cell.get("metadata", {}).pop(MARK_KEY, None)
