"""Instructor-side grading tools (students never need this package).

plugins/   what nbgrader_config.py hands to nbgrader, for every nbgrader command of
           the course (plain `nbgrader autograde` too); nothing there imports the command.
command/   the steps of the grading command (its __init__.py lists them; beside them
           earlier_grade.py, worker_server.py and its frozen_imports.py).
grade.py   the command, `python -m grading.grade`.
report/    the class report written after each run, and what changed since the last;
           `python -m grading.report` joins the two editions' reports.

Beside them, what both use (and the course's scripts and tests): errors.py,
compat.py (nbgrader's and IPython's undocumented insides), reasons.py,
submissions.py, configuration.py, gradebook.py and atomic.py; and the
commands roster.py and extension.py. The modules import one another without
a cycle (tests/test_layout.py).
"""

import importlib.util
from pathlib import Path


def _check_the_helpers_are_beside_this_package() -> None:
    """The grader judges with the course's helpers, the top-level package utils:
    they must be the copy beside this package. A utils/ first on sys.path (the
    current folder, in a student's folder) would otherwise decide the scores."""
    spec = importlib.util.find_spec("utils")
    found = None
    if spec is not None and spec.submodule_search_locations:
        found = Path(next(iter(spec.submodule_search_locations))).resolve()
    expected = Path(__file__).resolve().parent.parent / "utils"
    if found != expected:
        raise ImportError(
            f"the grader imports the course's helpers from {expected}, but 'utils' is found at {found}: "
            "start it from the course root, not from an assignment's or a student's folder "
            "(nor any folder with a utils/ of its own)"
        )


_check_the_helpers_are_beside_this_package()
