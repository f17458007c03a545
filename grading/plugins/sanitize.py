"""Repairs nbgrader makes to a submission before grading it, made safe.

- A duplicated grade cell: nbgrader's DeduplicateIds keeps the last copy and
  gives the other copies an empty `nbgrader` metadata dict, which nbgrader
  0.9.6 then takes for metadata of an old format, and stops grading the
  whole batch. DropDuplicateGradeIds removes the other copies' nbgrader
  metadata altogether: they stay in the notebook as ordinary cells and run
  as the student ran them.
- A deleted grade cell: nbgrader puts it back (add_missing_cells) but
  without a cell id, and nbformat warns about it each time it checks the
  notebook. OverwriteCellsWithIds gives the cell an id.
- A cell whose nbgrader metadata names no cell of the notebook (a graded
  cell pasted from another notebook, or made up): nbgrader drops only its
  grade id, and the graded cell left without one stops the student's
  grading. OverwriteCellsWithIds makes it an ordinary cell.
- Metadata: a submission's notebook and cell metadata reach the pages made
  from it; KeepTrustedMetadata keeps only what grading reads.
- A submission that holds a link or a special file: nbgrader would follow a
  link to the instructor's solution, or open a FIFO and wait forever. A
  notebook far larger than its release (thousands of cells, a megabyte of
  markdown) would cost minutes to run and to render; a timestamp.txt that
  nbgrader misreads would cost a wrong late penalty; a notebook of the
  other edition would be graded with every cell changed. The grading command
  refuses such a submission before nbgrader sees it (and turns this plugin
  off: one check per path). RefuseUnsafeSubmissions
  stops that student's autograde in plain `nbgrader autograde`, but only
  after nbgrader has copied the submission into autograded/ (following its
  links: nbgrader offers no hook that can stop it earlier), so grade
  untrusted submissions with the grading command.
"""

import copy
from pathlib import Path

import nbformat
from nbformat.v4.nbbase import random_cell_id
from nbgrader import utils
from nbgrader.api import GradeCell, MissingEntry, TaskCell
from nbgrader.preprocessors import DeduplicateIds, NbGraderPreprocessor, OverwriteCells

import grading.compat  # noqa: F401 (checks the nbgrader these subclasses lean on)
from grading.configuration import assignment_notebook
from grading.submissions import check_submission_folder, edition_problem, size_problem, timestamp_problem


class RefuseUnsafeSubmissions(NbGraderPreprocessor):
    """Stop grading a submission as the grading command refuses it: its
    folder (check_submission_folder), a timestamp.txt nbgrader misreads
    (timestamp_problem), a notebook too large next to its release
    (size_problem) or of the other edition (edition_problem).

    nbgrader has by then recorded the submission's time in the gradebook
    (before any preprocessor runs): after fixing a refused timestamp.txt,
    grade the student again."""

    def preprocess(self, nb, resources):
        folder = resources.get("metadata", {}).get("path")
        reason = None
        if folder:
            reason = check_submission_folder(Path(folder)) or timestamp_problem(Path(folder))
        release = release_notebook(self.config, resources)
        if reason is None and release is not None:
            assignment = resources.get("nbgrader", {}).get("assignment", "")
            problem = edition_problem(nb, release, assignment)
            notebook = resources.get("nbgrader", {}).get("notebook", "the notebook")
            reason = size_problem(nb, release) or (problem and f"{notebook}.ipynb {problem}")
        if reason:
            raise RuntimeError(f"refused: {reason}")
        return nb, resources


def release_notebook(config, resources):
    """The release of the notebook being graded (None when there is none)."""
    path = assignment_notebook(config, resources, "release_directory")
    return None if path is None else nbformat.read(path, as_version=4)


class KeepTrustedMetadata(NbGraderPreprocessor):
    """Keep of a submission's metadata only what grading reads: the notebook's
    is the release's (kernel, language), each cell's is its nbgrader
    metadata and tags, and a markdown cell's attachments are PNG and JPEG
    pictures only.

    Anything else would reach the pages made from the submission: a
    notebook's widget state, say, makes nbconvert's HTML load a widget
    manager from the internet into formgrader and the feedback. The
    grader's own marks (grading/errors.py) are never a submission's.

    nbgrader metadata that is not a dict with a text grade_id is dropped:
    nbgrader's own code would raise on it and stop the student's grading (a
    tampered cell is graded as an ordinary one, and OverwriteCells puts back
    the cell it replaced).
    """

    CELL_KEYS = ("nbgrader", "tags")
    PICTURES = ("image/png", "image/jpeg")

    def preprocess(self, nb, resources):
        release = release_notebook(self.config, resources)
        nb.metadata = copy.deepcopy(release.metadata) if release is not None else {}
        for cell in nb.cells:
            cell.metadata = {
                key: value
                for key, value in cell.metadata.items()
                if key in self.CELL_KEYS and well_formed(key, value)
            }
            if "attachments" in cell:
                cell.attachments = {
                    name: bundle
                    for name, bundle in cell.attachments.items()
                    if isinstance(bundle, dict) and bundle and set(bundle) <= set(self.PICTURES)
                }
        return nb, resources


def well_formed(key: str, value) -> bool:
    """Whether a cell's metadata value is of the shape nbgrader reads (nbformat
    checks the tags; nbgrader metadata has no schema there)."""
    return key != "nbgrader" or (isinstance(value, dict) and isinstance(value.get("grade_id"), str))


class DropDuplicateGradeIds(DeduplicateIds):
    """Keep the last cell with each grade_id; make earlier copies plain cells."""

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id %r exists multiple times!", grade_id)  # repr: one log line
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


class OverwriteCellsWithIds(OverwriteCells):
    """OverwriteCells whose cells put back in place of deleted ones have a
    cell id, and which makes a cell whose nbgrader metadata names no cell of
    this notebook (pasted from another notebook, or made up) an ordinary
    cell, with a warning: nbgrader would drop only its grade id, and a graded
    cell without one stops the student's grading."""

    def preprocess_cell(self, cell, resources, cell_index):
        info = cell.metadata.get("nbgrader")
        if info is None:
            return cell, resources
        grade_id = info.get("grade_id") if isinstance(info, dict) else None
        if not self.known(grade_id):
            self.log.warning("Cell %s names no cell of this notebook: graded as an ordinary cell", cell_index)
            del cell.metadata["nbgrader"]
            return cell, resources
        self.restore_kind(info, grade_id)
        return super().preprocess_cell(cell, resources, cell_index)

    def known(self, grade_id) -> bool:
        """True when the gradebook knows grade_id as a cell of this notebook."""
        if not isinstance(grade_id, str):
            return False
        try:
            self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            return False
        return True

    def restore_kind(self, info: dict, grade_id: str) -> None:
        """Give the cell the kind the gradebook says it is (graded, solution,
        locked, task): nbgrader restores its source and points, not these
        flags, and a solution cell a student marked as graded stops their
        grading."""
        where = (grade_id, self.notebook_id, self.assignment_id)
        graded = self.found(self.gradebook.find_graded_cell, *where)
        info["grade"] = isinstance(graded, GradeCell)
        info["task"] = isinstance(graded, TaskCell)
        info["solution"] = self.found(self.gradebook.find_solution_cell, *where) is not None
        info["locked"] = bool(self.gradebook.find_source_cell(*where).locked)

    @staticmethod
    def found(find, *where):
        """What the gradebook's find function finds, or None."""
        try:
            return find(*where)
        except MissingEntry:
            return None

    def missing_cell_transform(self, source_cell, max_score, is_solution=False, is_task=False):
        cell = super().missing_cell_transform(source_cell, max_score, is_solution, is_task)
        cell.setdefault("id", random_cell_id())
        return cell
