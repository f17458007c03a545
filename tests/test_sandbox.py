"""The sandboxed kernel that runs student code when autograding
(grading/plugins/sandbox.py): what it isolates, measured from inside a real
kernel; the file system it shows, its environment and its provisioner."""

import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys

import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from conftest import COURSE_CONFIG, output_text
from grading.plugins.sandbox import (
    THREAD_COUNTS,
    SandboxError,
    SandboxKernelManager,
    SandboxProvisioner,
    allow_list_mounts,
    grader_config_files,
    kernel_environment,
    notebooks_in,
    parent_folders,
    remove_stale_socket_folders,
    workdir_entries,
)

FILL = """
def fill(path, megabytes):
    with open(path, "wb") as file:
        for _ in range(megabytes):
            file.write(bytes(2**20))
"""
PROBES = {
    "user": "import os; print(os.getuid())",
    "limits": (
        "import resource\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20,"
        " resource.getrlimit(resource.RLIMIT_CPU)[0])"
    ),
    "pid": "print(os.getpid() < 10)",  # its own process namespace
    "write_here": "open('here.txt', 'w').write('ok'); print(open('here.txt').read())",
    # What nbgrader, as root, once chmodded, copied into feedback or blocked on.
    "link_here": (
        "os.symlink('/etc/shadow', 'leak.html'); os.symlink('/usr/bin/bwrap', 'bwrap'); print('linked')"
    ),
    "fifo_here": "os.mkfifo('zzz.ipynb'); print('made')",
    "fill_here": "fill('big.bin', 100)",
    "change_shown": "open('notes.txt', 'a').write('changed')",
    "listing": "print(sorted(os.listdir('.')))",
    "utils": "from utils.helper import VALUE; print(VALUE)",
    "notebooks": "print(repr(open('Submission.ipynb').read() + open('utils/Copy.ipynb').read()))",
    "big_file": "fill('/tmp/big.bin', 100)",
    "sizes": (
        "print([os.statvfs(f).f_blocks * os.statvfs(f).f_frsize >> 20 for f in ('.', '/tmp', '/dev/shm')])"
    ),
    "socket_folder": "print(os.environ['IPYTHONDIR'])",
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


def snapshot(folder):
    """{path: what it is} of everything below folder, links not followed:
    type, mode, owner, size, time and content of files, targets of links."""
    seen = {}
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(parent, name)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                what = os.readlink(path)
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as file:
                    what = hashlib.sha256(file.read()).hexdigest()
            else:
                what = None
            seen[path] = (info.st_mode, info.st_uid, info.st_size, info.st_mtime_ns, what)
    return seen


def hostile_submission(workdir):
    """A working folder as a hostile earlier step could leave it: the notebook
    with its hidden tests, a link to a secret, a pipe; and the course's helpers."""
    (workdir / "utils").mkdir()
    (workdir / "utils" / "helper.py").write_text("VALUE = 42\n")
    (workdir / "utils" / "Copy.ipynb").write_text("hidden tests")
    (workdir / "Submission.ipynb").write_text("hidden tests")
    (workdir / "notes.txt").write_text("data of the assignment")
    (workdir / "notes.txt").chmod(0o666)  # writable by all: only the read-only mount stops a write
    (workdir / "leak").symlink_to("/etc/shadow")
    os.mkfifo(workdir / "pipe")


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """Outputs of each probe, run in one sandboxed kernel; the working
    folder, a file outside, and snapshots taken before and after the run."""
    course = tmp_path_factory.mktemp("course")
    workdir = course / "autograded" / "alice" / "assignment"
    workdir.mkdir(parents=True)
    hostile_submission(workdir)
    (course / "gradebook.db").write_text("grades")
    outside = tmp_path_factory.mktemp("elsewhere") / "written.txt"
    watched = [course, "/etc/shadow", shutil.which("bwrap")]
    before = {str(path): snapshot(path) if os.path.isdir(path) else os.lstat(path) for path in watched}
    cells = [new_code_cell(f"OUTSIDE = {str(outside)!r}\n{FILL}")]
    cells += [new_code_cell(source) for source in PROBES.values()]
    notebook = new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    client = NotebookClient(
        notebook,
        timeout=60,
        iopub_timeout=60,  # the outputs are small, but the machine may be loaded
        allow_errors=True,
        config=COURSE_CONFIG,
        kernel_manager_class=SandboxKernelManager,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    after = {str(path): snapshot(path) if os.path.isdir(path) else os.lstat(path) for path in watched}
    outputs = dict(zip(PROBES, (cell.outputs for cell in notebook.cells[1:])))
    return outputs, workdir, outside, (before, after)


def error(outputs):
    errors = [(output.ename, output.evalue) for output in outputs if output.output_type == "error"]
    return errors[0] if errors else None


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_runs_as_a_plain_user_under_limits(probed):
    outputs, _, _, _ = probed
    if os.getuid() == 0:
        assert output_text(outputs["user"]) != "0"
    # The limits nbgrader_config.py sets, as the kernel itself reads them.
    memory_mb, cpu_seconds = map(int, output_text(outputs["limits"]).split())
    configured = SandboxProvisioner(config=COURSE_CONFIG)  # the traits as configured
    assert (memory_mb, cpu_seconds) == (configured.memory_mb, configured.cpu_seconds)
    assert output_text(outputs["pid"]) == "True"


@pytest.mark.slow
@pytest.mark.sandbox
def test_nothing_the_kernel_writes_outlives_it(probed):
    """The working folder is a private tmpfs: the kernel writes there while
    it runs (a file, links, a pipe), and the real folder stays as it was."""
    outputs, workdir, outside, (before, after) = probed
    assert output_text(outputs["write_here"]) == "ok"
    assert output_text(outputs["link_here"]) == "linked"
    assert output_text(outputs["fifo_here"]) == "made"
    # 100 MB do not fit: the folder holds 64 MiB, and no file may be larger.
    assert error(outputs["fill_here"])[0] == "OSError"
    assert after == before  # the course, /etc/shadow and bwrap: not a byte, mode or time changed
    assert sorted(os.listdir(workdir)) == ["Submission.ipynb", "leak", "notes.txt", "pipe", "utils"]
    # The real folder's files are shown read-only.
    assert error(outputs["change_shown"]) == ("OSError", "[Errno 30] Read-only file system: 'notes.txt'")


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_writes_nowhere_else(probed):
    outputs, _, outside, _ = probed
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
def test_the_working_folder_shows_files_and_folders_but_no_link_or_pipe(probed):
    outputs, _, _, _ = probed
    # Listed after the kernel's own writes: here.txt and the rest are its own.
    listing = eval(output_text(outputs["listing"]))
    real = ("notes.txt", "utils", "Submission.ipynb", "leak", "pipe")
    assert [name for name in listing if name in real] == ["Submission.ipynb", "notes.txt", "utils"]
    assert output_text(outputs["utils"]) == "42"  # the course's helpers import from the working folder
    assert output_text(outputs["notebooks"]) == "''"  # notebooks, there and in its folders, read as empty


@pytest.mark.slow
@pytest.mark.sandbox
def test_private_folders_are_small_and_files_limited(probed):
    outputs, _, _, _ = probed
    configured = SandboxProvisioner(config=COURSE_CONFIG)
    assert eval(output_text(outputs["sizes"])) == [
        configured.scratch_mb,
        configured.tmp_mb,
        configured.shm_mb,
    ]
    # /tmp holds 256 MiB, but no file may pass max_file_mb (RLIMIT_FSIZE).
    assert error(outputs["big_file"]) == ("OSError", "[Errno 27] File too large")
    # The kernel's sockets and IPython's folder are on a tmpfs charged to its memory.
    assert output_text(outputs["socket_folder"]).startswith(f"/dev/shm/grading-kernel-{os.getpid()}-")


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_has_no_network(probed):
    outputs, _, _, _ = probed
    assert error(outputs["network"])[0] == "OSError"  # Network is unreachable
    assert error(outputs["name_lookup"])[0] == "gaierror"


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_sees_no_other_account_and_nothing_beside_python(probed):
    outputs, _, _, _ = probed
    assert output_text(outputs["accounts"]) == "2"  # root and the kernel's user
    # Beside the Python environment (the course's .venv, say) nothing is shown.
    assert output_text(outputs["python_neighbours"]) == str([os.path.basename(sys.prefix)])


@pytest.mark.slow
@pytest.mark.sandbox
def test_programs_run_but_forked_kernels_end_at_once(probed):
    outputs, _, _, _ = probed
    assert output_text(outputs["subprocess"]) == "0"
    # The forked copy exits with status 70 (grading/plugins/kernel_startup.py).
    assert outputs["fork"][0]["data"]["text/plain"] == "70"


def test_socket_folders_left_by_a_grader_that_was_killed_are_removed(tmp_path):
    ended = subprocess.Popen(["true"])
    ended.wait()  # a grader that no longer runs
    stale, ours = tmp_path / f"grading-kernel-{ended.pid}-x1", tmp_path / f"grading-kernel-{os.getpid()}-x2"
    for folder in (stale, ours):
        (folder / "ipython").mkdir(parents=True)
    remove_stale_socket_folders(str(tmp_path))
    assert not stale.exists() and ours.exists()


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
    for folder in (venv / "bin", workdir / "utils"):
        folder.mkdir(parents=True)
    (tmp_path / "bin").symlink_to("usr/bin")
    arguments = allow_list_mounts(
        [
            str(tmp_path / "bin"),
            str(venv),
            str(venv / "bin"),
            str(tmp_path / "missing"),
            str(workdir / "utils"),
        ],
        ["/dev/shm/k"],
        {str(workdir / "utils" / "Copy.ipynb"): "/dev/shm/k/empty"},
        {"/tmp": 2**20, str(workdir): 3 * 2**20},
    )
    mounts = [
        arguments[i : i + 3]
        for i, word in enumerate(arguments)
        if word in ("--ro-bind", "--bind", "--symlink")
    ]
    assert mounts == [
        ["--symlink", "usr/bin", str(tmp_path / "bin")],
        ["--ro-bind", str(venv), str(venv)],  # venv/bin is inside it; missing is left out
        ["--ro-bind", str(workdir / "utils"), str(workdir / "utils")],
        ["--bind", "/dev/shm/k", "/dev/shm/k"],
        ["--ro-bind", "/dev/shm/k/empty", str(workdir / "utils" / "Copy.ipynb")],
    ]
    # The working folder is a sized tmpfs, made before what it shows; /tmp too.
    tmpfs = [arguments[i - 4 : i + 2] for i, word in enumerate(arguments) if word == "--tmpfs"]
    assert sorted(tmpfs) == sorted(
        [
            ["--perms", "1777", "--size", str(3 * 2**20), "--tmpfs", str(workdir)],
            ["--perms", "1777", "--size", str(2**20), "--tmpfs", "/tmp"],
        ]
    )
    assert arguments.index("--tmpfs") < arguments.index("--ro-bind")
    # The course folder is only an empty folder made on the way to those mounts.
    made = [arguments[i + 1] for i, word in enumerate(arguments) if word == "--dir"]
    assert str(tmp_path / "course") in made and str(workdir) not in made
    assert arguments[-2:] == ["--remount-ro", "/"]


def test_the_working_folder_shows_its_files_and_folders_and_empty_notebooks_only(tmp_path):
    hostile_submission(tmp_path)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(tmp_path / "socket"))
    (tmp_path / "folder-link").symlink_to(tmp_path / "utils")
    (tmp_path / "utils" / "link.ipynb").symlink_to("/etc/shadow")
    os.mkfifo(tmp_path / "zzz.ipynb")
    # Shown read-only as they are:
    assert workdir_entries(str(tmp_path)) == [str(tmp_path / "notes.txt"), str(tmp_path / "utils")]
    # Shown as empty files:
    assert notebooks_in(str(tmp_path)) == [
        str(tmp_path / "Submission.ipynb"),
        str(tmp_path / "utils" / "Copy.ipynb"),
    ]
    listener.close()


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


def test_a_kernel_gets_one_blas_thread_unless_the_grader_says_otherwise(monkeypatch):
    """Kernels run side by side, one per worker: threads beyond one only
    wait for each other. An instructor may still set a count."""
    for name in THREAD_COUNTS:
        monkeypatch.delenv(name, raising=False)
    assert {kernel_environment("/tmp/k", [], THREAD_COUNTS)[name] for name in THREAD_COUNTS} == {"1"}
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    assert kernel_environment("/tmp/k", [], THREAD_COUNTS)["OPENBLAS_NUM_THREADS"] == "4"


def test_the_sandbox_is_a_registered_kernel_provisioner():
    """jupyter_client finds the provisioner by its entry point, and the
    sandbox's kernel manager asks for it unless the sandbox is turned off."""
    from importlib.metadata import entry_points

    from grading.plugins.sandbox import PROVISIONER_NAME

    found = {ep.name: ep for ep in entry_points(group="jupyter_client.kernel_provisioners")}
    assert found[PROVISIONER_NAME].load() is SandboxProvisioner
    on, off = SandboxKernelManager(), SandboxKernelManager(enabled=False)
    assert on.kernel_spec.metadata["kernel_provisioner"] == {"provisioner_name": PROVISIONER_NAME}
    assert "kernel_provisioner" not in off.kernel_spec.metadata


def sandboxed_kernel_manager(folder, memory_mb):
    """jupyter_client's own kernel manager, given a kernel spec (written in folder) that names
    grading-sandbox and sets a memory limit."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from grading.plugins.sandbox import PROVISIONER_NAME

    spec = folder / "kernels" / "sandboxed"
    spec.mkdir(parents=True)
    provisioner = {"provisioner_name": PROVISIONER_NAME, "config": {"memory_mb": memory_mb}}
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "sandboxed",
                "language": "python",
                "metadata": {"kernel_provisioner": provisioner},
            }
        )
    )
    return AsyncKernelManager(
        kernel_name="sandboxed", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)])
    )


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_provisioner_works_under_any_kernel_manager(tmp_path):
    """Under jupyter_client's own kernel manager, the kernel starts in the sandbox under the
    spec's limit (the provisioner holds its limits itself)."""
    from jupyter_client.utils import run_sync

    manager = sandboxed_kernel_manager(tmp_path, memory_mb=700)
    workdir = tmp_path / "work"
    workdir.mkdir()
    notebook = new_notebook(
        cells=[new_code_cell("import resource\nprint(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)")]
    )
    NotebookClient(notebook, km=manager, timeout=60, resources={"metadata": {"path": str(workdir)}}).execute()
    # nbclient leaves running a kernel whose manager it was given: its owner
    # shuts it down, and the provisioner removes the kernel's cgroup.
    run_sync(manager.shutdown_kernel)(now=True)
    assert output_text(notebook.cells[0].outputs) == "700"
    assert manager.provisioner is None or manager.provisioner.cgroup is None


@pytest.mark.sandbox
def test_a_kernel_given_no_working_folder_is_not_started(tmp_path, monkeypatch):
    """Not in the folder the starting process is in (under nbgrader, the course root, with the
    solutions in source/): a kernel started with no working folder is refused before it runs."""
    from jupyter_client.utils import run_sync

    from grading.plugins.sandbox import SandboxError

    monkeypatch.chdir(tmp_path)
    manager = sandboxed_kernel_manager(tmp_path, memory_mb=700)
    with pytest.raises(SandboxError, match="needs a working folder of its own"):
        run_sync(manager.start_kernel)()
    assert not manager.has_kernel
    assert manager.provisioner is None or manager.provisioner.cgroup is None
