"""The step of autograding that runs a submission: nbgrader's Execute, as the
course configures it (nbgrader_config.py puts SandboxedExecute in its place).

- Kernels start in the sandbox (grading/sandbox.py).
- Ungraded experiments are left out: the cells tagged SKIP_TAG in the
  instructor's source notebook (grading/experiments.py). If the run shows
  that a later cell needed a name one of them defines, the notebook is run
  again in full (from the files it had before the first run), so a student
  whose code uses what an experiment defines gets the score of a full run.
  `skip_experiments = False` (the grading command's --full) runs everything.
- Each cell has a time budget derived from the reference solution's own time
  (grading/budgets.py). The reference is the source notebook, run once per
  grading process, in the same sandbox and with the same cells left out.
- A cell over its budget is stopped and scores 0; the notebook goes on, so a
  later exercise still counts. Once two or more cells have run out of time,
  for `stuck_allowance` seconds in all, the cells after are not run: a
  submission that never ends costs little.
- A kernel that dies (os._exit or a crash; sys.exit is caught by IPython)
  costs the cell it was running: the cells after it are marked as not run.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Unicode, default

from grading.budgets import CellBudgets, cell_key
from grading.experiments import (
    SKIP_TAG,
    cells_to_skip,
    names_defined,
    not_rerun_note,
    tagged_cells,
    undefined_names,
)
from grading.sandbox import SandboxKernelManager

# Seconds each cell of a source notebook took: {(path, modified, options): {cell id: seconds}}.
# Measured once per process (an `nbgrader autograde`, the grading command,
# which hands its measurements to its Dask workers).
_reference_times: dict = {}


def measured_references() -> dict:
    """The reference times this process has measured, to hand to another."""
    return dict(_reference_times)


def use_references(measured: dict) -> None:
    """Take reference times measured by another process (the grading command's)."""
    _reference_times.update(measured)


class SandboxedExecute(Execute):
    """nbgrader's Execute with sandboxed kernels, skipped experiments and
    per-cell time budgets (see the module's docstring)."""

    skip_experiments = Bool(
        True, help="Leave out the cells that carry skip_tag in the instructor's source notebook."
    ).tag(config=True)
    skip_tag = Unicode(SKIP_TAG, help="Tag of the source's ungraded experiments.").tag(config=True)
    budget_from_reference = Bool(
        True,
        help="Give each cell a budget from the reference solution's time; "
        "when off, every cell gets `timeout`.",
    ).tag(config=True)
    budget_factor = Float(10.0, help="A cell's budget: this many times what the reference took.").tag(
        config=True
    )
    budget_floor = Float(5.0, help="The smallest budget of a cell, in seconds.").tag(config=True)
    budget_scale = Float(
        1.0,
        help="Multiplies every budget, the floor and the stuck allowance; "
        "below 1 it stands for a machine that much slower.",
    ).tag(config=True)
    stuck_allowance = Float(
        20.0,
        help="Once two or more cells of a notebook have run out of time, for this many "
        "seconds in all (times budget_scale), the cells that follow are not run.",
    ).tag(config=True)

    @default("shutdown_kernel")
    def _stop_kernels_at_once(self):
        # A graded kernel has nothing to save: stopping it at once, instead of
        # asking it to shut down and waiting, saves a fraction of a second a notebook.
        return "immediate"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxKernelManager)
        super().__init__(*args, **kwargs)
        self.cell_seconds: dict[str, float] = {}  # cell key -> seconds, of the last run
        self.budgets = CellBudgets(fallback=self.timeout)
        self._skipped: set[int] = set()
        self._kernel_lost_at = self._stopped_at = None
        self._stuck_seconds, self._stuck_cells = 0.0, 0

    # ------------------------------------------------------------ a notebook

    def preprocess(self, nb, resources=None, km=None):
        source = self.source_path(resources)
        tagged = {}
        if source is not None and self.skip_experiments:
            tagged = tagged_cells(nbformat.read(source, as_version=4), self.skip_tag)
        self.budgets = self.cell_budgets(source, resources)
        skipped = cells_to_skip(nb, tagged)
        if not skipped:
            return self.run(nb, resources, km, skipped)
        untouched = copy.deepcopy(nb)
        with tempfile.TemporaryDirectory(prefix="grading-before-") as kept:
            workdir = Path((resources or {}).get("metadata", {}).get("path") or ".")
            before = Path(kept) / "files"
            shutil.copytree(workdir, before, symlinks=True)
            nb, resources = self.run(nb, resources, km, skipped)
            needed = undefined_names(nb) & names_defined(untouched.cells[index].source for index in skipped)
            if not needed:
                return nb, resources
            self.log.warning(
                "%s needs %s from cells left out: running it again in full",
                resources.get("nbgrader", {}).get("notebook", "the notebook"),
                ", ".join(sorted(needed)),
            )
            # Nothing the first run wrote may reach the second.
            shutil.rmtree(workdir)
            shutil.copytree(before, workdir, symlinks=True)
        return self.run(untouched, resources, km, set())

    def run(self, nb, resources, km, skipped: set[int]):
        """Execute nb (in a new kernel unless km is given), leaving out the cells at `skipped`."""
        self._skipped = skipped
        self._kernel_lost_at = self._stopped_at = None
        self._stuck_seconds, self._stuck_cells = 0.0, 0
        self.cell_seconds = {}
        return super().preprocess(nb, resources, km)

    # ---------------------------------------------------------------- a cell

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if index in self._skipped:
            cell.outputs = [not_rerun_note()]
            return cell, resources
        if self._kernel_lost_at is not None:
            cell.outputs = [
                error_output("KernelDied", f"not run: the kernel stopped in cell {self._kernel_lost_at}")
            ]
            return cell, resources
        if self._stopped_at is not None:
            cell.outputs = [
                error_output(
                    "NotRun",
                    f"not run: cells up to cell {self._stopped_at} ran out of time for "
                    f"{self._stuck_seconds:.0f} s in all",
                )
            ]
            return cell, resources
        # nbclient would skip a cell that carries its skip_cells_with_tag, and
        # the tags are the student's: a test cell tagged so would pass unrun.
        tags = cell.metadata.get("tags")
        if tags is not None:
            kept = [tag for tag in tags if tag != self.skip_cells_with_tag] if isinstance(tags, list) else []
            cell.metadata["tags"] = kept
        budget = self.budgets.seconds(cell)
        if budget <= 0:  # c.Execute.timeout = -1 or 0: no limit, as in nbclient
            budget = float("inf")
        # nbclient's hook for a cell's timeout (None: no limit)
        self.timeout_func = lambda _cell: None if budget == float("inf") else budget
        self.error_on_timeout = {
            "ename": "CellTimeoutError",
            "evalue": f"the cell ran over its budget of {budget:.3g} s",
            "traceback": [f"CellTimeoutError: the cell ran over its budget of {budget:.3g} s"],
        }
        start = time.monotonic()
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._kernel_lost_at = index
            cell.outputs.append(
                error_output(
                    "KernelDied",
                    "the kernel stopped while running this cell "
                    "(os._exit, a crash, or a limit of the sandbox)",
                )
            )
        except CellTimeoutError as timeout:  # nbclient's own timeouts (its IOPub wait, say)
            cell.outputs.append(error_output("CellTimeoutError", str(timeout).splitlines()[0]))
        seconds = time.monotonic() - start
        self.cell_seconds[cell_key(cell)] = seconds
        if seconds >= budget:
            self._stuck_seconds += seconds
            self._stuck_cells += 1
            if self._stuck_cells >= 2 and self._stuck_seconds >= self.stuck_allowance * self.budget_scale:
                self._stopped_at = index
        return cell, resources

    # ---------------------------------------------------- the reference's time

    def source_path(self, resources) -> Path | None:
        """The instructor's source notebook of the one being graded, if there is one."""
        info = (resources or {}).get("nbgrader", {})
        if "assignment" not in info:
            return None  # not run by nbgrader's autograde
        coursedir = CourseDirectory(config=self.config)
        folder = coursedir.format_path(coursedir.source_directory, ".", info["assignment"])
        path = Path(folder) / f"{info['notebook']}.ipynb"
        return path if path.is_file() else None

    def cell_budgets(self, source: Path | None, resources) -> CellBudgets:
        reference = {}
        if source is not None and self.budget_from_reference:
            reference = self.reference_times(source, resources)
        return CellBudgets(
            fallback=self.timeout or 600,
            factor=self.budget_factor,
            floor=self.budget_floor,
            scale=self.budget_scale,
            reference=reference,
        )

    def reference_times(self, source: Path, resources) -> dict[str, float]:
        """{cell key: seconds} of the source notebook, run once per process
        (empty, and tried again next time, when it cannot run)."""
        key = (str(source), source.stat().st_mtime_ns, self.skip_experiments, self.skip_tag)
        if key not in _reference_times:
            try:
                _reference_times[key] = self.measure(source, resources)
            except Exception as error:  # a broken source should not stop the grading
                self.log.warning("could not time %s (%s): every cell gets %s s", source, error, self.timeout)
                return {}
        return _reference_times[key]

    def measure(self, source: Path, resources) -> dict[str, float]:
        """Run the source notebook in a copy of its folder, as a submission
        would run; {cell key: seconds}."""
        start = time.monotonic()
        runner = type(self)(
            parent=self.parent,
            config=self.config,
            budget_from_reference=False,
            skip_experiments=self.skip_experiments,
            skip_tag=self.skip_tag,
        )
        with tempfile.TemporaryDirectory(prefix="grading-reference-") as folder:
            workdir = Path(folder) / source.parent.name
            # The assignment's files, links followed: the sandbox shows only this folder.
            shutil.copytree(source.parent, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            notebook = nbformat.read(source, as_version=4)
            runner.preprocess(
                notebook, {"metadata": {"path": str(workdir)}, "nbgrader": resources["nbgrader"]}
            )
        self.log.info("timed %s in %.1f s", source, time.monotonic() - start)
        return runner.cell_seconds


def error_output(name: str, message: str):
    return new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])
