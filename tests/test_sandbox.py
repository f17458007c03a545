"""The sandboxed kernel that runs student code when autograding: what it
isolates, measured from inside a real kernel; and the small pieces that
turn errors and lateness into scores and reasons."""

import asyncio
import atexit
import concurrent.futures
import copy
import glob
import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook, new_output
from traitlets.config.loader import PyFileConfigLoader

from conftest import REPO, printed
from grading.command.pipeline import nbgrader_error
from grading.command.results import exercise_names
from grading.plugins.cgroups import (
    PREFIX,
    Hierarchy,
    KernelGroup,
    create_group,
    grader_hierarchies,
    group_folder,
    join_command,
    own_hierarchies,
    parse_mountinfo,
    parse_proc_cgroup,
)
from grading.plugins.execute import SandboxedExecute
from grading.plugins.late import penalty_for
from grading.plugins.sandbox import (
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
from grading.reasons import Reason, Why, describe_error, first_error, lost_point_reasons
from grading.submissions import inspect_submission

# The course's configuration: the sandbox's limits come from there.
COURSE_CONFIG = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()

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
        allow_errors=True,
        config=COURSE_CONFIG,
        kernel_manager_class=SandboxKernelManager,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    after = {str(path): snapshot(path) if os.path.isdir(path) else os.lstat(path) for path in watched}
    outputs = dict(zip(PROBES, (cell.outputs for cell in notebook.cells[1:])))
    return outputs, workdir, outside, (before, after)


def text(outputs):
    return printed(outputs).strip()


def error(outputs):
    errors = [(output.ename, output.evalue) for output in outputs if output.output_type == "error"]
    return errors[0] if errors else None


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_runs_as_a_plain_user_under_limits(probed):
    outputs, _, _, _ = probed
    if os.getuid() == 0:
        assert text(outputs["user"]) != "0"
    # The limits nbgrader_config.py sets, as the kernel itself reads them.
    memory_mb, cpu_seconds = map(int, text(outputs["limits"]).split())
    configured = SandboxProvisioner(config=COURSE_CONFIG)  # the traits as configured
    assert (memory_mb, cpu_seconds) == (configured.memory_mb, configured.cpu_seconds)
    assert text(outputs["pid"]) == "True"


@pytest.mark.slow
@pytest.mark.sandbox
def test_nothing_the_kernel_writes_outlives_it(probed):
    """The working folder is a private tmpfs: the kernel writes there while
    it runs (a file, links, a pipe), and the real folder stays as it was."""
    outputs, workdir, outside, (before, after) = probed
    assert text(outputs["write_here"]) == "ok"
    assert text(outputs["link_here"]) == "linked"
    assert text(outputs["fifo_here"]) == "made"
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
    listing = eval(text(outputs["listing"]))
    real = ("notes.txt", "utils", "Submission.ipynb", "leak", "pipe")
    assert [name for name in listing if name in real] == ["Submission.ipynb", "notes.txt", "utils"]
    assert text(outputs["utils"]) == "42"  # the course's helpers import from the working folder
    assert text(outputs["notebooks"]) == "''"  # notebooks, there and in its folders, read as empty


@pytest.mark.slow
@pytest.mark.sandbox
def test_private_folders_are_small_and_files_limited(probed):
    outputs, _, _, _ = probed
    configured = SandboxProvisioner(config=COURSE_CONFIG)
    assert eval(text(outputs["sizes"])) == [configured.scratch_mb, configured.tmp_mb, configured.shm_mb]
    # /tmp holds 256 MiB, but no file may pass max_file_mb (RLIMIT_FSIZE).
    assert error(outputs["big_file"]) == ("OSError", "[Errno 27] File too large")
    # The kernel's sockets and IPython's folder are on a tmpfs charged to its memory.
    assert text(outputs["socket_folder"]).startswith(f"/dev/shm/grading-kernel-{os.getpid()}-")


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
    assert text(outputs["accounts"]) == "2"  # root and the kernel's user
    # Beside the Python environment (the course's .venv, say) nothing is shown.
    assert text(outputs["python_neighbours"]) == str([os.path.basename(sys.prefix)])


@pytest.mark.slow
@pytest.mark.sandbox
def test_programs_run_but_forked_kernels_end_at_once(probed):
    outputs, _, _, _ = probed
    assert text(outputs["subprocess"]) == "0"
    # The forked copy exits with status 70 (grading/plugins/kernel_startup.py).
    assert outputs["fork"][0]["data"]["text/plain"] == "70"


# ------------------------------------------------------------------ cgroups

KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
# Starts up to 100 processes that outlive their cell, in sessions of their own.
FORKER = """
import subprocess
started = []
try:
    for _ in range(100):
        started.append(subprocess.Popen(["sleep", "60"], start_new_session=True))
except OSError as error:
    print(type(error).__name__)
print(len(started))
"""
NEIGHBOUR = """
import subprocess, threading, time
threads = [threading.Thread(target=time.sleep, args=(0.5,)) for _ in range(10)]
for thread in threads:
    thread.start()
processes = [subprocess.Popen(["sleep", "0.5"]) for _ in range(10)]
for thread in threads:
    thread.join()
print(len(threads), [process.wait() for process in processes].count(0))
"""
# Three subprocesses of 300 MB and one that writes 640 MB of files in
# /dev/shm, each within the address-space limit: together more than the
# kernel's 1024 MiB. Prints the MiB written and the subprocesses' exit codes.
MEMORY_HOG = """
import subprocess, sys
hold = "import time; b = b'x' * (300 * 2**20); time.sleep(1.5)"
fill = '''
for i in range(20):
    with open(f"/dev/shm/fill{i}", "wb") as file:
        for _ in range(32):
            file.write(b"y" * 2**20)
    print((i + 1) * 32, flush=True)
'''
holders = [subprocess.Popen([sys.executable, "-c", hold]) for _ in range(3)]
filler = subprocess.run([sys.executable, "-c", fill], capture_output=True, text=True)
written = (filler.stdout.split() or ["0"])[-1]
print(written, [filler.returncode] + [holder.wait() for holder in holders])
"""
LIMIT_FILES = ("pids.max", "memory.limit_in_bytes", "memory.max", "cpu.cfs_quota_us", "cpu.max")


def kernel_groups():
    """{folder: {limit file: value}} of the kernel groups this process has now."""
    found = {}
    for hierarchy in grader_hierarchies():
        for folder in glob.glob(os.path.join(hierarchy.folder, f"{PREFIX}{os.getpid()}-*")):
            found[folder] = {
                name: open(os.path.join(folder, name)).read().strip()
                for name in LIMIT_FILES
                if os.path.exists(os.path.join(folder, name))
            }
    return found


def group_members(folders):
    return KernelGroup(folders=list(folders)).pids()


def running(pid):
    """True while pid runs (a zombie has ended: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.fixture(scope="module")
def cgroups_in_use():
    """Skips where this process cannot make kernel groups (not root, say)."""
    group = create_group(1.0, 256, 16)
    group.remove()
    if group.problems:
        pytest.skip(f"cgroups cannot be used here: {group.problems}")


def client_for(sources, workdir, config):
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources], metadata=KERNELSPEC)
    return NotebookClient(
        notebook,
        timeout=60,
        allow_errors=True,
        shutdown_kernel="immediate",  # as grading/plugins/execute.py stops them
        config=config,
        kernel_manager_class=SandboxKernelManager,
        resources={"metadata": {"path": str(workdir)}},
    )


async def run_cell(client, index):
    cell = client.nb.cells[index]
    await client.async_execute_cell(cell, index)
    return cell.outputs


@pytest.fixture(scope="module")
def crowded(cgroups_in_use, tmp_path_factory):
    """Kernels graded side by side: one fills its room with processes; while
    its processes live, a neighbour starts threads and processes, and a third
    kernel uses more memory than it may. What each printed, the groups seen
    meanwhile, and those left after."""
    hungry = copy.deepcopy(COURSE_CONFIG)
    hungry.SandboxProvisioner.memory_mb = 1024
    hungry.SandboxProvisioner.shm_mb = 2048  # /dev/shm's size is not what stops it
    forker = client_for([FORKER, "print('alive')"], tmp_path_factory.mktemp("forker"), COURSE_CONFIG)
    neighbour = client_for([NEIGHBOUR, "print('alive')"], tmp_path_factory.mktemp("neighbour"), COURSE_CONFIG)
    hog = client_for([MEMORY_HOG], tmp_path_factory.mktemp("hog"), hungry)

    async def scenario():
        seen = {}
        async with forker.async_setup_kernel(), neighbour.async_setup_kernel():
            seen["forker"] = text(await run_cell(forker, 0))
            seen["groups"] = kernel_groups()
            seen["members"] = group_members(seen["groups"])
            seen["neighbour"] = text(await run_cell(neighbour, 0))
            try:
                await hog.async_execute()
                seen["hog"] = text(hog.nb.cells[0].outputs)
            except DeadKernelError:
                seen["hog"] = "died"
            seen["alive"] = [text(await run_cell(client, 1)) for client in (neighbour, forker)]
        return seen

    # In a thread of its own: an earlier test (Playwright's) may leave an
    # event loop running in this one, where asyncio.run refuses to start.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        seen = thread.submit(asyncio.run, scenario()).result()
    seen["left"] = kernel_groups()
    deadline = time.monotonic() + 5
    while any(map(running, seen["members"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    seen["running"] = [pid for pid in seen["members"] if running(pid)]
    return seen


@pytest.mark.slow
@pytest.mark.sandbox
def test_each_kernel_has_its_own_group_with_the_configured_limits(crowded):
    configured = SandboxProvisioner(config=COURSE_CONFIG)  # the traits as configured
    groups = crowded["groups"]
    hierarchies = grader_hierarchies()
    assert len(groups) == 2 * len(hierarchies)  # the forker's and the neighbour's, in each hierarchy
    limits = {name: value for group in groups.values() for name, value in group.items()}
    assert limits["pids.max"] == str(configured.max_processes)
    assert limits.get("memory.limit_in_bytes", limits.get("memory.max")) == str(configured.memory_mb * 2**20)
    assert limits.get("cpu.cfs_quota_us", limits.get("cpu.max", "").split(" ")[0]) == "100000"  # one core


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_fork_bomb_takes_no_room_of_the_kernel_beside_it(crowded):
    """RLIMIT_NPROC counts per user, and every kernel runs as nobody: a kernel
    that started ~50 processes made its neighbour fail. A group counts its own."""
    error_name, started = crowded["forker"].split()
    assert error_name == "BlockingIOError" and 30 < int(started) < 64  # stopped at its own limit
    assert crowded["neighbour"] == "10 10"  # its 10 threads and 10 processes all started


@pytest.mark.slow
@pytest.mark.sandbox
def test_memory_beyond_the_limit_fails_in_that_kernel_only(crowded):
    """Each subprocess stays within RLIMIT_AS and tmpfs files count for none
    of them: only the group counts them together."""
    if crowded["hog"] != "died":
        written, codes = crowded["hog"].splitlines()[-1].split(" ", 1)
        assert int(written) < 640 or eval(codes) != [0, 0, 0, 0], crowded["hog"]
    assert crowded["alive"] == ["alive", "alive"]  # the kernels beside it go on


@pytest.mark.slow
@pytest.mark.sandbox
def test_kernel_groups_and_their_processes_end_with_the_kernels(crowded):
    assert len(crowded["members"]) > 30  # the forker's sleeping processes among them
    assert crowded["left"] == {}
    assert crowded["running"] == []


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_kernel_that_cannot_start_leaves_no_group(cgroups_in_use, tmp_path):
    starved = copy.deepcopy(COURSE_CONFIG)
    starved.SandboxProvisioner.memory_mb = 32  # too little for Python to start
    client = client_for(["print(1)"], tmp_path, starved)
    with pytest.raises(RuntimeError, match="died"):
        client.execute()
    atexit.unregister(client._cleanup_kernel)  # nbclient's, for a kernel it has cleaned up already
    assert kernel_groups() == {}


def test_a_group_holds_what_its_command_starts_and_ends_it_when_removed(cgroups_in_use):
    group = create_group(0.5, 128, 16)
    folders = list(group.folders)
    command = join_command(group.procs_files, ["sh", "-c", "sleep 60 & sleep 60 & wait"])
    process = subprocess.Popen(command)
    deadline = time.monotonic() + 5
    while len(group.pids()) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    members = group.pids()
    assert process.pid in members and len(members) == 3
    assert group.remove() == []
    # Killed, or ended at once because its two children were killed first (the
    # shell's `wait` then returns 0; had they lived, it would wait 60 s).
    assert process.wait(timeout=5) in (-9, 0)
    assert not any(os.path.exists(folder) for folder in folders)


def test_groups_left_by_a_grader_that_was_killed_are_removed(cgroups_in_use):
    ended = subprocess.Popen(["true"])
    ended.wait()  # a grader that no longer runs
    stale = [
        os.path.join(hierarchy.folder, f"{PREFIX}{ended.pid}-0123abcd") for hierarchy in grader_hierarchies()
    ]
    for folder in stale:
        os.mkdir(folder)
    create_group(1.0, 256, 16).remove()
    assert not any(os.path.exists(folder) for folder in stale)


def test_socket_folders_left_by_a_grader_that_was_killed_are_removed(tmp_path):
    ended = subprocess.Popen(["true"])
    ended.wait()  # a grader that no longer runs
    stale, ours = tmp_path / f"grading-kernel-{ended.pid}-x1", tmp_path / f"grading-kernel-{os.getpid()}-x2"
    for folder in (stale, ours):
        (folder / "ipython").mkdir(parents=True)
    remove_stale_socket_folders(str(tmp_path))
    assert not stale.exists() and ours.exists()


def test_cgroup_v2_kill_ends_a_group():
    """cgroup.kill, as cleanup uses it on cgroup v2 (here on whatever v2
    hierarchy this machine mounts, with controllers or without)."""
    with open("/proc/self/cgroup") as cgroup, open("/proc/self/mountinfo") as mountinfo:
        own, mounts = parse_proc_cgroup(cgroup.read()).get(""), parse_mountinfo(mountinfo.read()).get("")
    parent = group_folder(own, mounts) if own and mounts else None
    if parent is None:
        pytest.skip("no cgroup v2 hierarchy")
    folder = os.path.join(parent, f"{PREFIX}test-{os.getpid()}")
    try:
        os.mkdir(folder)
    except OSError as error:
        pytest.skip(f"cannot make a cgroup v2 group: {error}")
    group = KernelGroup(folders=[folder])
    process = subprocess.Popen(join_command(group.procs_files, ["sleep", "60"]))
    deadline = time.monotonic() + 5
    while not group.pids() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert group.pids() == {process.pid}
    assert group.remove() == []
    # Killed, or ended at once because its two children were killed first (the
    # shell's `wait` then returns 0; had they lived, it would wait 60 s).
    assert process.wait(timeout=5) in (-9, 0)
    assert not os.path.exists(folder)


V1_CGROUP = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/e385\n2:cpuacct:/\n1:cpu:/\n0::/\n"
V1_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V2_MOUNTINFO = (
    "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
)


def test_cgroup_lines_name_each_controllers_group():
    assert parse_proc_cgroup("2:cpu,cpuacct:/a\n1:name=systemd:/s\n0::/b\n") == {
        "cpu": "/a",
        "cpuacct": "/a",
        "name=systemd": "/s",
        "": "/b",
    }


def test_cgroup_v1_groups_are_one_per_controller():
    # This machine's: the memory controller's group is the grader's own, below the root.
    assert own_hierarchies(V1_CGROUP, V1_MOUNTINFO) == [
        Hierarchy(1, ("cpu",), "/sys/fs/cgroup/cpu"),
        Hierarchy(1, ("memory",), "/sys/fs/cgroup/memory/process_api/e385"),
        Hierarchy(1, ("pids",), "/sys/fs/cgroup/pids"),
    ]


def test_cgroup_v2_group_is_one_for_all_controllers():
    assert own_hierarchies("0::/user.slice/user-0.slice/session-2.scope\n", V2_MOUNTINFO) == [
        Hierarchy(2, ("cpu", "memory", "pids"), "/sys/fs/cgroup/user.slice/user-0.slice/session-2.scope")
    ]
    # In a container's cgroup namespace its own group is the root.
    assert own_hierarchies("0::/\n", V2_MOUNTINFO) == [
        Hierarchy(2, ("cpu", "memory", "pids"), "/sys/fs/cgroup")
    ]


def test_cgroup_groups_in_a_container_are_found_below_the_mounted_part():
    """A container sees only its part of a v1 tree: the mount's root is its
    group. A controller whose group lies outside what is mounted is left out."""
    cgroup = "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n3:pids:/docker/abc/inner\n0::/\n"
    mountinfo = (
        "50 40 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
        "51 40 0:32 /docker/other /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"
        "52 40 0:36 /docker/abc /sys/fs/cgroup/my\\040pids rw,nosuid - cgroup cgroup rw,pids\n"
    )
    assert own_hierarchies(cgroup, mountinfo) == [
        Hierarchy(1, ("cpu",), "/sys/fs/cgroup/cpu,cpuacct"),
        Hierarchy(1, ("pids",), "/sys/fs/cgroup/my pids/inner"),
    ]


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


def test_nbgrader_uses_the_sandbox_when_autograding():
    assert SandboxedExecute in COURSE_CONFIG.Autograde.autograde_preprocessors


# ------------------------------------------------------------------ reasons


@pytest.mark.parametrize(
    "ename, evalue, mark, reason, why",
    [
        ("AssertionError", "Fan-in error: ...", {}, None, None),
        (
            "CellTimeoutError",
            "the cell ran over its budget of 5 s",
            {"outcome": "timed-out"},
            "timed out (the cell ran over its budget of 5 s)",
            Why.TIMED_OUT,
        ),
        (
            "NotRun",
            "not run: cells up to cell 9 ran out of time",
            {"outcome": "not-run"},
            "not run: cells up to cell 9 ran out of time",
            Why.NOT_RUN,
        ),
        (
            "KernelDied",
            "the kernel stopped while running this cell",
            {"outcome": "kernel-stopped"},
            "kernel stopped (os._exit, a crash or a sandbox limit)",
            Why.KERNEL_STOPPED,
        ),
        (
            "MissingAnswer",
            "...",
            {"outcome": "judged", "verdict": "no-answers"},
            "handed in no answers",
            Why.NO_ANSWERS,
        ),
        ("MemoryError", "", {}, "ran out of memory (sandbox limit)", Why.OUT_OF_MEMORY),
        ("SystemExit", "0", {}, "called sys.exit()", Why.EXITED),
        ("NotImplementedError", "", {}, "not answered", Why.NOT_ANSWERED),
        (
            "NotAnswered",
            "Answer error: the function still raises NotImplementedError",
            {},
            "not answered",
            Why.NOT_ANSWERED,
        ),
        (
            "BlockingIOError",
            "[Errno 11] Resource temporarily unavailable",
            {},
            "started too many processes (sandbox limit)",
            Why.TOO_MANY_PROCESSES,
        ),
        (
            "OSError",
            "[Errno 30] Read-only file system: '../x'",
            {},
            "tried to write outside its folder (blocked)",
            Why.WRITE_BLOCKED,
        ),
        (
            "gaierror",
            "[Errno -3] Temporary failure in name resolution",
            {},
            "tried to use the network (blocked)",
            Why.NETWORK_BLOCKED,
        ),
        ("ValueError", "bad shape", {}, "ValueError: bad shape", Why.ERROR),
        # The grader's names, raised by a kernel, without the grader's mark:
        # ordinary errors of the student's code, never the course's fault.
        ("CellTimeoutError", "x", {}, "CellTimeoutError: x", Why.ERROR),
        ("NoReference", "x", {}, "NoReference: x", Why.ERROR),
        ("MissingAnswer", "x", {}, "MissingAnswer: x", Why.ERROR),
        ("KeyboardInterrupt", "", {}, "KeyboardInterrupt: ", Why.ERROR),
    ],
)
def test_errors_are_described_briefly(ename, evalue, mark, reason, why):
    cell = new_code_cell("x", metadata={"grading": mark} if mark else {})
    cell.outputs = [new_output("error", ename=ename, evalue=evalue, traceback=[])]
    described = describe_error(first_error(cell))
    assert (described and described.text) == reason
    assert (described and described.why) == why


def test_a_reason_reads_the_same_as_text_and_as_data():
    reason = Reason(Why.TIMED_OUT, "timed out (a cell ran over 60 s)").for_exercise("he")
    assert str(reason) == "he: timed out (a cell ran over 60 s)"
    assert Reason.from_json(reason.to_json()) == reason


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
    assert lost_point_reasons(notebook, ["test_f", "test_g"]) == [
        ("test_f", Reason(Why.SYNTAX_ERROR, "SyntaxError: invalid syntax"))
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
    missing = Reason(Why.MISSING_NOTEBOOK, "no Work.ipynb in the submission")
    assert inspect_submission(path, release) == ([missing], False)
    path.write_text("{")
    notes, readable = inspect_submission(path, release)
    assert (
        not readable and notes[0].why is Why.UNREADABLE and notes[0].text.startswith("unreadable Work.ipynb")
    )
    edited = nbformat.from_dict(nbformat.reads(nbformat.writes(release), as_version=4))
    edited.cells[1].source = "pass"
    nbformat.write(edited, path)
    edited_locked = Reason(Why.RESTORED_CELL, "edited locked cell test_answer (restored)")
    assert inspect_submission(path, release) == ([edited_locked], True)


@pytest.mark.parametrize("assignment, edition", [("initialization", "_zh"), ("initialization_zh", "")])
def test_a_notebook_of_the_other_edition_is_refused_with_where_to_grade_it(tmp_path, assignment, edition):
    """A Chinese notebook handed in to the English assignment (or the other
    way round) would be graded as a notebook with every cell changed, every
    experiment run: it is refused, and the summary names the assignment."""
    other = f"initialization{edition}"
    release = nbformat.read(REPO / "release" / assignment / "Initialization.ipynb", as_version=4)
    path = tmp_path / "submitted" / "ada" / assignment / "Initialization.ipynb"
    path.parent.mkdir(parents=True)
    shutil.copyfile(REPO / "release" / other / "Initialization.ipynb", path)
    [reason], readable = inspect_submission(path, release)
    assert not readable and reason.why is Why.REFUSED
    assert f"is the notebook of the other edition, {other}" in reason.text
    assert f"python -m grading.grade {other} " in reason.text


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


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_provisioner_works_under_any_kernel_manager(tmp_path):
    """jupyter_client's own kernel manager, given a kernel spec that names
    grading-sandbox and sets a limit: the kernel starts in the sandbox under
    that limit (the provisioner holds its limits itself)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    from grading.plugins.sandbox import PROVISIONER_NAME

    spec = tmp_path / "kernels" / "sandboxed"
    spec.mkdir(parents=True)
    provisioner = {"provisioner_name": PROVISIONER_NAME, "config": {"memory_mb": 700}}
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
    workdir = tmp_path / "work"
    workdir.mkdir()
    notebook = new_notebook(
        cells=[new_code_cell("import resource\nprint(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)")]
    )
    manager = AsyncKernelManager(
        kernel_name="sandboxed", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)])
    )
    NotebookClient(notebook, km=manager, timeout=60, resources={"metadata": {"path": str(workdir)}}).execute()
    assert text(notebook.cells[0].outputs) == "700"


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
