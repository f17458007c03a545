"""The process that the grading command's worker processes are forked from.

Submissions graded in parallel on this machine are graded by worker
processes (grading/command/parallel.py), which need the grading pipeline
imported (nbgrader, nbconvert, SQLAlchemy: about a second of CPU). Started
the usual way, each would start Python and import it all itself. With
multiprocessing's forkserver method, one server process imports the
modules once and each worker is a fork of it, ready at once. The command
starts that server as soon as it knows it will grade in parallel, so that
the server imports while the class is collected.

Only multiprocessing is imported here: this module is loaded before the
command knows what it will grade.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

# What the server imports for every worker: the pipeline. Not the command
# itself: a worker runs it again as its __main__ (as multiprocessing does
# when the command is `python -m grading.grade`), and Python warns on
# stderr when that module was imported already. What the command imports
# beyond the pipeline takes a worker about 20 ms.
WORKER_MODULES = ["grading.command.pipeline"]


def start_worker_server() -> None:
    """Start the forkserver with WORKER_MODULES imported, unless it runs
    already (an earlier class graded in this process): it then keeps what it
    imported, and the environment and folder it started in."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(WORKER_MODULES)
    multiprocessing.forkserver.ensure_running()
