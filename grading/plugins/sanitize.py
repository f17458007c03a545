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
- A submission that holds a link or a special file: nbgrader would follow a
  link to the instructor's solution, or open a FIFO and wait forever.
  RefuseUnsafeSubmissions stops that student's autograde, also in plain
  `nbgrader autograde` (the grading command refuses them before).
"""

from pathlib import Path

from nbformat.v4.nbbase import random_cell_id
from nbgrader import utils
from nbgrader.preprocessors import DeduplicateIds, NbGraderPreprocessor, OverwriteCells

from grading.submissions import check_submission_folder


class RefuseUnsafeSubmissions(NbGraderPreprocessor):
    """Stop grading a submission whose folder check_submission_folder refuses."""

    def preprocess(self, nb, resources):
        folder = resources.get("metadata", {}).get("path")
        reason = check_submission_folder(Path(folder)) if folder else None
        if reason:
            raise RuntimeError(f"refused: {reason}")
        return nb, resources


class DropDuplicateGradeIds(DeduplicateIds):
    """Keep the last cell with each grade_id; make earlier copies plain cells."""

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader["grade_id"]
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times!", grade_id)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


class OverwriteCellsWithIds(OverwriteCells):
    """OverwriteCells whose cells put back in place of deleted ones have a cell id."""

    def missing_cell_transform(self, source_cell, max_score, is_solution=False, is_task=False):
        cell = super().missing_cell_transform(source_cell, max_score, is_solution, is_task)
        cell.setdefault("id", random_cell_id())
        return cell
