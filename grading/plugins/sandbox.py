"""Running student code in a sandbox: a box.

A box is bubblewrap (Linux namespaces) under resource limits. When autograding it holds the runner
(box_runner.py, started by box.py through SandboxProvisioner.box_command) and the kernel it starts;
SandboxProvisioner is also a kernel provisioner for any Jupyter kernel. Student code gets:

- no network: an empty network namespace, loopback only;
- an allow-listed file system: SYSTEM_PATHS and the Python installation, read-only; its working
  folder is a private, size-limited tmpfs showing the real folder's files read-only and its notebooks
  (which hold the hidden tests) as empty files; private /tmp and /dev/shm. Nothing else of the course
  exists for it, and nothing it writes outlives it;
- a clean environment (kernel_environment) and its own process namespace;
- a cgroup of its own (cgroups.py: CPU, memory with tmpfs files, processes), rlimits standing in where
  cgroups cannot be used, and rlimits on address space, CPU seconds and file size. As root the kernel
  runs as `nobody`. The runner counts against the same limits.

Not isolated: the box itself, where the hidden tests run after student code and the runner runs as
the same user; so the grader trusts nothing the box writes (outbox.py). See docs/sandbox.md.
"""

from __future__ import annotations

import functools
import glob
import os
import pwd
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Bool, Float, Integer, List, Unicode

from grading.plugins.cgroups import KernelGroup, create_group, join_command


class SandboxError(RuntimeError):
    """The sandbox cannot be set up on this machine."""


def user_task_count(uid: int) -> int:
    """Number of processes and threads that belong to uid (RLIMIT_NPROC counts both)."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                count += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:  # the process ended while we looked
            continue
    return count


# What a kernel may read of the machine: /usr with its top-level links, and of /etc only what the
# dynamic linker, fontconfig and time zones read (/etc/passwd and /etc/group: see account_files).
SYSTEM_PATHS = [
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/fonts",
    "/etc/localtime",
    "/etc/nsswitch.conf",
]

# Grader settings (a database password, say) that may sit in a config folder the kernel can see.
GRADER_CONFIG_FILES = ["nbgrader_config.py", "nbgrader_config.json"]


def is_within(path: str, folder: str) -> bool:
    """True when path is folder or lies below it (both absolute, normalized)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def python_folders(kernel_cmd: Sequence[str] = ()) -> list[str]:
    """The folders of the Python that runs the kernel (a venv and its base): the grader's, and
    the kernel spec's interpreter's when named by absolute path."""
    folders = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    if kernel_cmd and os.path.isabs(kernel_cmd[0]):
        for executable in (kernel_cmd[0], os.path.realpath(kernel_cmd[0])):
            folders.add(os.path.dirname(os.path.dirname(os.path.normpath(executable))))
    return sorted(folders)


def parent_folders(path: str, made: set) -> list[str]:
    """bubblewrap arguments that make the folders above path, open to all.

    Mode 0755: bubblewrap's 0700 would shut out a kernel run as another user.
    made holds the folders made so far, and is updated.
    """
    arguments, between = [], []
    parent = os.path.dirname(path)
    while parent != "/":
        between.append(parent)
        parent = os.path.dirname(parent)
    for folder in reversed(between):
        if folder not in made:
            arguments += ["--perms", "0755", "--dir", folder]
            made.add(folder)
    return arguments


def allow_list_mounts(
    read_only: Sequence[str],
    read_write: Sequence[str],
    replaced: dict | None = None,
    private: dict | None = None,
) -> list[str]:
    """bubblewrap arguments for a file system that shows only what is listed.

    read_only: paths shown read-only (missing ones left out, links made again as links).
    read_write: folders shown writable (the socket folder). replaced: {path: file shown there
    instead}, read-only. private: {folder: size in bytes or None}: a private tmpfs (mode 1777),
    made first so that paths shown inside it appear in it. Nothing else exists: the root is empty.
    """
    shown = [os.path.normpath(path) for path in read_only if os.path.lexists(path)]
    private = dict(private or {})
    for path in [*read_write, *private]:
        for folder in shown:
            if is_within(path, folder) and not os.path.islink(folder):
                raise SandboxError(
                    f"{path} lies inside {folder}, which the sandbox shows "
                    "to student code: keep the course outside it"
                )
    arguments = ["--dev", "/dev", "--proc", "/proc"]
    made = {"/dev", "/proc", *private}
    for folder, size in sorted(private.items()):
        arguments += parent_folders(folder, made) + ["--perms", "1777"]
        arguments += ["--size", str(size)] if size else []
        arguments += ["--tmpfs", folder]
    mounted = []
    for path in sorted(shown):
        if any(is_within(path, folder) for folder in mounted):
            continue  # already shown with a folder above it
        arguments += parent_folders(path, made)
        if os.path.islink(path):
            arguments += ["--symlink", os.readlink(path), path]
        else:
            arguments += ["--ro-bind", path, path]
            mounted.append(path)
    for path in read_write:
        arguments += parent_folders(path, made) + ["--bind", path, path]
    for path, replacement in sorted((replaced or {}).items()):
        arguments += parent_folders(path, made) + ["--ro-bind", replacement, path]
    # The empty root and the folders made in it take no writes either.
    return arguments + ["--remount-ro", "/"]


def grader_config_files(folders: Sequence[str]) -> list[str]:
    """nbgrader configuration files in Jupyter's configuration folders below folders."""
    from jupyter_core.paths import jupyter_config_path

    configs = [os.path.realpath(config) for config in jupyter_config_path()]
    shown = [config for config in configs if any(is_within(config, folder) for folder in folders)]
    paths = [os.path.join(config, name) for config in shown for name in GRADER_CONFIG_FILES]
    return [path for path in paths if os.path.isfile(path)]


def account_files(folder: str, uid: int, gid: int) -> dict:
    """{/etc/passwd: ..., /etc/group: ...}: files in folder naming only root and uid.

    The machine's own would list every account of a shared server, students' names among them.
    """
    import grp

    try:
        user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
    except KeyError:
        user = group = "grader"
    files = {
        "/etc/passwd": (
            f"root:x:0:0:root:/root:/usr/sbin/nologin\n{user}:x:{uid}:{gid}:{user}:/tmp:/usr/sbin/nologin\n"
        ),
        "/etc/group": f"root:x:0:\n{group}:x:{gid}:\n",
    }
    written = {}
    for target, text in files.items():
        written[target] = os.path.join(folder, os.path.basename(target))
        with open(written[target], "w") as file:
            file.write(text)
    return written


def workdir_entries(workdir: str) -> list[str]:
    """What the kernel's working folder shows it, read-only: the real folder's files and folders.

    Not notebooks (see notebooks_in), links, pipes, sockets or devices: nbgrader, as root, later
    changes permissions of and copies what it finds there, and a pipe would block it.
    """
    shown = []
    with os.scandir(workdir) as entries:
        for entry in entries:
            if entry.name.endswith(".ipynb") or entry.is_symlink():
                continue
            if entry.is_file(follow_symlinks=False) or entry.is_dir(follow_symlinks=False):
                shown.append(entry.path)
    return sorted(shown)


def notebooks_in(folder: str) -> list[str]:
    """Every notebook below folder: regular files only, links not followed
    (the one being graded holds the hidden tests)."""
    found = []
    for parent, _, files in os.walk(folder):
        paths = [os.path.join(parent, name) for name in files if name.endswith(".ipynb")]
        found += [path for path in paths if os.path.isfile(path) and not os.path.islink(path)]
    return sorted(found)


def socket_parent() -> str | None:
    """Where the kernel's socket folder goes: /dev/shm when there is one, else None (the temp folder).

    The kernel writes there, on the host: on a disk it could fill the disk; on /dev/shm its memory
    cgroup bounds what it writes, and RLIMIT_FSIZE bounds each file even without cgroups.
    """
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def remove_stale_socket_folders(parent: str | None) -> None:
    """Delete the socket folders (grading-kernel-<pid>-*) in parent left by graders no longer
    running (one killed with SIGKILL cleans up nothing)."""
    for path in glob.glob(os.path.join(parent or tempfile.gettempdir(), "grading-kernel-*-*")):
        pid = os.path.basename(path).split("-")[2]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            shutil.rmtree(path, ignore_errors=True)


@functools.cache
def bubblewrap_sizes_tmpfs() -> bool:
    """True when bubblewrap can limit a tmpfs's size (--size, 0.7.0 and
    later, and not when installed setuid and run by a plain user)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None or (os.stat(bwrap).st_mode & stat.S_ISUID and os.getuid() != 0):
        return False
    result = subprocess.run([bwrap, "--help"], capture_output=True, text=True)
    return "--size" in result.stdout + result.stderr


def bubblewrap_command(command: list[str], mounts: list[str], workdir: str, as_root: bool) -> list[str]:
    """command wrapped in bubblewrap: its own namespaces, the file system of mounts.

    As root no user namespace is made: the command drops to a plain user itself.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxError(
            "bubblewrap (bwrap) is not installed; run scripts/setup.sh or `apt-get install bubblewrap`"
        )
    if as_root:
        namespaces = [f"--unshare-{name}" for name in ("ipc", "pid", "net", "uts", "cgroup-try")]
    else:
        namespaces = ["--unshare-all"]  # user, ipc, pid, net, uts and cgroup
    # ipykernel would watch the grader's pid, which it cannot see, and exit;
    # --die-with-parent does that job instead.
    options = ["--chdir", workdir, "--die-with-parent", "--unsetenv", "JPY_PARENT_PID"]
    return [bwrap, *namespaces, *mounts, *options, "--", *command]


# What to do when bubblewrap cannot make its namespaces, host by host.
SANDBOX_FIXES = """\
The grading sandbox (bubblewrap) cannot start on this machine, so no
submission can be graded safely; nothing was written to the gradebook.
Usual causes and fixes (README, "When the sandbox cannot start"):
- inside a Docker container: run the grader outside the container, or start
  the container with --security-opt seccomp=unconfined --security-opt
  apparmor=unconfined (or --privileged);
- Ubuntu 24.04 and later, as a plain user: allow unprivileged user
  namespaces (sysctl kernel.apparmor_restrict_unprivileged_userns=0), or
  give /usr/bin/bwrap an AppArmor profile that allows them;
- bubblewrap missing: run scripts/setup.sh, or apt-get install bubblewrap.
Only for notebooks you trust: python -m grading.grade ... --no-sandbox"""


def sandbox_problem() -> str | None:
    """None when bubblewrap can make the sandbox's namespaces here; else why not, in bubblewrap's
    own words (it runs /bin/true in a sandbox)."""
    try:
        command = bubblewrap_command(
            ["true"], ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"], "/", os.getuid() == 0
        )
    except SandboxError as error:
        return str(error)
    try:
        probe = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"{command[0]} could not be run ({error})"
    if probe.returncode != 0:
        said = probe.stderr.strip().splitlines()
        return said[-1] if said else f"{command[0]} exited with status {probe.returncode}"
    return None


# numpy's BLAS (OpenBLAS or MKL) and OpenMP read their thread count from these.
THREAD_COUNTS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def kernel_environment(socket_dir: str, path_folders: Iterable[str], passed_names: Iterable[str]) -> dict:
    """The kernel's whole environment: what Python, IPython and matplotlib need.

    Nothing else of the grader's (passwords, tokens) reaches student code: only passed_names, if set.
    """
    environment = {
        "PATH": os.pathsep.join([*path_folders, "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "IPYTHONDIR": os.path.join(socket_dir, "ipython"),
        "MPLCONFIGDIR": os.path.join(socket_dir, "matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
        # One thread for numpy's BLAS: a kernel per worker already fills the cores (faster on 2 cores).
        **dict.fromkeys(THREAD_COUNTS, "1"),
    }
    environment.update({name: os.environ[name] for name in passed_names if name in os.environ})
    return environment


STARTUP_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_startup.py")


def prepare_ipython_dir(destination: str) -> None:
    """An IPython folder whose startup file hardens the kernel (kernel_startup.py)."""
    startup = os.path.join(destination, "profile_default", "startup")
    os.makedirs(startup, exist_ok=True)
    shutil.copy(STARTUP_FILE, os.path.join(startup, "00-grading-sandbox.py"))


def copy_font_cache(destination: str) -> None:
    """Give a kernel matplotlib's font list, which takes it a second to rebuild."""
    import matplotlib  # here: only the grading process needs it, once

    os.makedirs(destination, exist_ok=True)
    for name in os.listdir(matplotlib.get_cachedir()):
        if name.startswith("fontlist"):
            shutil.copy(os.path.join(matplotlib.get_cachedir(), name), destination)


def limits_command(
    command: list[str], memory_mb: int, cpu_seconds: int, processes: int | str, file_mb: int
) -> list[str]:
    """command run under rlimits (prlimit from util-linux): address space and
    file size in MiB, CPU seconds, processes of the user ("unlimited" allowed)."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        raise SandboxError("prlimit (util-linux) is not installed")
    limits = {"as": memory_mb * 2**20, "cpu": cpu_seconds, "nproc": processes, "fsize": file_mb * 2**20}
    return [prlimit, *(f"--{name}={value}" for name, value in limits.items()), "--", *command]


# What a kernel shares with the kernels beside it when a controller cannot be used.
NOT_ISOLATED = {
    "cpu": "a kernel may use every CPU core",
    "memory": "memory is limited per process only (RLIMIT_AS): a kernel's processes "
    "together may use more, and so may its files in tmpfs (/tmp, /dev/shm, its working "
    "folder, and its socket folder on the host's /dev/shm, there each file up to max_file_mb)",
    "pids": "processes are counted per user (RLIMIT_NPROC), a count shared by the "
    "kernels graded at the same time",
}
_warned: set[str] = set()


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in a bubblewrap sandbox under limits (SandboxProvisioner).
    The grading box starts its kernel itself (box.py) and reads only `enabled` here; kernel_spec
    serves a kernel started through this manager (nbclient's kernel_manager_class)."""

    enabled = Bool(True, help="Run kernels in the sandbox. Turn off only for trusted notebooks.").tag(
        config=True
    )

    @property
    def kernel_spec(self):
        """The kernel's spec, naming the sandbox's provisioner when the sandbox is on."""
        spec = super().kernel_spec
        if spec is not None and self.enabled:
            spec.metadata["kernel_provisioner"] = {"provisioner_name": PROVISIONER_NAME}
        return spec


# SandboxProvisioner's entry point name in pyproject.toml (jupyter_client.kernel_provisioners).
PROVISIONER_NAME = "grading-sandbox"


class SandboxProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching the kernel in bubblewrap under prlimit, in a
    cgroup of its own. Its traits are the sandbox's limits (c.SandboxProvisioner.*)."""

    memory_mb = Integer(
        2048,
        help="Memory of the kernel, in MiB: the limit of its cgroup (all its processes and "
        "tmpfs files together) and the address-space limit of each of its processes.",
    ).tag(config=True)
    cpu_seconds = Integer(600, help="CPU seconds each process of the kernel may use in all.").tag(config=True)
    cpu_cores = Float(1.0, help="CPU cores the kernel's cgroup may use at once (fractions allowed).").tag(
        config=True
    )
    max_processes = Integer(
        64,
        help="Processes and threads the kernel may run, counted by its cgroup. Where "
        "cgroups cannot be used, Linux counts them per user instead: the kernel may add "
        "this many to those its user already runs, a room the kernels that run at the "
        "same time as one user share.",
    ).tag(config=True)
    use_cgroups = Bool(
        True,
        help="Give each kernel a cgroup of its own for its CPU, memory and processes "
        "(grading/plugins/cgroups.py). Off, or where cgroups cannot be used, rlimits stand in.",
    ).tag(config=True)
    scratch_mb = Integer(
        64, help="Size of the kernel's working folder, a private tmpfs that vanishes with it, in MiB."
    ).tag(config=True)
    tmp_mb = Integer(256, help="Size of the kernel's private /tmp, in MiB.").tag(config=True)
    shm_mb = Integer(64, help="Size of the kernel's private /dev/shm, in MiB.").tag(config=True)
    max_file_mb = Integer(
        64, help="Largest file the kernel may write, in MiB (RLIMIT_FSIZE), wherever it writes."
    ).tag(config=True)
    user = Unicode("nobody", help="Unprivileged user that runs the kernel when grading as root.").tag(
        config=True
    )
    system_paths = List(
        Unicode(),
        default_value=SYSTEM_PATHS,
        help="Paths of the machine that student code may read (the Python installation is added to them).",
    ).tag(config=True)
    passed_environment = List(
        Unicode(),
        default_value=[
            "LANG",
            "LC_ALL",
            "TZ",
            "MPLBACKEND",
            "NBGRADER_EXECUTION",
            *THREAD_COUNTS,  # one thread each unless the grader's environment says otherwise
        ],
        help="Variables of the grader's environment copied into the kernel's "
        "(when set); the kernel sees no other.",
    ).tag(config=True)

    socket_dir = None
    cgroup: KernelGroup | None = None

    async def pre_launch(self, **kwargs):
        manager = self.parent  # its connection settings are set here
        # No network: the kernel listens on Unix sockets in a folder of its own.
        self._make_box_folder()
        manager.transport = "ipc"
        manager.ip = os.path.join(self.socket_dir, "kernel")
        manager.connection_file = os.path.join(self.socket_dir, "connection.json")
        try:
            kwargs = await super().pre_launch(**kwargs)
            # Interrupt by message: a signal sent from here would reach bubblewrap, not the kernel.
            self.kernel_spec.interrupt_mode = "message"
            kernel_cmd = kwargs["cmd"]
            if not kwargs.get("cwd"):
                # Never the folder this process happens to be in (under nbgrader, the course root).
                raise SandboxError("a sandboxed kernel needs a working folder of its own: none was given")
            workdir = os.path.abspath(kwargs["cwd"])
            kwargs["env"] = self._environment(kernel_cmd)
            kwargs["cmd"] = self._sandboxed(kernel_cmd, workdir, python_folders(kernel_cmd))
        except BaseException:
            self.discard()  # jupyter_client calls no cleanup for a launch that never was
            raise
        # The kernel's console is noise; students' output travels over ZeroMQ.
        kwargs["stdout"] = kwargs["stderr"] = subprocess.DEVNULL
        return kwargs

    async def launch_kernel(self, cmd, **kwargs):
        try:
            return await super().launch_kernel(cmd, **kwargs)
        except BaseException:
            self.discard()
            raise

    def box_command(
        self, command: list[str], workdir: str, extra_files: dict | None = None
    ) -> tuple[list, dict]:
        """(command line, environment) that run command in a new box in workdir, with extra_files
        ({path in the box: file}) shown read-only. What it writes goes in socket_dir; call
        discard() once it has ended."""
        self._make_box_folder()
        try:
            workdir = os.path.abspath(workdir)
            sandboxed = self._sandboxed(command, workdir, python_folders(command), extra_files)
            return sandboxed, self._environment(command)
        except BaseException:
            self.discard()
            raise

    def _make_box_folder(self) -> None:
        """A new folder for the box's sockets and files (socket_dir); stale ones are deleted first."""
        remove_stale_socket_folders(socket_parent())
        self.socket_dir = tempfile.mkdtemp(prefix=f"grading-kernel-{os.getpid()}-", dir=socket_parent())

    def _environment(self, command: list[str]) -> dict:
        """The box's whole environment, command's folder first on its PATH. bubblewrap starts
        from it too: in a user namespace the kernel could read its parent's /proc/1/environ."""
        programs = [os.path.dirname(command[0])] if os.path.isabs(command[0]) else []
        programs += [os.path.join(sys.prefix, "bin")]
        return kernel_environment(self.socket_dir, dict.fromkeys(programs), self.passed_environment)

    def _sandboxed(self, kernel_cmd, workdir, pythons, extra_files=None):
        as_root = os.getuid() == 0
        if as_root:
            # A plain user: may not write in the course, and RLIMIT_NPROC applies.
            account = pwd.getpwnam(self.user)
            uid, gid = account.pw_uid, account.pw_gid
            kernel_cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *kernel_cmd]
        else:
            uid, gid = os.getuid(), os.getgid()
        if workdir in ("/", "/dev", "/dev/shm", "/proc", "/tmp"):
            raise SandboxError(f"a kernel cannot work in {workdir}: give it a folder of its own")
        copy_font_cache(os.path.join(self.socket_dir, "matplotlib"))
        prepare_ipython_dir(os.path.join(self.socket_dir, "ipython"))
        replaced = {**account_files(self.socket_dir, uid, gid), **(extra_files or {})}
        # The graded notebook in workdir holds the hidden tests: every notebook there and in its
        # subfolders reads as empty, as do grader config files in the folders the kernel sees.
        empty = os.path.join(self.socket_dir, "hidden-while-grading")
        open(empty, "w").close()
        shown = [*self.system_paths, *pythons]
        for path in notebooks_in(workdir) + grader_config_files(shown):
            replaced[path] = empty
        if as_root:
            for folder, _, files in os.walk(self.socket_dir):
                for path in [folder] + [os.path.join(folder, name) for name in files]:
                    os.chown(path, uid, gid)
        sized = bubblewrap_sizes_tmpfs()
        sizes_mb = {"/dev/shm": self.shm_mb, "/tmp": self.tmp_mb, workdir: self.scratch_mb}
        private = {folder: mb * 2**20 if sized else None for folder, mb in sizes_mb.items()}
        mounts = allow_list_mounts([*shown, *workdir_entries(workdir)], [self.socket_dir], replaced, private)
        return self._limited(bubblewrap_command(kernel_cmd, mounts, workdir, as_root), uid, sized)

    def _limited(self, command: list[str], uid: int, sized_tmpfs: bool) -> list[str]:
        """command run in the kernel's new cgroup, under rlimits."""
        group = self._make_cgroup(sized_tmpfs)
        if "pids" in group.controllers:
            # The pids cgroup counts them: RLIMIT_NPROC stays this process's hard limit, as prlimit reads it.
            hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
            processes = "unlimited" if hard == resource.RLIM_INFINITY else str(hard)
        else:
            processes = user_task_count(uid) + self.max_processes
        command = limits_command(command, self.memory_mb, self.cpu_seconds, processes, self.max_file_mb)
        return join_command(group.procs_files, command)

    def _make_cgroup(self, sized_tmpfs: bool) -> KernelGroup:
        """The kernel's cgroup (none when use_cgroups is off); warns once of what is not isolated."""
        if self.use_cgroups:
            group = create_group(self.cpu_cores, self.memory_mb, self.max_processes)
        else:
            group = KernelGroup(problems=dict.fromkeys(NOT_ISOLATED, "use_cgroups is off"))
        self.cgroup = group
        missing = [
            f"{NOT_ISOLATED[name]} (cgroup {name}: {why})" for name, why in sorted(group.problems.items())
        ]
        if not sized_tmpfs:
            missing.append("/tmp, /dev/shm and the working folder have no size limit (bubblewrap < 0.7)")
        message = "; ".join(missing)
        if missing and message not in _warned:
            _warned.add(message)
            self.log.warning("grading sandbox: not isolated between kernels: %s", message)
        return group

    def discard(self) -> None:
        """Kill what is left of a box or kernel and delete its cgroup and socket folder."""
        if self.cgroup is not None:
            for problem in self.cgroup.remove():
                self.log.warning("grading sandbox: could not remove the kernel's cgroup %s", problem)
            self.cgroup = None
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None

    async def cleanup(self, restart=False):
        await super().cleanup(restart=restart)
        # What the kernel left running (a process that escaped its session) ends with its cgroup.
        self.discard()
