"""Repairs nbgrader makes to a submission before grading it, made safe (docs/threat-model.md).

- DropDuplicateGradeIds: earlier copies of a duplicated grade cell become ordinary cells (nbgrader
  0.9.6 stops the whole batch on the empty metadata DeduplicateIds leaves them).
- OverwriteCellsWithIds: a restored cell gets a cell id (else nbformat warns); a cell naming no cell
  of the notebook becomes an ordinary one.
- KeepTrustedMetadata: only the metadata grading reads reaches the pages made from a submission.
- RefuseUnsafeSubmissions: what the grading command refuses before nbgrader sees it (a link or a
  special file, a notebook far larger than its release or of the other edition, a misread
  timestamp.txt), refused in plain `nbgrader autograde` too, but only after nbgrader has copied the
  submission into autograded/, following its links: grade untrusted submissions with the command.
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
from grading.submissions import folder_problem, notebook_problem


class RefuseUnsafeSubmissions(NbGraderPreprocessor):
    """Stop grading a submission the grading command refuses, by the same checks
    (grading/submissions.py's folder_problem and notebook_problem). nbgrader has already recorded
    its time: after fixing a refused timestamp.txt, grade the student again."""

    def preprocess(self, nb, resources):
        folder = resources.get("metadata", {}).get("path")
        problem = folder_problem(Path(folder)) if folder else None
        if problem:
            raise RuntimeError(problem.text)
        release = release_notebook(self.config, resources)
        if release is not None:
            nbgrader = resources.get("nbgrader", {})
            name = f"{nbgrader.get('notebook', 'the notebook')}.ipynb"
            refused = notebook_problem(nb, release, name, nbgrader.get("assignment", ""))
            if refused:
                raise RuntimeError(f"refused: {refused}")
        return nb, resources


def release_notebook(config, resources):
    """The release of the notebook being graded (None when there is none)."""
    path = assignment_notebook(config, resources, "release_directory")
    return None if path is None else nbformat.read(path, as_version=4)


class KeepTrustedMetadata(NbGraderPreprocessor):
    """Keep of a submission's metadata only what grading reads: the release's notebook metadata,
    each cell's nbgrader metadata and tags, and PNG and JPEG attachments.

    Anything else would reach the pages (widget state makes nbconvert's HTML load a widget manager
    from the internet), and the grader's marks (grading/errors.py) are never a submission's. nbgrader
    metadata that is not a dict with a text grade_id is dropped: nbgrader would raise on it.
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
    """Whether a metadata value has the shape nbgrader reads (nbformat checks tags, not nbgrader's)."""
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
    """OverwriteCells whose restored cells have a cell id, and which makes a cell naming no cell of
    this notebook an ordinary one: nbgrader would drop only its grade id, which stops the grading."""

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
        where = (grade_id, self.notebook_id, self.assignment_id)
        return isinstance(grade_id, str) and self.found(self.gradebook.find_source_cell, *where) is not None

    def restore_kind(self, info: dict, grade_id: str) -> None:
        """Give the cell the kind the gradebook says (graded, solution, locked, task): nbgrader
        restores only source and points, and a solution cell marked graded stops the grading."""
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
