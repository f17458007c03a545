"""grading/command/worker_server.py: the server that forks the local worker processes."""

import os
import subprocess
import sys

import pytest

from conftest import REPO
from grading.command.worker_server import WORKER_MODULES

WORKER_SERVER_PROBE = """
import gc, multiprocessing, sys
from grading.command.worker_server import WORKER_MODULES, start_worker_server

def imported(queue):
    queue.put(([name for name in WORKER_MODULES if name in sys.modules], gc.get_freeze_count() > 0))

if __name__ == "__main__":
    start_worker_server()
    context = multiprocessing.get_context("forkserver")
    queue = context.Queue()
    worker = context.Process(target=imported, args=(queue,))
    worker.start()
    print(queue.get(timeout=120))
    worker.join()
"""


@pytest.mark.slow
def test_a_worker_starts_with_the_pipeline_already_imported(tmp_path):
    """A worker forked from the server finds the pipeline imported, though
    the process that asked for it never imported the pipeline itself, and frozen."""
    probe = tmp_path / "probe.py"
    probe.write_text(WORKER_SERVER_PROBE)
    run = subprocess.run(
        [sys.executable, str(probe)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    # ... and what they made out of the garbage collector's reach (frozen_imports.py)
    assert run.stdout.strip() == repr((WORKER_MODULES, True))
