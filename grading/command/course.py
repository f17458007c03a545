"""A course root as the grading command uses it: its configuration (read
once), folders, gradebook, exports, and nbgrader's API in this process."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.apps.exportapp import ExportApp
from nbgrader.apps.zipcollectapp import ZipCollectApp
from nbgrader.coursedir import CourseDirectory

from grading.command.feedback_writer import FeedbackWriter
from grading.compat import (
    drop_course_without_assignments,
    quiet_nbgrader_session_warnings,
    share_gradebook_engines,
)
from grading.configuration import course_config
from grading.errors import GradingError
from grading.gradebook import course_gradebook, create_gradebook
from grading.plugins.companions import companion_paths
from grading.plugins.due_dates import Grading
from grading.plugins.lms import ExportRefused, GradesCsvExport
from grading.plugins.references import REFERENCE_RUNS, ReferenceRuns


def quiet_logger() -> logging.Logger:
    """A logger for nbgrader's messages: kept for the results, not printed."""
    logger = logging.getLogger("grading.nbgrader")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())  # else Python prints warnings itself
    return logger


class Course:
    """An nbgrader course root with its configuration (read once) and gradebook;
    folder names as configured. full, sandbox: see grading.grade.grade_class."""

    def __init__(self, root: str | Path, full: bool = False, sandbox: bool = True):
        # Process-wide and idempotent, before any other thread opens a gradebook (grading/compat.py).
        quiet_nbgrader_session_warnings()
        share_gradebook_engines()  # the same queries stay compiled
        self.root = Path(root).resolve()
        if not (self.root / "nbgrader_config.py").exists():
            raise GradingError(
                f"{self.root} has no nbgrader_config.py: run from the course root or pass --root"
            )
        self.config = course_config(self.root)
        # In the configuration, so nbgrader's plugins find the course wherever this runs.
        self.config.CourseDirectory.root = str(self.root)
        self.coursedir = CourseDirectory(config=self.config)
        create_gradebook(self.coursedir.db_url, self.coursedir.course_id)
        if full:  # run every cell, the experiments too (grading/plugins/execute.py)
            self.config.SandboxedExecute.skip_experiments = False
        if not sandbox:
            self.config.SandboxKernelManager.enabled = False
        # The command checks each submission right before nbgrader reads it
        # (pipeline.grade_student): the plugin is for plain `nbgrader autograde`.
        self.config.RefuseUnsafeSubmissions.enabled = False
        # One store of reference runs for every student: each source notebook is run once,
        # and kept on disk for the next command (grading/plugins/references.py).
        self.reference_runs = ReferenceRuns(folder=self.root / REFERENCE_RUNS)
        self.config.SandboxedExecute.reference_runs = self.reference_runs
        self.log = quiet_logger()
        self.api = NbGraderAPI(coursedir=self.coursedir, config=self.config, log=self.log)
        self.settings = Grading(config=self.config)

    @functools.cached_property
    def feedback_writer(self) -> FeedbackWriter:
        """The process's feedback writer for this course (built on first use)."""
        return FeedbackWriter(self.config, self.log)

    def folder(self, step: str, student: str, assignment: str) -> Path:
        """nbgrader's folder of one student's assignment at a step ("submitted",
        "autograded", "feedback"); "source" and "release" take student "."."""
        name = getattr(self.coursedir, f"{step}_directory")  # CourseDirectory.source_directory, ...
        return Path(self.coursedir.format_path(name, student, assignment))

    def submitted_root(self) -> Path:
        return self.root / self.coursedir.submitted_directory

    def has_generated(self, assignment: str) -> bool:
        """Whether the gradebook holds the assignment's notebooks (generated)."""
        with self.gradebook() as gradebook:
            try:
                return bool(gradebook.find_assignment(assignment).notebooks)
            except MissingEntry:
                return False

    def unknown_assignment_problem(self, assignment: str) -> str | None:
        """Why assignment cannot be graded here (neither in source/ nor in the
        gradebook: a misspelt name), or None."""
        source = self.coursedir.source_directory
        folder = self.root / source
        known = sorted(path.name for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []
        if assignment in known or self.has_generated(assignment):
            return None
        holds = ", ".join(known) or "nothing"
        return f"this course has no assignment {assignment!r}: its {source}/ holds {holds}"

    def archive_folder(self, assignment: str) -> Path:
        """Where `nbgrader zip_collect` looks for downloaded files and zips."""
        collector = ZipCollectApp(config=self.config)
        return self.root / collector.downloaded_directory / assignment / collector.archive_directory

    def gradebook(self) -> Gradebook:
        """The course's gradebook (Course() created it if missing), opened for the course's id."""
        return course_gradebook(self.coursedir)

    def add_default_course(self) -> None:
        """Add nbgrader's "default_course" row now, once: nbgrader 0.9.6's autograde
        steps each add it when missing, and two workers adding it at once would fail
        (UNIQUE constraint failed: course.id). drop_empty_default_course removes it."""
        with Gradebook(self.coursedir.db_url):
            pass

    def drop_empty_default_course(self) -> str | None:
        """Remove the empty "default_course" row (add_default_course) unless the course is
        named so: None, or why the row stays (the gradebook could not be written)."""
        unused = "default_course"
        if self.coursedir.course_id == unused:
            return None
        try:
            with self.gradebook() as gradebook:
                drop_course_without_assignments(gradebook, unused)
        except Exception as error:  # noqa: BLE001 (a tidy-up once every grade is given: never the end of a run)
            first_line = (str(error).splitlines() or [type(error).__name__])[0]
            return f"nbgrader's empty {unused} row stays in the gradebook for now ({first_line})"
        return None

    def export_grades(self, csv_name: str) -> None:
        """Write csv_name with the course's exporter (c.ExportApp.plugin_class, by default
        grading.plugins.lms.GradesCsvExport), in this process rather than a separate
        `nbgrader export`, which would pay its start-up again."""
        app = ExportApp(config=self.config, log=self.log)
        app.coursedir = self.coursedir  # where the exporter finds who handed in
        exporter_class = app.plugin_class if "plugin_class" in self.config.ExportApp else GradesCsvExport
        exporter = exporter_class(parent=app)
        exporter.to = str(self.root / csv_name)
        with self.gradebook() as gradebook:
            try:
                exporter.export(gradebook)
            except ExportRefused as refusal:  # a SystemExit, for `nbgrader export`: here, a reason
                raise GradingError(f"{csv_name} was not written: {refusal}") from None

    def release_notebooks(self, assignment: str) -> dict:
        """{notebook name: release notebook} of the assignment."""
        folder = self.folder("release", ".", assignment)
        return {path.stem: nbformat.read(path, as_version=4) for path in sorted(folder.glob("*.ipynb"))}

    def companion_notebooks(self, assignment: str) -> list[str]:
        """The ungraded notebooks below the top of the assignment's release folder
        ("companion/DataAndHelpersTour.ipynb"): their relative paths, sorted."""
        folder = self.folder("release", ".", assignment)
        return [path.as_posix() for path in companion_paths(folder)]
