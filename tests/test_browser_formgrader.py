"""An instructor in formgrader, in a real browser: the assignments and the
graded submissions are there, hand-grading the written answers changes the
student's total, hidden tests show on the grading page and never in the
feedback that formgrader generates for the student. Formulas render on the
grading page and on the feedback page with the network cut.

The course is a scratch copy with every assignment generated and a few
example students graded by the course's command; JupyterLab runs in its root,
as an instructor starts it.
"""

import time

import pytest
from nbgrader.utils import parse_utc

from conftest import (
    ASSIGNMENTS,
    copy_generated,
    hidden_test_lines,
    leaked_hidden_tests,
    page_text,
    run_grading_command,
)
from examples import example_class, example_class_deep
from examples.grade_examples import write_example_class
from examples.students import write_submission
from grading.command.course import Course
from grading.gradebook import open_gradebook
from lab_driver import JupyterLab, cut_network, mathjax_typeset

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Who is graded, by assignment: one full marks and one typical mistake.
GRADED = {
    example_class: ["correct-variants", "he-xavier-scale"],
    example_class_deep: ["correct-variants"],
}
STUDENT = "he-xavier-scale"  # whose written answers the test grades by hand
# A student whose written answers carry links that would run script in
# formgrader (graded in the first assignment only).
HOSTILE = "mallory-links"
HOSTILE_ANSWERS = example_class.HOSTILE_MARKDOWN


@pytest.fixture(scope="module")
def graded_course(generated_course, tmp_path_factory):
    """A course root with every assignment generated and the GRADED students graded."""
    root = copy_generated(generated_course, tmp_path_factory.mktemp("course"))
    for example, students in GRADED.items():
        write_example_class(root, example, students)
        if example is example_class:
            answers = {**example_class.CORRECT, **HOSTILE_ANSWERS}
            write_submission(root, HOSTILE, example.ASSIGNMENT, f"{example.NOTEBOOK}.ipynb", answers)
        run_grading_command(root, example.ASSIGNMENT)
    return root


@pytest.fixture(scope="module")
def lab(graded_course, tmp_path_factory):
    """JupyterLab started in the course root, as an instructor starts it
    (once for the module: the tests share the graded course anyway)."""
    home = tmp_path_factory.mktemp("instructor")
    # Where an instructor configures the exchange (here an empty one, made
    # as nbgrader's documentation says, so that formgrader's release and
    # collect buttons are live).
    (home / "exchange").mkdir(mode=0o777)
    (home / "exchange").chmod(0o777)
    (home / "config").mkdir()
    (home / "config" / "nbgrader_config.py").write_text(f"c.Exchange.root = {str(home / 'exchange')!r}\n")
    with JupyterLab(graded_course, home=home) as server:
        yield server
    print(f"JupyterLab's log: {server.log_path}")  # shown when a test failed


def total(course, assignment, student):
    """The student's total for the assignment, as the gradebook holds it."""
    with open_gradebook(course) as gradebook:
        return gradebook.find_submission(assignment, student).score


def assignment_row(page, assignment):
    """The row of an assignment on formgrader's Manage Assignments page."""
    name = page.locator("td.name a").get_by_text(assignment, exact=True)
    return page.locator("table.dataTable tbody tr").filter(has=name)


def wait_for_total(course, assignment, student, expected, timeout=60):
    """Wait until the gradebook holds this total (formgrader saves a score in
    the background after the field loses focus); return the last one read."""
    deadline = time.monotonic() + timeout
    while (score := total(course, assignment, student)) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return score


def test_formgrader_shows_the_assignments_and_graded_submissions(graded_course, lab, page, screenshots):
    course = graded_course
    lab.log_in(page)
    page.goto(lab.url("formgrader"))
    page.locator("table.dataTable tbody tr").nth(len(ASSIGNMENTS) - 1).wait_for()
    screenshots.take(page, "manage-assignments")
    # No warning (exchange, course id), and the exchange's buttons are live.
    assert page.locator("#warning-exchange, #warning-course-id").count() == 0
    assert assignment_row(page, example_class.ASSIGNMENT).locator("td.release a").count() == 1
    due_dates = Course(course).settings.due_dates
    for assignment in ASSIGNMENTS:
        row = assignment_row(page, assignment)
        assert parse_utc(row.locator("td.duedate").inner_text()) == parse_utc(due_dates[assignment])
        graded = next((s for example, s in GRADED.items() if example.ASSIGNMENT == assignment), [])
        graded = graded + [HOSTILE] * (assignment == example_class.ASSIGNMENT)
        assert row.locator("td.num-submissions").inner_text().strip() == str(len(graded)), assignment

    # The manual grading list of the notebook shows each submission's total.
    page.goto(lab.url(f"formgrader/gradebook/{example_class.ASSIGNMENT}/{example_class.NOTEBOOK}"))
    page.locator("tbody tr a.name-shown").first.wait_for(state="attached")  # the list has loaded
    page.get_by_text("Show All Names").click()
    for student in GRADED[example_class]:
        row = page.locator("tbody tr", has_text=student)
        expected = total(course, example_class.ASSIGNMENT, student)
        assert row.locator("td.score").inner_text().strip() == f"{expected:g} / 10"
    screenshots.take(page, "manual-grading-list")


def test_hand_grades_change_the_total_and_feedback_hides_hidden_tests(graded_course, lab, page, screenshots):
    course = graded_course
    assignment, notebook = example_class.ASSIGNMENT, example_class.NOTEBOOK
    before = total(course, assignment, STUDENT)
    lab.log_in(page)
    page.goto(lab.url(f"formgrader/gradebook/{assignment}/{notebook}"))
    page.locator("tbody tr a.name-shown").first.wait_for(state="attached")  # the list has loaded
    page.get_by_text("Show All Names").click()
    page.locator("tbody tr a.name-shown", has_text=STUDENT).click()

    # The grading page: the student's notebook with the hidden tests in it,
    # and a score field for each written answer.
    written = ["observations_random", "observations_he"]
    page.locator(f"input.score#{written[0]}").wait_for()
    # The score fields are in the page before formgrader has fetched the
    # grades and bound its save handlers to them (a score typed earlier is
    # neither saved nor kept): wait for that, as a person waits for the page.
    page.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.grades.loaded")
    shown = page.locator("body").inner_text()
    missing = sorted(hidden_test_lines(assignment) - set(leaked_hidden_tests(assignment, shown)))
    assert not missing, f"the grading page lacks hidden tests: {missing[:2]}"
    screenshots.take(page, "grading-page")
    for graded, grade_id in enumerate(written, 1):
        field = page.locator(f"input.score#{grade_id}")
        field.scroll_into_view_if_needed()
        field.fill("1")
        field.press("Tab")
        # Saved (in the background) before the next field is filled.
        assert wait_for_total(course, assignment, STUDENT, before + graded) == before + graded
    screenshots.take(page, "written-answers-graded")

    # The student's page in formgrader shows the new total.
    page.goto(lab.url(f"formgrader/manage_students/{STUDENT}"))
    row = page.locator("tbody tr").filter(has=page.locator("td.name").get_by_text(assignment, exact=True))
    assert row.locator("td.score").inner_text().strip() == f"{before + 2:g} / 10"
    screenshots.take(page, "student-total")

    # Formgrader's Generate Feedback button: the feedback has the hand grades
    # and none of the hidden tests.
    page.goto(lab.url("formgrader"))
    assignment_row(page, assignment).locator("td.generate-feedback a").click()
    page.locator(".modal").get_by_text(f"Successfully generated feedback of '{assignment}'").wait_for(
        timeout=180_000
    )
    feedback = course / "feedback" / STUDENT / assignment / f"{notebook}.html"
    page.goto(feedback.as_uri(), wait_until="domcontentloaded")
    screenshots.take(page, "feedback")
    shown = page.locator("body").inner_text()
    assert f"Score: {before + 2:.1f} / 10.0" in shown
    for text in (shown, page_text(feedback.read_text())):
        leaked = leaked_hidden_tests(assignment, text)
        assert not leaked, f"the feedback shows hidden tests: {leaked[:2]}"


# Where a link on the page leads, as the browser resolved it.
LINK_ADDRESSES = """() => Array.from(document.querySelectorAll('[href], [src]'))
    .map(element => element.href || element.src || '')
    .filter(address => typeof address === 'string')"""


def test_a_written_answer_cannot_run_script_in_formgrader(graded_course, lab, page, screenshots):
    """The grading page renders a written answer's markdown without cleaning
    it: the grader shows one that carries a javascript:, vbscript: or data:
    link, or MathJax's \\href, as the plain text the student typed."""
    course = graded_course
    assignment, notebook = example_class.ASSIGNMENT, example_class.NOTEBOOK
    with open_gradebook(course) as gradebook:
        submission = gradebook.find_submission_notebook(notebook, assignment, HOSTILE).id
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    lab.log_in(page)
    page.goto(lab.url(f"formgrader/submissions/{submission}/"))
    page.locator("input.score#observations_random").wait_for()
    # MathJax (served by the Jupyter server) has typeset the page's formulas:
    # the links are checked once it has made its own.
    assert mathjax_typeset(page)
    screenshots.take(page, "hostile-written-answers")
    harmful = [
        address
        for address in page.evaluate(LINK_ADDRESSES)
        if address.lower().split(":")[0] in ("javascript", "vbscript")
        or (address.lower().startswith("data:") and not address.lower().startswith("data:image/png"))
    ]
    assert harmful == []
    assert dialogs == [] and page.title() != "pwned"
    shown = page.locator("body").inner_text()
    assert "[the proof](javascript:document.title='pwned')" in shown  # as typed
    assert "\\href{javascript:alert(1)}" in shown


# Each fraction of the page's MathML: where its numerator ends and its
# denominator starts, and their sizes, as the browser laid them out.
FRACTIONS = """() => Array.from(document.querySelectorAll('mfrac')).map(fraction => {
    const [top, bottom] = Array.from(fraction.children).map(part => part.getBoundingClientRect());
    return {numerator_bottom: top.bottom, denominator_top: bottom.top, width: top.width * bottom.width};
})"""
# The size of each <math> element of the page.
FORMULA_SIZES = """() => Array.from(document.querySelectorAll('math'))
    .map(formula => formula.getBoundingClientRect()).map(box => ({width: box.width, height: box.height}))"""


def test_the_feedback_page_renders_its_formulas_with_no_network(graded_course, page, screenshots):
    """A student opens the feedback page from disk with no network: it asks
    for nothing outside its file, and its formulas are laid out as
    mathematics (MathML, which the browser renders itself)."""
    assignment, notebook = example_class.ASSIGNMENT, example_class.NOTEBOOK
    feedback = graded_course / "feedback" / "correct-variants" / assignment / f"{notebook}.html"
    asked = cut_network(page)
    page.goto(feedback.as_uri(), wait_until="load")
    sizes = page.evaluate(FORMULA_SIZES)
    fractions = page.evaluate(FRACTIONS)
    page.locator("mfrac").first.scroll_into_view_if_needed()
    screenshots.take(page, "feedback-formulas")
    assert asked == []
    assert len(sizes) > 20 and all(size["width"] > 0 and size["height"] > 0 for size in sizes)
    # A fraction's numerator sits above its denominator: laid out as MathML,
    # not as a line of text.
    assert fractions and all(
        fraction["width"] > 0 and fraction["numerator_bottom"] <= fraction["denominator_top"] + 1
        for fraction in fractions
    ), fractions


def test_formgrader_renders_formulas_with_no_network(graded_course, lab, page, screenshots):
    """The grading page of a submission takes MathJax from the Jupyter server
    (jupyter-server-mathjax), so its formulas are typeset with the network
    cut, and it asks for nothing outside this machine."""
    assignment, notebook = example_class.ASSIGNMENT, example_class.NOTEBOOK
    with open_gradebook(graded_course) as gradebook:
        submission = gradebook.find_submission_notebook(notebook, assignment, STUDENT).id
    asked = cut_network(page)
    lab.log_in(page)
    page.goto(lab.url(f"formgrader/submissions/{submission}/"))
    page.locator("input.score#observations_random").wait_for()
    typeset = mathjax_typeset(page)
    # Around the first displayed formula (formgrader scrolls the page back
    # after a scroll made by script: a clip of the whole page instead).
    formula = page.locator(".MathJax_Display").first
    top = formula.evaluate("element => element.getBoundingClientRect().top + window.scrollY")
    clip = {"x": 0, "y": max(0, top - 300), "width": 1400, "height": 900}
    screenshots.take(page, "grading-page-formulas", full_page=True, clip=clip)
    assert asked == []
    assert len(typeset) > 20 and all(size["width"] > 0 and size["height"] > 0 for size in typeset)
    # No formula is left as TeX between dollars in what the page shows.
    shown = page.locator("#notebook-container .text_cell_render").all_inner_texts()
    assert not [text for text in shown if "$" in text], [text for text in shown if "$" in text][:1]
