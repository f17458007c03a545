"""The sandboxed kernel that runs student code when autograding: what it
isolates, measured from inside a real kernel; and the small pieces that
turn errors and lateness into scores and reasons."""

import os
import sys

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook, new_output
from traitlets.config.loader import PyFileConfigLoader

from conftest import REPO
from grading.execute import SandboxedExecute
from grading.late import penalty_for
from grading.pipeline import exercise_names, nbgrader_error
from grading.reasons import describe_error, lost_point_reasons
from grading.sandbox import (
    SandboxError,
    SandboxKernelManager,
    allow_list_mounts,
    grader_config_files,
    kernel_environment,
    parent_folders,
)
from grading.submissions import inspect_submission

# The course's configuration: the sandbox's limits come from there.
COURSE_CONFIG = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()

PROBES = {
    "user": "import os; print(os.getuid())",
    "limits": (
        "import resource\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20,"
        " resource.getrlimit(resource.RLIMIT_CPU)[0])"
    ),
    "pid": "print(os.getpid() < 10)",  # its own process namespace
    "write_here": "open('here.txt', 'w').write('ok'); print('ok')",
    "write_outside": "open(OUTSIDE, 'w').write('gone')",
    "write_system": "open('/usr/local/written-by-a-student.txt', 'w').write('gone')",
    "write_root": "open('/written-by-a-student.txt', 'w').write('gone')",
    "network": "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)",
    "name_lookup": "socket.getaddrinfo('pypi.org', 443)",
    "subprocess": "import subprocess; print(subprocess.run(['true']).returncode)",
    "accounts": "print(open('/etc/passwd').read().count(':x:'))",
    "python_neighbours": f"print(sorted(os.listdir({os.path.dirname(sys.prefix)!r})))",
    "fork": "pid = os.fork()\nos.waitpid(pid, 0)[1] >> 8",
}


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """Outputs of each probe, run in one sandboxed kernel."""
    workdir = tmp_path_factory.mktemp("submission")
    outside = tmp_path_factory.mktemp("elsewhere") / "written.txt"
    cells = [new_code_cell(f"OUTSIDE = {str(outside)!r}")]
    cells += [new_code_cell(source) for source in PROBES.values()]
    notebook = new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    client = NotebookClient(
        notebook,
        timeout=60,
        allow_errors=True,
        config=COURSE_CONFIG,
        kernel_manager_class=SandboxKernelManager,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    outputs = dict(zip(PROBES, (cell.outputs for cell in notebook.cells[1:])))
    return outputs, workdir, outside


def text(outputs):
    return "".join(output.get("text", "") for output in outputs if output.output_type == "stream").strip()


def error(outputs):
    errors = [(output.ename, output.evalue) for output in outputs if output.output_type == "error"]
    return errors[0] if errors else None


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_runs_as_a_plain_user_under_limits(probed):
    outputs, _, _ = probed
    if os.getuid() == 0:
        assert text(outputs["user"]) != "0"
    # The limits nbgrader_config.py sets, as the kernel itself reads them.
    memory_mb, cpu_seconds = map(int, text(outputs["limits"]).split())
    configured = COURSE_CONFIG.SandboxKernelManager
    assert (memory_mb, cpu_seconds) == (configured.memory_mb, configured.cpu_seconds)
    assert text(outputs["pid"]) == "True"


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_writes_only_in_its_folder(probed):
    outputs, workdir, outside = probed
    assert text(outputs["write_here"]) == "ok"
    assert (workdir / "here.txt").read_text() == "ok"
    # The grader's /tmp is hidden behind a private one; the rest is read-only.
    assert error(outputs["write_outside"])[0] == "FileNotFoundError"
    assert not outside.exists()
    assert error(outputs["write_system"]) == (
        "OSError",
        "[Errno 30] Read-only file system: '/usr/local/written-by-a-student.txt'",
    )
    assert error(outputs["write_root"]) == (
        "OSError",
        "[Errno 30] Read-only file system: '/written-by-a-student.txt'",
    )
    assert not os.path.exists("/usr/local/written-by-a-student.txt")


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_has_no_network(probed):
    outputs, _, _ = probed
    assert error(outputs["network"])[0] == "OSError"  # Network is unreachable
    assert error(outputs["name_lookup"])[0] == "gaierror"


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_sees_no_other_account_and_nothing_beside_python(probed):
    outputs, _, _ = probed
    assert text(outputs["accounts"]) == "2"  # root and the kernel's user
    # Beside the Python environment (the course's .venv, say) nothing is shown.
    assert text(outputs["python_neighbours"]) == str([os.path.basename(sys.prefix)])


@pytest.mark.slow
@pytest.mark.sandbox
def test_programs_run_but_forked_kernels_end_at_once(probed):
    outputs, _, _ = probed
    assert text(outputs["subprocess"]) == "0"
    # The forked copy exits with status 70 (grading/kernel_startup.py).
    assert outputs["fork"][0]["data"]["text/plain"] == "70"


def test_folders_above_a_mount_are_made_open_to_all():
    made = {"/srv"}
    assert parent_folders("/srv/course/autograded/alice", made) == [
        "--perms",
        "0755",
        "--dir",
        "/srv/course",
        "--perms",
        "0755",
        "--dir",
        "/srv/course/autograded",
    ]
    assert parent_folders("/srv/course/autograded/bob", made) == []  # made once


def test_the_file_system_shows_only_what_is_listed(tmp_path):
    venv = tmp_path / "course" / ".venv"
    workdir = tmp_path / "course" / "autograded" / "alice" / "initialization"
    for folder in (venv / "bin", workdir):
        folder.mkdir(parents=True)
    (tmp_path / "bin").symlink_to("usr/bin")
    arguments = allow_list_mounts(
        [str(tmp_path / "bin"), str(venv), str(venv / "bin"), str(tmp_path / "missing")],
        [str(workdir)],
        {str(workdir / "Initialization.ipynb"): "/tmp/k/empty"},
    )
    mounts = [
        arguments[i : i + 3]
        for i, word in enumerate(arguments)
        if word in ("--ro-bind", "--bind", "--symlink")
    ]
    assert mounts == [
        ["--symlink", "usr/bin", str(tmp_path / "bin")],
        ["--ro-bind", str(venv), str(venv)],  # venv/bin is inside it; missing is left out
        ["--bind", str(workdir), str(workdir)],
        ["--ro-bind", "/tmp/k/empty", str(workdir / "Initialization.ipynb")],
    ]
    # The course folder is only an empty folder made on the way to those mounts.
    made = [arguments[i + 1] for i, word in enumerate(arguments) if word == "--dir"]
    assert str(tmp_path / "course") in made
    assert arguments[-2:] == ["--remount-ro", "/"]


def test_a_course_inside_a_shown_folder_is_refused():
    with pytest.raises(SandboxError, match="lies inside /usr"):
        allow_list_mounts(["/usr"], ["/usr/local/course/autograded/alice/initialization"])


def test_grader_configuration_beside_python_is_found_to_be_hidden(tmp_path, monkeypatch):
    config = tmp_path / "venv" / "etc" / "jupyter"
    config.mkdir(parents=True)
    (config / "nbgrader_config.py").write_text("c.CourseDirectory.db_url = 'secret'")
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(config))
    assert grader_config_files([str(tmp_path / "venv")]) == [str(config / "nbgrader_config.py")]
    assert grader_config_files([str(tmp_path / "elsewhere")]) == []


def test_the_kernel_environment_is_built_from_scratch(monkeypatch):
    monkeypatch.setenv("DATABASE_PASSWORD", "secret")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    environment = kernel_environment("/tmp/k", ["/opt/venv/bin"], ["MPLBACKEND", "TZ"])
    assert "DATABASE_PASSWORD" not in environment
    assert environment["MPLBACKEND"] == "Agg"
    assert environment["PATH"].startswith("/opt/venv/bin:")
    assert environment["HOME"] == "/tmp"


def test_nbgrader_uses_the_sandbox_when_autograding():
    assert SandboxedExecute in COURSE_CONFIG.Autograde.autograde_preprocessors


# ------------------------------------------------------------------ reasons


@pytest.mark.parametrize(
    "ename, evalue, reason",
    [
        ("AssertionError", "Fan-in error: ...", None),
        ("CellTimeoutError", "", "timed out (a cell ran over 60 s)"),
        ("KeyboardInterrupt", "", "timed out (a cell ran over 60 s)"),
        (
            "CellTimeoutError",
            "the cell ran over its budget of 5 s",
            "timed out (the cell ran over its budget of 5 s)",
        ),
        (
            "NotRun",
            "not run: cells up to cell 9 ran out of time for 21 s in all",
            "not run: earlier cells ran out of time",
        ),
        ("MemoryError", "", "ran out of memory (sandbox limit)"),
        ("SystemExit", "0", "called sys.exit()"),
        ("NotImplementedError", "", "not answered"),
        ("NotAnswered", "Answer error: the function still raises NotImplementedError", "not answered"),
        (
            "BlockingIOError",
            "[Errno 11] Resource temporarily unavailable",
            "started too many processes (sandbox limit)",
        ),
        (
            "OSError",
            "[Errno 30] Read-only file system: '../x'",
            "tried to write outside its folder (blocked)",
        ),
        ("gaierror", "[Errno -3] Temporary failure in name resolution", "tried to use the network (blocked)"),
        ("ValueError", "bad shape", "ValueError: bad shape"),
    ],
)
def test_errors_are_described_briefly(ename, evalue, reason):
    assert describe_error(ename, evalue, 60) == reason


def graded_cell(source, grade_id, error=None, solution=False):
    cell = new_code_cell(
        source, metadata={"nbgrader": {"grade": not solution, "solution": solution, "grade_id": grade_id}}
    )
    if error:
        cell.outputs = [new_output("error", ename=error[0], evalue=error[1], traceback=[])]
    return cell


def test_a_test_that_cannot_find_its_function_blames_the_solution_cell():
    notebook = new_notebook(
        cells=[
            graded_cell("def f(:", "f", ("SyntaxError", "invalid syntax"), solution=True),
            graded_cell("check(f)", "test_f", ("NameError", "name 'f' is not defined")),
            graded_cell("def g(): pass", "g", solution=True),
            graded_cell("check(g)", "test_g", ("AssertionError", "Scale error")),
        ]
    )
    assert lost_point_reasons(notebook, ["test_f", "test_g"], 60) == [
        ("test_f", "SyntaxError: invalid syntax")
    ]


def test_exercise_names_drop_the_shared_prefix():
    assert exercise_names(["test_initialize_parameters_zeros", "test_initialize_parameters_he"]) == [
        "zeros",
        "he",
    ]
    assert exercise_names(["test_only"]) == ["only"]


@pytest.mark.parametrize(
    "hours_late, penalty",
    [
        (0.2, 0.0),  # within the 15 minutes of grace
        (0.5, 0.8),  # a started day: 10% of 8 points
        (30, 1.6),  # two started days
        (24 * 12, 8),  # never more than the score
    ],
)
def test_late_penalty_per_started_day(hours_late, penalty):
    assert penalty_for(8.0, hours_late * 3600, grace_minutes=15, percent_per_day=10) == pytest.approx(penalty)


def test_inspect_submission_names_what_was_changed(tmp_path):
    release = new_notebook(
        cells=[
            graded_cell("x = 1", "answer", solution=True),
            new_code_cell(
                "check(x)", metadata={"nbgrader": {"grade": True, "locked": True, "grade_id": "test_answer"}}
            ),
        ]
    )
    path = tmp_path / "Work.ipynb"
    assert inspect_submission(path, release) == (["no Work.ipynb in the submission"], False)
    path.write_text("{")
    notes, readable = inspect_submission(path, release)
    assert not readable and notes[0].startswith("unreadable Work.ipynb")
    edited = nbformat.from_dict(nbformat.reads(nbformat.writes(release), as_version=4))
    edited.cells[1].source = "pass"
    nbformat.write(edited, path)
    assert inspect_submission(path, release) == (["edited locked cell test_answer (restored)"], True)


def test_the_sandbox_is_a_registered_kernel_provisioner():
    """jupyter_client finds the provisioner by its entry point, and the
    sandbox's kernel manager asks for it unless the sandbox is turned off."""
    from importlib.metadata import entry_points

    from grading.sandbox import PROVISIONER_NAME, SandboxProvisioner

    found = {ep.name: ep for ep in entry_points(group="jupyter_client.kernel_provisioners")}
    assert found[PROVISIONER_NAME].load() is SandboxProvisioner
    on, off = SandboxKernelManager(), SandboxKernelManager(enabled=False)
    assert on.kernel_spec.metadata["kernel_provisioner"] == {"provisioner_name": PROVISIONER_NAME}
    assert "kernel_provisioner" not in off.kernel_spec.metadata


def test_a_failed_nbgrader_step_is_reported_by_its_cause():
    """nbgrader's exception says only "see the above traceback": the reason
    names the exception in nbgrader's log instead."""
    log = (
        "[INFO] Converting notebook Initialization.ipynb\n"
        "[ERROR] Traceback (most recent call last):\n"
        '  File "base.py", line 3, in convert\n'
        "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked\n"
        "[ERROR] Please see the the above traceback for details on the specific errors on the above failures."
    )
    error = "Traceback ...\nnbgrader.converters.base.NbGraderException: Please see the the above traceback"
    cause = "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked"
    assert nbgrader_error({"success": False, "log": log, "error": error}) == cause
    assert nbgrader_error({"success": False, "log": "[ERROR] ValueError: bad cell", "error": error}) == (
        "ValueError: bad cell"
    )
    assert nbgrader_error({"success": False, "error": error}) == error.splitlines()[-1]
