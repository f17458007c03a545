"""One notebook run inside the grading sandbox, and the one file that comes out.

The grader never talks to a student's kernel: a runner in the box (box_runner.py) does, within the
box's limits (sandbox.py). The runner writes one file, which has no path: the grader hands it over as
an open descriptor, which bubblewrap's own process in the box closes and the kernel does not inherit,
and the runner is not dumpable, so the kernel (the same user) cannot open it through /proc either.
The grader reads it with a byte cap (outbox.py), and kills the box,
with everything in its cgroup, once `deadline` seconds have passed; whatever the file holds by then
is the result. See docs/sandbox.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading

from grading.plugins.outbox import BoxReport, read_report
from grading.plugins.sandbox import THREAD_COUNTS, SandboxProvisioner

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "box_runner.py")
RUNNER_IN_BOX = "/grading-box/box_runner.py"  # where the box shows it, read-only


def run_in_box(
    job: dict, workdir: str, provisioner: SandboxProvisioner | None, deadline: float, max_bytes: int, log
) -> BoxReport:
    """Run job (see box_runner.py) in a new box working in workdir, and read its report.
    provisioner holds the sandbox's limits; None runs without a sandbox (trusted notebooks only)."""
    if provisioner is None:
        # The grader's environment, with the sandbox's one-thread default.
        command, env = [sys.executable, RUNNER], {**dict.fromkeys(THREAD_COUNTS, "1"), **os.environ}
    else:
        command, env = provisioner.box_command(
            [sys.executable, "-I", RUNNER_IN_BOX], workdir, extra_files={RUNNER_IN_BOX: RUNNER}
        )
    results = os.memfd_create("grading-box-results")  # closed on exec, but for the runner (pass_fds)
    env["NBGRADER_EXECUTION"] = "autograde"  # utils/answers.py's hand_in records answers
    job = {**job, "cwd": workdir}
    try:
        process = subprocess.Popen(
            [*command, str(results)],
            pass_fds=(results,),
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
        handing_over = None
        try:
            # In a thread: a job larger than the pipe must not delay the deadline.
            line = json.dumps(job).encode() + b"\n"  # JSON escapes every newline in a string
            handing_over = threading.Thread(target=hand_over, args=(process, line), daemon=True)
            handing_over.start()
            if not ended_within(process, deadline):
                log.warning("the box ran past its deadline of %.0f s: stopped", deadline)
        finally:
            if provisioner is not None and provisioner.cgroup is not None:
                provisioner.cgroup.kill()  # every process left in the box, its folder kept
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)  # the runner and what it started
            process.wait()
            if handing_over is not None:
                handing_over.join()
            # Only now: the runner ends the box when this pipe closes (box_runner.end_with_the_grader).
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
        return read_report(results, max_bytes, job["max_output_bytes"], job["notes"]["cell_cut"])
    finally:
        os.close(results)
        if provisioner is not None:
            provisioner.discard()


def hand_over(process: subprocess.Popen, line: bytes) -> None:
    """Write the job's line to the runner; a runner that ended first reads nothing."""
    with contextlib.suppress(BrokenPipeError):
        process.stdin.write(line)
        process.stdin.flush()


def ended_within(process: subprocess.Popen, seconds: float) -> bool:
    """Whether process ends within seconds; a pidfd wakes sooner than Popen.wait's 50 ms polling."""
    descriptor = os.pidfd_open(process.pid)
    try:
        return bool(select.select([descriptor], [], [], seconds)[0])
    finally:
        os.close(descriptor)
