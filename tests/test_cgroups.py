"""A cgroup per sandboxed kernel (grading/plugins/cgroups.py): the groups
real kernels get and what their limits hold back, cleanup, and the parsing
of /proc's cgroup and mount files."""

import asyncio
import atexit
import concurrent.futures
import copy
import errno
import glob
import json
import os
import subprocess
import sys
import time

import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from conftest import COURSE_CONFIG, REPO, output_text
from grading.plugins.cgroups import (
    CONTROLLERS,
    PREFIX,
    Hierarchy,
    KernelGroup,
    _delegate,
    create_group,
    grader_hierarchies,
    group_folder,
    join_command,
    own_hierarchies,
    parse_mountinfo,
    parse_proc_cgroup,
    remove_stale_groups,
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


def read(path):
    with open(path) as file:
        return file.read()


def cgroups_missing():
    """What this machine lacks for kernel groups, in words, or None.

    Found by hand (a group made and removed in each hierarchy), not through
    create_group: where cgroups can be used, a fault of create_group must
    fail the tests that need them, not skip them, in CI as anywhere."""
    try:
        hierarchies = own_hierarchies(read("/proc/self/cgroup"), read("/proc/self/mountinfo"))
    except OSError as error:
        return f"this process's cgroups cannot be read: {error}"
    offered = {controller for hierarchy in hierarchies for controller in hierarchy.controllers}
    if missing := [controller for controller in CONTROLLERS if controller not in offered]:
        return f"no cgroup hierarchy mounted here has the {', '.join(missing)} controller"
    for hierarchy in hierarchies:
        if hierarchy.version == 2:
            available = read(os.path.join(hierarchy.folder, "cgroup.controllers")).split()
            if missing := [name for name in hierarchy.controllers if name not in available]:
                return f"the cgroup v2 group {hierarchy.folder} is given no {', '.join(missing)} controller"
        probe = os.path.join(hierarchy.folder, f"{PREFIX}probe-{os.getpid()}")
        try:
            os.mkdir(probe)
        except OSError as error:
            return f"no cgroup can be made in {hierarchy.folder}: {error.strerror} (user id {os.geteuid()})"
        os.rmdir(probe)
    return None


@pytest.fixture(scope="module")
def cgroups_in_use():
    """Skips, saying what is missing, where this machine offers this process
    no cgroups (not root, say); where it does, kernel groups must work."""
    missing = cgroups_missing()
    if missing:
        pytest.skip(f"cgroups cannot be used here: {missing}")
    group = create_group(1.0, 256, 16)
    problems = group.problems
    assert group.remove() == []
    assert not problems, f"cgroups can be used here, yet create_group says {problems}"


def own_v2_group():
    """This process's own group on a cgroup v2 hierarchy (with controllers or
    without), or None where none is mounted."""
    own = parse_proc_cgroup(read("/proc/self/cgroup")).get("")
    mounts = parse_mountinfo(read("/proc/self/mountinfo")).get("")
    return group_folder(own, mounts) if own and mounts else None


def client_for(sources, workdir, config):
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources], metadata=KERNELSPEC)
    return NotebookClient(
        notebook,
        timeout=60,
        iopub_timeout=60,  # the outputs are small, but the machine may be loaded
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


def ended_pid():
    """The id of a process that has ended: a grader that no longer runs."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


def stale_group_names(dead):
    """{name: whether remove_stale_groups removes it, when empty} for
    groups below a grader's, where dead is the id of a process that ended."""
    return {
        f"grading-kernel-{dead}-0123abcd": True,  # a kernel's, its grader killed
        f"grading-grader-{dead}": True,  # a killed grader's own leaf (cgroup v2)
        f"grading-kernel-{os.getpid()}-4567cdef": False,  # its grader runs: this one
        f"grading-grader-{os.getpid()}": False,
        f"grading-kernel-{dead}-notours": False,  # not a name the grader gives
        f"someone-elses-{dead}": False,
    }


def test_stale_groups_are_told_by_name_and_by_their_grader(tmp_path):
    """Which folders remove_stale_groups takes for the leftovers of a killed
    grader, here in a plain folder; a folder it cannot remove (not empty,
    as a group that holds a process) stays, and a missing folder is no error."""
    names = stale_group_names(ended_pid())
    for name in names:
        (tmp_path / name).mkdir()
    busy = tmp_path / f"grading-kernel-{ended_pid()}-89abcdef"
    (busy / "inside").mkdir(parents=True)
    remove_stale_groups(str(tmp_path))
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [name for name, removed in names.items() if not removed] + [busy.name]
    )
    remove_stale_groups(str(tmp_path / "missing"))


def test_a_stale_group_that_holds_a_process_is_left_alone(cgroups_in_use):
    """On a real cgroup hierarchy: the empty groups of a killed grader go, a
    group of its that still holds a process stays (rmdir refuses it) and
    the process goes on running; other groups stay."""
    hierarchy = grader_hierarchies()[0].folder
    dead = ended_pid()
    names = stale_group_names(dead)
    busy = os.path.join(hierarchy, f"grading-kernel-{dead}-89abcdef")
    folders = [os.path.join(hierarchy, name) for name in names] + [busy]
    for folder in folders:
        os.mkdir(folder)
    sleeper = subprocess.Popen(join_command([os.path.join(busy, "cgroup.procs")], ["sleep", "60"]))
    try:
        deadline = time.monotonic() + 5
        while not KernelGroup(folders=[busy]).pids() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert KernelGroup(folders=[busy]).pids() == {sleeper.pid}
        remove_stale_groups(hierarchy)
        assert {name: not os.path.exists(os.path.join(hierarchy, name)) for name in names} == names
        assert os.path.isdir(busy) and sleeper.poll() is None
    finally:
        for folder in folders:
            assert KernelGroup(folders=[folder]).remove() == []
        sleeper.wait(timeout=5)


@pytest.fixture
def v2_group():
    """(folder, controllers): a new empty group below this process's own
    cgroup v2 group, and the controllers it is given to hand on.

    Where the own group hands its children none, it is made to give one
    where cgroup v2 allows that while it holds processes (at the root of
    the hierarchy, as in a container), and made to stop giving it after."""
    parent = own_v2_group()
    if parent is None:
        pytest.skip("no cgroup v2 hierarchy is mounted here")
    control = os.path.join(parent, "cgroup.subtree_control")
    try:
        given, enabled = read(control).split(), []
        available = read(os.path.join(parent, "cgroup.controllers")).split()
    except OSError as error:
        pytest.skip(f"the cgroup v2 group {parent} cannot be read: {error.strerror}")
    if not given:
        if not available:
            pytest.skip(f"the cgroup v2 group {parent} has no controller to hand on")
        try:
            with open(control, "w") as file:
                file.write(f"+{available[0]}")
        except OSError as error:
            pytest.skip(f"{parent} cannot give its children the {available[0]} controller: {error.strerror}")
        given = enabled = [available[0]]
    folder = os.path.join(parent, f"{PREFIX}test-{os.getpid()}-delegate")
    try:
        os.mkdir(folder)
    except OSError as error:
        pytest.skip(f"no cgroup v2 group can be made in {parent}: {error.strerror}")
    try:
        yield folder, tuple(given)
    finally:
        for leaf in glob.glob(os.path.join(folder, "*/")):
            assert KernelGroup(folders=[leaf.rstrip("/")]).remove() == []
        assert KernelGroup(folders=[folder]).remove() == []
        for name in enabled:
            with open(control, "w") as file:
                file.write(f"-{name}")


# Calls _delegate in a group it joined before it started, as the grader
# does with its own group, says what came of it and where it is then, and
# waits in its group until its standard input is closed.
DELEGATE = """
import json, sys
from grading.plugins.cgroups import _delegate
folder, *controllers = sys.argv[1:]
try:
    came = {"delegated": list(_delegate(folder, tuple(controllers)))}
except OSError as error:
    came = {"errno": error.errno}
came["group"] = [line for line in open("/proc/self/cgroup").read().splitlines() if line.startswith("0::")]
print(json.dumps(came), flush=True)
sys.stdin.read()
"""


def delegate_in(folder, controllers):
    """(what _delegate gave, the v2 group it ended in, the process) in a
    process that starts inside folder."""
    process = subprocess.Popen(
        join_command(
            [os.path.join(folder, "cgroup.procs")], [sys.executable, "-c", DELEGATE, folder, *controllers]
        ),
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    came = json.loads(process.stdout.readline())
    return came, came["group"][0].removeprefix("0::"), process


def test_a_grader_in_its_group_moves_into_a_leaf_to_hand_on_controllers(v2_group):
    """cgroup v2 refuses a group's controllers to its children while the
    group holds a process: the grader, alone in its group, moves itself into
    a leaf (grading-grader-<pid>) and then enables them. A controller the
    group is not given is left out."""
    folder, given = v2_group
    came, group, process = delegate_in(folder, [*given, "no-such-controller"])
    try:
        assert came["delegated"] == list(given)
        assert group.endswith(f"/{os.path.basename(folder)}/grading-grader-{process.pid}")
        assert set(given) <= set(read(os.path.join(folder, "cgroup.subtree_control")).split())
        assert read(os.path.join(folder, "cgroup.procs")).split() == []  # none left beside the leaf
    finally:
        process.stdin.close()
        process.wait(timeout=10)


def test_controllers_cannot_be_handed_on_while_another_process_shares_the_group(v2_group):
    """Another process in the grader's group stays where it is: the
    controllers cannot be enabled, and _delegate says so (create_group then
    leaves the hierarchy out, with the reason)."""
    folder, given = v2_group
    neighbour = subprocess.Popen(join_command([os.path.join(folder, "cgroup.procs")], ["sleep", "60"]))
    try:
        deadline = time.monotonic() + 5
        while neighbour.pid not in KernelGroup(folders=[folder]).pids() and time.monotonic() < deadline:
            time.sleep(0.01)
        came, _, process = delegate_in(folder, given)
        process.stdin.close()
        process.wait(timeout=10)
        assert came["errno"] == errno.EBUSY, came
        assert read(os.path.join(folder, "cgroup.subtree_control")).split() == []
        assert neighbour.poll() is None
    finally:
        neighbour.kill()
        neighbour.wait()


def test_a_group_with_no_process_hands_on_controllers_where_it_is(v2_group):
    """An empty group (or one already handing them on) needs no leaf: the
    calling process stays in its own group."""
    folder, given = v2_group
    before = read("/proc/self/cgroup")
    assert _delegate(folder, given) == given
    assert _delegate(folder, given) == given  # given already: nothing to enable
    assert _delegate(folder, ()) == ()
    assert set(given) <= set(read(os.path.join(folder, "cgroup.subtree_control")).split())
    assert read("/proc/self/cgroup") == before
    assert glob.glob(os.path.join(folder, "grading-grader-*")) == []


def test_cgroup_v2_kill_ends_a_group():
    """cgroup.kill, as cleanup uses it on cgroup v2 (here on whatever v2
    hierarchy this machine mounts, with controllers or without)."""
    parent = own_v2_group()
    if parent is None:
        pytest.skip("no cgroup v2 hierarchy is mounted here")
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
