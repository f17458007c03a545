"""The error of the grading package."""


class GradingError(Exception):
    """A problem that stops grading a class (no course here, no submissions,
    an assignment nbgrader cannot generate). Library functions raise it; the
    command line prints it and exits with status 1."""
