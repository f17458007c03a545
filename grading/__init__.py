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
