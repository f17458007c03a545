"""Parallel and distributed grading give what one-at-a-time grading gives.

The same students of the example class are graded twice, each in a fresh
copy of the course: one at a time (--workers 1), and on a real Dask
scheduler with two worker processes started here on loopback (--scheduler),
into a gradebook on a real PostgreSQL server started here, as
grading/command/parallel.py advises for workers on several machines. The
gradebooks, grades files, feedback and summaries must match. (On a
machine with no PostgreSQL server the cluster grades into SQLite, and a
test says so by a skip. This machine's own worker processes, the default
--workers, grade the whole class with SQLite in tests/test_grading.py.)"""

import contextlib
import csv
import html
import json
import os
import pathlib
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import (
    COURSE_CONFIG,
    REPO,
    copy_course,
    copy_generated,
    descendants,
    exit_status,
    run_grading_command,
)
from examples import example_class
from examples.grade_examples import write_example_class
from examples.nbgrader_runs import run_nbgrader, scores
from grading.gradebook import open_gradebook
from grading.reasons import Why

pytestmark = [pytest.mark.slow, pytest.mark.sandbox, pytest.mark.dask]

# One student for each kind of result: full marks, a mistake, nothing
# answered, an unreadable file, a kernel that dies, a late penalty.
STUDENTS = [
    "correct-variants",
    "he-uses-fan-out",
    "unchanged-release",
    "corrupt-file",
    "calls-os-exit",
    "late-by-30-hours",
]


def submitted_copy(folder, generated_course, students=STUDENTS, db_url=None):
    """A fresh course with the given students' submissions, not yet graded:
    a copy of the generated course, or, for another database, the course
    generated into that database."""
    if db_url is None:
        root = copy_generated(generated_course, folder)
    else:
        root = copy_course(folder)
        with open(root / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
        shutil.rmtree(root / "release")
        run_nbgrader(root, "generate_assignment", example_class.ASSIGNMENT, "--force")
    write_example_class(root, example_class, students)
    return root


def graded_copy(folder, generated_course, *options, db_url=None):
    """A fresh course with STUDENTS submitted, graded with the given options."""
    root = submitted_copy(folder, generated_course, db_url=db_url)
    status = exit_status(example_class, STUDENTS)  # corrupt-file is not graded
    return root, run_grading_command(root, example_class.ASSIGNMENT, *options, status=status)


@pytest.fixture(scope="module")
def one_at_a_time(generated_course, tmp_path_factory):
    return graded_copy(tmp_path_factory.mktemp("sequential"), generated_course, "--workers", "1")


@contextlib.contextmanager
def running_dask_cluster(folder, workers=2):
    """A real Dask scheduler and single-threaded workers on loopback.

    Yields the scheduler's address and, by worker name, each worker's process
    (a nanny and its worker, in a process group of their own).
    """
    scheduler_file = folder / "scheduler.json"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    scheduler = subprocess.Popen(
        dask
        + ["--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
        # As docs/cluster.md starts a scheduler: a task may lose one worker, not two.
        env={**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker_processes = {}
    try:
        address = wait_for_address(scheduler_file)
        # What a worker machine needs: the course environment, and the course's
        # grading package importable (started in the course root).
        for number in range(workers):
            worker_processes[f"worker-{number}"] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "distributed.cli.dask_worker",
                    address,
                    "--nthreads",
                    "1",
                    "--name",
                    f"worker-{number}",
                    "--no-dashboard",
                ],
                cwd=REPO,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_for_workers(address, workers)
        yield address, worker_processes
    finally:
        for process in [*worker_processes.values(), scheduler]:
            process.terminate()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    with running_dask_cluster(tmp_path_factory.mktemp("dask")) as (address, _):
        yield address


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
def on_dask_cluster(generated_course, tmp_path_factory, dask_cluster, request):
    """STUDENTS graded on the Dask cluster into a PostgreSQL gradebook (into
    SQLite on a machine with no PostgreSQL server: the cluster is tested all
    the same)."""
    db_url = request.getfixturevalue("postgresql") if postgresql_bin() else None
    return graded_copy(
        tmp_path_factory.mktemp("distributed"), generated_course, "--scheduler", dask_cluster, db_url=db_url
    )


def postgresql_bin():
    """The folder of Debian's PostgreSQL server programs, or None."""
    found = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")  # scripts/setup.sh installs it where it may (root, apt)
    return pathlib.Path(initdb).parent if initdb else None


@pytest.fixture(scope="module")
def postgresql():
    """A PostgreSQL server on a Unix socket, run by a plain user; yields a db_url."""
    # Its own folder in /tmp: pytest's are private to root, and a socket's path
    # must be short.
    programs = postgresql_bin()
    if programs is None:
        pytest.skip("needs PostgreSQL's server programs (initdb): scripts/setup.sh installs them")
    folder = pathlib.Path(tempfile.mkdtemp(prefix="grading-pg-"))
    as_user = []
    if os.getuid() == 0:  # the server refuses to run as root
        account = pwd.getpwnam("postgres" if has_user("postgres") else "nobody")
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_user = [
            "setpriv",
            f"--reuid={account.pw_uid}",
            f"--regid={account.pw_gid}",
            "--clear-groups",
            "--",
        ]
    data, port = folder / "data", "55432"

    def run(*command):
        subprocess.run(
            as_user + [str(programs / command[0]), *command[1:]],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=folder,
        )

    run("initdb", "-D", str(data), "-U", "grader", "--auth=trust")
    run(
        "pg_ctl",
        "-D",
        str(data),
        "-l",
        str(folder / "server.log"),
        "-w",
        "start",
        "-o",
        f"-k {folder} -p {port} -c listen_addresses=''",
    )
    try:
        run("createdb", "-h", str(folder), "-p", port, "-U", "grader", "course")
        yield f"postgresql+psycopg2://grader@/course?host={folder}&port={port}"
    finally:
        run("pg_ctl", "-D", str(data), "-w", "stop", "-m", "fast")
        shutil.rmtree(folder, ignore_errors=True)


def has_user(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def results(summary, students=None):
    """{student: result} of a --json summary, the seconds each took and
    whether it was retried left out; only the named students, if given."""
    return {
        row["student"]: {key: value for key, value in row.items() if key not in ("seconds", "retried")}
        for row in summary["students"]
        if students is None or row["student"] in students
    }


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


@pytest.mark.postgresql
def test_parallel_grading_matches_one_at_a_time(one_at_a_time, on_dask_cluster):
    sequential_root, sequential_run = one_at_a_time
    root, run = on_dask_cluster
    assert scores(root, example_class.ASSIGNMENT, example_class.NOTEBOOK) == scores(
        sequential_root, example_class.ASSIGNMENT, example_class.NOTEBOOK
    )
    assert results(run.summary) == results(sequential_run.summary)
    assert grades(root) == grades(sequential_root)
    assert feedback(root) == feedback(sequential_root)
    assert len(feedback(root)) == len(STUDENTS) - 1  # the unreadable file has none


@pytest.mark.postgresql
def test_the_cluster_grades_into_a_postgresql_gradebook(on_dask_cluster):
    """Said as a skip, not kept quiet, where this machine has no PostgreSQL server."""
    if postgresql_bin() is None:
        pytest.skip("no PostgreSQL server programs (initdb): the Dask run graded into SQLite")
    root, _ = on_dask_cluster
    with open_gradebook(root) as gradebook:
        assert gradebook.db.get_bind().dialect.name == "postgresql"


@pytest.mark.postgresql
def test_progress_counts_and_estimates_time_left(on_dask_cluster):
    _, run = on_dask_cluster
    lines = re.findall(r"^\[(\d+)/(\d+)\] \S+ .*left\)$", run.printed, re.MULTILINE)
    assert [int(done) for done, _ in lines] == list(range(1, len(STUDENTS) + 1))
    assert {int(total) for _, total in lines} == {len(STUDENTS)}


# Graded while one of the two workers is killed; one of them makes its kernel
# exit, so a lost worker is told apart from a student's own crash.
KILL_TEST_STUDENTS = ["correct-variants", "he-uses-fan-out", "calls-os-exit", "unchanged-release"]


def executing_tasks(client):
    """{worker name: (address, keys of the tasks it is running right now)}."""

    def running_tasks(dask_worker):
        return [str(task.key) for task in dask_worker.state.executing]

    # A worker killed a moment ago may still be listed: skip what fails.
    running = client.run(running_tasks, on_error="ignore")
    names = {address: worker["name"] for address, worker in client.scheduler_info()["workers"].items()}
    return {names[address]: (address, keys) for address, keys in running.items() if keys and address in names}


def scheduler_workers(client):
    return client.run_on_scheduler(lambda dask_scheduler: set(dask_scheduler.workers))


def processing_on(client, address) -> set[str]:
    """The students of the tasks the scheduler has given the worker at
    address (running, or waiting in its queue), as it sees them now."""

    def given(dask_scheduler):
        worker = dask_scheduler.workers.get(address)
        return [str(task.key) for task in worker.processing] if worker else []

    return {student_of_key(key) for key in client.run_on_scheduler(given)}


def runs_a_box(pid: int) -> bool:
    """Whether a process that pid started is a sandbox (bubblewrap)."""
    for child in descendants(pid):
        with contextlib.suppress(OSError):
            if pathlib.Path(f"/proc/{child}/comm").read_text().strip() == "bwrap":
                return True
    return False


def kill_a_worker_while_it_grades(address, worker_processes, in_a_box=False, seconds=300):
    """SIGKILL the process group (nanny, worker, sandboxes) of the first worker
    seen running a grading task (with in_a_box, only while the task's
    sandbox runs: a task sends its result only after its box has ended, so
    the kill surely comes mid-task), as if its machine dropped out. Returns
    that task's student and the students of every task the scheduler had
    given that worker until it saw it die."""
    from dask.distributed import Client

    with Client(address, timeout=60) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for name, (address, keys) in executing_tasks(client).items():
                if worker_processes[name].poll() is not None:
                    continue  # killed already
                if in_a_box and not runs_a_box(worker_processes[name].pid):
                    continue
                given = processing_on(client, address)
                os.killpg(worker_processes[name].pid, signal.SIGKILL)
                worker_processes[name].wait(timeout=30)
                # Until the scheduler has noticed, asking the dead worker
                # anything waits for a connection timeout.
                while address in scheduler_workers(client):
                    given |= processing_on(client, address)
                    time.sleep(0.1)
                return student_of_key(keys[0]), given
            time.sleep(0.1)
    raise TimeoutError("no worker started grading")


def grade_while_killing_workers(root, cluster_folder, kills, status=0, in_a_box=False):
    """Grade root on a fresh loopback cluster of two workers, killing `kills`
    of them as they grade (with in_a_box, while a sandbox of theirs runs),
    and check the command's exit status. Returns the killed tasks'
    students, and the command's output and --json summary."""
    with running_dask_cluster(cluster_folder) as (address, worker_processes):
        return grade_while(
            root,
            ["--scheduler", address],
            lambda: [
                kill_a_worker_while_it_grades(address, worker_processes, in_a_box) for _ in range(kills)
            ],
            status,
        )


def grade_while(root, options, action, status):
    """Run the grading command in root with options (and --json) while
    action() runs here; check its exit status. Returns what action returned,
    and the command's output and --json summary."""
    summary = pathlib.Path(root) / "summary.json"
    grading = subprocess.Popen(
        [sys.executable, "-m", "grading.grade", example_class.ASSIGNMENT, *options, "--json", str(summary)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        done = action()
        output, errors = grading.communicate(timeout=900)
    finally:
        grading.kill()
    assert grading.returncode == status, errors[-3000:]
    return done, output, json.loads(summary.read_text())


def test_a_worker_killed_mid_task_costs_only_a_retry(generated_course, tmp_path_factory, one_at_a_time):
    sequential_root, sequential_run = one_at_a_time
    # Beside the other copies, so that feedback() sees the same paths.
    root = submitted_copy(tmp_path_factory.mktemp("killed_worker"), generated_course, KILL_TEST_STUDENTS)
    # A student is graded in about a second: the kill must come while the
    # task's box runs, or it may come after the worker has sent its result.
    ((killed_student, given),), output, summary = grade_while_killing_workers(
        root, tmp_path_factory.mktemp("killed_worker_dask"), kills=1, in_a_box=True
    )

    # The submission the dead worker held was graded again, said so, and every
    # student got exactly what one-at-a-time grading gave. (Dask gives a
    # worker the next task of its queue too: that one is given to another
    # worker as well, and flagged. No other is.)
    retried = {row["student"] for row in summary["students"] if row["retried"]}
    assert killed_student in retried and retried <= given, (killed_student, given)
    assert re.search(rf"\] {killed_student} .*retried: a worker it was given to died", output)
    expected = scores(sequential_root, example_class.ASSIGNMENT, example_class.NOTEBOOK)
    assert scores(root, example_class.ASSIGNMENT, example_class.NOTEBOOK) == {
        student: expected[student] for student in KILL_TEST_STUDENTS
    }

    assert results(summary) == results(sequential_run.summary, KILL_TEST_STUDENTS)
    expected_feedback = feedback(sequential_root)
    assert feedback(root) == {
        page: text for page, text in expected_feedback.items() if page.parts[1] in KILL_TEST_STUDENTS
    }
    # The dead worker's sandbox went down with it.
    assert boxes_left(root) == ""


def with_long_budgets(root):
    """root, its budgets made 60 times longer: infinite-loop's first stuck
    cell then runs for 5 minutes, not 5 s, so that a test has all the time it
    needs to find it running twice, even on a loaded machine."""
    with open(root / "nbgrader_config.py", "a") as config:
        config.write("\nc.SandboxedExecute.budget_scale = 60\n")
    return root


def test_a_submission_whose_workers_die_twice_is_reported_not_lost(generated_course, tmp_path_factory):
    student = "infinite-loop"
    root = with_long_budgets(
        submitted_copy(tmp_path_factory.mktemp("killed_twice"), generated_course, [student])
    )
    # Its first worker dies, then the one it was retried on.
    killed, _, summary = grade_while_killing_workers(
        root, tmp_path_factory.mktemp("killed_twice_dask"), kills=2, status=2
    )
    assert [student for student, _ in killed] == [student, student]
    (row,) = summary["students"]
    assert [reason["why"] for reason in row["reasons"]] == [Why.WORKER_DIED.value]
    # grades.csv is still written, and lists the student, with no points.
    with open(root / "grades.csv", newline="") as file:
        rows = [row for row in csv.DictReader(file) if row["assignment"] == example_class.ASSIGNMENT]
    assert [(row["student_id"], float(row["score"])) for row in rows] == [(student, 0.0)]


def kill_a_local_worker_while_it_grades(root, only=None, seconds=120, killed=None):
    """SIGKILL the worker process of the grading command in root that is
    running a box (grading/command/parallel.py's WorkerProcess), as the
    kernel's out-of-memory killer would; return the student it held (the
    student named only, if given). killed: the pids of the workers killed so
    far, which this adds to (a worker may not have ended yet)."""
    killed = set() if killed is None else killed
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        boxes = subprocess.run(["pgrep", "-f", f"bwrap .*{root}/autograded/"], capture_output=True, text=True)
        for box in boxes.stdout.split():
            with contextlib.suppress(OSError, ValueError):
                arguments = pathlib.Path(f"/proc/{box}/cmdline").read_bytes().decode().split("\0")
                student = arguments[arguments.index("--chdir") + 1].split("/autograded/")[1].split("/")[0]
                parent = int(pathlib.Path(f"/proc/{box}/stat").read_text().rsplit(")", 1)[1].split()[1])
                if b"multiprocessing.forkserver" not in pathlib.Path(f"/proc/{parent}/cmdline").read_bytes():
                    # Not started by a worker (a fork of the worker server): the box's inner process,
                    # or one a killed worker left behind for a moment, which its parent cannot end.
                    continue
                if only not in (None, student) or parent in killed:
                    continue
                os.kill(parent, signal.SIGKILL)
                killed.add(parent)
                return student
        time.sleep(0.05)
    raise TimeoutError("no worker started grading")


def grade_while_killing_local_workers(root, kills, status=0, only=None):
    """Grade root with --workers 2, killing `kills` worker processes as they
    grade; the killed workers' students, and the command's output and --json summary."""

    def kill():
        students, workers = [], set()
        for _ in range(kills):
            students.append(kill_a_local_worker_while_it_grades(root, only, killed=workers))
        return students

    return grade_while(root, ["--workers", "2"], kill, status)


def test_a_local_worker_killed_mid_task_costs_only_a_retry(generated_course, tmp_path_factory, one_at_a_time):
    """A worker process of this machine dies while it grades: the student it
    held is graded again in a new one, and every student gets what
    one-at-a-time grading gives."""
    sequential_root, sequential_run = one_at_a_time
    root = submitted_copy(
        tmp_path_factory.mktemp("killed_local_worker"), generated_course, KILL_TEST_STUDENTS
    )
    (killed_student,), output, summary = grade_while_killing_local_workers(root, kills=1)

    retried = [row["student"] for row in summary["students"] if row["retried"]]
    assert retried == [killed_student]
    assert re.search(rf"\] {killed_student} .*retried: a worker it was given to died", output)
    expected = scores(sequential_root, example_class.ASSIGNMENT, example_class.NOTEBOOK)
    assert scores(root, example_class.ASSIGNMENT, example_class.NOTEBOOK) == {
        student: expected[student] for student in KILL_TEST_STUDENTS
    }
    assert results(summary) == results(sequential_run.summary, KILL_TEST_STUDENTS)
    # The dead worker's sandbox went down with it.
    assert boxes_left(root) == ""


def boxes_left(root, seconds=5) -> str:
    """The process ids of the boxes still running a student of root once
    they have had seconds to end ("" when none)."""
    deadline = time.monotonic() + seconds
    while True:
        left = subprocess.run(["pgrep", "-f", f"bwrap.*{root}/autograded"], capture_output=True, text=True)
        if not left.stdout or time.monotonic() > deadline:
            return left.stdout
        time.sleep(0.1)


def test_a_submission_whose_local_workers_die_twice_is_reported_not_lost(generated_course, tmp_path_factory):
    student = "infinite-loop"
    root = with_long_budgets(
        submitted_copy(
            tmp_path_factory.mktemp("killed_local_twice"), generated_course, [student, "correct-variants"]
        )
    )
    killed, _, summary = grade_while_killing_local_workers(root, kills=2, status=2, only=student)
    assert killed == [student, student]
    rows = {row["student"]: row for row in summary["students"]}
    assert [reason["why"] for reason in rows[student]["reasons"]] == [Why.WORKER_DIED.value]
    assert rows["correct-variants"]["reasons"] == [] and not rows["correct-variants"]["retried"]
    # Each worker was killed as its box started, and the box ended with it
    # all the same: the student's endless loop runs no more.
    assert boxes_left(root) == ""


def test_progress_line_shows_a_bar_and_a_retry(capsys):
    from grading.command.reporting import Progress
    from grading.command.results import StudentResult

    progress = Progress(4, name_width=len("a-longer-name"))
    progress.report(
        StudentResult("ann", points={"he": (3, 3), "zeros": (0, 2)}, seconds=6.04, graded=True, retried=True)
    )
    line = capsys.readouterr().out.rstrip("\n")
    assert re.fullmatch(
        r"\[1/4\] \[#{5}-{15}\] ann {10} {5}3/5  \(6\.0 s; retried: "
        r"a worker it was given to died; about \d+ s left\)",
        line,
    ), line


COURSE_ID = COURSE_CONFIG.CourseDirectory.course_id


def student_of_key(key: str) -> str:
    """The student a task key (grading.command.parallel.task_key) names."""
    prefix = f"grade-{COURSE_ID}-{example_class.ASSIGNMENT}-"
    assert key.startswith(prefix) and re.fullmatch(r".+-[0-9a-f]{32}", key), key
    return key.removeprefix(prefix)[: -len("-") - 32]


def test_task_keys_are_unique_per_course_and_run():
    """Two courses, or two runs, grading the same assignment and student id
    on one shared scheduler never share a key, so never each other's result."""
    from grading.command.parallel import task_key

    keys = {
        task_key(course, "initialization", "alice", run)
        for course in ("course-a", "course-b")
        for run in ("run-1", "run-2")
    }
    assert len(keys) == 4
    run = "0123456789abcdef" * 2
    assert student_of_key(task_key(COURSE_ID, example_class.ASSIGNMENT, "a-b.c", run)) == "a-b.c"


def test_the_scheduler_tells_how_often_a_task_lost_its_worker():
    """worker_deaths asks a real (in-process) Dask scheduler: 0 for a task
    whose worker lived; None, not an error, when the scheduler cannot be
    asked; and what it sends runs on a scheduler that cannot import the
    grading package (a bare `dask scheduler`, as docs/cluster.md starts one)."""
    import cloudpickle
    from dask.distributed import Client, LocalCluster

    from grading.command.parallel import worker_deaths

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        with Client(cluster) as client:
            future = client.submit(sum, [1, 2], key="a-task")
            assert future.result() == 3
            sent, asked = [], client.run_on_scheduler

            def recording(function):  # keeps what is sent, then sends it
                sent.append(function)
                return asked(function)

            client.run_on_scheduler = recording
            assert worker_deaths(client, future.key) == 0
        assert worker_deaths(client, future.key) is None  # the client is closed
    # The function sent, unpickled where `grading` cannot be imported, on a
    # scheduler whose task "a-task" lost two workers.
    check = (
        "import pickle, sys, types\n"
        "sys.modules['grading'] = None\n"
        "count = pickle.loads(sys.stdin.buffer.read())\n"
        "task = types.SimpleNamespace(suspicious=2)\n"
        "print(count(types.SimpleNamespace(tasks={'a-task': task})))\n"
    )
    unpickled = subprocess.run(
        [sys.executable, "-c", check], input=cloudpickle.dumps(sent[0]), capture_output=True, timeout=60
    )
    assert unpickled.stdout.decode().strip() == "2", unpickled.stderr.decode()[-2000:]
