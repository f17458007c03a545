"""The store of reference runs (grading/plugins/references.py): a run kept on
disk is read back by the next command, and run again when anything it
depends on has changed."""

import json
import os
import time

import pytest

from grading.errors import CourseFault
from grading.plugins.references import Reference, ReferenceRuns, fingerprint, read_reference
from grading.plugins.verdicts import parse_record
from utils import answers

RECORD = {"format": answers.FORMAT, "check": "check_f", "language": "en", "calls": []}


def measured_once():
    """A measure() that counts its calls."""
    calls = []

    def measure():
        calls.append(1)
        return Reference({"cell": 1.5}, {"test_f": parse_record(RECORD)}, {"test_f": RECORD})

    return measure, calls


@pytest.fixture
def source(tmp_path):
    folder = tmp_path / "source" / "initialization"
    folder.mkdir(parents=True)
    (folder / "Initialization.ipynb").write_text("{}")
    (folder / "data.csv").write_text("1,2\n")
    return folder / "Initialization.ipynb"


def test_a_run_kept_on_disk_is_read_back_by_the_next_store(tmp_path, source):
    name = fingerprint(source, {"skip_experiments": True}, {})
    measure, calls = measured_once()
    first = ReferenceRuns(folder=tmp_path / "runs").get("key", measure, lambda: name)
    second = ReferenceRuns(folder=tmp_path / "runs").get("key", measure, lambda: name)
    assert len(calls) == 1
    assert second.seconds == first.seconds == {"cell": 1.5}
    assert second.answers == first.answers
    # Without a folder, nothing is kept between stores.
    ReferenceRuns().get("key", measure, lambda: name)
    assert len(calls) == 2


def worker_process(runs, name, log, complete):
    """Fork a process that gets the run named name from a store over runs; its measure() takes
    a second, writes "start" and "end" lines with their times to log, and gives a run that is
    complete or not. Returns the child's pid (the child never returns)."""
    pid = os.fork()
    if pid:
        return pid

    def measure():
        with open(log, "a") as lines:
            lines.write(f"start {time.monotonic()}\n")
        time.sleep(1)
        with open(log, "a") as lines:
            lines.write(f"end {time.monotonic()}\n")
        return Reference({"cell": 2.5}, complete=complete)

    status = 1
    try:
        ReferenceRuns(folder=runs).get("key", measure, lambda: name)
        status = 0
    finally:
        os._exit(status)  # never back into pytest


def measures(log) -> list[tuple[float, float]]:
    """The (start, end) of each measure the workers wrote to log, in order of start."""
    lines = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    starts = [float(time) for word, time in lines if word == "start"]
    ends = [float(time) for word, time in lines if word == "end"]
    return list(zip(sorted(starts), sorted(ends)))


def wait_for_measures(log, count):
    """Return once count measures have started."""
    deadline = time.monotonic() + 30
    while (log.read_text().count("start") if log.exists() else 0) < count:
        assert time.monotonic() < deadline, "no worker started measuring"
        time.sleep(0.01)


def test_processes_sharing_the_folder_run_the_reference_once(tmp_path, source):
    """Two worker processes that need the same run at once: the second waits for the first's,
    then reads it from disk, rather than running the notebook a second time beside it."""
    name = fingerprint(source, {"skip_experiments": False}, {})
    runs, log = tmp_path / "runs", tmp_path / "measures.log"
    first = worker_process(runs, name, log, complete=True)
    wait_for_measures(log, 1)
    second = worker_process(runs, name, log, complete=True)
    for pid in (first, second):
        assert os.waitpid(pid, 0)[1] == 0
    assert len(measures(log)) == 1  # the second never measured
    assert read_reference(runs / f"{name}.json").seconds == {"cell": 2.5}


def test_processes_waiting_for_a_run_that_fell_short_run_it_at_once(tmp_path, source):
    """The first process's run is not kept (a cell out of time, say): the two that waited for it
    then run it side by side, not one after the other (each run may take up to an hour)."""
    name = fingerprint(source, {"skip_experiments": False}, {})
    runs, log = tmp_path / "runs", tmp_path / "measures.log"
    first = worker_process(runs, name, log, complete=False)
    wait_for_measures(log, 1)
    waiting = [worker_process(runs, name, log, complete=False) for _ in range(2)]
    for pid in (first, *waiting):
        assert os.waitpid(pid, 0)[1] == 0
    (_, first_end), *after = measures(log)
    assert len(after) == 2
    assert all(start >= first_end for start, _ in after)  # they waited for the first
    (second_start, second_end), (third_start, _) = after
    assert third_start < second_end  # and then did not wait for each other
    assert not list(runs.rglob("*.json"))


@pytest.mark.parametrize(
    "change",
    ["a file of the assignment", "a new file", "the mode", "the sandbox's settings"],
)
def test_anything_the_run_depends_on_changes_the_fingerprint(source, change):
    options, sandbox = {"skip_experiments": True}, {"SandboxProvisioner": {"memory_mb": "2048"}}
    before = fingerprint(source, options, sandbox)
    if change == "a file of the assignment":
        (source.parent / "data.csv").write_text("1,3\n")
    elif change == "a new file":
        (source.parent / "helper.py").write_text("")
    elif change == "the mode":
        options = {"skip_experiments": False}
    else:
        sandbox = {"SandboxProvisioner": {"memory_mb": "4096"}}
    assert fingerprint(source, options, sandbox) != before
    assert fingerprint(source, options, sandbox) == fingerprint(source, options, sandbox)


def test_a_newer_run_replaces_the_older_file_of_its_notebook_and_mode(tmp_path, source):
    runs = tmp_path / "runs"
    fast, full = (fingerprint(source, {"skip_experiments": skip}, {}) for skip in (True, False))
    ReferenceRuns(folder=runs).get("fast", measured_once()[0], lambda: fast)
    ReferenceRuns(folder=runs).get("full", measured_once()[0], lambda: full)
    (source.parent / "data.csv").write_text("changed\n")
    newer = fingerprint(source, {"skip_experiments": True}, {})
    ReferenceRuns(folder=runs).get("fast", measured_once()[0], lambda: newer)
    assert sorted(f"{path.parent.name}/{path.stem}" for path in runs.rglob("*.json")) == sorted([newer, full])


@pytest.mark.parametrize(
    "damage",
    ["not json", json.dumps({"format": 0, "seconds": {}, "records": {}}), json.dumps({"format": 1})],
)
def test_a_damaged_file_is_measured_again(tmp_path, source, damage):
    name = fingerprint(source, {"skip_experiments": True}, {})
    (tmp_path / f"{name}.json").parent.mkdir()
    (tmp_path / f"{name}.json").write_text(damage)
    assert read_reference(tmp_path / f"{name}.json") is None
    measure, calls = measured_once()
    assert ReferenceRuns(folder=tmp_path).get("key", measure, lambda: name).seconds == {"cell": 1.5}
    assert calls == [1]
    assert read_reference(tmp_path / f"{name}.json").seconds == {"cell": 1.5}


def test_a_kept_run_the_judge_refuses_stops_grading(tmp_path, source):
    """check(reference) replays the checks on what the disk kept: if they
    now refuse it, the store raises rather than judge with it."""
    name = fingerprint(source, {"skip_experiments": True}, {})
    ReferenceRuns(folder=tmp_path).get("key", measured_once()[0], lambda: name)

    def refuse(reference):
        raise CourseFault("the reference solution fails its own test test_f")

    measure, calls = measured_once()
    with pytest.raises(CourseFault, match="fails its own test"):
        ReferenceRuns(folder=tmp_path).get("key", measure, lambda: name, refuse)
    assert calls == []


def test_a_run_that_fell_short_serves_its_command_only(tmp_path, source):
    """A run with a cell out of time or a test cell that handed in nothing
    is used by the command that made it, and never kept on disk."""
    name = fingerprint(source, {"skip_experiments": True}, {})
    short = Reference({"cell": 1.5}, {}, {}, complete=False)
    store = ReferenceRuns(folder=tmp_path / "runs")
    assert store.get("key", lambda: short, lambda: name) is short
    assert not list((tmp_path / "runs").rglob("*.json"))


def test_files_in_a_linked_folder_count(tmp_path, source):
    """The run copies the assignment with its links followed: so does the fingerprint."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "points.csv").write_text("1,2\n")
    (source.parent / "data").symlink_to(data)
    before = fingerprint(source, {"skip_experiments": True}, {})
    (data / "points.csv").write_text("1,3\n")
    assert fingerprint(source, {"skip_experiments": True}, {}) != before


def test_the_folder_is_the_instructors_alone(tmp_path, source):
    name = fingerprint(source, {"skip_experiments": True}, {})
    ReferenceRuns(folder=tmp_path / "runs").get("key", measured_once()[0], lambda: name)
    assert (tmp_path / "runs").stat().st_mode & 0o777 == 0o700


def test_a_run_that_cannot_be_kept_is_still_used(tmp_path, source, caplog):
    """A folder that cannot be written (a file in its place, a full disk):
    the run serves its command, and the log says it was not kept."""
    (tmp_path / "runs").write_text("not a folder")
    name = fingerprint(source, {"skip_experiments": True}, {})
    measure, calls = measured_once()
    assert ReferenceRuns(folder=tmp_path / "runs").get("key", measure, lambda: name).seconds == {"cell": 1.5}
    assert calls == [1] and "could not keep the reference run" in caplog.text


def test_a_worker_keeps_its_own_runs_for_its_command_only(tmp_path, source):
    """Within one command a worker keeps the runs it measured (a run in
    full); a task of the next command, or of an unnamed one, starts from
    that command's runs alone."""
    store = ReferenceRuns()
    store.start_from({"fast": Reference()}, "command-1")
    store.get("full", measured_once()[0])
    store.start_from({"fast": Reference()}, "command-1")
    assert set(store.measured) == {"fast", "full"}
    store.start_from({"fast": Reference()}, "command-2")
    assert set(store.measured) == {"fast"}
    store.get("full", measured_once()[0])
    store.start_from({"fast": Reference()})
    assert set(store.measured) == {"fast"}


def test_two_notebooks_never_replace_each_others_runs(tmp_path):
    """Assignment a-b's notebook c and assignment a's notebook b-c."""
    names = []
    for assignment, notebook in (("a-b", "c"), ("a", "b-c")):
        folder = tmp_path / "source" / assignment
        folder.mkdir(parents=True)
        (folder / f"{notebook}.ipynb").write_text("{}")
        names.append(fingerprint(folder / f"{notebook}.ipynb", {"skip_experiments": True}, {}))
    for key, name in zip("xy", names):
        ReferenceRuns(folder=tmp_path / "runs").get(key, measured_once()[0], lambda name=name: name)
    assert len(list((tmp_path / "runs").rglob("*.json"))) == 2
