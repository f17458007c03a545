"""nbgrader plugins, which nbgrader_config.py loads into every nbgrader
command of the course, plain `nbgrader autograde` too.

    execute.py           runs a submission: experiments left out, cell budgets, verdicts
    box.py               runs a notebook inside the sandbox; only one file comes out
    box_runner.py        the runner inside the sandbox: starts the kernel, runs the cells
    outbox.py            that one file, read with a byte cap and checked
    experiments.py       which cells are ungraded experiments (tagged in source/)
    budgets.py           how long each cell may run
    sandbox.py           bubblewrap, its limits and environment (also a Jupyter kernel provisioner)
    cgroups.py           a cgroup per kernel: its CPU, memory and processes
    kernel_startup.py    run first in each sandboxed kernel
    sanitize.py          repairs of edited, deleted or duplicated grade cells
    markup.py            markdown and raw cells made safe for formgrader: no tag, no harmful link
    verdicts.py          scores decided outside the kernel, from the answers it hands in
    answer_data.py       those answers decoded, and compared with the reference's
    feedback.py          feedback without hidden tests
    feedback_release.py  release_feedback to a mixed class: download students skipped, named
    late.py              the late policy, the penalty settled from the final score
    quiet_config.py      a trait that keeps nbconvert's configuration from warning
    download_names.py    zip_collect's collector: nbgrader's, Canvas's and Moodle's file names
    due_dates.py         the configured due dates (c.Grading.due_dates), written into the gradebook
    companions.py        generate_assignment hands out the companion notebooks
    answer_stubs.py      generate_assignment's answer stubs in the notebook's language
    lms.py               grade files (`nbgrader export`): grades.csv, Canvas, Moodle
"""
