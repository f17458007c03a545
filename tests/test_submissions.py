"""What is wrong with a handed-in notebook before it is graded (grading/submissions.py)."""

import shutil

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from conftest import REPO, graded_cell
from grading.reasons import Reason, Why
from grading.submissions import inspect_submission


def test_inspect_submission_names_what_was_changed(tmp_path):
    release = new_notebook(
        cells=[
            graded_cell("x = 1", "answer", solution=True),
            new_code_cell(
                "check(x)", metadata={"nbgrader": {"grade": True, "locked": True, "grade_id": "test_answer"}}
            ),
        ]
    )
    path = tmp_path / "Work.ipynb"
    missing = Reason(Why.MISSING_NOTEBOOK, "no Work.ipynb in the submission")
    assert inspect_submission(path, release) == ([missing], False)
    path.write_text("{")
    notes, readable = inspect_submission(path, release)
    assert (
        not readable and notes[0].why is Why.UNREADABLE and notes[0].text.startswith("unreadable Work.ipynb")
    )
    edited = nbformat.from_dict(nbformat.reads(nbformat.writes(release), as_version=4))
    edited.cells[1].source = "pass"
    nbformat.write(edited, path)
    edited_locked = Reason(Why.RESTORED_CELL, "edited locked cell test_answer (restored)")
    assert inspect_submission(path, release) == ([edited_locked], True)


@pytest.mark.parametrize("assignment, edition", [("initialization", "_zh"), ("initialization_zh", "")])
def test_a_notebook_of_the_other_edition_is_refused_with_where_to_grade_it(tmp_path, assignment, edition):
    """A Chinese notebook handed in to the English assignment (or the other
    way round) would be graded as a notebook with every cell changed, every
    experiment run: it is refused, and the summary names the assignment."""
    other = f"initialization{edition}"
    release = nbformat.read(REPO / "release" / assignment / "Initialization.ipynb", as_version=4)
    path = tmp_path / "submitted" / "ada" / assignment / "Initialization.ipynb"
    path.parent.mkdir(parents=True)
    shutil.copyfile(REPO / "release" / other / "Initialization.ipynb", path)
    [reason], readable = inspect_submission(path, release)
    assert not readable and reason.why is Why.REFUSED
    assert f"is the notebook of the other edition, {other}" in reason.text
    assert f"python -m grading.grade {other} " in reason.text
