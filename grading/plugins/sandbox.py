"""Running student code in a sandbox: a box.

When autograding, the box holds the runner that executes the notebook
(grading/plugins/box_runner.py, started through SandboxProvisioner.box_command
by grading/plugins/box.py) and the Jupyter kernel the runner starts; the
same sandbox is also a kernel provisioner, for any Jupyter kernel. A box is
bubblewrap (Linux namespaces) under resource limits:

- no network: the box gets its own empty network namespace, with only a
  loopback device, over which its kernel talks to the runner beside it (a
  kernel this provisioner starts for another client uses Unix sockets:
  ZeroMQ's ipc transport);
- an allow-listed file system: the kernel sees the system's programs and
  libraries (SYSTEM_PATHS) and the Python installation, read-only. Its
  working folder (nbgrader's autograded/<student>/<assignment>/) is a
  private, size-limited tmpfs at the same path, showing read-only the real
  folder's files and folders (the course's utils/ helpers among them) but
  not links, pipes or devices; its notebooks, which hold the hidden tests
  once nbgrader has put them back, read as empty files. /tmp and /dev/shm
  are private, size-limited tmpfs too, and the folder holding the kernel's
  sockets is on /dev/shm (see socket_parent). Nothing the kernel writes
  outlives it, and nothing else exists for it: not the rest of the course
  (source, release, other students, the gradebook, the configuration), nor
  home folders, /srv, /var, /opt or /mnt, wherever the course lives;
- a clean environment: the kernel's variables are set from scratch
  (kernel_environment), so nothing the grader exported reaches student code;
- its own process namespace: when the kernel stops, everything it started
  stops with it;
- a cgroup of its own (grading/plugins/cgroups.py), which counts the kernel and
  everything it starts: one CPU core, `memory_mb` of memory (tmpfs files
  included) and `max_processes` processes and threads, for this kernel
  only. Where cgroups cannot be used, per-user and per-process rlimits
  stand in for them (a warning says what is then not isolated);
- rlimits (setrlimit) on address space per process, CPU seconds and the size
  of a file. When grading as root the kernel runs as an unprivileged user
  (`nobody`).

The cgroup and the limits count the runner as well as the kernel.

Not isolated: what the student's code can see inside its own box: the
hidden tests run there after it, and the runner runs as the same user (the
grader trusts nothing the box writes: grading/plugins/outbox.py).

nbgrader uses this through `SandboxedExecute` (grading/plugins/execute.py),
configured in nbgrader_config.py; the limits are traits of the provisioner,
`SandboxProvisioner`.
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

import zmq.asyncio
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


# What a kernel may read of the machine: programs, libraries, fonts and
# shared data under /usr (with the top-level links into it), and from /etc only
# what the dynamic linker, fontconfig and time zones read. (/etc/passwd and
# /etc/group are replaced by ones that name only the kernel's user: see
# account_files.)
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

# Grader settings that may sit in a configuration folder the kernel can see
# (such as <venv>/etc/jupyter): a database URL with its password, say.
GRADER_CONFIG_FILES = ["nbgrader_config.py", "nbgrader_config.json"]


def is_within(path: str, folder: str) -> bool:
    """True when path is folder or lies below it (both absolute, normalized)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def python_folders(kernel_cmd: Sequence[str] = ()) -> list[str]:
    """The folders of the Python that runs the kernel (a venv and its base).

    The grading process's own installation, and the one of the kernel's
    interpreter when its spec names another by absolute path.
    """
    folders = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    if kernel_cmd and os.path.isabs(kernel_cmd[0]):
        for executable in (kernel_cmd[0], os.path.realpath(kernel_cmd[0])):
            folders.add(os.path.dirname(os.path.dirname(os.path.normpath(executable))))
    return sorted(folders)


def parent_folders(path: str, made: set) -> list[str]:
    """bubblewrap arguments that make the folders above path, open to all.

    The sandbox's root is an empty file system: each folder on the way to a
    mounted path is made there, empty, and mode 0755 (bubblewrap's own
    default, 0700, would shut out a kernel that runs as another user).
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

    private: {folder: size in bytes, or None for no size}: a private tmpfs
    there, open to all (mode 1777, as /tmp), made first, so that a path
    shown inside it (a file of the kernel's working folder) appears in it.
    read_only: paths shown read-only (a missing one is left out; a link,
    such as /bin -> usr/bin, is made again as a link). read_write: folders
    shown writable, such as the folder of the kernel's sockets. replaced:
    {path: file shown there instead}, read-only, such as an empty file in
    place of a notebook that holds hidden tests. Everything else does not
    exist for the kernel: the root is an empty tmpfs, /dev and /proc its own.
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

    found = []
    for config_folder in jupyter_config_path():
        config_folder = os.path.realpath(config_folder)
        if any(is_within(config_folder, folder) for folder in folders):
            found += [
                os.path.join(config_folder, name)
                for name in GRADER_CONFIG_FILES
                if os.path.isfile(os.path.join(config_folder, name))
            ]
    return found


def account_files(folder: str, uid: int, gid: int) -> dict:
    """{/etc/passwd: ..., /etc/group: ...}: files in folder naming only root and uid.

    The machine's own would list every account of a shared server (students'
    names among them); Python and IPython only look up the kernel's user.
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
    """What the kernel's working folder shows it, read-only: the real
    folder's files and folders (the utils/ helpers), not its notebooks
    (which the sandbox shows as empty files, see notebooks_in).

    A link, pipe, socket or device is left out: nbgrader, as root, later
    changes the permissions of what it finds there and copies files into
    the feedback, and a pipe would block it.
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
    """Where the kernel's socket folder goes: /dev/shm when there is one.

    The kernel writes in that folder (its sockets, IPython's history), which
    is shown to it from the host. On a disk, a kernel could fill the disk
    there. /dev/shm is a tmpfs whose pages Linux charges to the memory
    cgroup of the writer, so the kernel's memory limit bounds what it can
    put there, and RLIMIT_FSIZE (max_file_mb) bounds each file even
    without cgroups. None: the system's temporary folder.
    """
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def remove_stale_socket_folders(parent: str | None) -> None:
    """Delete the socket folders (grading-kernel-<pid>-*) in parent that
    graders which no longer run left there: one killed with SIGKILL, a worker
    process say, cleans up nothing."""
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

    Run by root, bubblewrap needs no user namespace (the command drops to a
    plain user itself); run by anyone else, it makes one.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxError(
            "bubblewrap (bwrap) is not installed; run scripts/setup.sh or `apt-get install bubblewrap`"
        )
    if as_root:
        namespaces = [
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]
    else:
        namespaces = ["--unshare-all"]  # user, ipc, pid, net, uts and cgroup
    return [
        bwrap,
        *namespaces,
        *mounts,
        "--chdir",
        workdir,
        "--die-with-parent",
        # jupyter_client adds the grader's process id: ipykernel would watch a
        # parent it cannot see from its own process namespace and exit;
        # --die-with-parent does that job instead.
        "--unsetenv",
        "JPY_PARENT_PID",
        "--",
        *command,
    ]


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
    """None when bubblewrap can make the sandbox's namespaces here; else
    why not, in bubblewrap's own words. Cheap: it runs /bin/true in a sandbox
    that shows the whole system read-only."""
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

    Nothing else of the grader's environment (database passwords, tokens,
    cloud credentials) reaches student code; only the variables named in
    passed_names are copied from it, when set.
    """
    environment = {
        "PATH": os.pathsep.join([*path_folders, "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "IPYTHONDIR": os.path.join(socket_dir, "ipython"),
        "MPLCONFIGDIR": os.path.join(socket_dir, "matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
        # One thread for numpy's BLAS: the grader runs a kernel per worker, so
        # more threads only wait for each other. On 2 cores, grading the deep
        # class with --full took 253 s with two threads a kernel, 150 s with one.
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
    return [
        prlimit,
        f"--as={memory_mb * 2**20}",
        f"--cpu={cpu_seconds}",
        f"--nproc={processes}",
        f"--fsize={file_mb * 2**20}",
        "--",
        *command,
    ]


def nproc_ceiling() -> str:
    """RLIMIT_NPROC's hard limit in this process, as prlimit reads it: the
    kernel's limit when the pids cgroup counts its processes instead (the
    per-user count would only get in the way of kernels beside it)."""
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    return "unlimited" if hard == resource.RLIM_INFINITY else str(hard)


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
    """A kernel manager whose kernels run in a bubblewrap sandbox under limits:
    it names SandboxProvisioner in their kernel spec, and caps the size of the
    messages it takes from them."""

    enabled = Bool(True, help="Run kernels in the sandbox. Turn off only for trusted notebooks.").tag(
        config=True
    )
    max_message_mb = Integer(
        64,
        help="Largest message a kernel may send, in MiB: a larger one (a cell printing "
        "hundreds of megabytes at once) ends its connection before it is read, in the "
        "grading box's runner as in a client of this manager.",
    ).tag(config=True)

    def client(self, **kwargs):
        """A client whose sockets drop any message over max_message_mb
        (ZeroMQ's MAXMSGSIZE): the grader never holds a huge output."""
        kwargs.setdefault("context", capped_context(self.max_message_mb * 2**20))
        return super().client(**kwargs)

    @property
    def kernel_spec(self):
        """The kernel's spec, naming the sandbox's provisioner when the sandbox is on."""
        spec = super().kernel_spec
        if spec is not None and self.enabled:
            spec.metadata["kernel_provisioner"] = {"provisioner_name": PROVISIONER_NAME}
        return spec


@functools.cache
def capped_context(max_bytes: int) -> zmq.asyncio.Context:
    """One ZeroMQ context per limit and process, whose sockets refuse
    messages over max_bytes (a context per kernel would leave a thread behind
    each)."""
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, max_bytes)
    return context


# The name under which pyproject.toml registers SandboxProvisioner with
# jupyter_client (entry point group jupyter_client.kernel_provisioners).
PROVISIONER_NAME = "grading-sandbox"


class SandboxProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching the kernel in bubblewrap
    under prlimit, in a cgroup of its own. Its traits are the sandbox's
    limits (c.SandboxProvisioner.* in nbgrader_config.py); it works under
    any kernel manager whose kernel spec names it."""

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
        # The kernel has no network, so it listens on Unix sockets in a folder
        # of its own, next to its connection file.
        self._make_box_folder()
        manager.transport = "ipc"
        manager.ip = os.path.join(self.socket_dir, "kernel")
        manager.connection_file = os.path.join(self.socket_dir, "connection.json")
        try:
            kwargs = await super().pre_launch(**kwargs)
            # Ask the kernel to interrupt itself: a signal sent from here would
            # reach bubblewrap, not the kernel inside it.
            self.kernel_spec.interrupt_mode = "message"
            kernel_cmd = kwargs["cmd"]
            workdir = os.path.abspath(kwargs.get("cwd") or os.getcwd())
            kwargs["env"] = self._environment(kernel_cmd)
            kwargs["cmd"] = self._sandboxed(kernel_cmd, workdir, python_folders(kernel_cmd))
        except BaseException:
            self._discard()  # jupyter_client calls no cleanup for a launch that never was
            raise
        # The kernel's own console (its banner, messages of forked copies)
        # is noise in a grading run; students' output travels over ZeroMQ.
        kwargs["stdout"] = kwargs["stderr"] = subprocess.DEVNULL
        return kwargs

    async def launch_kernel(self, cmd, **kwargs):
        try:
            return await super().launch_kernel(cmd, **kwargs)
        except BaseException:
            self._discard()
            raise

    def box_command(
        self, command: list[str], workdir: str, extra_files: dict | None = None
    ) -> tuple[list, dict]:
        """(command line, environment) that run command in a new box: the
        sandbox a kernel gets, in workdir, with extra_files ({path in the
        box: file}) shown read-only. The box's folder (socket_dir, writable by it)
        holds what it writes; call discard() once it has ended."""
        self._make_box_folder()
        try:
            workdir = os.path.abspath(workdir)
            sandboxed = self._sandboxed(command, workdir, python_folders(command), extra_files)
            return sandboxed, self._environment(command)
        except BaseException:
            self._discard()
            raise

    def _make_box_folder(self) -> None:
        """A new folder for the box's sockets and files (socket_dir), first
        deleting those that graders no longer running left behind."""
        remove_stale_socket_folders(socket_parent())
        self.socket_dir = tempfile.mkdtemp(prefix=f"grading-kernel-{os.getpid()}-", dir=socket_parent())

    def _environment(self, command: list[str]) -> dict:
        """The box's whole environment, command's folder first on its PATH.
        bubblewrap itself starts from it too: in a user namespace the kernel
        could read its parent's /proc/1/environ."""
        programs = [os.path.dirname(command[0])] if os.path.isabs(command[0]) else []
        programs += [os.path.join(sys.prefix, "bin")]
        return kernel_environment(self.socket_dir, dict.fromkeys(programs), self.passed_environment)

    def discard_processes(self) -> None:
        """Kill every process left in the box's cgroup, keeping its folder."""
        if self.cgroup is not None:
            self.cgroup.kill()

    def discard(self) -> None:
        """Kill what is left of a box and delete its cgroup and folder."""
        self._discard()

    def _sandboxed(self, kernel_cmd, workdir, pythons, extra_files=None):
        as_root = os.getuid() == 0
        if as_root:
            # The kernel runs as a plain user, who may not write in the
            # course, and to whom the rlimit on processes applies.
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
        # The notebook being graded lies in workdir with its hidden tests put
        # back: there and in its folders, every notebook reads as empty.
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
        private = {
            "/dev/shm": self.shm_mb * 2**20 if sized else None,
            "/tmp": self.tmp_mb * 2**20 if sized else None,
            workdir: self.scratch_mb * 2**20 if sized else None,
        }
        mounts = allow_list_mounts([*shown, *workdir_entries(workdir)], [self.socket_dir], replaced, private)
        return self._limited(bubblewrap_command(kernel_cmd, mounts, workdir, as_root), uid, sized)

    def _limited(self, command: list[str], uid: int, sized_tmpfs: bool) -> list[str]:
        """command run in the kernel's new cgroup, under rlimits."""
        group = self._make_cgroup(sized_tmpfs)
        if "pids" in group.controllers:
            processes = nproc_ceiling()
        else:
            processes = user_task_count(uid) + self.max_processes
        command = limits_command(command, self.memory_mb, self.cpu_seconds, processes, self.max_file_mb)
        return join_command(group.procs_files, command)

    def _make_cgroup(self, sized_tmpfs: bool) -> KernelGroup:
        """The kernel's cgroup (none when use_cgroups is off); warns, once per
        process and kind, of what is not isolated without it."""
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

    def _discard(self) -> None:
        """Kill what is left in the kernel's cgroup and delete the group and the socket folder."""
        if self.cgroup is not None:
            for problem in self.cgroup.remove():
                self.log.warning("grading sandbox: could not remove the kernel's cgroup %s", problem)
            self.cgroup = None
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None

    async def cleanup(self, restart=False):
        await super().cleanup(restart=restart)
        # What the kernel left running (a process that escaped its session,
        # say) ends with its cgroup.
        self._discard()
