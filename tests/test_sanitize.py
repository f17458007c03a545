"""Repairs nbgrader makes to a submission before grading it, made safe
(grading/plugins/sanitize.py)."""

import copy
import logging

import nbformat
import pytest
from nbformat import from_dict
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooOldError
from nbgrader.preprocessors import DeduplicateIds
from traitlets.config import Config

from grading.command.course import Course
from grading.plugins.sanitize import DropDuplicateGradeIds, KeepTrustedMetadata, RefuseUnsafeSubmissions


def nbgrader_cell(source, grade_id, grade=False, solution=False, locked=False):
    """A code cell with nbgrader's metadata, as the release gives it."""
    metadata = {
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    if grade:
        metadata["points"] = 2
    return new_code_cell(source, metadata={"nbgrader": metadata})


def with_duplicates():
    """A submission with a solution cell and a test cell each handed in twice
    (a student copied them), and a cell of the student's own between."""
    return new_notebook(
        cells=[
            nbgrader_cell("def f():\n    return 0", "f", solution=True),
            nbgrader_cell("check(f)", "test_f", grade=True, locked=True),
            new_markdown_cell("my notes"),
            nbgrader_cell("check(f)  # my copy", "test_f", grade=True, locked=True),
            new_code_cell("x = f()"),
            nbgrader_cell("def f():\n    return 1", "f", solution=True),
        ]
    )


def test_earlier_copies_of_a_grade_cell_become_plain_cells_and_the_last_is_kept(caplog):
    submission = with_duplicates()
    log = logging.getLogger("test-sanitize")
    with caplog.at_level(logging.WARNING, logger="test-sanitize"):
        cleaned, _ = DropDuplicateGradeIds(log=log).preprocess(copy.deepcopy(submission), {})
    # The same cells in the same order, their sources as handed in.
    assert [cell.source for cell in cleaned.cells] == [cell.source for cell in submission.cells]
    assert [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in cleaned.cells] == [
        None,
        None,
        None,
        "test_f",
        None,
        "f",
    ]
    # Not even an empty nbgrader dict is left on the earlier copies.
    assert ["nbgrader" in cell.metadata for cell in cleaned.cells] == [False, False, False, True, False, True]
    assert cleaned.cells[3].metadata["nbgrader"] == submission.cells[3].metadata["nbgrader"]
    # One line per extra copy, from the last cell up (nbgrader's order).
    # (Only this log's: a kernel client collected meanwhile may warn on traitlets' log.)
    assert [record.getMessage() for record in caplog.records if record.name == "test-sanitize"] == [
        "Cell with id 'test_f' exists multiple times!",
        "Cell with id 'f' exists multiple times!",
    ]


def test_nbgrader_accepts_the_notebook_its_own_deduplication_makes_it_refuse():
    """nbgrader's DeduplicateIds leaves an empty nbgrader dict on each earlier
    copy, which nbgrader's own metadata check then takes for a notebook of
    an old format (stopping the batch); DropDuplicateGradeIds's notebook passes."""
    by_nbgrader, _ = DeduplicateIds().preprocess(with_duplicates(), {})
    with pytest.raises(SchemaTooOldError):
        MetadataValidator().validate_nb(by_nbgrader)
    cleaned, _ = DropDuplicateGradeIds().preprocess(with_duplicates(), {})
    MetadataValidator().validate_nb(cleaned)


def test_a_notebook_without_duplicates_is_left_as_it_is():
    unique = new_notebook(
        cells=[
            nbgrader_cell("def f(): pass", "f", solution=True),
            nbgrader_cell("check(f)", "test_f", grade=True, locked=True),
            new_code_cell("x = 1"),
        ]
    )
    cleaned, _ = DropDuplicateGradeIds().preprocess(copy.deepcopy(unique), {})
    assert cleaned == unique


def test_plain_autograde_refuses_a_folder_with_a_link_and_the_command_checks_it_itself(tmp_path, course):
    """RefuseUnsafeSubmissions stops plain `nbgrader autograde` on a folder
    holding a link; the grading command checks the folder itself right
    before nbgrader reads it, so it turns the plugin off: one check per path."""
    folder = tmp_path / "ada" / "a1"
    folder.mkdir(parents=True)
    notebook = new_notebook()
    resources = {"metadata": {"path": str(folder)}, "nbgrader": {}}
    assert RefuseUnsafeSubmissions().preprocess(notebook, resources) == (notebook, resources)
    (folder / "solution.ipynb").symlink_to(tmp_path)
    with pytest.raises(RuntimeError, match="refused: solution.ipynb is a symbolic link"):
        RefuseUnsafeSubmissions().preprocess(notebook, resources)
    assert Course(course).config.RefuseUnsafeSubmissions.enabled is False


def test_plain_autograde_refuses_what_the_command_refuses(tmp_path):
    """A timestamp.txt nbgrader would misread, and a notebook of the other
    edition, stop plain `nbgrader autograde` too (the command's reasons)."""
    folder = tmp_path / "submitted" / "ada" / "a1"
    folder.mkdir(parents=True)
    (tmp_path / "release" / "a1").mkdir(parents=True)
    nbformat.write(new_notebook(), tmp_path / "release" / "a1" / "nb.ipynb")
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    check = RefuseUnsafeSubmissions(config=config)
    resources = {"metadata": {"path": str(folder)}, "nbgrader": {"assignment": "a1", "notebook": "nb"}}
    assert check.preprocess(new_notebook(), resources)
    (folder / "timestamp.txt").write_text("2026-12-05 10:00:00 +0100")
    with pytest.raises(RuntimeError, match="numeric time zone nbgrader misreads"):
        check.preprocess(new_notebook(), resources)
    (folder / "timestamp.txt").unlink()
    chinese = new_notebook(metadata={"course": {"language": "zh_CN"}})
    with pytest.raises(RuntimeError, match="refused: nb.ipynb is the notebook of the other edition, a1_zh"):
        check.preprocess(chinese, resources)


def test_malformed_nbgrader_metadata_makes_an_ordinary_cell_not_a_crash():
    """nbformat accepts any metadata; nbgrader's own code raises on these
    (AttributeError, KeyError, TypeError) and would stop the student's grading."""
    tampered = [
        {"nbgrader": "x"},
        {"nbgrader": {"grade": True, "solution": False, "locked": True, "points": 1}},  # no grade_id
        {"nbgrader": {"grade": True, "grade_id": ["a"], "points": 1}},
    ]
    honest = nbgrader_cell("check(f)", "test_f", grade=True, locked=True)
    honest.metadata["tags"] = ["experiment"]
    cells = [from_dict({**new_code_cell("x"), "metadata": metadata}) for metadata in tampered]
    notebook = new_notebook(cells=[*cells, honest])
    kept, _ = KeepTrustedMetadata().preprocess(notebook, {})
    cleaned, _ = DropDuplicateGradeIds().preprocess(kept, {})
    assert [cell.metadata for cell in cleaned.cells[:-1]] == [{}] * len(tampered)
    assert cleaned.cells[-1].metadata == honest.metadata
