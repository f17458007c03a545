"""One student's submission through the grading pipeline (grading/command/pipeline.py)."""

from grading.command.pipeline import nbgrader_error


def test_a_failed_nbgrader_step_is_reported_by_its_cause():
    """nbgrader's exception says only "see the above traceback": the reason
    names the exception in nbgrader's log instead."""
    log = (
        "[INFO] Converting notebook Initialization.ipynb\n"
        "[ERROR] Traceback (most recent call last):\n"
        '  File "base.py", line 3, in convert\n'
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked\n"
        "[ERROR] Please see the the above traceback for details on the specific errors on the above failures."
    )
    error = "Traceback ...\nnbgrader.converters.base.NbGraderException: Please see the the above traceback"
    cause = "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked"
    assert nbgrader_error({"success": False, "log": log, "error": error}) == cause
    assert nbgrader_error({"success": False, "log": "[ERROR] ValueError: bad cell", "error": error}) == (
        "ValueError: bad cell"
    )
    assert nbgrader_error({"success": False, "error": error}) == error.splitlines()[-1]
