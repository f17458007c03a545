"""The step of autograding that runs a submission: nbgrader's Execute, as the
course configures it (nbgrader_config.py puts SandboxedExecute in its place).

- Kernels start in the sandbox (grading/plugins/sandbox.py).
- Ungraded experiments are left out: the cells tagged SKIP_TAG in the
  instructor's source notebook (grading/plugins/experiments.py). If the run shows
  that a later cell needed a name one of them defines, the notebook is run
  again in full (from the files it had before the first run), so a student
  whose code uses what an experiment defines gets the score of a full run.
  `skip_experiments = False` (the grading command's --full) runs everything.
- Each cell has a time budget derived from the reference solution's own time
  (grading/plugins/budgets.py). The reference is the source notebook, run once
  per store of reference runs (`reference_runs`: one per nbgrader command,
  as nbgrader_config.py sets it, or per grading command), in the same
  sandbox and with the same cells left out.
- A cell over its budget is stopped and scores 0; the notebook goes on, so a
  later exercise still counts. Once two or more cells have run out of time,
  for `stuck_allowance` seconds in all, the cells after are not run: a
  submission that never ends costs little.
- A kernel that dies (os._exit or a crash; sys.exit is caught by IPython)
  costs the cell it was running: the cells after it are marked as not run.
- The whole notebook has a budget too: what the reference took in all,
  times `budget_factor`, plus `budget_floor` for each cell the reference
  timed. Cells a student added cannot stretch it; once it is spent, the
  cells after are not run.
- Scores are decided here, not in the kernel (grading/plugins/verdicts.py): after a
  graded test cell runs, its outputs are replaced by the trusted grader's
  verdict on the answers the cell handed in. The reference run records the
  reference solution's answers the same way.
- What a cell prints is capped (`max_output_bytes`): a submission that
  prints hundreds of megabytes costs the grader no memory.
"""

from __future__ import annotations

import copy
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Instance, Integer, Unicode, default

from grading.errors import (
    CELL_TIMEOUT,
    EXECUTOR_ERRORS,
    JUDGING_FAILED,
    KERNEL_DIED,
    NO_REFERENCE,
    NOT_RUN,
)
from grading.nbgrader_commands import environment_variable
from grading.plugins.budgets import CellBudgets, cell_key
from grading.plugins.experiments import (
    SKIP_TAG,
    cells_to_skip,
    names_defined,
    not_rerun_note,
    tagged_cells,
    undefined_names,
)
from grading.plugins.sandbox import SandboxKernelManager
from grading.plugins.verdicts import Record, Verdict, judge, read_record, verdict_outputs
from utils.i18n import ENGLISH, notebook_language

NO_REFERENCE_MESSAGE = (
    "the instructor's solution hands in no answers for this test cell (utils/answers.py's "
    "hand_in), so it cannot be graded; the instructor has been told"
)


@dataclass(frozen=True)
class Reference:
    """What the reference solution (the source notebook) did when run."""

    seconds: dict[str, float] = field(default_factory=dict)  # cell key -> seconds it took
    answers: dict[str, Record] = field(default_factory=dict)  # grade id -> its answer record


class ReferenceRuns:
    """The Reference of each source notebook run so far:
    {(path, modified, options): Reference}.

    One store is shared by every SandboxedExecute that is configured with it
    (c.SandboxedExecute.reference_runs), so a source notebook is run once:
    the grading command gives the same store to each student's autograde and
    hands what it measured to its Dask workers. Without one configured, each
    SandboxedExecute keeps its own (nbgrader_config.py configures one store
    for each nbgrader command).
    """

    def __init__(self, measured: dict | None = None):
        self.measured = dict(measured or {})

    def __deepcopy__(self, memo):
        # traitlets deep-copies a configured value into each instance: the
        # store must stay one object to be shared.
        return self


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
    judge_answers = Bool(
        True,
        help="Decide each graded test cell's score from the answers it hands in "
        "(utils/answers.py), compared outside the kernel with the reference solution's.",
    ).tag(config=True)
    is_reference = Bool(
        False, help="This run is the reference solution's: it is timed and its answers recorded."
    )
    reference_runs = Instance(
        ReferenceRuns,
        args=(),
        help="Where the reference runs are kept, to be run once; share one store to share them.",
    ).tag(config=True)
    max_output_bytes = Integer(
        1_000_000, help="What one cell may print or display, in bytes; the rest is dropped."
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
        self.answer_records: dict[str, Record] = {}  # grade id -> record, of the last run
        self.budgets = CellBudgets(fallback=self.timeout)
        self.reference: Reference | None = None  # of the notebook being graded
        self.language = ENGLISH  # of the notebook being graded, as its source says
        self._skipped: set[int] = set()
        self._kernel_lost_at = self._stopped_at = None
        self._stuck_seconds, self._stuck_cells = 0.0, 0
        self._seconds_left = float("inf")  # of the notebook's whole budget
        self._printed = 0  # bytes of output of the cell running now

    # ------------------------------------------------------------ a notebook

    def preprocess(self, nb, resources=None, km=None):
        source = self.source_path(resources)
        tagged = {}
        if source is not None:
            instructors = nbformat.read(source, as_version=4)
            self.language = notebook_language(instructors)
            if self.skip_experiments:
                tagged = tagged_cells(instructors, self.skip_tag)
        self.reference = self.reference_for(source, resources)
        self.budgets = self.cell_budgets()
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
        # The experiments the reference left out run now: each adds the time a
        # cell without a reference time may take to the notebook's budget.
        return self.run(untouched, resources, km, set(), allowance=len(skipped) * self.budgets.seconds({}))

    def run(self, nb, resources, km, skipped: set[int], allowance: float = 0.0):
        """Execute nb (in a new kernel unless km is given), leaving out the
        cells at `skipped`, within the notebook's budget plus `allowance` seconds."""
        self._skipped = skipped
        self._kernel_lost_at = self._stopped_at = None
        self._stuck_seconds, self._stuck_cells = 0.0, 0
        self._seconds_left = self.budgets.notebook_seconds() + allowance
        self.cell_seconds, self.answer_records = {}, {}
        return super().preprocess(nb, resources, km)

    # ---------------------------------------------------------------- a cell

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            cell.source = inert_markup(cell.source)
            return cell, resources
        if index in self._skipped:
            cell.outputs = [not_rerun_note(self.language)]
            return cell, resources
        if self._kernel_lost_at is not None:
            cell.outputs = [
                error_output(KERNEL_DIED, f"not run: the kernel stopped in cell {self._kernel_lost_at}")
            ]
            return cell, resources
        if self._stopped_at is not None:
            cell.outputs = [error_output(NOT_RUN, self._why_stopped())]
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
        budget = min(budget, max(self._seconds_left, 0.5))  # what is left of the notebook's
        # nbclient's hook for a cell's timeout (None: no limit)
        self.timeout_func = lambda _cell: None if budget == float("inf") else budget
        self.error_on_timeout = {
            "ename": CELL_TIMEOUT,
            "evalue": f"the cell ran over its budget of {budget:.3g} s",
            "traceback": [f"CellTimeoutError: the cell ran over its budget of {budget:.3g} s"],
        }
        start = time.monotonic()
        self._printed = 0
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._kernel_lost_at = index
            cell.outputs.append(
                error_output(
                    KERNEL_DIED,
                    "the kernel stopped while running this cell "
                    "(os._exit, a crash, or a limit of the sandbox)",
                )
            )
        except CellTimeoutError as timeout:  # nbclient's own timeouts (its IOPub wait, say)
            cell.outputs.append(error_output(CELL_TIMEOUT, str(timeout).splitlines()[0]))
        seconds = time.monotonic() - start
        self.cell_seconds[cell_key(cell)] = seconds
        self._seconds_left -= seconds
        if seconds >= budget:
            self._stuck_seconds += seconds
            self._stuck_cells += 1
            if self._stuck_cells >= 2 and self._stuck_seconds >= self.stuck_allowance * self.budget_scale:
                self._stopped_at = index
        if self._seconds_left <= 0 and self._stopped_at is None:
            self._stopped_at = index
        if is_graded_test(cell):
            self.settle_test_cell(cell, stopped=seconds >= budget or self._kernel_lost_at == index)
        cell.outputs = inert_outputs(cell.outputs)
        return cell, resources

    def _why_stopped(self) -> str:
        if self._seconds_left <= 0:
            return (
                f"not run: the notebook used up its time budget of "
                f"{self.budgets.notebook_seconds():.0f} s at cell {self._stopped_at}"
            )
        return (
            f"not run: cells up to cell {self._stopped_at} ran out of time for "
            f"{self._stuck_seconds:.0f} s in all"
        )

    # ------------------------------------------------- a graded cell's score

    def settle_test_cell(self, cell, stopped: bool) -> None:
        """Record the reference's answers, or replace a student's test cell's
        outputs with the trusted verdict (see grading/plugins/verdicts.py).

        A cell stopped by the executor (over its budget, or its kernel
        died) keeps only that error: it scores 0."""
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        if not self.judge_answers:
            return
        if self.is_reference:
            record = read_record(cell)
            if record is not None:
                self.answer_records[grade_id] = record
            return
        executor_errors = [
            output
            for output in cell.outputs
            if output.output_type == "error" and output.ename in EXECUTOR_ERRORS
        ]
        if stopped and executor_errors:
            cell.outputs = executor_errors[:1]
            return
        reference = self.reference.answers.get(grade_id) if self.reference else None
        if reference is None:
            # Nothing to judge against: the kernel's own outputs could say
            # anything, so the cell scores 0, and the instructor is told why.
            self.log.error("the reference solution's %s hands in no answers: it scores 0", grade_id)
            cell.outputs = [error_output(NO_REFERENCE, NO_REFERENCE_MESSAGE)]
            return
        kernel_errors = [
            (str(output.get("ename", "")), str(output.get("evalue", "")))
            for output in cell.outputs
            if output.output_type == "error"
        ]
        try:
            verdict = judge(read_record(cell), reference, kernel_errors[0] if kernel_errors else None)
        except Exception as error:  # a bug of the course's own checks: never the student's points
            self.log.exception("judging %s failed", grade_id)
            verdict = Verdict(False, JUDGING_FAILED, f"the grader could not judge this cell ({error!r})")
        cell.outputs = verdict_outputs(verdict)

    # ------------------------------------------------------------- output

    def output(self, outs, msg, display_id, cell_index):
        """nbclient's handling of one output, within the cell's allowance:
        past max_output_bytes, outputs are dropped and one note says so."""
        size = message_size(msg.get("content", {}))
        self._printed += size
        if self._printed > self.max_output_bytes:
            if self._printed - size <= self.max_output_bytes:
                note = f"[output cut: the cell printed more than {self.max_output_bytes} bytes]\n"
                outs.append(new_output("stream", name="stdout", text=note))
            return None
        return super().output(outs, msg, display_id, cell_index)

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

    def cell_budgets(self) -> CellBudgets:
        measured = self.reference.seconds if self.reference and self.budget_from_reference else {}
        return CellBudgets(
            # nbclient's timeout None, 0 or -1 is "no limit" (see preprocess_cell)
            fallback=float("inf") if self.timeout is None else self.timeout,
            factor=self.budget_factor,
            floor=self.budget_floor,
            scale=self.budget_scale,
            reference=measured,
        )

    def reference_for(self, source: Path | None, resources) -> Reference | None:
        """The reference of the notebook being graded (None when it is itself
        the reference, or has no source: not run by nbgrader's autograde)."""
        if self.is_reference or source is None or not (self.budget_from_reference or self.judge_answers):
            return None
        reference = self.reference_run(source, resources)
        if self.judge_answers and reference is None:
            # Without the reference's answers nothing can be judged: better no
            # grade (the gradebook keeps any earlier one) than wrong zeros.
            raise RuntimeError(f"the reference solution {source} could not be run: see the log")
        return reference or Reference()

    def reference_run(self, source: Path, resources) -> Reference | None:
        """The source notebook's Reference, measured once per store (None,
        and tried again next time, when it cannot run)."""
        key = (str(source), source.stat().st_mtime_ns, self.skip_experiments, self.skip_tag)
        measured = self.reference_runs.measured
        if key not in measured:
            try:
                measured[key] = self.measure(source, resources)
            except Exception as error:  # reported, and the student's grading fails
                self.log.warning("could not run the reference solution %s (%s)", source, error)
                return None
        return measured[key]

    def measure(self, source: Path, resources) -> Reference:
        """Run the source notebook in a copy of its folder, as a submission
        would run: the seconds each cell took and the answers it handed in."""
        start = time.monotonic()
        runner = type(self)(
            parent=self.parent,
            config=self.config,
            budget_from_reference=False,
            judge_answers=self.judge_answers,
            is_reference=True,
            skip_experiments=self.skip_experiments,
            skip_tag=self.skip_tag,
        )

        with tempfile.TemporaryDirectory(prefix="grading-reference-") as folder:
            workdir = Path(folder) / source.parent.name
            # The assignment's files, links followed: the sandbox shows only this folder.
            shutil.copytree(source.parent, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            notebook = nbformat.read(source, as_version=4)
            # hand_in (utils/answers.py) records answers only while autograding.
            with environment_variable("NBGRADER_EXECUTION", "autograde"):
                runner.preprocess(
                    notebook, {"metadata": {"path": str(workdir)}, "nbgrader": resources["nbgrader"]}
                )
        self.log.info("ran the reference %s in %.1f s", source, time.monotonic() - start)
        graded = {cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells if is_graded_test(cell)}
        if self.judge_answers and graded - set(runner.answer_records):
            missing = ", ".join(sorted(graded - set(runner.answer_records)))
            self.log.warning("the reference's test cells %s hand in no answers", missing)
        return Reference(seconds=runner.cell_seconds, answers=runner.answer_records)


def is_graded_test(cell) -> bool:
    """An autograded test cell: code, with points."""
    return cell.cell_type == "code" and bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


# What a kernel's output may keep: text and pictures. HTML, JavaScript, SVG
# and widgets would run in the browser of whoever opens the notebook (the
# instructor in formgrader, on the origin of their Jupyter server).
INERT_TYPES = ("text/plain", "image/png", "image/jpeg")


def inert_outputs(outputs: list) -> list:
    """outputs with only INERT_TYPES in their data; an output left with no
    data at all is dropped."""
    kept = []
    for output in outputs:
        if "data" in output:
            output.data = {kind: value for kind, value in output.data.items() if kind in INERT_TYPES}
            output.metadata = {
                kind: value for kind, value in output.get("metadata", {}).items() if kind in INERT_TYPES
            }
            if not output.data:
                continue
        kept.append(output)
    return kept


# The start of an HTML tag, a comment or a declaration.
TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def inert_markup(text: str) -> str:
    """A markdown or raw cell's text with no HTML tag left in it: formgrader
    shows a submission's markdown as it is, and a raw cell marked as HTML
    goes into the page whole, where a <script> of the student's would run.
    (The course's own markdown uses no tags.)"""
    return TAG_START.sub("&lt;", text)


def message_size(content: dict) -> int:
    """About how many bytes an output message carries (its text and data)."""
    size = len(content.get("text", ""))
    for value in (content.get("data") or {}).values():
        size += len(value) if isinstance(value, str) else len(str(value))
    size += sum(len(line) for line in content.get("traceback") or [])
    return size


def error_output(name: str, message: str):
    return new_output("error", ename=name, evalue=message, traceback=[f"{name}: {message}"])
