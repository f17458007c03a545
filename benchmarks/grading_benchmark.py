"""Benchmark: grading N copies of a correct submission, our command vs plain nbgrader.

    .venv/bin/python benchmarks/grading_benchmark.py [-n N] [--unsandboxed]

Each way grades the same N submissions (default 20) in a fresh copy of the
course, in the same run, and the script prints seconds per submission and
the ratios:

- plain autograde:       `nbgrader autograde initialization` (one batch, one
                          process, kernels sandboxed by nbgrader_config.py);
- plain, unsandboxed:     (with --unsandboxed) the same with
                          --SandboxKernelManager.enabled=False;
- plain, three steps:     autograde, generate_feedback and export, the work
                          our command does, with plain nbgrader commands;
- command, 1 worker:      `python -m grading.grade initialization --workers 1`
                          (checks, autograde, feedback, export, summary);
- command, N workers:     the same with its default, one worker per core.

It also times the submission's notebook alone, executed in one fresh kernel
with nothing else (best of 3): the work that every way repeats for each
submission. With C cores no way can take less than that divided by C per
submission, so the script prints that bound next to the ratios.

This measures; it asserts nothing.
"""

import argparse
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from examples import example_class  # noqa: E402
from examples.course_copy import copy_course  # noqa: E402
from examples.students import fill_in, write_submission  # noqa: E402
from grading.course import run_nbgrader  # noqa: E402

ASSIGNMENT = example_class.ASSIGNMENT


def fresh_course(folder, copies):
    """A course copy with the assignment generated and `copies` correct submissions."""
    root = copy_course(Path(folder))
    shutil.rmtree(root / "release")
    run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    for number in range(copies):
        write_submission(
            root,
            f"student-{number:03d}",
            ASSIGNMENT,
            example_class.NOTEBOOK + ".ipynb",
            example_class.CORRECT,
        )
    return root


def notebook_alone(root, repeats=3):
    """Best-of-`repeats` seconds to execute the correct submission in one kernel."""
    import nbformat
    from nbclient import NotebookClient

    release = root / "release" / ASSIGNMENT
    filled = fill_in(
        nbformat.read(release / (example_class.NOTEBOOK + ".ipynb"), as_version=4), example_class.CORRECT
    )
    times = []
    for _ in range(repeats):
        client = NotebookClient(
            copy.deepcopy(filled),
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(release)}},
        )
        times.append(timed(lambda: client.execute(stderr=subprocess.DEVNULL)))
    return min(times)


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def plain_autograde(*extra):
    def run(root):
        run_nbgrader(root, "autograde", ASSIGNMENT, "--force", *extra)

    return run


def plain_three_steps(root):
    run_nbgrader(root, "autograde", ASSIGNMENT, "--force")
    run_nbgrader(root, "generate_feedback", ASSIGNMENT, "--force")
    run_nbgrader(root, "export", "--to", "grades.csv")


def grading_command(*options):
    def run(root):
        subprocess.run(
            [sys.executable, "-m", "grading.grade", ASSIGNMENT, *options],
            cwd=root,
            check=True,
            capture_output=True,
            timeout=7200,
        )

    return run


def ways(unsandboxed):
    chosen = {"plain autograde": plain_autograde()}
    if unsandboxed:
        chosen["plain, unsandboxed"] = plain_autograde("--SandboxKernelManager.enabled=False")
    chosen["plain, three steps"] = plain_three_steps
    chosen["command, 1 worker"] = grading_command("--workers", "1")
    chosen[f"command, {os.cpu_count()} workers"] = grading_command()
    return chosen


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--copies", type=int, default=20, help="submissions to grade (default 20)")
    parser.add_argument(
        "--unsandboxed", action="store_true", help="also time plain autograde without the sandbox"
    )
    args = parser.parse_args()
    seconds = {}
    for name, way in ways(args.unsandboxed).items():
        with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as folder:
            root = fresh_course(folder, args.copies)
            seconds[name] = timed(lambda: way(root)) / args.copies
        print(f"{name:<22} {seconds[name]:6.2f} s per submission", flush=True)
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as folder:
        alone = notebook_alone(fresh_course(folder, 0))
    cores = os.cpu_count()
    print(f"{'notebook alone':<22} {alone:6.2f} s in one kernel (best of 3)")
    baseline = seconds["plain autograde"]
    print(f"\n{args.copies} submissions each. Ratios to plain autograde:")
    for name, value in seconds.items():
        print(f"  {name:<22} {value / baseline:5.2f}")
    default = f"command, {cores} workers"
    print(f"  {default} / plain three steps: {seconds[default] / seconds['plain, three steps']:.2f}")
    print(
        f"  bound: notebook alone / {cores} cores: {alone / cores / baseline:5.2f} "
        f"({alone / cores:.2f} s per submission)"
    )


if __name__ == "__main__":
    main()
