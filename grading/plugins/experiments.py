"""Ungraded experiments, which autograding does not re-run.

An instructor tags a code cell of the source notebook (source/) with SKIP_TAG when no test reads it
(a training run, a plot); autograding leaves it out and gives it a one-line note instead of outputs.
Tags are read from the instructor's source, never the student's copy, and a submission's cell is
left out only while it is still the instructor's (same cell id and source, neither graded nor
solution). When a NameError names something a skipped cell defines, the notebook is graded again in
full (grading/plugins/execute.py), so nobody gains or loses a point.
"""

from __future__ import annotations

import ast
import re

import nbformat
from nbgrader import utils

from grading.compat import python_source
from utils.i18n import ENGLISH, N_, translation

SKIP_TAG = "skip-when-grading"

NOT_RERUN = N_("[Not re-run for grading: no test uses this cell.]")

# IPython's wording of a name that was never defined.
UNDEFINED_NAME = re.compile(r"name '(\w+)' is not defined")


def tagged_cells(source: nbformat.NotebookNode, tag: str = SKIP_TAG) -> dict[str, str]:
    """{cell id: source} of the source notebook's code cells that carry tag."""
    return {
        cell.id: cell.source
        for cell in source.cells
        if cell.cell_type == "code" and tag in cell.metadata.get("tags", []) and "id" in cell
    }


def cells_to_skip(notebook: nbformat.NotebookNode, tagged: dict[str, str]) -> set[int]:
    """Indices of the notebook's cells that are unchanged tagged experiments."""
    return {
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and tagged.get(cell.get("id")) == cell.source
        and not (utils.is_grade(cell) or utils.is_solution(cell))
    }


def names_defined(sources) -> set[str]:
    """Names that code assigns, defines or imports at its top level (and in
    its loops and branches): what later cells could use."""
    names = set()
    for source in sources:
        try:
            tree = ast.parse(python_source(source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def undefined_names(notebook: nbformat.NotebookNode) -> set[str]:
    """Names that a NameError in the notebook's outputs reports as undefined."""
    names = set()
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == "NameError":
                names.update(UNDEFINED_NAME.findall(output.get("evalue", "")))
    return names


def not_rerun_text(language: str = ENGLISH) -> str:
    """The line a skipped cell prints instead of its outputs, in the instructor's notebook's language."""
    return translation(language).gettext(NOT_RERUN) + "\n"
