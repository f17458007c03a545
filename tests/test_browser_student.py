"""A student in JupyterLab, in a real browser: open the release notebook, type
answers, run the cells, read the visible checks, press nbgrader's Validate.

JupyterLab serves a copy of release/initialization, as a student receives it
(helpers copied in, not linked), with the nbgrader extension the course's
requirements install. Each test saves a screenshot of every step.
"""

import shutil

import nbformat
import numpy as np
import pytest

from examples.course_copy import REPO
from examples.example_class import CORRECT, XAVIER_SCALE, correct_but
from examples.students import fill_in
from lab_driver import JupyterLab, NotebookPage
from utils.init_checks import check_he_initializer

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ASSIGNMENT, NOTEBOOK = "initialization", "Initialization.ipynb"
# What nbgrader's Validate dialog in JupyterLab says of each failing cell.
FAILED = "The following cell failed:"
EXERCISES = ("zeros", "random", "he")
RELEASE = nbformat.read(REPO / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)


def index_of(grade_id):
    """Position of the cell with this nbgrader grade id (the page has the same order)."""
    for index, cell in enumerate(RELEASE.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return index
    raise KeyError(grade_id)


def typed_cells(answers):
    """(position, full text) of each cell a student with these answers typed into."""
    filled = fill_in(RELEASE, answers)
    return [(index_of(grade_id), filled.cells[index_of(grade_id)].source) for grade_id in answers]


def he_check_message(answers):
    """What exercise 3's visible check says of this He answer, asked of the
    helper itself: the browser must show the same words."""
    namespace = {"np": np}
    exec(typed_cells({"initialize_parameters_he": answers["initialize_parameters_he"]})[0][1], namespace)
    with pytest.raises(AssertionError) as failure:
        check_he_initializer(namespace["initialize_parameters_he"])
    return str(failure.value)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab over a folder of the student's, started once for the
    module (each test opens a release of its own in a folder of its own)."""
    folder = tmp_path_factory.mktemp("student")
    (folder / "work").mkdir()
    # Validate runs each cell under nbgrader's 30 s limit: ample for these
    # notebooks, not on a CI machine that other tests load heavily.
    (folder / "home" / "config").mkdir(parents=True)
    (folder / "home" / "config" / "nbgrader_config.py").write_text(
        "c.Execute.timeout = 300\nc.Execute.iopub_timeout = 60\n"
    )
    with JupyterLab(folder / "work", home=folder / "home") as server:
        yield server
    print(f"JupyterLab's log: {server.log_path}")  # shown when a test failed


def open_fresh_release(lab, page, folder):
    """Copy the release into folder/ of the student's server (helpers as
    files, not links) and open its notebook there."""
    shutil.copytree(REPO / "release" / ASSIGNMENT, lab.root_dir / folder)  # links become files
    return NotebookPage(page, lab, f"{folder}/{NOTEBOOK}")


def test_validate_names_the_first_unanswered_exercise(lab, page, screenshots):
    notebook = open_fresh_release(lab, page, "unanswered")
    screenshots.take(page, "opened")

    report = notebook.validate()
    screenshots.take(page, "validate-report")
    # The first failing cell it shows is exercise 1's check, and it says why.
    assert FAILED in report, report
    first_failure = report.split(FAILED)[1]
    assert "check_zeros_initializer(initialize_parameters_zeros)" in first_failure
    assert "NotImplementedError" in first_failure


def test_a_typical_mistake_gets_the_visible_checks_message(lab, page, screenshots):
    answers = correct_but(he=XAVIER_SCALE)  # sqrt(1 / fan_in): Xavier's scale, not He's
    notebook = open_fresh_release(lab, page, "mistake")
    for index, text in typed_cells(answers):
        notebook.replace_cell_text(index, text)
    screenshots.take(page, "answers-typed")

    # As a student checks their answers: the imports, then each exercise and
    # its check cell (the experiments in between are not needed for them).
    cells = ["imports"]
    for name in EXERCISES:
        cells += [f"initialize_parameters_{name}", f"test_initialize_parameters_{name}"]
    for grade_id in cells:
        notebook.run_cell(index_of(grade_id))
    he_check = index_of("test_initialize_parameters_he")
    screenshots.take(page, "he-check-output")

    # Exercises 1 and 2 pass; exercise 3's check names the mistake in words.
    for passing in ("test_initialize_parameters_zeros", "test_initialize_parameters_random"):
        assert "All visible tests passed." in notebook.output_text(index_of(passing))
    message = he_check_message(answers)
    assert message.startswith("Scale error")
    assert message in " ".join(notebook.output_text(he_check).split())

    notebook.save()
    report = notebook.validate()
    screenshots.take(page, "validate-report")
    # One cell fails, exercise 3's check, with the same message.
    assert report.count(FAILED) == 1
    assert "check_he_initializer(initialize_parameters_he)" in report
    assert message in " ".join(report.split())


def test_a_solved_notebook_validates(lab, page, screenshots):
    notebook = open_fresh_release(lab, page, "solved")
    for index, text in typed_cells(CORRECT):
        notebook.replace_cell_text(index, text)
    notebook.run_all()
    last = len(RELEASE.cells) - 1
    while RELEASE.cells[last].cell_type != "code":
        last -= 1
    notebook.wait_until_ran(last)
    screenshots.take(page, "all-cells-ran")
    for check in EXERCISES:
        assert "All visible tests passed." in notebook.output_text(
            index_of(f"test_initialize_parameters_{check}")
        )

    notebook.save()
    report = notebook.validate()
    screenshots.take(page, "validate-report")
    assert "Success! Your notebook passes all the tests." in report
    assert FAILED not in report
