"""The reasons a student lost points (grading/reasons.py): an error described
briefly, and the cell a failed test blames."""

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from conftest import graded_cell
from grading.reasons import Reason, Why, describe_error, first_error, lost_point_reasons


@pytest.mark.parametrize(
    "ename, evalue, mark, reason, why",
    [
        ("AssertionError", "Fan-in error: ...", {}, None, None),
        (
            "CellTimeoutError",
            "the cell ran over its budget of 5 s",
            {"outcome": "timed-out"},
            "timed out (the cell ran over its budget of 5 s)",
            Why.TIMED_OUT,
        ),
        (
            "NotRun",
            "not run: cells up to cell 9 ran out of time",
            {"outcome": "not-run"},
            "not run: cells up to cell 9 ran out of time",
            Why.NOT_RUN,
        ),
        (
            "KernelDied",
            "the kernel stopped while running this cell",
            {"outcome": "kernel-stopped"},
            "kernel stopped (os._exit, a crash or a sandbox limit)",
            Why.KERNEL_STOPPED,
        ),
        (
            "MissingAnswer",
            "...",
            {"outcome": "judged", "verdict": "no-answers"},
            "handed in no answers",
            Why.NO_ANSWERS,
        ),
        ("MemoryError", "", {}, "ran out of memory (sandbox limit)", Why.OUT_OF_MEMORY),
        ("SystemExit", "0", {}, "called sys.exit()", Why.EXITED),
        ("NotImplementedError", "", {}, "not answered", Why.NOT_ANSWERED),
        (
            "NotAnswered",
            "Answer error: the function still raises NotImplementedError",
            {},
            "not answered",
            Why.NOT_ANSWERED,
        ),
        (
            "BlockingIOError",
            "[Errno 11] Resource temporarily unavailable",
            {},
            "started too many processes (sandbox limit)",
            Why.TOO_MANY_PROCESSES,
        ),
        (
            "OSError",
            "[Errno 30] Read-only file system: '../x'",
            {},
            "tried to write outside its folder (blocked)",
            Why.WRITE_BLOCKED,
        ),
        (
            "gaierror",
            "[Errno -3] Temporary failure in name resolution",
            {},
            "tried to use the network (blocked)",
            Why.NETWORK_BLOCKED,
        ),
        ("ValueError", "bad shape", {}, "ValueError: bad shape", Why.ERROR),
        # The grader's names, raised by a kernel, without the grader's mark:
        # ordinary errors of the student's code, never the course's fault.
        ("CellTimeoutError", "x", {}, "CellTimeoutError: x", Why.ERROR),
        ("NoReference", "x", {}, "NoReference: x", Why.ERROR),
        ("MissingAnswer", "x", {}, "MissingAnswer: x", Why.ERROR),
        ("KeyboardInterrupt", "", {}, "KeyboardInterrupt: ", Why.ERROR),
    ],
)
def test_errors_are_described_briefly(ename, evalue, mark, reason, why):
    cell = new_code_cell("x", metadata={"grading": mark} if mark else {})
    cell.outputs = [new_output("error", ename=ename, evalue=evalue, traceback=[])]
    described = describe_error(first_error(cell))
    assert (described and described.text) == reason
    assert (described and described.why) == why


def test_a_reason_reads_the_same_as_text_and_as_data():
    reason = Reason(Why.TIMED_OUT, "timed out (a cell ran over 60 s)").for_exercise("he")
    assert str(reason) == "he: timed out (a cell ran over 60 s)"
    assert Reason.from_json(reason.to_json()) == reason


def test_a_test_that_cannot_find_its_function_blames_the_solution_cell():
    notebook = new_notebook(
        cells=[
            graded_cell("def f(:", "f", ("SyntaxError", "invalid syntax"), solution=True),
            graded_cell("check(f)", "test_f", ("NameError", "name 'f' is not defined")),
            graded_cell("def g(): pass", "g", solution=True),
            graded_cell("check(g)", "test_g", ("AssertionError", "Scale error")),
        ]
    )
    assert lost_point_reasons(notebook, ["test_f", "test_g"]) == [
        ("test_f", Reason(Why.SYNTAX_ERROR, "SyntaxError: invalid syntax"))
    ]


@pytest.mark.parametrize("ename", ["SyntaxError", "NameError"])
def test_a_reason_quotes_at_most_max_reason_text_of_the_students_message(ename):
    """The summary quotes a student's error message, cut to MAX_REASON_TEXT
    characters, whatever the error (the README promises 500)."""
    from grading.reasons import MAX_REASON_TEXT, CellError

    reason = describe_error(CellError(ename, "x" * 10_000))
    assert MAX_REASON_TEXT == 500
    assert len(reason.text) == MAX_REASON_TEXT and reason.text.endswith("...")


def test_a_reason_from_the_grader_is_cut_too():
    """Reasons the grader writes itself quote an exception or nbgrader's log,
    which a submission can make as long as it likes: cut the same way."""
    from grading.command.pipeline import grading_failed
    from grading.reasons import MAX_REASON_TEXT

    reason = grading_failed(ValueError("y" * 10_000))
    assert len(reason.text) == MAX_REASON_TEXT and reason.text.startswith("not graded: ValueError: yyy")
    assert Reason.from_json(reason.to_json()) == reason
