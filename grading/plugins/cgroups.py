"""A cgroup per sandboxed kernel: limits that count the kernel and everything it starts.

rlimits cannot: RLIMIT_AS is per process and counts no tmpfs file, and RLIMIT_NPROC is per user,
shared by every kernel. Each kernel gets a child of the grader's own group in each hierarchy (v1 or
v2), joined before anything else runs (`join_command`); removing it kills what is left in it.
sandbox.py falls back to rlimits for a missing controller (docs/sandbox.md).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import functools
import os
import re
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

CONTROLLERS = ("cpu", "memory", "pids")
PREFIX = "grading-kernel-"
CPU_PERIOD_US = 100_000
# Exit status of a command that cannot join its group: a kernel runs inside its group or not at all.
JOIN_FAILED = 125


@dataclass(frozen=True)
class Hierarchy:
    """Where the grader's own group is, for some of CONTROLLERS."""

    version: int  # 1 or 2
    controllers: tuple[str, ...]
    folder: str  # the grader's own group, in the mounted cgroup file system


# --------------------------------------------------------------- where the groups are


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """{controller: group path} from /proc/<pid>/cgroup; the v2 group under ''.

    Lines are `4:memory,pids:/x` (v1) or `0::/user.slice/x` (v2).
    """
    groups = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        number, names, path = parts
        if number == "0" and not names:
            groups[""] = path
        for name in filter(None, names.split(",")):
            groups[name] = path
    return groups


def _unescape(field: str) -> str:
    """A path of /proc/self/mountinfo, whose spaces and such are octal escapes (\\040)."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def parse_mountinfo(text: str) -> dict[str, list[tuple[str, str]]]:
    """{controller: [(mount root, mount point), ...]} of the cgroup file systems
    in /proc/<pid>/mountinfo; cgroup2 under ''.

    The mount root is `/` unless a container mounts only its own part of the tree.
    """
    mounts: dict[str, list[tuple[str, str]]] = {}
    for line in text.splitlines():
        before, separator, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not separator or len(fields) < 5 or len(tail) < 3:
            continue
        place = (_unescape(fields[3]), _unescape(fields[4]))
        if tail[0] == "cgroup2":
            mounts.setdefault("", []).append(place)
        elif tail[0] == "cgroup":
            for option in tail[2].split(","):
                mounts.setdefault(option, []).append(place)
    return mounts


def group_folder(path: str, places: list[tuple[str, str]]) -> str | None:
    """The folder of group path in the first mount that shows it, or None."""
    for root, point in places:
        if root == "/" or path == root or path.startswith(root.rstrip("/") + "/"):
            rest = path[len(root) :] if root != "/" else path
            return os.path.normpath(point + "/" + rest.strip("/"))
    return None


def own_hierarchies(proc_cgroup: str, mountinfo: str) -> list[Hierarchy]:
    """Where the grader's own groups are, for CONTROLLERS, from the text of
    /proc/self/cgroup and /proc/self/mountinfo.

    A controller on a v1 hierarchy is used there (left out if not mounted); the others may be on v2.
    """
    groups, mounts = parse_proc_cgroup(proc_cgroup), parse_mountinfo(mountinfo)
    v1: dict[str, list[str]] = {}
    for controller in CONTROLLERS:
        if controller in groups:
            folder = group_folder(groups[controller], mounts.get(controller, []))
            if folder is not None:
                v1.setdefault(folder, []).append(controller)
    hierarchies = [Hierarchy(1, tuple(names), folder) for folder, names in v1.items()]
    rest = tuple(controller for controller in CONTROLLERS if controller not in groups)
    if rest and "" in groups:
        folder = group_folder(groups[""], mounts.get("", []))
        if folder is not None:
            hierarchies.append(Hierarchy(2, rest, folder))
    return hierarchies


@functools.cache
def grader_hierarchies() -> list[Hierarchy]:
    """This process's own groups, read once: kernels go beside the grader's v2 leaf (`_delegate`)."""
    return own_hierarchies(Path("/proc/self/cgroup").read_text(), Path("/proc/self/mountinfo").read_text())


def _delegate(folder: str, controllers: tuple[str, ...]) -> tuple[str, ...]:
    """The controllers of a v2 group that its children get, enabling them when needed.

    v2 delegates only from a group that holds no process, so the grader moves itself into a leaf
    (`grading-grader-<pid>`) and tries again; if other processes stay, the controllers are not used.
    """
    available = Path(folder, "cgroup.controllers").read_text().split()
    wanted = [name for name in controllers if name in available]
    enabled = Path(folder, "cgroup.subtree_control").read_text().split()
    missing = [name for name in wanted if name not in enabled]
    if missing:
        request = " ".join(f"+{name}" for name in missing)
        try:
            Path(folder, "cgroup.subtree_control").write_text(request)
        except OSError as error:
            if error.errno != errno.EBUSY:
                raise
            leaf = os.path.join(folder, f"grading-grader-{os.getpid()}")
            os.makedirs(leaf, exist_ok=True)
            Path(leaf, "cgroup.procs").write_text("0")  # 0: the writing process
            Path(folder, "cgroup.subtree_control").write_text(request)
    return tuple(wanted)


# ------------------------------------------------------------------ a kernel's group


def limit_files(version: int, cpu_cores: float, memory_mb: int, max_processes: int) -> dict:
    """{controller: [(file, value, required), ...]}: the limits, as written to a group.

    Swap is shut off where supported, so memory beyond the limit is refused, not swapped.
    """
    quota = max(1000, int(cpu_cores * CPU_PERIOD_US))
    memory = str(memory_mb * 2**20)
    if version == 2:
        return {
            "cpu": [("cpu.max", f"{quota} {CPU_PERIOD_US}", True)],
            "memory": [("memory.max", memory, True), ("memory.swap.max", "0", False)],
            "pids": [("pids.max", str(max_processes), True)],
        }
    return {
        "cpu": [("cpu.cfs_period_us", str(CPU_PERIOD_US), True), ("cpu.cfs_quota_us", str(quota), True)],
        # memsw (memory + swap) may not be set below the memory limit: after it.
        "memory": [("memory.limit_in_bytes", memory, True), ("memory.memsw.limit_in_bytes", memory, False)],
        "pids": [("pids.max", str(max_processes), True)],
    }


@dataclass
class KernelGroup:
    """The cgroup of one kernel: a folder in each hierarchy used.

    controllers: those it limits; problems: {controller: why it is not used}.
    """

    folders: list[str] = field(default_factory=list)
    controllers: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its id to, to join the group."""
        return [os.path.join(folder, "cgroup.procs") for folder in self.folders]

    def pids(self) -> set[int]:
        """Processes in the group (0 stands for one not seen from this PID namespace)."""
        found: set[int] = set()
        for path in self.procs_files:
            try:
                found.update(int(word) for word in Path(path).read_text().split())
            except FileNotFoundError:
                continue
        return found - {0}

    def kill(self, timeout: float = 10.0) -> bool:
        """Kill every process in the group, those it starts meanwhile too; True once it is empty."""
        for folder in self.folders:
            kill_file = os.path.join(folder, "cgroup.kill")  # v2, Linux 5.14 and later
            if os.path.exists(kill_file):
                with contextlib.suppress(OSError):
                    Path(kill_file).write_text("1")
        deadline = time.monotonic() + timeout
        while pids := self.pids():
            for pid in pids:
                self._kill_member(pid)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _kill_member(self, pid: int) -> None:
        """SIGKILL pid if it is still in the group (a pidfd: a reused number is never hit)."""
        try:
            handle = os.pidfd_open(pid)
        except OSError:  # ended already
            return
        try:
            if pid in self.pids():
                signal.pidfd_send_signal(handle, signal.SIGKILL)
        except OSError:
            pass
        finally:
            os.close(handle)

    def remove(self, timeout: float = 10.0) -> list[str]:
        """Kill what is left in the group and delete its folders; those left behind (an error each)."""
        self.kill(timeout)
        left = []
        for folder in self.folders:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    # Busy while the last killed processes finish exiting.
                    if error.errno != errno.EBUSY or time.monotonic() > deadline:
                        left.append(f"{folder}: {error.strerror}")
                        break
                    time.sleep(0.01)
        _made.pop(id(self), None)
        self.folders = []
        return left


# Groups made by this process and not yet removed: removed at exit at the latest.
_made: dict[int, KernelGroup] = {}


@atexit.register
def _remove_left_groups() -> None:
    for group in list(_made.values()):
        group.remove(timeout=2)


# Names of the groups made here: a kernel's, and a grader's own leaf (cgroup v2).
OUR_GROUP = re.compile(r"grading-(?:kernel|grader)-([0-9]+)(?:-[0-9a-f]+)?")


def remove_stale_groups(folder: str) -> None:
    """Delete the empty groups below folder left by graders no longer running (rmdir refuses a
    group that still holds a process)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = OUR_GROUP.fullmatch(name)
        if match and not os.path.exists(f"/proc/{match.group(1)}"):
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(folder, name))


def create_group(cpu_cores: float, memory_mb: int, max_processes: int) -> KernelGroup:
    """A new group for one kernel below the grader's own, with these limits.

    A hierarchy that cannot be used is left out, and why is in `problems`.
    """
    group = KernelGroup()
    name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        hierarchies = grader_hierarchies()
    except OSError as error:
        hierarchies = []
        group.problems = {controller: str(error) for controller in CONTROLLERS}
    for hierarchy in hierarchies:
        folder = os.path.join(hierarchy.folder, name)
        try:
            controllers = hierarchy.controllers
            if hierarchy.version == 2:
                controllers = _delegate(hierarchy.folder, controllers)
            if not controllers:
                continue
            remove_stale_groups(hierarchy.folder)
            os.mkdir(folder)
            group.folders.append(folder)
            _made[id(group)] = group
            limits = limit_files(hierarchy.version, cpu_cores, memory_mb, max_processes)
            for controller in controllers:
                for file, value, required in limits[controller]:
                    try:
                        Path(folder, file).write_text(value)
                    except OSError:
                        if required:  # swap accounting, say, may be off
                            raise
            group.controllers += controllers
        except OSError as error:
            if folder in group.folders:
                group.folders.remove(folder)
                with contextlib.suppress(OSError):
                    os.rmdir(folder)
            for controller in hierarchy.controllers:
                group.problems[controller] = f"{error.strerror or error} in {hierarchy.folder}"
    for controller in CONTROLLERS:
        if controller not in group.controllers and controller not in group.problems:
            group.problems[controller] = "no cgroup hierarchy of this process offers it"
    return group


def join_command(procs_files: list[str], command: list[str]) -> list[str]:
    """command, run by a shell that first moves itself into the group.

    The shell joins ($$) and then execs command, so every process is in the group from its first
    instruction. The paths are arguments, not part of the script: no quoting to get wrong.
    """
    if not procs_files:
        return command
    script = f'while [ "$1" != -- ]; do echo $$ > "$1" || exit {JOIN_FAILED}; shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *procs_files, "--", *command]
