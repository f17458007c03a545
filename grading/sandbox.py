"""Running student code in a sandboxed Jupyter kernel.

nbgrader executes a submission in a Jupyter kernel. Here that kernel is
started inside bubblewrap (Linux namespaces) under resource limits:

- no network: the kernel gets its own empty network namespace, so it talks to
  nbgrader over Unix sockets (ZeroMQ's ipc transport) instead of TCP;
- a read-only file system, except the submission's own folder, a private
  /tmp and the folder holding the kernel's sockets;
- its own process namespace: when the kernel stops, everything it started
  stops with it;
- limits (setrlimit) on address space, CPU seconds and number of processes.
  The process limit counts every process of the kernel's user, so when
  grading as root the kernel runs as an unprivileged user (`nobody`).

Not isolated: reading files that the grading user may read (the course's
source notebooks included, unless the file system hides them), and the
kernel's share of the machine's CPU while it runs, which only the per-cell
timeout and the CPU-seconds limit bound.

nbgrader uses this through `SandboxedExecute`, configured in
nbgrader_config.py; the limits are traits of `SandboxKernelManager`.
"""

import os
import pwd
import shutil
import subprocess
import sys
import tempfile

from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode


class SandboxError(RuntimeError):
    """The sandbox cannot be set up on this machine."""


def user_task_count(uid):
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


def closed_ancestors(path):
    """Folders above path that other users may not enter (such as /root)."""
    closed = []
    parent = os.path.dirname(path)
    while parent != os.path.dirname(parent):
        if not os.stat(parent).st_mode & 0o001:
            closed.append(parent)
        parent = os.path.dirname(parent)
    return closed


def reachable_binds(paths):
    """bubblewrap arguments that let an unprivileged kernel reach paths.

    A folder such as /root (mode 700) would hide a Python installed under
    it: it is covered with an empty tmpfs, the folders down to each path are
    made again, open to all, and the paths are mounted back in.
    """
    closed = sorted({folder for path in paths for folder in closed_ancestors(path)})
    arguments = []
    for folder in closed:
        arguments += ["--perms", "0755", "--tmpfs", folder]
    if not closed:
        return arguments
    made = set()
    for path in paths:
        between = []
        parent = os.path.dirname(path)
        while parent not in closed and parent != os.path.dirname(parent):
            between.append(parent)
            parent = os.path.dirname(parent)
        if parent not in closed:
            continue  # nothing above this path is closed
        for folder in reversed(between):
            if folder not in made:
                arguments += ["--perms", "0755", "--dir", folder]
                made.add(folder)
        arguments += ["--ro-bind", path, path]
    return arguments


def binds_in_private_tmp(paths, option):
    """bubblewrap arguments that mount paths (option: --bind or --ro-bind).

    A path inside /tmp lies in the kernel's private /tmp, where bubblewrap
    would make its missing parent folders with mode 700: they are made here
    first, open to all users.
    """
    arguments, made = [], set()
    for path in paths:
        parents = []
        parent = os.path.dirname(path)
        while parent != "/tmp" and parent.startswith("/tmp/"):
            parents.append(parent)
            parent = os.path.dirname(parent)
        for folder in reversed(parents):
            if folder not in made:
                arguments += ["--perms", "0755", "--dir", folder]
                made.add(folder)
        arguments += [option, path, path]
    return arguments


def python_folders():
    """The folders of the Python that runs the kernel (a venv and its base)."""
    return sorted({os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)})


def bubblewrap_command(command, workdir, socket_dir, as_root):
    """command wrapped in bubblewrap: read-only root, writable workdir, no network.

    Run by root, bubblewrap needs no user namespace (the command drops to a
    plain user itself); run by anyone else, it makes one.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxError("bubblewrap (bwrap) is not installed; run scripts/setup.sh "
                           "or `apt-get install bubblewrap`")
    if as_root:
        namespaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net",
                      "--unshare-uts", "--unshare-cgroup-try",
                      *reachable_binds(python_folders())]
    else:
        namespaces = ["--unshare-all"]  # user, ipc, pid, net, uts and cgroup
    return [bwrap,
            "--ro-bind", "/", "/",
            *namespaces,
            "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/dev/shm",  # for multiprocessing's semaphores
            "--proc", "/proc",
            "--perms", "1777", "--tmpfs", "/tmp",  # private; before binds that may lie in /tmp
            # A Python installed in /tmp (a venv in a CI checkout) stays visible.
            *binds_in_private_tmp([folder for folder in python_folders()
                                   if folder.startswith("/tmp/")], "--ro-bind"),
            *binds_in_private_tmp([workdir, socket_dir], "--bind"),
            "--die-with-parent",
            "--chdir", workdir,
            "--setenv", "HOME", "/tmp",
            "--setenv", "IPYTHONDIR", os.path.join(socket_dir, "ipython"),
            "--setenv", "MPLCONFIGDIR", os.path.join(socket_dir, "matplotlib"),
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            # ipykernel would watch a parent it cannot see from its own process
            # namespace; --die-with-parent does that job instead.
            "--unsetenv", "JPY_PARENT_PID",
            # The notebook imports its helpers from its own folder, whatever
            # the grader's environment adds (a Dask worker's PYTHONPATH, say).
            "--unsetenv", "PYTHONPATH", "--unsetenv", "PYTHONSTARTUP",
            "--", *command]


STARTUP_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel_startup.py")


def prepare_ipython_dir(destination):
    """An IPython folder whose startup file hardens the kernel (kernel_startup.py)."""
    startup = os.path.join(destination, "profile_default", "startup")
    os.makedirs(startup, exist_ok=True)
    shutil.copy(STARTUP_FILE, os.path.join(startup, "00-grading-sandbox.py"))


def copy_font_cache(destination):
    """Give a kernel matplotlib's font list, which takes it a second to rebuild."""
    import matplotlib  # here: only the grading process needs it, once

    os.makedirs(destination, exist_ok=True)
    for name in os.listdir(matplotlib.get_cachedir()):
        if name.startswith("fontlist"):
            shutil.copy(os.path.join(matplotlib.get_cachedir(), name), destination)


def limits_command(command, memory_mb, cpu_seconds, processes):
    """command run under rlimits (prlimit from util-linux)."""
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        raise SandboxError("prlimit (util-linux) is not installed")
    return [prlimit, f"--as={memory_mb * 2**20}", f"--cpu={cpu_seconds}",
            f"--nproc={processes}", "--", *command]


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in a bubblewrap sandbox under limits."""

    enabled = Bool(True, help="Run kernels in the sandbox. Turn off only for "
                              "trusted notebooks.").tag(config=True)
    memory_mb = Integer(4096, help="Address-space limit of the kernel, in MiB."
                        ).tag(config=True)
    cpu_seconds = Integer(600, help="CPU seconds the kernel may use in all.").tag(config=True)
    max_processes = Integer(64, help="Processes and threads the kernel may add to "
                                     "those its user already has.").tag(config=True)
    user = Unicode("nobody", help="Unprivileged user that runs the kernel when "
                                  "grading as root.").tag(config=True)

    _socket_dir = None

    async def _async_pre_start_kernel(self, **kwargs):
        if self.enabled:
            # The kernel has no network, so it listens on Unix sockets in a folder
            # of its own, next to its connection file.
            self._socket_dir = tempfile.mkdtemp(prefix="grading-kernel-")
            self.transport = "ipc"
            self.ip = os.path.join(self._socket_dir, "kernel")
            self.connection_file = os.path.join(self._socket_dir, "connection.json")
        return await super()._async_pre_start_kernel(**kwargs)

    async def _async_launch_kernel(self, kernel_cmd, **kwargs):
        if self.enabled:
            # Ask the kernel to interrupt itself: a signal sent from here would
            # reach bubblewrap, not the kernel inside it.
            self.kernel_spec.interrupt_mode = "message"
            workdir = os.path.abspath(kwargs.get("cwd") or os.getcwd())
            kernel_cmd = self._sandboxed(kernel_cmd, workdir)
            # The kernel's own console (its banner, messages of forked copies)
            # is noise in a grading run; students' output travels over ZeroMQ.
            kwargs["stdout"] = kwargs["stderr"] = subprocess.DEVNULL
        return await super()._async_launch_kernel(kernel_cmd, **kwargs)

    def _sandboxed(self, kernel_cmd, workdir):
        copy_font_cache(os.path.join(self._socket_dir, "matplotlib"))
        prepare_ipython_dir(os.path.join(self._socket_dir, "ipython"))
        as_root = os.getuid() == 0
        if as_root:
            # RLIMIT_NPROC does not apply to root: the kernel runs as a plain user
            # who may add files to the submission's folder (not change its files).
            account = pwd.getpwnam(self.user)
            for folder, _, files in os.walk(self._socket_dir):
                for path in [folder] + [os.path.join(folder, name) for name in files]:
                    os.chown(path, account.pw_uid, account.pw_gid)
            os.chown(workdir, account.pw_uid, account.pw_gid)
            kernel_cmd = ["setpriv", f"--reuid={account.pw_uid}",
                          f"--regid={account.pw_gid}", "--clear-groups", "--",
                          *kernel_cmd]
            uid = account.pw_uid
        else:
            uid = os.getuid()
        command = bubblewrap_command(kernel_cmd, workdir, self._socket_dir, as_root)
        processes = user_task_count(uid) + self.max_processes
        return limits_command(command, self.memory_mb, self.cpu_seconds, processes)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None


class SandboxedExecute(Execute):
    """nbgrader's Execute preprocessor, with kernels started in the sandbox.

    A kernel that dies (sys.exit is caught by IPython, but os._exit or a crash
    is not) or a cell that stops answering costs the cells it affects, not
    the whole notebook: the cell gets an error output, so it scores 0, and
    once the kernel is gone the remaining cells are marked as not run.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)

    def preprocess(self, nb, resources=None, km=None):
        self._kernel_lost_at = None
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._kernel_lost_at is not None:
            cell.outputs = [error_output(
                "KernelDied", f"not run: the kernel stopped in cell {self._kernel_lost_at}")]
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._kernel_lost_at = index
            cell.outputs.append(error_output(
                "KernelDied", "the kernel stopped while running this cell "
                              "(os._exit, a crash, or a limit of the sandbox)"))
        except CellTimeoutError as timeout:
            cell.outputs.append(error_output(
                "CellTimeoutError", str(timeout).splitlines()[0]))
        return cell, resources


def error_output(name, message):
    return new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])
