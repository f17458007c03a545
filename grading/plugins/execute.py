"""The step of autograding that runs a submission: nbgrader's Execute, as the
course configures it (nbgrader_config.py puts SandboxedExecute in its place).

- The notebook runs in a box (box.py); the grader reads only the one file it writes.
- Cells tagged SKIP_TAG in the source (experiments.py) are left out; if a later cell needed a name
  one of them defines, the notebook runs again in full from its original files.
- Each cell has a time budget from the reference solution's time (budgets.py, references.py), in
  unloaded seconds. A cell over budget scores 0 and the notebook goes on, until two or more cells
  have run out of time, for `stuck_allowance` seconds in all, or the notebook's budget is spent.
  The box is killed past max(`deadline_factor`, `max_slowdown`) times its budget (plus twice the
  start-up timeout, at most `longest_run`).
- Scores are decided outside the kernel (verdicts.py): a graded test cell's outputs are replaced by
  the verdict, and the grader's marks go in cell metadata (grading/errors.py). A failure of the
  reference or of the judge is the course's fault (CourseFault): the grade is left for a rerun.
"""

from __future__ import annotations

import copy
import math
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import nbformat
from nbgrader.preprocessors import Execute
from traitlets import Bool, Dict, Float, Instance, Integer, List, Unicode

from grading import notes
from grading.configuration import assignment_notebook, autograded_folder
from grading.errors import (
    CELL_TIMEOUT,
    JUDGED,
    KERNEL_DID_NOT_START,
    KERNEL_DIED,
    KERNEL_STOPPED,
    NOT_RUN,
    NOT_RUN_ERROR,
    SKIPPED,
    TIMED_OUT,
    CourseFault,
    mark,
    marked,
    strip_marks,
)
from grading.notes import error_output
from grading.plugins.answer_data import holds_stand_in
from grading.plugins.box import run_in_box
from grading.plugins.box_runner import KERNEL_NAME
from grading.plugins.budgets import CellBudgets, cell_key
from grading.plugins.experiments import (
    NOT_RERUN,
    SKIP_TAG,
    cells_to_skip,
    names_defined,
    tagged_cells,
    undefined_names,
)
from grading.plugins.markup import inert_markup
from grading.plugins.outbox import BoxReport
from grading.plugins.references import Reference, ReferenceRuns, fingerprint
from grading.plugins.sandbox import SandboxKernelManager, SandboxProvisioner
from grading.plugins.verdicts import Record, displayed_record, judge, read_record, verdict_outputs
from utils.i18n import ENGLISH, notebook_language


class SandboxedExecute(Execute):
    """nbgrader's Execute, run inside the sandbox with skipped experiments and per-cell budgets."""

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
    max_slowdown = Float(
        4.0,
        help="A cell is stopped once its wall time reaches this many times its budget, "
        "however long it waited for a CPU (budgets count the time it ran or slept).",
    ).tag(config=True)
    deadline_factor = Float(
        2.0,
        help="The box is killed once it has run this many times the notebook's budget "
        "(plus the kernel's start-up time), whatever runs in it; never fewer times than "
        "max_slowdown, the wall time its cells may take on a busy machine.",
    ).tag(config=True)
    longest_run = Float(
        3600.0,
        help="Seconds after which a box is killed whatever its budgets (even with no cell timeout at all).",
    ).tag(config=True)
    judge_answers = Bool(
        True,
        help="Decide each graded test cell's score from the answers it hands in "
        "(utils/answers.py), compared outside the kernel with the reference solution's.",
    ).tag(config=True)
    check_modules = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        help="{assignment: [module, ...]}: the modules whose check_* functions the "
        "assignment's test cells name in hand_in (utils/answers.py), imported by the grader "
        "to replay them. An assignment not listed has no checks to replay: its test cells "
        "cannot be graded (the course's fault, reported).",
    ).tag(config=True)
    is_reference = Bool(
        False, help="This run is the reference solution's: it is timed and its answers recorded."
    )
    scratch_copy = Unicode(
        "", help="The copy of the assignment's folder a reference run works in (made by measure)."
    )
    reference_runs = Instance(
        ReferenceRuns,
        args=(),
        help="Where the reference runs are kept, to be run once; share one store to share them.",
    ).tag(config=True)
    max_output_bytes = Integer(
        1_000_000, help="What one cell may print or display, in bytes; the rest is dropped."
    ).tag(config=True)
    max_report_mb = Integer(
        16, help="The most the grader reads of the file a box writes, in MiB (all cells' outputs)."
    ).tag(config=True)
    interrupt_grace = Float(
        3.0, help="Seconds a cell stopped for its budget has to end before its kernel is killed."
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell_seconds: dict[str, float] = {}  # cell key -> seconds, of the last run
        self.answer_records: dict[str, Record] = {}  # grade id -> record, of the last run
        self.displayed_records: dict[str, dict] = {}  # grade id -> the record as displayed (a reference's)
        self.reference: Reference | None = None  # of the notebook being graded
        self.language = ENGLISH  # of the notebook being graded, as its source says
        self.graded_ids: set[str] | None = None  # the source's graded test cells (None: no source)
        self.assignment = ""  # of the notebook being graded

    # ------------------------------------------------------------ a notebook

    def preprocess(self, nb, resources=None, km=None):
        strip_marks(nb)  # only the grader marks cells
        resources = resources if resources is not None else {}
        self.assignment = resources.get("nbgrader", {}).get("assignment", "")
        source = self.source_path(resources)
        tagged = {}
        if source is not None:
            instructors = nbformat.read(source, as_version=4)
            self.language = notebook_language(instructors)
            self.graded_ids = {
                cell.metadata["nbgrader"]["grade_id"] for cell in instructors.cells if is_graded_test(cell)
            }
            if self.skip_experiments:
                tagged = tagged_cells(instructors, self.skip_tag)
        self.reference = self.reference_for(source, resources)
        skipped = cells_to_skip(nb, tagged)
        if not skipped:
            return self.run(nb, resources, skipped)
        untouched = copy.deepcopy(nb)
        with tempfile.TemporaryDirectory(prefix="grading-before-") as kept:
            workdir = self.workdir(resources)
            if workdir != self.emptiable_folder(resources):
                # The full run deletes and restores this folder: never another.
                raise CourseFault(
                    f"{workdir} is not nbgrader's autograded folder of this submission: "
                    "it is not emptied to run the notebook again"
                )
            before = Path(kept) / "files"
            shutil.copytree(workdir, before, symlinks=True)
            nb, resources = self.run(nb, resources, skipped)
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
        # The full run is budgeted from a full run of the reference.
        self.reference = self.reference_for(source, resources, full=True)
        return self.run(untouched, resources, set())

    def workdir(self, resources) -> Path:
        """The submission's folder, where nbgrader put the notebook (never a default: a run deletes it)."""
        path = resources.get("metadata", {}).get("path")
        if not path:
            raise CourseFault("nbgrader gave no folder for the notebook (resources['metadata']['path'])")
        return Path(path).resolve()

    def emptiable_folder(self, resources) -> Path | None:
        """The one folder a run may empty: the reference's copy, or the submission's autograded folder."""
        if self.is_reference:
            return Path(self.scratch_copy).resolve() if self.scratch_copy else None
        return autograded_folder(self.config, resources)

    def run(self, nb, resources, skipped: set[int]):
        """Execute nb in a box, leaving out the cells at `skipped`; set outputs, judge test cells."""
        budgets = self.cell_budgets()
        to_run = [
            index
            for index, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and cell.source.strip() and index not in skipped
        ]
        report = self.run_box(nb, budgets, to_run, self.workdir(resources)) if to_run else BoxReport()
        if to_run and not report.started:
            # The kernel imports nothing from the submission's folder as it starts
            # (box_runner.KernelProcess), so no student code ran yet: the sandbox or the
            # machine failed, and the student keeps their earlier grade (the command tries once more).
            raise CourseFault(
                f"{KERNEL_DID_NOT_START}: grade this student again, and if it "
                "fails again, check the sandbox on this machine (docs/sandbox.md)"
            )
        self.cell_seconds, self.answer_records, self.displayed_records = {}, {}, {}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                cell.source = inert_markup(cell.source, markdown=cell.cell_type == "markdown")
            elif index in skipped:
                cell.outputs = [notes.stream_note(self.language, NOT_RERUN)]
                mark(cell, SKIPPED)
            elif index in to_run:
                self.settle_cell(cell, index, report, budgets)
            else:
                cell.outputs = []
        return nb, resources

    def run_box(self, nb, budgets: CellBudgets, to_run: list[int], workdir: Path) -> BoxReport:
        """The report of a box that runs the cells to_run of nb."""
        kernel_name = self.kernel_name or KERNEL_NAME
        if kernel_name != KERNEL_NAME:
            raise CourseFault(
                f"the sandbox runs the grading environment's own Python kernel, {KERNEL_NAME}, not "
                f"{kernel_name!r}: leave c.SandboxedExecute.kernel_name unset"
            )
        seconds = {index: budgets.seconds(nb.cells[index]) for index in to_run}
        # nbclient's timeout of 0 or -1 is no limit, and so is such a budget
        seconds = {index: budget if budget > 0 else math.inf for index, budget in seconds.items()}
        notebook_seconds = budgets.notebook_seconds()
        job = {
            # Only the code the kernel runs goes into the box: no metadata.
            "sources": {str(index): nb.cells[index].source for index in to_run},
            "run": to_run,
            "budgets": {str(index): None if math.isinf(s) else s for index, s in seconds.items()},
            "notebook_seconds": None if math.isinf(notebook_seconds) else notebook_seconds,
            "stuck_allowance": self.stuck_allowance * self.budget_scale,
            "max_slowdown": self.max_slowdown,
            "max_output_bytes": self.max_output_bytes,
            "max_report_bytes": self.max_report_mb * 2**20,
            "interrupt_grace": self.interrupt_grace,
            "startup_timeout": self.startup_timeout,
            # The notes the runner writes where it cuts outputs, in the notebook's language.
            "notes": {
                "cell_cut": notes.template(self.language, notes.CELL_OUTPUT_CUT),
                "notebook_cut": notes.note(self.language, notes.NOTEBOOK_OUTPUT_CUT),
            },
        }
        total = min(notebook_seconds, sum(seconds.values()))
        # Never before every cell could have reached its own wall-time limit on a busy machine.
        factor = max(self.deadline_factor, self.max_slowdown)
        deadline = min(factor * total + 2 * self.startup_timeout, self.longest_run)
        sandboxed = SandboxKernelManager(config=self.config).enabled
        provisioner = SandboxProvisioner(config=self.config, log=self.log) if sandboxed else None
        return run_in_box(job, str(workdir), provisioner, deadline, self.max_report_mb * 2**20, self.log)

    def settle_cell(self, cell, index: int, report: BoxReport, budgets: CellBudgets) -> None:
        """Set a run cell's outputs from report, marking it where it did not run to its end."""
        ran = report.cells.get(index)
        if ran is None:
            cell.outputs = []
            died = report.stopped == "kernel-died"
            name, text, values = why_not_run(report, budgets)
            self.note_error(cell, KERNEL_STOPPED if died else NOT_RUN, name, text, values)
        else:
            cell.outputs = ran.outputs
            if ran.seconds is not None and cell_key(cell) is not None:  # (a cell of nbformat 4.4 has no id)
                self.cell_seconds[cell_key(cell)] = ran.seconds
            if ran.status == "timeout":
                seconds = f"{budgets.seconds(cell):.3g}"
                self.note_error(cell, TIMED_OUT, CELL_TIMEOUT, notes.RAN_OVER_BUDGET, {"seconds": seconds})
            elif ran.status == "kernel-died":
                self.note_error(cell, KERNEL_STOPPED, KERNEL_DIED, notes.KERNEL_DIED_HERE, here=True)
        if is_graded_test(cell):
            self.settle_test_cell(cell, stopped=ran is None or ran.status != "ok")

    def note_error(
        self, cell, outcome: str, name: str, text: str, values: dict | None = None, here: bool = False
    ) -> None:
        """End the cell's outputs with the grader's error name and note text (notebook's language);
        mark it with outcome and the note in English, for the summary (grading/reasons.py)."""
        values = values or {}
        cell.outputs.append(error_output(self.language, name, text, **values))
        details = {"here": True} if here else {}
        mark(cell, outcome, note=notes.note(ENGLISH, text, **values), **details)

    # ------------------------------------------------- a graded cell's score

    def settle_test_cell(self, cell, stopped: bool) -> None:
        """Record the reference's answers, or replace a student's test cell's
        outputs with the trusted verdict (see grading/plugins/verdicts.py).

        A cell that did not run to its end keeps only that error: it scores 0."""
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not self.judge_answers or grade_id is None:
            return
        if self.is_reference:
            record = read_record(cell)
            if record is not None:
                self.answer_records[grade_id] = record
                self.displayed_records[grade_id] = displayed_record(cell)
            return
        if stopped:
            cell.outputs = [output for output in cell.outputs if output.output_type == "error"][-1:]
            return
        if self.graded_ids is not None and grade_id not in self.graded_ids:
            # Not a test of this assignment (sanitize.py drops such metadata): nothing to judge.
            self.log.warning("%r is no test cell of this notebook: not judged", grade_id)
            return
        reference = self.reference.answers.get(grade_id) if self.reference else None
        if reference is None:
            # Nothing to judge against: the course's fault, never the student's 0.
            raise CourseFault(
                f"the instructor's solution hands in no answers for {grade_id} "
                "(utils/answers.py's hand_in), so it cannot be graded"
            )
        kernel_errors = [
            (str(output.get("ename", "")), str(output.get("evalue", "")))
            for output in cell.outputs
            if output.output_type == "error"
        ]
        checks = self.check_modules.get(self.assignment, [])
        record, kernel_error = read_record(cell), (kernel_errors[0] if kernel_errors else None)
        try:
            verdict = judge(record, reference, kernel_error, checks=checks)
            # The instructor's summary quotes why in English (grading/reasons.py).
            english = verdict
            if not verdict.passed and reference.language != ENGLISH:
                english = judge(record, replace(reference, language=ENGLISH), kernel_error, checks=checks)
        except Exception as error:  # a bug of the course's own checks: never the student's points
            self.log.exception("judging %s failed", grade_id)
            raise CourseFault(f"the grader could not judge {grade_id} ({error!r})") from error
        cell.outputs = verdict_outputs(verdict, self.language)
        failed = {} if verdict.passed else {"note": english.message, "mistake": verdict.mistake}
        if not verdict.passed:  # always written: the feedback withholds an error's text without it
            failed.update(student_message=verdict.student_message, hints=list(verdict.hints))
        mark(cell, JUDGED, verdict=verdict.kind, **failed)

    # ---------------------------------------------------- the reference's time

    def source_path(self, resources) -> Path | None:
        """The instructor's source notebook of the one being graded, if there is one."""
        return assignment_notebook(self.config, resources, "source_directory")

    def cell_budgets(self) -> CellBudgets:
        measured = self.reference.seconds if self.reference and self.budget_from_reference else {}
        return CellBudgets(
            # nbclient's timeout None, 0 or -1 is "no limit"
            fallback=float("inf") if self.timeout is None else self.timeout,
            factor=self.budget_factor,
            floor=self.budget_floor,
            scale=self.budget_scale,
            reference=measured,
        )

    def reference_for(self, source: Path | None, resources, full: bool = False) -> Reference | None:
        """The reference of the notebook being graded (None for the reference itself, or without a
        source); full: of a run of every cell, experiments included."""
        if self.is_reference or source is None or not (self.budget_from_reference or self.judge_answers):
            return None
        reference = self.reference_run(source, resources, full)
        if self.judge_answers and reference is None:
            # Better no grade (the gradebook keeps any earlier one) than wrong zeros.
            raise CourseFault(f"the reference solution {source} could not be run: see the log")
        return reference or Reference()

    def reference_run(self, source: Path, resources, full: bool = False) -> Reference | None:
        """The source notebook's Reference, measured once per store (None when it cannot run;
        nothing is kept then, so the next grading tries again)."""
        skip = self.skip_experiments and not full
        key = (str(source), source.stat().st_mtime_ns, skip, self.skip_tag)
        try:

            def check(kept: Reference) -> None:
                # Checks may live outside the fingerprinted code: replay them on what the disk kept.
                if self.judge_answers:
                    self.check_the_judge(kept.answers, resources["nbgrader"]["assignment"])

            def measured() -> Reference:
                try:
                    return self.measure(source, resources, skip)
                except CourseFault as error:
                    if not str(error).startswith(KERNEL_DID_NOT_START):
                        raise
                    # No code ran: once more, as for a student (command/pipeline.py).
                    return self.measure(source, resources, skip)

            return self.reference_runs.get(
                key, measured, lambda: self.fingerprint(source, skip), check, self.log
            )
        except Exception as error:  # reported, and the student's grading fails
            self.log.warning("could not run the reference solution %s (%s)", source, error)
            return None

    def measure(self, source: Path, resources, skip_experiments: bool) -> Reference:
        """Run the source notebook in a copy of its folder, as a submission would run."""
        start = time.monotonic()
        runner = type(self)(
            parent=self.parent,
            config=self.config,
            budget_from_reference=False,
            judge_answers=self.judge_answers,
            is_reference=True,
            skip_experiments=skip_experiments,
            skip_tag=self.skip_tag,
        )
        with tempfile.TemporaryDirectory(prefix="grading-reference-") as folder:
            workdir = Path(folder) / source.parent.name
            runner.scratch_copy = str(workdir)
            # The assignment's files, links followed: the sandbox shows only this folder.
            shutil.copytree(source.parent, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            notebook = nbformat.read(source, as_version=4)
            # The notebook that ran last: a copy of it when the run was made again in full.
            notebook, _ = runner.preprocess(
                notebook, {"metadata": {"path": str(workdir)}, "nbgrader": resources["nbgrader"]}
            )
        self.log.info("ran the reference %s in %.1f s", source, time.monotonic() - start)
        graded = {cell.metadata["nbgrader"]["grade_id"] for cell in notebook.cells if is_graded_test(cell)}
        missing = graded - set(runner.answer_records) if self.judge_answers else set()
        if missing:
            self.log.warning("the reference's test cells %s hand in no answers", ", ".join(sorted(missing)))
        stopped = [
            cell.get("id") or f"number {index}"  # (a cell of nbformat 4.4 has no id)
            for index, cell in enumerate(notebook.cells)
            if marked(cell).get("outcome") in STOPPED
        ]
        if stopped:
            self.log.warning("the reference's cells %s did not run to their end", ", ".join(stopped))
        if self.judge_answers:
            self.check_the_judge(runner.answer_records, resources["nbgrader"]["assignment"])
        return Reference(
            runner.cell_seconds,
            runner.answer_records,
            runner.displayed_records,
            # A run that fell short (a kernel killed, a cell out of time) serves this command only.
            complete=not missing and not stopped,
        )

    def fingerprint(self, source: Path, skip_experiments: bool) -> str:
        """The name under which a reference store keeps this run on disk (references.py)."""
        options = {name: repr(getattr(self, name)) for name in sorted(REFERENCE_SETTINGS)}
        options["skip_experiments"] = skip_experiments
        provisioner = SandboxProvisioner(config=self.config)
        sandbox = {"enabled": SandboxKernelManager(config=self.config).enabled}
        passed = provisioner.passed_environment  # the box's environment takes these from the grader's
        if sandbox["enabled"]:
            sandbox["settings"] = {
                name: repr(value) for name, value in provisioner.trait_values(config=True).items()
            }
        else:  # the runner gets the grader's whole environment: these of it count
            passed = [*passed, "PATH", "PYTHONPATH"]
        # Not NBGRADER_EXECUTION: every box gets it (box.py), whatever the grader's environment.
        sandbox["environment"] = {
            name: os.environ.get(name) for name in passed if name != "NBGRADER_EXECUTION"
        }
        return fingerprint(source, options, sandbox)

    def check_the_judge(self, records: dict, assignment: str) -> None:
        """Raise CourseFault unless the reference's own answers pass the judge: a check that cannot
        be replayed, or a hidden answer the record only names, would give every student a 0."""
        checks = self.check_modules.get(assignment, [])
        for grade_id, record in records.items():
            if any(
                holds_stand_in([call.get("returned"), call["args_after"]]) for call in record.hidden_calls
            ):
                # Such an answer equals nothing: every student would fail the call.
                raise CourseFault(
                    f"the reference solution's hidden answers in {grade_id} are too large or not "
                    "plain data, so no student's can match them: give the hidden calls smaller inputs"
                )
            verdict = judge(record, record, checks=checks)
            if not verdict.passed:
                raise CourseFault(
                    f"the reference solution fails its own test {grade_id} when the grader "
                    f"replays it ({verdict.error_name}: {verdict.message[:200]})"
                )


def why_not_run(report: BoxReport, budgets: CellBudgets) -> tuple[str, str, dict]:
    """(error name, note, its values) for a cell the box did not report: why it was not run."""
    if report.stopped == "kernel-died":
        return KERNEL_DIED, notes.KERNEL_DIED_BEFORE, {"cell": report.stopped_at}
    if report.stopped == "notebook-budget":
        seconds = f"{budgets.notebook_seconds():.0f}"
        return NOT_RUN_ERROR, notes.NOTEBOOK_BUDGET_SPENT, {"seconds": seconds, "cell": report.stopped_at}
    if report.stopped == "stuck":
        return NOT_RUN_ERROR, notes.CELLS_RAN_OUT, {"cell": report.stopped_at}
    return NOT_RUN_ERROR, notes.RUNNER_STOPPED, {}


# The traits a complete reference run depends on (its fingerprint). Not time limits: a run they
# cut short is never kept, and one that ran to its end recorded the same under any limits.
REFERENCE_SETTINGS = {
    "skip_tag",
    "judge_answers",
    "check_modules",
    "kernel_name",
    "max_output_bytes",
    "max_report_mb",
}
# A cell of the reference marked so did not run to its end.
STOPPED = {TIMED_OUT, NOT_RUN, KERNEL_STOPPED}


def is_graded_test(cell) -> bool:
    """An autograded test cell: code, with points."""
    return cell.cell_type == "code" and bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))
