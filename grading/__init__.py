"""Instructor-side grading tools (students never need this package).

Two kinds of module live here.

nbgrader plugins, which nbgrader_config.py loads into every autograde, also
plain `nbgrader autograde`:
    execute.py         runs a submission: experiments left out, cell budgets
    experiments.py     which cells are ungraded experiments (tagged in source/)
    budgets.py         how long each cell may run
    sandbox.py         the kernel in bubblewrap, its limits and environment
    cgroups.py         a cgroup per kernel: its CPU, memory and processes
    kernel_startup.py  run first in each sandboxed kernel
    sanitize.py        repairs of edited, deleted or duplicated grade cells
    verdicts.py        scores decided outside the kernel, from the answers it hands in
    feedback.py        feedback without hidden tests
    late.py            the late policy, and the penalty settled from the final score
                       (also by feedback and the exports)
    quiet_config.py    a trait that keeps nbconvert's configuration from warning
    download_names.py  zip_collect's collector: nbgrader's, Canvas's and Moodle's
                       file names, user ids looked up in the roster
    due_dates.py       the configured due dates (c.Grading.due_dates), which
                       generate_assignment writes into the gradebook
    companions.py      generate_assignment hands out the companion notebooks
    answer_stubs.py    generate_assignment's answer stubs in the notebook's language

The grading command, `python -m grading.grade`, whose modules import one
another without a cycle (tests/test_layout.py checks it):
    grade.py           orders the steps; the command line
    course.py          the course root: configuration, folders, gradebook, exports
    results.py         what grading gave: StudentResult, ClassGrading (--json)
    lms.py             grade files (export plugins): grades.csv, Canvas, Moodle
    feedback_writer.py feedback one student at a time, one HTML exporter kept
    intake.py          collecting submissions (folders, zips), refusing links,
                       special files, nested archives and invalid student ids
    pipeline.py        one student: pre-check, autograde, scores, reasons, feedback
    parallel.py        the same on a Dask cluster
    reporting.py       progress lines and the summary
    submissions.py     the checks of a submitted folder and notebook
    reasons.py         why a result carries a reason: its kind (Why) and text
    errors.py          GradingError, the package's error, and the error names
                       the grader writes into cells

Shared by both, and by the course's scripts and tests:
    configuration.py   nbgrader_config.py as read: the whole, the marker lines
    commands.py        nbgrader's own commands, run in a course root
    gradebook.py       the gradebook opened under the course's id; code-cell scores
"""
