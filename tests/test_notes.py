"""The grader's own notes in a student's notebook (grading/notes.py) are in
the notebook's language; the instructor's summary quotes them in English."""

import re

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from grading import notes
from grading.errors import CELL_TIMEOUT, JUDGED, KERNEL_DIED, KERNEL_STOPPED, NOT_RUN, TIMED_OUT, mark
from grading.plugins.feedback import HideHiddenTests
from grading.reasons import Why, describe_error, first_error

NOTES = [
    (notes.RAN_OVER_BUDGET, {"seconds": "5"}),
    (notes.KERNEL_DIED_HERE, {}),
    (notes.KERNEL_DIED_BEFORE, {"cell": 7}),
    (notes.NOTEBOOK_BUDGET_SPENT, {"seconds": "60", "cell": 9}),
    (notes.CELLS_RAN_OUT, {"cell": 9}),
    (notes.RUNNER_STOPPED, {}),
    (notes.CELL_OUTPUT_CUT, {"limit": 1000000}),
    (notes.NOTEBOOK_OUTPUT_CUT, {}),
    (notes.OUTPUT_WITHHELD, {}),
    (notes.ERROR_MESSAGE_WITHHELD, {"name": "ValueError"}),
]
# English words a Chinese note may still show: code.
CODE = {"os", "_exit", "ValueError"}


def english_words(text):
    return set(re.findall(r"[A-Za-z_]+", text)) - CODE


def test_every_note_is_chinese_in_a_chinese_notebook_and_english_in_an_english_one():
    for text, values in NOTES:
        assert notes.note("en", text, **values) == text.format(**values)
        chinese = notes.note("zh_CN", text, **values)
        assert english_words(chinese) == set(), chinese
        for value in values.values():
            assert str(value) in chinese


def test_an_error_note_names_its_error_in_the_notebooks_language():
    english = notes.error_output("en", CELL_TIMEOUT, notes.RAN_OVER_BUDGET, seconds="5")
    assert english.traceback == ["CellTimeoutError: the cell ran over its budget of 5 s"]
    assert english.ename == CELL_TIMEOUT  # the name the grader's code reads stays the same
    chinese = notes.error_output("zh_CN", KERNEL_DIED, notes.KERNEL_DIED_BEFORE, cell=3)
    assert chinese.ename == KERNEL_DIED and english_words(chinese.traceback[0]) == set()
    # a student's own error keeps its name, as Python shows it
    assert notes.error_line("zh_CN", "ValueError", "x") == "ValueError: x"


def test_the_summary_quotes_the_english_note_of_a_chinese_notebook():
    cell = new_code_cell("while True: pass")
    cell.outputs = [notes.error_output("zh_CN", CELL_TIMEOUT, notes.RAN_OVER_BUDGET, seconds="5")]
    mark(cell, TIMED_OUT, note=notes.note("en", notes.RAN_OVER_BUDGET, seconds="5"))
    reason = describe_error(first_error(cell))
    assert (reason.why, reason.text) == (Why.TIMED_OUT, "timed out (the cell ran over its budget of 5 s)")
    died = new_code_cell("import os; os._exit(1)")
    died.outputs = [notes.error_output("zh_CN", KERNEL_DIED, notes.KERNEL_DIED_HERE)]
    mark(died, KERNEL_STOPPED, here=True, note=notes.note("en", notes.KERNEL_DIED_HERE))
    assert describe_error(first_error(died)).text == "kernel stopped (os._exit, a crash or a sandbox limit)"
    after = new_code_cell("x = 1")
    after.outputs = [notes.error_output("zh_CN", KERNEL_DIED, notes.KERNEL_DIED_BEFORE, cell=3)]
    mark(after, NOT_RUN, note=notes.note("en", notes.KERNEL_DIED_BEFORE, cell=3))
    assert describe_error(first_error(after)).text == "not run: the kernel stopped in cell 3"


def test_withheld_outputs_are_noted_in_the_notebooks_language():
    hidden = "### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"
    test_cell = new_code_cell(hidden, metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1}})
    printing = new_code_cell("print(1)")
    printing.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    for language, expected in (("en", "[output not shown in feedback:"), ("zh_CN", "[反馈中不显示")):
        notebook = new_notebook(cells=[test_cell.copy(), printing.copy()])
        if language != "en":
            notebook.metadata["course"] = {"language": language}
        shown, _ = HideHiddenTests().preprocess(notebook, {})
        assert shown.cells[1].outputs[0].text.startswith(expected)


def test_the_summary_quotes_a_judged_error_in_english():
    """A Chinese notebook's verdict is Chinese; the grader marks the same
    verdict in English for the summary (grading/plugins/execute.py)."""
    cell = new_code_cell("check(f)")
    chinese = "在隐藏调用中，你的函数引发了 ValueError"
    cell.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue=chinese, traceback=[chinese])]
    mark(cell, JUDGED, verdict="error", note="in a hidden call, your function raised ValueError")
    reason = describe_error(first_error(cell))
    assert (reason.why, reason.text) == (
        Why.ERROR,
        "ValueError: in a hidden call, your function raised ValueError",
    )


def test_the_feedback_leaves_out_the_message_of_an_error_the_students_function_raised():
    """A judged cell whose verdict quotes the student's own error: its text
    was written after the hidden tests reached the kernel, so the feedback
    names the error and leaves the text out; the instructor's copy keeps it."""
    hidden = "### BEGIN HIDDEN TESTS\nhand_in(check, f, [([5, 7, 3, 4, 1],)])\n### END HIDDEN TESTS"
    grade = {"nbgrader": {"grade": True, "grade_id": "t", "points": 1}}
    for language, expected in (("en", "your function raised ValueError in this test"), ("zh_CN", "你的函数")):
        raised = new_code_cell(hidden, metadata=grade)
        leak = "hidden inputs: [5, 7, 3, 4, 1]"
        raised.outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue=leak, traceback=[leak])]
        hint = "Hint: np.zeros takes the shape as one tuple"  # added by the course's check: shown
        mark(raised, JUDGED, verdict="error", note=leak, student_message=True, hints=[hint])
        # A cell graded before the grader wrote the flag: withheld too.
        old = new_code_cell(hidden, metadata=grade, outputs=[raised.outputs[0].copy()])
        mark(old, JUDGED, verdict="error", note=leak)
        notebook = new_notebook(cells=[raised, old])
        if language != "en":
            notebook.metadata["course"] = {"language": language}
        shown, _ = HideHiddenTests().preprocess(notebook, {})
        for cell in shown.cells:
            [output] = cell.outputs
            assert output.ename == "ValueError" and output.evalue.startswith(expected)
            assert "[5, 7" not in output.evalue + "".join(output.traceback)
        assert shown.cells[0].outputs[0].evalue.endswith("\n" + hint)


def test_the_feedback_names_only_known_errors_of_a_judged_cell():
    """An error class the student's code made can have any name: the
    feedback calls it Error (the instructor's copy keeps the name)."""
    hidden = "### BEGIN HIDDEN TESTS\nhand_in(check, f, [([5, 7, 3, 4, 1],)])\n### END HIDDEN TESTS"
    cell = new_code_cell(hidden, metadata={"nbgrader": {"grade": True, "grade_id": "t", "points": 1}})
    text = "Hidden test: your function raised [not shown when graded] for an input"
    cell.outputs = [nbformat.v4.new_output("error", ename="hidden_5_7_3", evalue=text, traceback=[text])]
    mark(cell, JUDGED, verdict="error", note=text, student_message=False, hints=[])
    shown, _ = HideHiddenTests().preprocess(new_notebook(cells=[cell]), {})
    [output] = shown.cells[0].outputs
    assert (output.ename, output.evalue) == ("Error", text)
    assert output.traceback == [f"Error: {text}"]
