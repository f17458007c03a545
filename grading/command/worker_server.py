"""The process that the grading command's worker processes are forked from.

Local workers (grading/command/parallel.py) need the grading pipeline
imported, about a second of CPU: with multiprocessing's forkserver, one
server imports it once, as soon as the command knows it will grade in
parallel, and each worker is a fork of it, ready at once. Only
multiprocessing is imported here: this module loads before the command
knows what it will grade.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

# What the server imports for every worker: the pipeline, not the command, which a
# worker runs again as its __main__ (Python warns when it was imported already);
# then frozen_imports, which keeps the garbage collector off what they made.
WORKER_MODULES = ["grading.command.pipeline", "grading.command.frozen_imports"]


def start_worker_server() -> None:
    """Start the forkserver with WORKER_MODULES imported, unless it runs
    already (an earlier class graded in this process): it then keeps what it
    imported, and the environment and folder it started in."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(WORKER_MODULES)
    multiprocessing.forkserver.ensure_running()
