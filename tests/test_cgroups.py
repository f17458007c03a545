"""A cgroup per sandboxed kernel (grading/plugins/cgroups.py): the groups
real kernels get and what their limits hold back, cleanup, and the parsing
of /proc's cgroup and mount files."""

import asyncio
import atexit
import concurrent.futures
import copy
import glob
import os
import subprocess
import time

import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from conftest import COURSE_CONFIG, output_text
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
from grading.plugins.sandbox import SandboxKernelManager, SandboxProvisioner

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
            seen["forker"] = output_text(await run_cell(forker, 0))
            seen["groups"] = kernel_groups()
            seen["members"] = group_members(seen["groups"])
            seen["neighbour"] = output_text(await run_cell(neighbour, 0))
            try:
                await hog.async_execute()
                seen["hog"] = output_text(hog.nb.cells[0].outputs)
            except DeadKernelError:
                seen["hog"] = "died"
            seen["alive"] = [output_text(await run_cell(client, 1)) for client in (neighbour, forker)]
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
