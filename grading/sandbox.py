"""Running student code in a sandboxed Jupyter kernel.

nbgrader executes a submission in a Jupyter kernel. Here that kernel is
started inside bubblewrap (Linux namespaces) under resource limits:

- no network: the kernel gets its own empty network namespace, so it talks to
  nbgrader over Unix sockets (ZeroMQ's ipc transport) instead of TCP;
- an allow-listed file system: the kernel sees the system's programs and
  libraries (SYSTEM_PATHS) and the Python installation, read-only; the
  submission's own folder, writable, with its notebooks (which hold the
  hidden tests once nbgrader has put them back) replaced by empty files; a
  private /tmp; and the folder holding the kernel's sockets. Nothing else
  exists for it: not the rest of the course (source, release, other
  students, the gradebook, the configuration), nor home folders, /srv,
  /var, /opt or /mnt, wherever the course lives;
- a clean environment: the kernel's variables are set from scratch
  (kernel_environment), so nothing the grader exported reaches student code;
- its own process namespace: when the kernel stops, everything it started
  stops with it;
- limits (setrlimit) on address space, CPU seconds and number of processes.
  The process limit counts every process of the kernel's user, so when
  grading as root the kernel runs as an unprivileged user (`nobody`).

Not isolated: the kernel's share of the machine's CPU while it runs, which
only the per-cell timeout and the CPU-seconds limit bound; and what the
student's code can see inside its own kernel, where the hidden tests run
after it (code that prints the cells run after it shows them in its own
outputs).

nbgrader uses this through `SandboxedExecute` (grading/execute.py),
configured in nbgrader_config.py; the limits are traits of
`SandboxKernelManager`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Bool, Integer, List, Unicode


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
    read_only: Sequence[str], read_write: Sequence[str], replaced: dict | None = None
) -> list[str]:
    """bubblewrap arguments for a file system that shows only what is listed.

    read_only: paths shown read-only (a missing one is left out; a link,
    such as /bin -> usr/bin, is made again as a link). read_write: folders
    shown writable, such as the submission's folder. replaced: {path: file
    shown there instead}, read-only, such as an empty file in place of a
    notebook that holds hidden tests. Everything else does not exist for the kernel: the
    root is an empty tmpfs, /tmp a private one, /dev and /proc its own.
    """
    shown = [os.path.normpath(path) for path in read_only if os.path.lexists(path)]
    for path in read_write:
        for folder in shown:
            if is_within(path, folder) and not os.path.islink(folder):
                raise SandboxError(
                    f"{path} lies inside {folder}, which the sandbox shows "
                    "to student code: keep the course outside it"
                )
    arguments = [
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",  # multiprocessing's semaphores
        "--proc",
        "/proc",
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
    ]
    made = {"/dev", "/proc", "/tmp"}
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


def notebooks_in(folder: str) -> list[str]:
    """Every notebook below folder (the one being graded holds the hidden tests)."""
    return sorted(str(path) for path in Path(folder).rglob("*.ipynb") if path.is_file())


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


def limits_command(command: list[str], memory_mb: int, cpu_seconds: int, processes: int) -> list[str]:
    """command run under rlimits (prlimit from util-linux)."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        raise SandboxError("prlimit (util-linux) is not installed")
    return [
        prlimit,
        f"--as={memory_mb * 2**20}",
        f"--cpu={cpu_seconds}",
        f"--nproc={processes}",
        "--",
        *command,
    ]


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in a bubblewrap sandbox under limits."""

    enabled = Bool(True, help="Run kernels in the sandbox. Turn off only for trusted notebooks.").tag(
        config=True
    )
    memory_mb = Integer(4096, help="Address-space limit of the kernel, in MiB.").tag(config=True)
    cpu_seconds = Integer(600, help="CPU seconds the kernel may use in all.").tag(config=True)
    max_processes = Integer(
        64,
        help="Processes and threads the kernel may add to "
        "those its user already runs when it starts. "
        "Linux counts them per user: kernels that run "
        "at the same time as one user share the count.",
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
            "OMP_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "MKL_NUM_THREADS",
        ],
        help="Variables of the grader's environment copied into the kernel's "
        "(when set); the kernel sees no other.",
    ).tag(config=True)

    @property
    def kernel_spec(self):
        """The kernel's spec, naming the sandbox's provisioner (which reads the
        limits above from this manager) when the sandbox is on."""
        spec = super().kernel_spec
        if spec is not None and self.enabled:
            spec.metadata["kernel_provisioner"] = {"provisioner_name": PROVISIONER_NAME}
        return spec


# The name under which pyproject.toml registers SandboxProvisioner with
# jupyter_client (entry point group jupyter_client.kernel_provisioners).
PROVISIONER_NAME = "grading-sandbox"


class SandboxProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching the kernel in bubblewrap
    under prlimit. Its parent is a SandboxKernelManager, whose traits hold the
    limits (c.SandboxKernelManager.* in nbgrader_config.py)."""

    socket_dir = None

    async def pre_launch(self, **kwargs):
        manager = self.parent
        # The kernel has no network, so it listens on Unix sockets in a folder
        # of its own, next to its connection file.
        self.socket_dir = tempfile.mkdtemp(prefix="grading-kernel-")
        manager.transport = "ipc"
        manager.ip = os.path.join(self.socket_dir, "kernel")
        manager.connection_file = os.path.join(self.socket_dir, "connection.json")
        kwargs = await super().pre_launch(**kwargs)
        # Ask the kernel to interrupt itself: a signal sent from here would
        # reach bubblewrap, not the kernel inside it.
        self.kernel_spec.interrupt_mode = "message"
        kernel_cmd = kwargs["cmd"]
        workdir = os.path.abspath(kwargs.get("cwd") or os.getcwd())
        programs = [os.path.dirname(kernel_cmd[0])] if os.path.isabs(kernel_cmd[0]) else []
        programs += [os.path.join(sys.prefix, "bin")]
        # bubblewrap itself starts from the clean environment too: in a user
        # namespace the kernel could read its parent's /proc/1/environ.
        kwargs["env"] = kernel_environment(
            self.socket_dir, dict.fromkeys(programs), manager.passed_environment
        )
        kwargs["cmd"] = self._sandboxed(kernel_cmd, workdir, python_folders(kernel_cmd))
        # The kernel's own console (its banner, messages of forked copies)
        # is noise in a grading run; students' output travels over ZeroMQ.
        kwargs["stdout"] = kwargs["stderr"] = subprocess.DEVNULL
        return kwargs

    def _sandboxed(self, kernel_cmd, workdir, pythons):
        manager = self.parent
        as_root = os.getuid() == 0
        if as_root:
            # RLIMIT_NPROC does not apply to root: the kernel runs as a plain user
            # who may add files to the submission's folder (not change its files).
            account = pwd.getpwnam(manager.user)
            uid, gid = account.pw_uid, account.pw_gid
            kernel_cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--", *kernel_cmd]
        else:
            uid, gid = os.getuid(), os.getgid()
        copy_font_cache(os.path.join(self.socket_dir, "matplotlib"))
        prepare_ipython_dir(os.path.join(self.socket_dir, "ipython"))
        replaced = account_files(self.socket_dir, uid, gid)
        # The notebook being graded lies in workdir with its hidden tests put back.
        empty = os.path.join(self.socket_dir, "hidden-while-grading")
        open(empty, "w").close()
        shown = [*manager.system_paths, *pythons]
        for path in notebooks_in(workdir) + grader_config_files(shown):
            replaced[path] = empty
        if as_root:
            for folder, _, files in os.walk(self.socket_dir):
                for path in [folder] + [os.path.join(folder, name) for name in files]:
                    os.chown(path, uid, gid)
            os.chown(workdir, uid, gid)
        mounts = allow_list_mounts(shown, [workdir, self.socket_dir], replaced)
        command = bubblewrap_command(kernel_cmd, mounts, workdir, as_root)
        processes = user_task_count(uid) + manager.max_processes
        return limits_command(command, manager.memory_mb, manager.cpu_seconds, processes)

    async def cleanup(self, restart=False):
        await super().cleanup(restart=restart)
        if self.socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
            self.socket_dir = None
