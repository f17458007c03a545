"""The Chinese edition: which English file becomes which Chinese one, through
which catalog, and how it is built.

* ``locale/zh_CN/<notebook>.po`` translates a notebook's prose (markdown,
  comments, docstrings); the built notebook is committed beside the other
  sources (an nbgrader assignment of its own for the graded notebooks).
* ``utils/locale/zh_CN/LC_MESSAGES/course.po`` translates what the code shows
  while it runs (the checks' messages and the figures' text). It is compiled
  to ``course.mo``, which ``utils/i18n.py`` reads through gettext.
"""

import ast
import copy
import inspect
import io
import json
from pathlib import Path

import nbformat
from babel.messages.extract import extract, extract_from_file

from utils import deep_utils, init_utils

from . import catalogs
from .notebook_text import masked_source, notebook_units, translate_cell_source

REPO = Path(__file__).resolve().parent.parent
LANGUAGE = catalogs.LANGUAGE
NOTEBOOK_CATALOGS = REPO / "locale" / LANGUAGE

# English notebook -> its Chinese edition.
EDITIONS = {
    "source/initialization/Initialization.ipynb": "source/initialization_zh/Initialization.ipynb",
    "source/initialization_deep/InitializationDeep.ipynb": (
        "source/initialization_deep_zh/InitializationDeep.ipynb"
    ),
    "notebooks/DataAndHelpersTour.ipynb": "notebooks/DataAndHelpersTour.zh_CN.ipynb",
    "notebooks/VarianceThroughDepth.ipynb": "notebooks/VarianceThroughDepth.zh_CN.ipynb",
}

# What the code shows at run time: the helpers, the figure text the
# notebooks pass to figure_text(), and the grader's verdicts in feedback.
RUNTIME_SOURCES = [
    "utils/init_checks.py",
    "utils/deep_checks.py",
    "utils/init_utils.py",
    "utils/deep_utils.py",
    "utils/i18n.py",
    "utils/answers.py",
    "grading/plugins/verdicts.py",
    "grading/plugins/answer_data.py",
    "grading/plugins/experiments.py",
    "grading/plugins/feedback_page.py",
    "grading/notes.py",
]
RUNTIME_KEYWORDS = {"tr": None, "figure_text": None, "N_": None}
# The course's plotting helpers show the titles and axis labels they are
# given in the figures' language, so a notebook passes them plain English.
FIGURE_HELPERS = {
    "plot_dataset",
    "plot_decision_boundary",
    "plot_output_map",
    "plot_costs",
    "plot_layer_spreads",
    "plot_layer_values",
}
FIGURE_KEYWORDS = {"title", "xlabel", "ylabel"}
RUNTIME_CATALOG = REPO / "utils" / "locale" / LANGUAGE / "LC_MESSAGES" / "course.po"

# The imports cell chooses the language; this is the one code difference.
LANGUAGE_CALL = 'set_language("en")'
CHINESE_LANGUAGE_CALL = f'set_language("{LANGUAGE}")'


def notebook_catalog(english_path):
    return NOTEBOOK_CATALOGS / (Path(english_path).stem + ".po")


def read_notebook(path):
    return nbformat.read(REPO / path, as_version=4)


# --------------------------------------------------------------------------
# Templates: what there is to translate, from the English source
# --------------------------------------------------------------------------


def notebook_template(english_path):
    notebook = read_notebook(english_path)
    units = [
        (unit.text, (Path(english_path).name, unit.cell_index), unit.kind)
        for unit in notebook_units(notebook)
    ]
    return catalogs.new_template(units, Path(english_path).stem)


def _code_cells(notebook):
    """The code cells' Python, magics commented out."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            yield index, masked_source(cell.source)


def _literal_texts(expression):
    """The strings an expression can give: a string literal, or either
    branch of ``"a" if condition else "b"``."""
    if isinstance(expression, ast.Constant) and isinstance(expression.value, str):
        return [expression.value]
    if isinstance(expression, ast.IfExp):
        return _literal_texts(expression.body) + _literal_texts(expression.orelse)
    return []


def _helper_parameters(name):
    """The names of a plotting helper's parameters, in order."""
    module = deep_utils if hasattr(deep_utils, name) else init_utils
    return list(inspect.signature(getattr(module, name)).parameters)


def helper_figure_text(code):
    """The English strings a code cell gives the plotting helpers as titles
    or axis labels, by keyword or by position (``plot_costs(costs, 1000,
    "Training cost")``)."""
    texts = []
    for node in ast.walk(ast.parse(code)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in FIGURE_HELPERS:
            given = dict(zip(_helper_parameters(name), node.args))
            given.update((keyword.arg, keyword.value) for keyword in node.keywords if keyword.arg)
            for parameter, value in given.items():
                if parameter in FIGURE_KEYWORDS:
                    texts += _literal_texts(value)
    return texts


def runtime_template():
    """Messages of the helpers and figure text of every English notebook."""
    units = []
    for path in RUNTIME_SOURCES:
        for line, text, _, _ in extract_from_file("python", REPO / path, keywords=RUNTIME_KEYWORDS):
            units.append((text, (path, line), "message"))
    for english_path in EDITIONS:
        for index, code in _code_cells(read_notebook(english_path)):
            for line, text, _, _ in extract("python", io.BytesIO(code.encode()), keywords=RUNTIME_KEYWORDS):
                units.append((text, (Path(english_path).name, index), "figure text"))
            for text in helper_figure_text(code):
                units.append((text, (Path(english_path).name, index), "figure text"))
    return catalogs.new_template(units, "course")


def all_templates():
    """(catalog path, template) for every catalog of the edition."""
    pairs = [(notebook_catalog(path), notebook_template(path)) for path in EDITIONS]
    pairs.append((RUNTIME_CATALOG, runtime_template()))
    return pairs


# --------------------------------------------------------------------------
# Building the Chinese notebooks
# --------------------------------------------------------------------------


class IncompleteTranslation(Exception):
    """A catalog lacks translations that the build needs."""


def chinese_notebook(english_path, translated):
    """The Chinese edition of an English notebook: its prose replaced with
    ``translated`` ({English: Chinese}), its code and metadata unchanged
    but for the language chosen in the imports cell, and its language
    written in the metadata (``course.language``, which the grader reads to
    write its notes in the notebook's language). Outputs are left empty
    (the notebook is run to record them)."""
    notebook = copy.deepcopy(read_notebook(english_path))
    notebook.metadata["course"] = {"language": LANGUAGE}
    missing = []

    def translate(kind, english):
        if english not in translated:
            missing.append(english)
            return english
        return translated[english]

    language_calls = 0
    for cell in notebook.cells:
        cell.source = translate_cell_source(cell, translate)
        if cell.cell_type == "code":
            language_calls += cell.source.count(LANGUAGE_CALL)
            cell.source = cell.source.replace(LANGUAGE_CALL, CHINESE_LANGUAGE_CALL)
            cell.outputs = []
            cell.execution_count = None
    if missing:
        raise IncompleteTranslation(
            f"{notebook_catalog(english_path).relative_to(REPO)} has no finished "
            f"translation for {len(missing)} texts, the first: {missing[0][:80]!r}"
        )
    if language_calls != 1:
        raise ValueError(
            f"{english_path} should call {LANGUAGE_CALL} once, in its "
            f"imports cell; found {language_calls} calls"
        )
    return notebook


def keep_outputs(built, previous):
    """Copy the recorded outputs of ``previous`` (the committed Chinese
    notebook) into ``built`` for every code cell whose source did not change,
    so that a rebuild only asks to re-run what changed."""
    old_cells = {cell.get("id"): cell for cell in previous.cells}
    stale = 0
    for cell in built.cells:
        old = old_cells.get(cell.get("id"))
        if cell.cell_type != "code":
            continue
        if old is not None and old.source == cell.source:
            cell.outputs = old.outputs
            cell.execution_count = old.execution_count
        else:
            stale += 1
    for field in ("language_info",):
        if field in previous.metadata:
            built.metadata[field] = previous.metadata[field]
    return stale


def without_outputs(notebook):
    """A JSON-comparable copy of a notebook without outputs, execution counts
    or run-time metadata: what the build decides."""
    data = json.loads(nbformat.writes(notebook))
    data["metadata"].pop("language_info", None)
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return data
