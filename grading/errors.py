"""The error of the grading package, and the names of the errors the grader
writes into an autograded notebook's cells (grading/plugins/execute.py writes them,
grading/reasons.py explains them in the summary)."""


class GradingError(Exception):
    """A problem that stops grading a class (no course here, no submissions,
    an assignment nbgrader cannot generate). Library functions raise it; the
    command line prints it and exits with status 1."""


# Error names (an error output's ename) that the grader, not the kernel, writes.
CELL_TIMEOUT = "CellTimeoutError"  # a cell ran over its budget
KERNEL_DIED = "KernelDied"  # the kernel stopped; later cells are not run
NOT_RUN = "NotRun"  # left out after too long in stuck cells
NO_REFERENCE = "NoReference"  # the instructor's solution hands in no answers
JUDGING_FAILED = "GradingError"  # the grader could not judge a cell
EXECUTOR_ERRORS = (CELL_TIMEOUT, KERNEL_DIED, NOT_RUN)
