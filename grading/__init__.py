"""Instructor-side grading tools (students never need this package).

The folders show who loads what:

plugins/   what nbgrader_config.py hands to nbgrader, loaded by every
           nbgrader command of the course (plain `nbgrader autograde` too):
           the execution inside the sandbox, the repairs, the verdicts, feedback,
           the late policy, due dates, companions, answer stubs, the LMS
           download names and the grade exporters. Nothing here imports
           the command.
command/   the steps of the grading command: the course root, collecting,
           one student's grading, several at once (worker processes forked
           from one server, or Dask), the results and what is printed.
grade.py   the command itself, `python -m grading.grade`: it orders the
           steps and turns a GradingError into an exit status.
report/    the class report the command writes after each run, and what
           changed since the last grading and why; `python -m
           grading.report` joins the two editions' reports.

Beside them, what both use (and the course's scripts and tests):
    errors.py          GradingError, CourseFault, and the grader's marks on cells
    compat.py          what is taken from nbgrader and IPython beyond their
                       documented interfaces, for the versions it was checked against
    reasons.py         why a result carries a reason: its kind (Why) and text
    submissions.py     the checks of a submitted folder and notebook
    configuration.py   nbgrader_config.py as read: the whole, the marker lines
    gradebook.py       the gradebook created (in a child process) and opened under
                       the course's id; code-cell scores
    atomic.py          a file written in one rename, never seen half written
    roster.py          `python -m grading.roster`: a roster from Canvas's gradebook export
    extension.py       `python -m grading.extension`: more time for one student

The modules import one another without a cycle (tests/test_layout.py).
"""

import importlib.util
from pathlib import Path


def _check_the_helpers_are_beside_this_package() -> None:
    """The grader judges with the course's helpers, the top-level package
    utils (the visible checks, the replay of hidden calls): they must be the
    copy beside this package, the course root's or the installed one. A
    folder named utils/ that comes first on sys.path (the current folder,
    when the command is started in a student's folder) would otherwise decide
    the scores."""
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
