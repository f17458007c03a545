"""Runs one notebook inside the grading sandbox and writes what it printed
to one file. This script runs in the box, beside the student's kernel; it
imports nothing of the course, and the grader trusts nothing it writes.

    python box_runner.py RESULTS < job.json

The job (JSON on standard input, read whole before the kernel starts) gives
the notebook, which cells to run, and each cell's budget. For each cell it
runs, the runner appends one line of JSON to RESULTS:

    {"cell": 7, "status": "ok" | "timeout", "seconds": 0.41, "outputs": [...]}

and, when it stops early, a last line {"stopped": "stuck" | "notebook-budget"
| "kernel-died", "at": 12}. Outputs keep only text, PNG and JPEG pictures
(with integer sizes) and the course's answer records; each cell's outputs
are cut at max_output_bytes. A cell's line is written once, when the cell
ends, so nothing the kernel sends later (a display update from a thread, a
widget's state) changes it.

Time is counted as the kernel's main thread would have taken on an idle
machine: wall time less the time it waited for a CPU (Linux's schedstat
run delay). A busy grading server then costs an honest student nothing; a
cell is also stopped once its wall time reaches max_slowdown times its
budget, so a cell that starves itself still ends.

The grader (grading/plugins/outbox.py) reads the file with a byte cap and
checks every line again: a kernel may have stopped this runner or rewritten the
file, and then it only loses its own points.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import math
import sys
import time

# nbformat imports jsonschema, which imports rfc3987_syntax when it is
# installed, to check one format of URI: it builds a grammar, 0.9 s of every
# box's start. Nothing here checks formats, so jsonschema goes without it.
sys.modules.setdefault("rfc3987_syntax", None)

from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import DeadKernelError  # noqa: E402
from nbformat import from_dict  # noqa: E402

ANSWER_TYPE = "application/vnd.initialization-course.answers+json"
KEPT_TYPES = ("text/plain", "image/png", "image/jpeg", ANSWER_TYPE)
IMAGE_TYPES = ("image/png", "image/jpeg")
LINE_ROOM = 1024  # bytes kept in the report for each cell still to run


def kernel_seconds(pid: int) -> tuple[float, float]:
    """(monotonic wall seconds, seconds pid's main thread waited for a CPU)."""
    try:
        with open(f"/proc/{pid}/schedstat") as file:
            waited = int(file.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        waited = 0.0  # no schedstat here: wall time alone
    return time.monotonic(), waited


def kept_output(output: dict) -> dict | None:
    """output with only what may leave the box, or None."""
    kind = output.get("output_type")
    if kind == "stream":
        return {"output_type": "stream", "name": output.get("name"), "text": output.get("text", "")}
    if kind == "error":
        return {
            "output_type": "error",
            "ename": output.get("ename", ""),
            "evalue": output.get("evalue", ""),
            "traceback": list(output.get("traceback", []))[:50],
        }
    if kind in ("display_data", "execute_result"):
        data = {name: value for name, value in output.get("data", {}).items() if name in KEPT_TYPES}
        if not data:
            return None
        sizes = {}
        for name in IMAGE_TYPES:
            given = output.get("metadata", {}).get(name, {})
            size = {key: given[key] for key in ("width", "height") if isinstance(given.get(key), int)}
            if name in data and size:
                sizes[name] = size
        return {"output_type": kind, "data": data, "metadata": sizes}
    return None


def capped(outputs: list, limit: int, cut: bool = False) -> list:
    """The outputs that fit in limit bytes of JSON, then a note if some did
    not (or cut: some were dropped already)."""
    kept, used = [], 0
    for output in filter(None, map(kept_output, outputs)):
        used += len(json.dumps(output))
        if used > limit:
            cut = True
            break
        kept.append(output)
    if cut:
        note = f"[output cut: the cell printed more than {limit} bytes]\n"
        kept.append({"output_type": "stream", "name": "stdout", "text": note})
    return kept


class BoxClient(NotebookClient):
    """nbclient's client, with a budget per cell in unloaded seconds."""

    def __init__(self, job: dict, results):
        super().__init__(
            from_dict(job["notebook"]),
            kernel_name=job.get("kernel_name", "python3"),
            allow_errors=True,
            interrupt_on_timeout=True,
            record_timing=False,
            startup_timeout=job.get("startup_timeout", 60),
            extra_arguments=["--HistoryManager.hist_file=:memory:"],
            timeout=None,  # run_cell keeps the time
            shutdown_kernel="immediate",  # nothing to save: a fraction of a second a notebook
        )
        self.on_cell_executed = self.add_reply_error
        self.job, self.results = job, results
        self.limit = job["max_output_bytes"]
        self.printed = 0  # bytes the running cell has output
        self.written = 0  # bytes of the report so far
        self.cut = False  # whether some of them were dropped

    def output(self, outs, msg, display_id, cell_index):
        # Past the cap nothing more is kept in memory either.
        self.printed += len(json.dumps(msg.get("content", {})))
        if self.printed > self.limit:
            self.cut = True
            return None
        return super().output(outs, msg, display_id, cell_index)

    def handle_comm_msg(self, outs, msg, cell_index):
        # Widgets and other comms: nothing of them leaves the box, so they are not kept.
        return None

    def write(self, line: dict) -> None:
        text = json.dumps(line) + "\n"
        self.results.write(text)
        self.results.flush()
        self.written += len(text.encode())

    def write_cell(self, index: int, status: str, seconds: float, outputs: list, cells_left: int) -> None:
        """The cell's line; its outputs replaced by a note when they would
        take the room the lines of the cells left need in the report."""
        line = {"cell": index, "status": status, "seconds": seconds, "outputs": outputs}
        room = self.job["max_report_bytes"] - self.written - LINE_ROOM * (cells_left + 2)
        if len(json.dumps(line).encode()) > room:
            note = "[output cut: the notebook printed more than the grader reads in all]\n"
            line["outputs"] = [{"output_type": "stream", "name": "stdout", "text": note}]
        self.write(line)

    async def run_cell(self, index: int, budget: float) -> tuple[str, float, float]:
        """Run cell index within budget unloaded seconds, and max_slowdown
        times that in wall time: (status, unloaded seconds, wall seconds).
        Over either, the kernel is interrupted, and killed if the cell has
        not ended interrupt_grace seconds later."""
        cell = self.nb.cells[index]
        pid = self.km.provisioner.pid
        start_wall, start_wait = kernel_seconds(pid)
        wall_limit = budget * self.job["max_slowdown"]
        self.printed, self.cut = 0, False
        execution = asyncio.ensure_future(self.async_execute_cell(cell, index))
        status, pause = "ok", 0.001
        while not execution.done():
            # Most cells end within milliseconds: look often at first, then every 50 ms.
            await asyncio.wait([execution], timeout=pause)
            pause = min(2 * pause, 0.05)
            wall, waited = kernel_seconds(pid)
            used = (wall - start_wall) - (waited - start_wait)
            if (used > budget or wall - start_wall > wall_limit) and not execution.done():
                status = "timeout"
                await self.km.interrupt_kernel()
                grace = asyncio.ensure_future(asyncio.sleep(self.job["interrupt_grace"]))
                await asyncio.wait([execution, grace], return_when=asyncio.FIRST_COMPLETED)
                if not execution.done():  # it would not stop: the kernel goes
                    await self.km.shutdown_kernel(now=True)
                    await asyncio.wait([execution])
        wall, waited = kernel_seconds(pid)
        try:
            execution.result()
        except DeadKernelError:
            if status != "timeout":
                raise
            # killed here for its budget: the cell timed out, later cells cannot run
        return status, (wall - start_wall) - (waited - start_wait), wall - start_wall

    def add_reply_error(self, cell, cell_index, execute_reply):
        """As nbgrader's Execute: an error the kernel replied with but did not
        show (its traceback display turned off) is added to the outputs."""
        content = execute_reply["content"]
        if content.get("status") != "error":
            return
        if not any(output.get("ename") == content.get("ename") for output in cell.outputs):
            traceback = content.get("traceback") or [
                "ERROR: An error occurred while showtraceback was disabled"
            ]
            cell.outputs.append(
                from_dict(
                    {
                        "output_type": "error",
                        "ename": content.get("ename", ""),
                        "evalue": content.get("evalue", ""),
                        "traceback": traceback,
                    }
                )
            )

    async def run(self) -> None:
        job = self.job
        left = job["notebook_seconds"] if job["notebook_seconds"] is not None else math.inf
        stuck_seconds, stuck_cells = 0.0, 0
        async with self.async_setup_kernel(cwd=job["cwd"]):
            for position, index in enumerate(job["run"]):
                budget = job["budgets"].get(str(index))
                budget = math.inf if budget is None else budget
                budget = min(budget, max(left, 0.5))
                try:
                    status, seconds, wall = await self.run_cell(index, budget)
                except DeadKernelError:
                    self.write({"cell": index, "status": "kernel-died", "outputs": []})
                    self.write({"stopped": "kernel-died", "at": index})
                    return
                outputs = capped(self.nb.cells[index].outputs, self.limit, self.cut)
                self.write_cell(index, status, seconds, outputs, len(job["run"]) - position - 1)
                if not await self.km.is_alive():
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


def not_dumpable() -> None:
    """Keep processes of the same user (the kernel) from reading this one's
    memory: the job holds the hidden tests of cells not yet run."""
    try:
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def main() -> None:
    job = json.load(sys.stdin)
    sys.stdin.close()
    not_dumpable()
    with open(sys.argv[1], "w") as results:
        asyncio.run(BoxClient(job, results).run())


if __name__ == "__main__":
    main()
