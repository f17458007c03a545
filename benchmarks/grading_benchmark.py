"""Benchmark: grading N copies of a correct submission, our command vs plain nbgrader.

    .venv/bin/python benchmarks/grading_benchmark.py [-n N]

Each way grades the same N submissions in a fresh copy of the course, in
the same run, and the script prints seconds per submission and the ratios:

- plain autograde:      `nbgrader autograde initialization` (one batch, one
                         process, kernels sandboxed by nbgrader_config.py);
- plain, unsandboxed:    the same with --SandboxKernelManager.enabled=False,
                         the cost of nbgrader itself;
- plain, three steps:    autograde, generate_feedback and export, the work
                         our command does, with plain nbgrader commands;
- grading command:       `python -m grading.grade initialization` (per
                         student checks, autograde, feedback, export, summary).

This measures; it asserts nothing.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import copy_course  # noqa: E402
from fixtures import example_class  # noqa: E402
from grading.course import run_nbgrader  # noqa: E402
from grading.submissions import write_submission  # noqa: E402

ASSIGNMENT = example_class.ASSIGNMENT


def fresh_course(folder, copies):
    """A course copy with the assignment generated and `copies` correct submissions."""
    root = copy_course(Path(folder))
    shutil.rmtree(root / "release")
    run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    for number in range(copies):
        write_submission(root, f"student-{number:03d}", ASSIGNMENT,
                         example_class.NOTEBOOK + ".ipynb", example_class.CORRECT)
    return root


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


def grading_command(root):
    subprocess.run([sys.executable, "-m", "grading.grade", ASSIGNMENT],
                   cwd=root, check=True, capture_output=True, timeout=7200)


WAYS = {
    "plain autograde": plain_autograde(),
    "plain, unsandboxed": plain_autograde("--SandboxKernelManager.enabled=False"),
    "plain, three steps": plain_three_steps,
    "grading command": grading_command,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--copies", type=int, default=8,
                        help="submissions to grade (default 8)")
    args = parser.parse_args()
    seconds = {}
    for name, way in WAYS.items():
        with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as folder:
            root = fresh_course(folder, args.copies)
            seconds[name] = timed(lambda: way(root)) / args.copies
        print(f"{name:<22} {seconds[name]:6.2f} s per submission", flush=True)
    baseline = seconds["plain autograde"]
    print(f"\n{args.copies} submissions each. Ratios to plain autograde:")
    for name, value in seconds.items():
        print(f"  {name:<22} {value / baseline:5.2f}")
    print(f"  grading command / plain three steps: "
          f"{seconds['grading command'] / seconds['plain, three steps']:.2f}")


if __name__ == "__main__":
    main()
