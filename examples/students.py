"""The student's side of a submission: answers typed into a release notebook
and handed in, as the example classes, the tests and the benchmarks need it."""

import copy
from pathlib import Path

import nbformat

from examples.course_copy import REPO
from grading.configuration import delimiters


def fill_in(notebook, answers):
    """A copy of a release notebook with answers written into its solution cells.

    answers maps a solution cell's nbgrader grade_id to the student's text:
    for a code cell, the lines that replace the stub between the START/END
    CODE HERE lines (written unindented; they take the indent of the START
    line); for a markdown answer cell, the whole answer.
    """
    filled = copy.deepcopy(notebook)
    unused = set(answers)
    for cell in filled.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id not in answers:
            continue
        unused.discard(grade_id)
        if cell.cell_type == "markdown":
            cell.source = answers[grade_id]
        else:
            cell.source = _replace_stub(cell.source, answers[grade_id])
    if unused:
        raise KeyError(f"no solution cell with grade_id {sorted(unused)}")
    return filled


def _replace_stub(source, answer):
    begin_marker, end_marker = delimiters(REPO)["solution"]  # as nbgrader_config.py sets them
    lines = source.split("\n")
    begin = next(i for i, line in enumerate(lines) if begin_marker in line)
    end = next(i for i, line in enumerate(lines) if end_marker in line)
    indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
    body = [indent + line if line else line for line in answer.strip("\n").split("\n")]
    return "\n".join(lines[: begin + 1] + body + lines[end:])


def write_submission(course_root, student, assignment, notebook_name, answers, timestamp=None):
    """Put a filled copy of the release into submitted/<student>/<assignment>/.

    timestamp (a datetime) is written to timestamp.txt, as `nbgrader collect`
    does, so that nbgrader can tell how late the submission is.
    """
    release = Path(course_root) / "release" / assignment / notebook_name
    folder = Path(course_root) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    notebook = fill_in(nbformat.read(release, as_version=4), answers)
    nbformat.write(notebook, folder / notebook_name)
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp.isoformat(" "))
    return folder / notebook_name
