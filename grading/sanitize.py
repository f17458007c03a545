"""Repairs nbgrader makes to a submission before grading it, made safe.

nbgrader's DeduplicateIds keeps the last copy of a duplicated grade cell and
gives the other copies an empty `nbgrader` metadata dict. nbgrader 0.9.6 then
takes that empty dict for metadata of an old format and stops grading the
whole batch. Here the other copies lose their nbgrader metadata altogether:
they stay in the notebook as ordinary cells and run as the student ran them.
"""

from nbgrader import utils
from nbgrader.preprocessors import DeduplicateIds


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
