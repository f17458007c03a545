"""Runs one notebook inside the grading sandbox and writes what it printed
to one file. This script runs in the box, beside the student's kernel; it
imports nothing of the course, and the grader trusts nothing it writes.

    (cat job.json; sleep infinity) | python box_runner.py FD    (FD: the results file, open to write)

The job, one line of JSON on standard input (execute.py's run_box, "cwd" added by box.py):

    sources            {cell index: source} of the cells to run
    run                those indices, in the order to run them
    budgets            {cell index: seconds, or null for no limit}
    notebook_seconds   what all the cells may take together, or null
    stuck_allowance    seconds of timed-out cells after which the rest is not run
    max_slowdown       a cell is also stopped at this many times its budget in wall time
    interrupt_grace    seconds between interrupting a cell and killing the kernel
    max_output_bytes   what one cell's outputs may take in the report
    max_report_bytes   what the whole report may take
    startup_timeout, cwd   how long the kernel (python3, KERNEL_NAME) may take to start, and where it runs
    notes              {"cell_cut": text with {limit}, "notebook_cut": text}: ends of cut outputs

The grader keeps standard input open until the box has ended; if it closes first, the runner ends
the box (end_with_the_grader).

FD gets {"ready": true} once the kernel has started, then one line per cell, written once when
the cell ends (later messages cannot change it):

    {"cell": 7, "status": "ok" | "timeout" | "kernel-died", "seconds": 0.41, "outputs": [...]}

and, when it stops early, {"stopped": "stuck" | "notebook-budget" | "kernel-died", "at": 12}.
Outputs are kept as JupyterLab shows them, with only plain text, PNG and JPEG pictures and answer
records. Sizes are bytes of UTF-8 JSON.

Time is what the kernel's main thread would have taken on an idle machine: wall time less its wait
for a CPU (schedstat), so a busy server costs an honest student nothing; max_slowdown bounds wall time.

The kernel cannot reach FD (box.py says how), and the grader (outbox.py) checks every line again.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from queue import Empty

# jupyter_client and zmq are imported in connect(), once the kernel is launched: it starts meanwhile.

ANSWER_TYPE = "application/vnd.initialization-course.answers+json"
KEPT_TYPES = ("text/plain", "image/png", "image/jpeg", ANSWER_TYPE)
IMAGE_TYPES = ("image/png", "image/jpeg")
OUTPUT_TYPES = ("stream", "error", "display_data", "execute_result")
LINE_ROOM = 1024  # bytes kept in the report for each cell still to run
ALIVE_CHECK = 0.5  # seconds between two checks that the kernel still runs
# What jupyter_client raises on a message it cannot read (the kernel holds the key: it may sign any bytes).
UNREADABLE = (ValueError, TypeError, KeyError, AttributeError, RecursionError)


class KernelDied(Exception):
    """The kernel process ended while a cell ran."""


def kernel_seconds(pid: int, waited_before: float = 0.0) -> tuple[float, float]:
    """(monotonic wall seconds, seconds pid's main thread waited for a CPU); the wait is
    waited_before when it cannot be read (no schedstat, or the kernel has ended)."""
    try:
        with open(f"/proc/{pid}/schedstat") as file:
            waited = int(file.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        waited = waited_before
    return time.monotonic(), waited


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def kept_output(kind: str, content: dict) -> dict | None:
    """The output an IOPub message of that kind makes, with only what may leave the box, or None.
    Shapes are checked only as far as this runner needs; the grader checks again."""
    if kind == "stream":
        return {"output_type": "stream", "name": content.get("name"), "text": content.get("text", "")}
    if kind == "error":
        traceback = content.get("traceback")
        return {
            "output_type": "error",
            "ename": content.get("ename", ""),
            "evalue": content.get("evalue", ""),
            "traceback": traceback[:50] if isinstance(traceback, list) else [],
        }
    data = {name: value for name, value in _dict(content.get("data")).items() if name in KEPT_TYPES}
    if not data:
        return None
    sizes = {}
    for name in IMAGE_TYPES:
        given = _dict(_dict(content.get("metadata")).get(name))
        size = {key: given[key] for key in ("width", "height") if isinstance(given.get(key), int)}
        if name in data and size:
            sizes[name] = size
    output = {"output_type": kind, "data": data, "metadata": sizes}
    if kind == "execute_result":
        output["execution_count"] = content.get("execution_count")
    return output


def size(output: dict) -> float:
    """Bytes of output as UTF-8 JSON (the measure of every cap here);
    infinite when it is nested too deeply to write."""
    try:
        return len(json.dumps(output, ensure_ascii=False).encode())
    except (ValueError, RecursionError):
        return math.inf


class CellOutputs:
    """One cell's outputs as its messages arrive, as JupyterLab shows them (clear_output, displays
    updated in place by display_id). Past limit bytes of kept outputs, nothing more is kept."""

    def __init__(self, limit: int, cut_note: str):
        self.limit = limit
        self.cut_note = cut_note  # with {limit} in it, in the notebook's language
        self.kept: list[dict] = []
        self.sizes: list[float] = []  # size() of each kept output
        self.used = 0.0  # their sum
        self.displays: dict[str, list[int]] = {}  # display_id: where it is shown in kept
        self.cut = False  # whether some outputs were dropped
        self.clear_before_next = False

    def add(self, kind: str, content: dict) -> None:
        if kind == "clear_output":
            if content.get("wait"):
                self.clear_before_next = True
            else:
                self.clear()
            return
        display_id = _dict(content.get("transient")).get("display_id")
        if kind in ("display_data", "execute_result", "update_display_data") and isinstance(display_id, str):
            self.update_display(display_id, content)
        if kind not in OUTPUT_TYPES:
            return  # display updates (applied above), comms, execute_input, ...
        output = kept_output(kind, content)
        if output is None:
            return
        if self.clear_before_next:
            self.clear()
        output_size = size(output)
        if not self.fits(output_size):
            return
        if isinstance(display_id, str):
            self.displays.setdefault(display_id, []).append(len(self.kept))
        self.kept.append(output)
        self.sizes.append(output_size)
        self.used += output_size

    def update_display(self, display_id: str, content: dict) -> None:
        """Show content in place of every output of display_id so far."""
        for index in self.displays.get(display_id, []):
            shown = self.kept[index]
            updated = kept_output(shown["output_type"], content) or {**shown, "data": {}, "metadata": {}}
            if "execution_count" in shown:
                updated["execution_count"] = shown["execution_count"]
            updated_size = size(updated)
            if self.fits(updated_size - self.sizes[index]):
                self.used += updated_size - self.sizes[index]
                self.kept[index], self.sizes[index] = updated, updated_size

    def fits(self, grown: int) -> bool:
        """Whether the kept outputs may grow by grown bytes; if not, they are cut."""
        if self.used + grown > self.limit:
            self.cut = True
            return False
        return True

    def clear(self) -> None:
        self.kept, self.sizes, self.used, self.displays = [], [], 0.0, {}
        self.clear_before_next = False

    def add_reply_error(self, reply: dict) -> None:
        """As nbgrader's Execute: add an error the kernel replied with but did not show."""
        if reply.get("status") != "error":
            return
        if not any(output.get("ename") == reply.get("ename") for output in self.kept):
            traceback = reply.get("traceback")
            if not (isinstance(traceback, list) and traceback):
                traceback = ["ERROR: An error occurred while showtraceback was disabled"]
            self.add("error", {**reply, "traceback": traceback})

    def final(self) -> list:
        """The kept outputs, then a note if some were cut."""
        if not self.cut:
            return self.kept
        note = self.cut_note.format(limit=self.limit) + "\n"
        return [*self.kept, {"output_type": "stream", "name": "stdout", "text": note}]


# prctl(2) options: the signal on the parent's end, and whether the process may be dumped.
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, SIGKILL = 1, 4, 9

# The one kernel a box runs: ipykernel of the Python that runs this runner (the grading environment's).
KERNEL_NAME = "python3"

# ipykernel_launcher's own lines, with debugpy made impossible to import and the kernel killed
# when the runner ends. The working folder ('' on the path of `python -c`) leaves the path
# before any import but the built-in sys: a student's ctypes.py is never run.
LAUNCH_WITHOUT_DEBUGGER = (
    "import sys\n"
    "if sys.path[0] == '':\n"
    "    del sys.path[0]\n"
    "import ctypes\n"
    f"ctypes.CDLL(None).prctl({PR_SET_PDEATHSIG}, {SIGKILL}, 0, 0, 0)\n"
    "sys.modules['debugpy'] = None\n"
    "from ipykernel.kernelapp import launch_new_instance\n"
    "launch_new_instance()\n"
)


class KernelProcess:
    """The kernel, launched as jupyter_client's launcher would (its own session, standard input
    closed, told the runner's pid) but before jupyter_client is imported, which takes a quarter of
    the kernel's start: ipykernel started from its installation and without its debugger.

    `python -m ipykernel_launcher` would look in the submission's folder first: a file named so
    would stop that student's grading. debugpy costs a quarter of the kernel's start-up CPU."""

    def __init__(self, cwd: str):
        self.connection = connection_info()
        descriptor, self.connection_file = tempfile.mkstemp(prefix="kernel-", suffix=".json")  # mode 600
        with os.fdopen(descriptor, "w") as file:
            json.dump(self.connection, file)
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH_WITHOUT_DEBUGGER, "-f", self.connection_file]
            + ["--HistoryManager.hist_file=:memory:"],
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, "JPY_PARENT_PID": str(os.getpid())},
            start_new_session=True,
        )
        self.pid = self.process.pid

    def alive(self) -> bool:
        """Whether the kernel runs. An ended kernel is not reaped here (WNOWAIT): its number, and
        its process group's, stay its own until kill() has signalled what it started."""
        if self.process.returncode is not None:
            return False
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            return False

    def signal(self, number: int) -> None:
        """Send signal number to the kernel and what it started (its process group), unless the
        kernel has been reaped: its number may be another process's by then."""
        if self.process.returncode is None:
            with contextlib.suppress(OSError):
                os.killpg(self.pid, number)

    def kill(self) -> None:
        """Kill the kernel: the report is written, and a polite shutdown costs 0.1 s."""
        self.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)  # a second at most: the box is discarded anyway
        with contextlib.suppress(OSError):
            os.remove(self.connection_file)


def connection_info() -> dict:
    """The kernel's connection: five free ports on the loopback (the box has its own network),
    and a new key for signing the messages."""
    sockets = [socket.socket() for _ in range(5)]
    try:
        for each in sockets:
            each.bind(("127.0.0.1", 0))
        ports = [each.getsockname()[1] for each in sockets]
    finally:
        for each in sockets:
            each.close()
    names = ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"]
    return {
        **dict(zip(names, ports)),
        "ip": "127.0.0.1",
        "transport": "tcp",
        "key": uuid.uuid4().hex,
        "signature_scheme": "hmac-sha256",
        "kernel_name": KERNEL_NAME,
    }


def connect(kernel: KernelProcess):
    """jupyter_client's client of kernel, its shell and IOPub channels started (the runner asks
    for no input, the kernel's process tells whether it lives, and a signal interrupts it).
    Messages of any size are read, within the box's memory: a cell that prints a hundred
    megabytes at once gets its output cut (CellOutputs), and the notebook goes on."""
    from jupyter_client.asynchronous import AsyncKernelClient

    client = AsyncKernelClient()
    client.load_connection_info(kernel.connection)
    client.start_channels(stdin=False, hb=False, control=False)
    return client


async def ready(client, timeout: float) -> None:
    """Return once the kernel has welcomed the client's IOPub subscription (ipykernel 7 sends
    `iopub_welcome`, JEP 65; grading/compat.py checks the version) and answered kernel_info:
    its outputs cannot be missed from then on. TimeoutError after timeout seconds.
    (jupyter_client's wait_for_ready waits 0.2 to 0.4 s more, and without the kernel's
    manager it takes a late heartbeat, as on a loaded machine, for a dead kernel.)"""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the kernel sent no welcome")
        try:
            message = await client.iopub_channel.get_msg(timeout=left)
        except (Empty, *UNREADABLE):  # a message that cannot be read is no welcome
            continue
        if _dict(message).get("msg_type") == "iopub_welcome":
            break
    await client.kernel_info(reply=True, timeout=max(deadline - time.monotonic(), 1.0))


class BoxRunner:
    """Starts the kernel, runs the job's cells in it within their budgets, and writes the report."""

    def __init__(self, job: dict, results, kernel: KernelProcess):
        self.job, self.results, self.kernel = job, results, kernel
        self.written = 0  # bytes of the report so far
        self.kc = None

    async def start_kernel(self) -> None:
        """Connect to the kernel and wait until it answers; KernelDied if it ends first."""
        self.kc = connect(self.kernel)
        answered = asyncio.ensure_future(ready(self.kc, self.job.get("startup_timeout", 60)))
        while not answered.done():
            await asyncio.wait([answered], timeout=0.05)
            if not answered.done() and not self.kernel.alive():
                answered.cancel()
                raise KernelDied()
        answered.result()

    async def message(self, channel, msg_id: str) -> dict:
        """The next message on channel in reply to msg_id; KernelDied when the kernel has ended
        (checked every ALIVE_CHECK seconds, however many other messages come)."""
        checked = time.monotonic()
        while True:
            try:
                message = await channel.get_msg(timeout=ALIVE_CHECK)
            except (Empty, *UNREADABLE):
                message = None  # a message that cannot be read is no output
            if message is not None and _dict(message.get("parent_header")).get("msg_id") == msg_id:
                return message
            if time.monotonic() - checked >= ALIVE_CHECK:
                if not self.kernel.alive():
                    raise KernelDied()
                checked = time.monotonic()

    async def execute(self, source: str, outputs: CellOutputs) -> None:
        """Run source in the kernel, adding its outputs to outputs, until it is idle and has replied."""
        msg_id = self.kc.execute(source, allow_stdin=False, stop_on_error=False)
        while True:
            message = await self.message(self.kc.iopub_channel, msg_id)
            kind, content = _dict(message.get("header")).get("msg_type"), _dict(message.get("content"))
            if kind == "status" and content.get("execution_state") == "idle":
                break
            outputs.add(kind, content)
        reply = await self.message(self.kc.shell_channel, msg_id)
        outputs.add_reply_error(_dict(reply.get("content")))

    def write(self, line: dict) -> None:
        text = json.dumps(line) + "\n"
        self.results.write(text)
        self.results.flush()
        self.written += len(text.encode())

    def write_cell(self, index: int, status: str, seconds: float, outputs: list, cells_left: int) -> None:
        """The cell's line; its outputs replaced by a note when the cells left need the room."""
        line = {"cell": index, "status": status, "seconds": seconds, "outputs": outputs}
        room = self.job["max_report_bytes"] - self.written - LINE_ROOM * (cells_left + 2)
        if len(json.dumps(line).encode()) > room:
            note = self.job["notes"]["notebook_cut"] + "\n"
            line["outputs"] = [{"output_type": "stream", "name": "stdout", "text": note}]
        self.write(line)

    async def run_cell(self, source: str, budget: float, outputs: CellOutputs) -> tuple[str, float, float]:
        """Run source within budget unloaded seconds and max_slowdown times that in wall time:
        (status, unloaded seconds, wall seconds). Over either, the kernel is interrupted, and
        killed if the cell has not ended interrupt_grace seconds later."""
        pid = self.kernel.pid
        start_wall, start_wait = kernel_seconds(pid)
        waited = start_wait
        wall_limit = budget * self.job["max_slowdown"]
        execution = asyncio.ensure_future(self.execute(source, outputs))
        status, pause = "ok", 0.001
        while not execution.done():
            # Most cells end within milliseconds: look often at first, then every 50 ms.
            await asyncio.wait([execution], timeout=pause)
            pause = min(2 * pause, 0.05)
            wall, waited = kernel_seconds(pid, waited)
            used = (wall - start_wall) - (waited - start_wait)
            if (used > budget or wall - start_wall > wall_limit) and not execution.done():
                status = "timeout"
                self.kernel.signal(signal.SIGINT)
                grace = asyncio.ensure_future(asyncio.sleep(self.job["interrupt_grace"]))
                await asyncio.wait([execution, grace], return_when=asyncio.FIRST_COMPLETED)
                if not execution.done():  # it would not stop: the kernel goes
                    self.kernel.kill()
                    await asyncio.wait([execution], timeout=4 * ALIVE_CHECK)
                    execution.cancel()  # something else answers in the kernel's place
        wall, waited = kernel_seconds(pid, waited)
        try:
            execution.result()
        except (KernelDied, asyncio.CancelledError):
            if status != "timeout":
                raise
            # killed here for its budget: the cell timed out, later cells cannot run
        return status, (wall - start_wall) - (waited - start_wait), wall - start_wall

    async def run(self) -> None:
        try:
            await self.start_kernel()
            self.write({"ready": True})  # the grader tells a kernel that never started from a student's
            await self.run_cells()
        finally:
            self.kernel.kill()
            if self.kc is not None:
                self.kc.stop_channels()

    async def run_cells(self) -> None:
        job = self.job
        left = job["notebook_seconds"] if job["notebook_seconds"] is not None else math.inf
        stuck_seconds, stuck_cells = 0.0, 0
        for position, index in enumerate(job["run"]):
            budget = job["budgets"].get(str(index))
            budget = min(math.inf if budget is None else budget, max(left, 0.5))
            outputs = CellOutputs(job["max_output_bytes"], job["notes"]["cell_cut"])
            try:
                status, seconds, wall = await self.run_cell(job["sources"][str(index)], budget, outputs)
            except KernelDied:
                self.write({"cell": index, "status": "kernel-died", "outputs": []})
                self.write({"stopped": "kernel-died", "at": index})
                return
            self.write_cell(index, status, seconds, outputs.final(), len(job["run"]) - position - 1)
            if not self.kernel.alive():
                self.write({"stopped": "kernel-died", "at": index})
                return
            left -= seconds
            if status == "timeout":
                # A cell that starved itself with threads still counts.
                stuck_seconds += max(seconds, wall / job["max_slowdown"])
                stuck_cells += 1
                if stuck_cells >= 2 and stuck_seconds >= job["stuck_allowance"]:
                    self.write({"stopped": "stuck", "at": index, "seconds": stuck_seconds})
                    return
            if left <= 0:
                self.write({"stopped": "notebook-budget", "at": index})
                return


def prctl(option: int, value: int) -> None:
    """prctl(2), where the C library has it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(option, value, 0, 0, 0)


def end_with_the_grader(lifeline) -> None:
    """End this runner, and so the whole box, when lifeline, the grader's pipe, ends: the grader
    was killed (bubblewrap's --die-with-parent and PR_SET_PDEATHSIG both miss a grader killed while
    the box was starting: this runner's parent is bubblewrap, not the grader)."""

    def watch():
        lifeline.read()  # returns at the end of the pipe
        os._exit(1)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def main() -> None:
    prctl(PR_SET_PDEATHSIG, SIGKILL)  # the runner ends with the grader that started it (without a sandbox)
    job = json.loads(sys.stdin.readline())
    end_with_the_grader(sys.stdin)
    # Not dumpable, before the kernel starts: the kernel (the same user) may not read this process's
    # memory (the hidden tests of cells not yet run) nor reach the results through /proc/<pid>/fd.
    prctl(PR_SET_DUMPABLE, 0)
    descriptor = int(sys.argv[1])
    os.set_inheritable(descriptor, False)  # nor inherit them
    kernel = KernelProcess(job["cwd"])
    with os.fdopen(descriptor, "w") as results:
        asyncio.run(BoxRunner(job, results, kernel).run())
    # Skip the interpreter's shutdown, which may wait for the lifeline thread's hold on stdin.
    os._exit(0)


if __name__ == "__main__":
    main()
