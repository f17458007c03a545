"""The process the grading command's Dask workers are forked from.

Every worker needs the grading pipeline imported (nbgrader, nbconvert,
SQLAlchemy, Dask: about 1.3 s of CPU). Started the usual way, each worker
starts Python and imports it all itself. Dask can start workers with
multiprocessing's forkserver method instead (grading/command/parallel.py):
then one server process imports the modules once and each worker is a fork
of it, ready at once. The command starts that server as soon as it knows
it will grade on local workers, so that the server imports while the class
is collected.

Only multiprocessing is imported here: this module is loaded before the
command decides to use Dask.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver

# What the server imports for every worker (each worker also loads the
# pipeline as a Dask preload, which then finds it imported).
WORKER_MODULES = ["distributed", "grading.command.pipeline"]


def start_worker_server() -> None:
    """Start the forkserver with WORKER_MODULES imported, unless it runs
    already (an earlier class graded in this process): it then keeps what it
    imported, and the environment and folder it started in."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(WORKER_MODULES)
    multiprocessing.forkserver.ensure_running()
