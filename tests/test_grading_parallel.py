"""Parallel and distributed grading give what one-at-a-time grading gives.

The same students of the example class are graded three times, each in a
fresh copy of the course: one at a time (--workers 1), on this machine's
embedded Dask cluster (--workers 2), and on a real Dask scheduler with two
worker processes started here on loopback (--scheduler). The gradebooks,
grades files, feedback and summaries must match."""

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ASSIGNMENTS, REPO, copy_course
from fixtures import example_class
from grading.course import run_nbgrader, scores
from grading.example_class import write_example_class

STUDENTS = ["correct-variants", "he-uses-fan-out", "patches-np-allclose",
            "unchanged-release", "corrupt-file", "calls-os-exit",
            "duplicated-test-cell", "late-by-30-hours"]


def graded_copy(folder, *options):
    """A fresh course with STUDENTS submitted, graded with the given options."""
    root = copy_course(folder)
    shutil.rmtree(root / "release")
    for assignment in ASSIGNMENTS:
        run_nbgrader(root, "generate_assignment", assignment, "--force")
    write_example_class(root, example_class, STUDENTS)
    process = subprocess.run(
        [sys.executable, "-m", "grading.grade", example_class.ASSIGNMENT, *options],
        cwd=root, capture_output=True, text=True, timeout=1800)
    assert process.returncode == 0, process.stderr[-3000:]
    return root, process.stdout


@pytest.fixture(scope="module")
def one_at_a_time(tmp_path_factory):
    return graded_copy(tmp_path_factory.mktemp("sequential"), "--workers", "1")


@pytest.fixture(scope="module")
def local_cluster(tmp_path_factory):
    return graded_copy(tmp_path_factory.mktemp("parallel"), "--workers", "2")


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A real Dask scheduler and two single-threaded workers on loopback."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    processes = [subprocess.Popen(
        dask + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                "--scheduler-file", str(scheduler_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        address = wait_for_address(scheduler_file)
        # What a worker machine needs: the course environment, and the course's
        # grading package importable (started in the course root).
        for number in range(2):
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address,
                 "--nthreads", "1", "--name", f"worker-{number}", "--no-dashboard"],
                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for_workers(address, 2)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)


def wait_for_address(scheduler_file, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if scheduler_file.exists() and scheduler_file.read_text().strip():
            return json.loads(scheduler_file.read_text())["address"]
        time.sleep(0.2)
    raise TimeoutError("the Dask scheduler did not start")


def wait_for_workers(address, count):
    from dask.distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(count, timeout=60)


@pytest.fixture(scope="module")
def on_dask_cluster(tmp_path_factory, dask_cluster):
    return graded_copy(tmp_path_factory.mktemp("distributed"), "--scheduler", dask_cluster)


def summary_rows(output):
    """The summary table, without the progress lines and their timings."""
    table = output[output.index("\nstudent "):]
    return [line for line in table.splitlines() if line.strip()]


def grades(root):
    with open(root / "grades.csv", newline="") as file:
        return sorted(tuple(row.values()) for row in csv.DictReader(file))


def feedback(root):
    """The text each feedback page shows, whitespace aside.

    (How a kernel splits a cell's printed lines into output chunks depends on
    timing, and the HTML follows the chunks; the text does not. So does the
    execution count of a cell whose kernel died while it ran. Tracebacks name
    the course's folder, which differs between the copies.)
    """
    pages = {}
    for path in sorted((root / "feedback").rglob("*.html")):
        page = re.sub(r"<style.*?</style>", "", path.read_text(), flags=re.DOTALL)
        text = html.unescape(re.sub(r"<[^>]+>", " ", page))
        text = re.sub(r"In\s*\[\s*\d*\]:", "In [ ]:", text)  # \s: also a no-break space
        pages[path.relative_to(root)] = " ".join(text.split()).replace(root.name, "<course>")
    return pages


@pytest.mark.parametrize("other", ["local_cluster", "on_dask_cluster"])
def test_parallel_grading_matches_one_at_a_time(one_at_a_time, other, request):
    sequential_root, sequential_output = one_at_a_time
    root, output = request.getfixturevalue(other)
    assert scores(root, example_class.ASSIGNMENT, example_class.NOTEBOOK) == \
        scores(sequential_root, example_class.ASSIGNMENT, example_class.NOTEBOOK)
    assert summary_rows(output) == summary_rows(sequential_output)
    assert grades(root) == grades(sequential_root)
    assert feedback(root) == feedback(sequential_root)
    assert len(feedback(root)) == len(STUDENTS) - 1  # the unreadable file has none


def test_progress_counts_and_estimates_time_left(local_cluster):
    _, output = local_cluster
    lines = re.findall(r"^\[(\d+)/(\d+)\] \S+ .*left\)$", output, re.MULTILINE)
    assert [int(done) for done, _ in lines] == list(range(1, len(STUDENTS) + 1))
    assert {int(total) for _, total in lines} == {len(STUDENTS)}
