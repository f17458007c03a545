"""Benchmark: grading a mixed class, the course's command against plain nbgrader.

    .venv/bin/python benchmarks/grading_benchmark.py [--no-stuck]

The class is 18 submissions of `initialization` taken from the example class
(examples/example_class.py): 6 correct (4 ways of writing it, 2 handed in
late) and 12 with the usual mistakes, about a third correct as in the
example class. Every way grades the same class in a fresh copy of the
course, in the same run:

- plain nbgrader:         what a course without this project runs, with a
                          minimal nbgrader_config.py (the course id only: no
                          sandbox, no repairs, every cell re-run, nbgrader's
                          own feedback): `nbgrader autograde`, then
                          `nbgrader generate_feedback` and `nbgrader export`;
- command, 1 worker:      `python -m grading.grade initialization --workers 1`
                          (pre-check, sandboxed autograde leaving out the
                          ungraded experiments, feedback, export, summary);
- command:                the same with its default, one worker per core;
- command --full:         the default, re-running the experiments too.

The script checks that every way of the command gives every student the
same score on every graded cell, and names each graded cell where plain
nbgrader gives another: under a minimal configuration nothing judges the
answers that the hidden tests hand in (utils/answers.py), so a student who
hard-coded the visible tests' values keeps those points there. It prints
seconds per submission, the ratio of each way to plain nbgrader, and the
bound that any way re-running every notebook in full cannot pass on this
machine: the correct notebook run alone in one kernel (best of 3), divided
by the number of cores.

Then it grades one student whose code never ends (the example class's
infinite-loop student, stuck in one exercise; and a student stuck in every
exercise) with the command and 1 worker, and prints the seconds that
student cost its worker (its progress line), the whole command's seconds
(start-up and the reference's timing included) and the reasons it gives.

This measures; it asserts nothing but equal scores.
"""

import argparse
import copy
import json
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
from examples.grade_examples import write_example_class  # noqa: E402
from examples.nbgrader_runs import run_nbgrader, scores  # noqa: E402
from examples.students import fill_in, write_submission  # noqa: E402
from grading.command.results import StudentResult  # noqa: E402

ASSIGNMENT = example_class.ASSIGNMENT
NOTEBOOK = example_class.NOTEBOOK

CORRECT = [
    "correct-variants",
    "correct-textbook",
    "correct-sqrt-split",
    "correct-normal-scale",
    "late-within-grace",
    "late-by-30-hours",
]
WRONG = [
    "unchanged-release",
    "zeros-bias-1d",
    "zeros-transposed-weights",
    "random-forgets-factor-10",
    "random-uniform-draws",
    "random-reseeds-every-layer",
    "he-uses-fan-out",
    "he-xavier-scale",
    "he-forgets-sqrt",
    "he-glorot-scale",
    "he-transposed-draws",
    "hard-codes-printed-values",
]
CLASS = CORRECT + WRONG

# nbgrader_config.py of a course that uses nbgrader as it comes.
MINIMAL_CONFIG = (
    'c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = "initializing-neural-networks"\n'
)

STUCK_EVERYWHERE = {
    name: "while True:\n    pass\n"
    for name in ("initialize_parameters_zeros", "initialize_parameters_random", "initialize_parameters_he")
}


def fresh_course(folder, students):
    """A course copy with the assignment generated and the named students' submissions."""
    root = copy_course(Path(folder))
    shutil.rmtree(root / "release")
    run_nbgrader(root, "generate_assignment", ASSIGNMENT, "--force")
    if students:  # an empty list would write the whole example class
        write_example_class(root, example_class, students)
    return root


def plain_nbgrader(root):
    """nbgrader's three commands under a minimal configuration."""
    (root / "nbgrader_config.py").write_text(MINIMAL_CONFIG)
    run_nbgrader(root, "autograde", ASSIGNMENT, "--force")
    run_nbgrader(root, "generate_feedback", ASSIGNMENT, "--force")
    run_nbgrader(root, "export", "--to", "grades.csv")


def grading_command(*options):
    def run(root):
        process = subprocess.run(
            [sys.executable, "-m", "grading.grade", ASSIGNMENT, *options],
            cwd=root,
            capture_output=True,
            timeout=7200,
        )
        # 2: the class's unreadable notebook was not graded, as it should not be.
        if process.returncode not in (0, 2):
            raise subprocess.CalledProcessError(
                process.returncode, process.args, process.stdout, process.stderr
            )

    return run


def ways():
    return {
        "plain nbgrader": plain_nbgrader,
        "command, 1 worker": grading_command("--workers", "1"),
        f"command, {os.cpu_count()} workers": grading_command(),
        "command --full": grading_command("--full"),
    }


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def notebook_alone(root, repeats=3):
    """Best-of-`repeats` seconds to run the correct submission in full in one kernel."""
    import nbformat
    from nbclient import NotebookClient

    release = root / "release" / ASSIGNMENT
    filled = fill_in(nbformat.read(release / f"{NOTEBOOK}.ipynb", as_version=4), example_class.CORRECT)
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


def stuck_seconds(folder, name, answers):
    """Seconds the command (1 worker) spends on one never-ending submission:
    the student's own time, the whole run's, and the reasons it gave (read
    from the command's --json summary)."""
    root = fresh_course(folder, [])
    write_submission(root, name, ASSIGNMENT, f"{NOTEBOOK}.ipynb", answers)
    summary = Path(folder) / "summary.json"
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "grading.grade", ASSIGNMENT, "--workers", "1", "--json", str(summary)],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=7200,
    )
    whole = time.perf_counter() - start
    (row,) = json.loads(summary.read_text())["students"]
    result = StudentResult.from_json(row)
    return result.seconds, whole, "; ".join(map(str, result.reasons))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-stuck", action="store_true", help="leave out the never-ending submissions")
    args = parser.parse_args()
    count = len(CLASS)
    seconds, graded = {}, {}
    for name, way in ways().items():
        with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as folder:
            root = fresh_course(folder, CLASS)
            seconds[name] = timed(lambda: way(root)) / count
            graded[name] = scores(root, ASSIGNMENT, NOTEBOOK)
        print(f"{name:<22} {seconds[name]:6.2f} s per submission", flush=True)
    plain_scores = graded.pop("plain nbgrader")
    baseline = graded["command, 1 worker"]
    differ = {name: result for name, result in graded.items() if result != baseline}
    print(
        f"\n{count} submissions ({len(CORRECT)} correct). Scores per graded cell: "
        + ("the same for every way of the command" if not differ else f"DIFFERENT for {', '.join(differ)}")
    )
    for student, cells in sorted(plain_scores.items()):
        for cell, (score, maximum) in cells.items():
            if (score, maximum) != baseline[student][cell]:
                print(
                    f"  plain nbgrader gives {student} {score:g}/{maximum:g} for {cell}, "
                    f"the command {baseline[student][cell][0]:g}: nothing judges its hidden answers there"
                )
    with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as folder:
        alone = notebook_alone(fresh_course(folder, []))
    cores = os.cpu_count()
    plain = seconds["plain nbgrader"]
    print("Ratio to plain nbgrader:")
    for name, value in seconds.items():
        print(f"  {name:<22} {value / plain:5.2f}")
    print(
        f"  bound for a full re-run: {alone:.2f} s notebook alone / {cores} cores = "
        f"{alone / cores:.2f} s per submission, {alone / cores / plain:.2f} of plain"
    )
    if args.no_stuck:
        return
    print("\nA submission that never ends, graded alone by the command (1 worker):")
    for name, answers in [
        ("infinite-loop", example_class.STUDENTS["infinite-loop"]["answers"]),
        ("stuck-everywhere", {**example_class.CORRECT, **STUCK_EVERYWHERE}),
    ]:
        with tempfile.TemporaryDirectory(prefix="grading-benchmark-") as folder:
            own, whole, reasons = stuck_seconds(folder, name, answers)
        print(f"  {name:<18} {own:5.1f} s of one worker ({whole:.1f} s for the whole command): {reasons}")


if __name__ == "__main__":
    main()
