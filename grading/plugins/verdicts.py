"""Scores decided outside the student's kernel.

A graded test cell of the course calls ``hand_in`` (utils/answers.py) in its
hidden part: the kernel displays a record of the student's function's
answers, as plain data, and nothing else about the cell is believed. Here,
in the grader's own process:

1. ``read_record`` takes the record from the cell's outputs and checks that
   it is plain data of the expected form (anything else counts as no record).
2. ``judge`` replays the exercise's visible check on the recorded answers,
   with the course's own copy of the checks: the check sees the values the
   student's function returned, so it gives the message the student saw
   (or would have seen, had the kernel not been tampered with). Then it
   compares the answers to the hidden calls with the reference solution's,
   recorded the same way from the instructor's notebook.
3. ``verdict_outputs`` are the cell's new outputs: the check's printed lines
   and "passed", or one error line. nbgrader's SaveAutoGrades gives a cell
   with an error 0 points and one without full points, so the score is
   decided by this verdict alone: no output of the kernel (a number shown as
   the cell's result, a message, a traceback) survives in a judged cell.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import sys
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass

from nbformat.v4 import new_output

from grading.notes import error_line
from grading.plugins.answer_data import Unreadable, decode, hidden_test_problem
from utils import answers
from utils.i18n import ENGLISH, LANGUAGES, judging_in, tr

MAX_RECORD_CHARACTERS = 2_000_000


@dataclass(frozen=True)
class Record:
    """A graded cell's answers: the check it ran, the calls it recorded."""

    check: str
    language: str  # of the checks' messages in the notebook that made it
    calls: tuple  # of dicts: hidden, key, args, returned or raised, args_after (decoded)

    @property
    def visible_calls(self) -> list:
        return [call for call in self.calls if not call["hidden"]]

    @property
    def hidden_calls(self) -> list:
        return [call for call in self.calls if call["hidden"]]


@dataclass(frozen=True)
class Verdict:
    """The trusted grader's word on one graded cell."""

    passed: bool
    error_name: str = ""  # why it failed: AssertionError (a wrong answer), NotAnswered, KeyError, ...
    message: str = ""  # for the student: the check's message, or "passed" with its printed lines
    kind: str = "passed"  # passed, wrong (a check or hidden test failed), no-answers, error (it raised)
    # Of a failed cell: the id of the mistake, for the class report (grading/report/mistakes.py):
    # the visible check's own id (its AssertionError's `mistake`, utils/init_checks.py's
    # _wrong), else one of VERDICT_MISTAKES. Never translated, unlike message.
    mistake: str = ""
    # Whether message is the text of an error the student's function raised
    # (the feedback leaves it out: grading/plugins/feedback.py), and the
    # course's own hints the checks added to that error, which it keeps.
    student_message: bool = False
    hints: tuple = ()


# ------------------------------------------------------------ the record


def displayed_record(cell):
    """The last answer record among cell's outputs, as displayed (JSON
    data, not checked); None if there is none."""
    records = [
        output["data"][answers.MIME_TYPE]
        for output in cell.get("outputs", [])
        if output.get("output_type") == "display_data" and answers.MIME_TYPE in output.get("data", {})
    ]
    return records[-1] if records else None


def read_record(cell) -> Record | None:
    """The last answer record among cell's outputs, decoded; None if there is
    none or it is not plain data of the record's form."""
    displayed = displayed_record(cell)
    if displayed is None:
        return None
    try:
        return parse_record(displayed)
    except Exception:  # noqa: BLE001 (whatever a kernel sends that is not a record, is none)
        return None


def parse_record(data) -> Record:
    """A Record from a record as the kernel displayed it (JSON data)."""
    if isinstance(data, str):
        data = json.loads(data)
    if len(json.dumps(data)) > MAX_RECORD_CHARACTERS:
        raise Unreadable("the record is too large")
    if not isinstance(data, dict) or data.get("format") != answers.FORMAT:
        raise Unreadable("not a record of this course")
    if not isinstance(data.get("calls"), list):
        raise Unreadable("a record without calls")
    calls = tuple(_parse_call(call) for call in data["calls"][: answers.MAX_ITEMS])
    language = data.get("language")
    return Record(
        check=str(data.get("check", ""))[:80],
        language=language if language in LANGUAGES else ENGLISH,
        calls=calls,
    )


def _parse_call(data) -> dict:
    if not isinstance(data, dict):
        raise Unreadable("a call is not described as plain data")
    arguments, after = _list(data.get("args")), _list(data.get("args_after"))
    call = {
        "hidden": data.get("hidden") is True,
        "key": json.dumps(arguments, sort_keys=True),
        "args": [decode(argument) for argument in arguments],
        "args_after": [decode(argument) for argument in after],
    }
    if "raised" in data:
        raised = data["raised"]
        if not isinstance(raised, dict):
            raise Unreadable("an error is not described as plain data")
        call["raised"] = {
            "type": _name(raised.get("type")),
            "bases": [_name(base) for base in _list(raised.get("bases", []))[:8]],
            "args": [
                argument[: answers.MAX_MESSAGE] if isinstance(argument, str) else argument
                for argument in _list(raised.get("args", []))[:8]
                if isinstance(argument, (str, int, float))
            ],
        }
    else:
        call["returned"] = decode(data.get("returned"))
    return call


def _list(value) -> list:
    if not isinstance(value, list):
        raise Unreadable("a list is not a list")
    return value


def _name(value) -> str:
    """A class's name as the box reported it; a name Python could not have
    given a class (type() allows any text) reads as "Error"."""
    if not isinstance(value, str):
        raise Unreadable("a name is not a string")
    return value[:80] if value[:80].isidentifier() else "Error"


# ------------------------------------------------------------- replaying


class MissingAnswer(BaseException):
    """The visible check made a call the record holds no answer for.

    A BaseException, as KeyboardInterrupt is: a check that catches any
    Exception of the student's function (an unknown method must raise one)
    must not take the grader's for the student's."""


class Replay:
    """A stand-in for the student's function that answers from a record.

    Called with some arguments, it gives what the student's function gave
    for the same arguments (the n-th time, the n-th answer), raises what it
    raised, and changes the arguments as it changed them."""

    __name__ = "replay"

    def __init__(self, calls):
        self._answers = defaultdict(deque)
        for call in calls:
            self._answers[call["key"]].append(call)

    def __call__(self, *args):
        queue = self._answers.get(answers.key_of(args))
        if not queue:
            raise MissingAnswer
        call = queue.popleft()
        for argument, after in zip(args, call["args_after"]):
            _change_like(argument, after)
        if "raised" in call:
            raise error_class(call["raised"]["type"], call["raised"]["bases"])(*call["raised"]["args"])
        return decode(answers.encode(call["returned"]))  # a fresh copy each time


def _change_like(argument, after) -> None:
    """Make a list or array argument hold what the student's call left in it."""
    if isinstance(argument, list) and isinstance(after, list):
        argument[:] = after
    elif hasattr(argument, "shape") and getattr(after, "shape", None) == argument.shape:
        argument[...] = after


# Exceptions a replayed call raises as themselves (the checks catch some of
# them); any other name becomes a plain Exception subclass of that name.
KNOWN_ERRORS = {
    error.__name__: error
    for error in (
        ArithmeticError,
        AssertionError,
        AttributeError,
        IndexError,
        KeyError,
        LookupError,
        NameError,
        NotImplementedError,
        OverflowError,
        RuntimeError,
        TypeError,
        ValueError,
        ZeroDivisionError,
    )
}


def error_class(name: str, bases=()) -> type:
    """The exception class to raise for one the student's function raised:
    the built-in one of that name, else a class of that name derived from
    the first built-in one it derived from (a student's own ValueError is
    still caught as a ValueError), else from Exception."""
    if name in KNOWN_ERRORS:
        return KNOWN_ERRORS[name]
    base = next((KNOWN_ERRORS[base] for base in bases if base in KNOWN_ERRORS), Exception)
    return type(name if name.isidentifier() else "Error", (base,), {})


# The file of each module of the checks as this process first judged with
# it: (modification time, size). A Dask worker outlives the command; it must
# not go on judging with checks the instructor has since fixed.
_check_files: dict[str, tuple[int, int]] = {}


def check_module(module_name: str):
    """The module of checks, imported; raises RuntimeError (the course's
    fault: the grades stand) when its file, or the file of a course helper
    it imported (utils.*), has changed since this process first judged with it."""
    module = importlib.import_module(module_name)
    helpers = [name for name in sys.modules if name.split(".")[0] == module_name.split(".")[0]]
    for name in sorted({module_name, *helpers}):
        path = getattr(sys.modules.get(name), "__file__", None)
        if not path:
            continue
        info = os.stat(path)
        stamp = (info.st_mtime_ns, info.st_size)
        if _check_files.setdefault(name, stamp) != stamp:
            raise RuntimeError(
                f"{path} has changed since this process imported it: grade again "
                "(after restarting the Dask workers, which outlive the command)"
            )
    return module


def check_named(name: str, modules: Sequence[str]):
    """The visible check called name in one of the modules (their import
    names, such as "utils.init_checks": the assignment's check_modules)."""
    for module_name in modules:
        check = getattr(check_module(module_name), name, None)
        if name.startswith("check_") and callable(check):
            return check
    raise LookupError(f"no visible check named {name!r} in {', '.join(modules) or 'no module'}")


# ------------------------------------------------------------- judging

# The verdict's kind for each problem a hidden test reports (any other name:
# the student's function raised it).
HIDDEN_PROBLEM_KINDS = {"MissingAnswer": "no-answers", "AssertionError": "wrong"}

# The mistake of a failed verdict that no visible check diagnosed: by kind,
# and for a wrong answer the hidden tests alone caught.
VERDICT_MISTAKES = {"no-answers": "no-answers", "error": "raises-error", "wrong": "unclassified"}
HIDDEN_TESTS_MISTAKE = "hidden-tests"


def mistake_of(error: BaseException, kind: str) -> str:
    """The id of the mistake a check's error diagnoses: its ``mistake``
    attribute, set by the course's own check in this process (a student's
    function's errors are rebuilt from the record without one), else the
    kind's."""
    mistake = getattr(error, "mistake", None)
    if isinstance(mistake, str) and mistake:
        return mistake
    return VERDICT_MISTAKES[kind]


def judge(
    record: Record | None, reference: Record, kernel_error: tuple | None = None, *, checks: Sequence[str]
) -> Verdict:
    """The verdict on a student's record, given the reference solution's.

    The reference (the instructor's notebook, recorded the same way) names
    the check (looked up in the modules checks), the hidden calls and the
    language of the messages; the student's record only answers. kernel_error, (name, message) of the
    cell's first error in the kernel, says why a cell without a record
    stopped (a NameError when the function was never defined, say)."""
    check = check_named(reference.check, checks)  # a LookupError here is the course's fault
    printed = io.StringIO()  # what the check prints of the student's answers: never shown
    with judging_in(reference.language, printed):
        if record is None:
            return no_record_verdict(kernel_error)
        try:
            check(Replay(record.visible_calls))
        except MissingAnswer:
            return no_record_verdict(kernel_error)
        except AssertionError as error:  # the check's message
            mistake = mistake_of(error, "wrong")
            return Verdict(False, type(error).__name__, error_text(error), kind="wrong", mistake=mistake)
        except Exception as error:  # the student's own error, as the check let it through
            hints = tuple(note for note in getattr(error, "__notes__", []) if isinstance(note, str))
            return Verdict(
                False,
                type(error).__name__,
                error_text(error),
                kind="error",
                mistake="raises-error",
                student_message=True,
                hints=hints,  # added here by the course's checks: a replayed error carries none
            )
        # Decoded answers are plain values within bounds (answer_data.py), which
        # compare without error: an exception here is the grader's bug, and
        # the caller's CourseFault.
        problem = hidden_test_problem(record.hidden_calls, reference.hidden_calls)
        if problem is not None:
            name, message = problem
            kind = HIDDEN_PROBLEM_KINDS.get(name, "error")
            mistake = HIDDEN_TESTS_MISTAKE if kind == "wrong" else VERDICT_MISTAKES[kind]
            return Verdict(False, name, message, kind=kind, mistake=mistake)
        return Verdict(True, message=printed_by_check(check, reference) + tr("Hidden tests: passed.") + "\n")


def printed_by_check(check, reference: Record) -> str:
    """What the visible check prints replaying the reference's answers.

    A passing cell shows these lines, not those of the student's answers,
    which are the same values within the checks' tolerance: a check prints
    more of an answer than it tests (every key of a dict, the answer to an
    example call), and the student's function, which has seen the hidden
    inputs by then, could write them there for the feedback to publish."""
    printed = io.StringIO()
    with judging_in(reference.language, printed):
        try:
            check(Replay(reference.visible_calls))
        except MissingAnswer:  # not an Exception: made one, for the caller's CourseFault
            raise RuntimeError("the reference has no answer for a call of its own check") from None
    return printed.getvalue()


def no_record_verdict(kernel_error: tuple | None) -> Verdict:
    """A cell that handed in no usable record scores 0; the kernel's own
    error, if any, is named (as the student's notebook would show it)."""
    message = tr(
        "Grading error: the grader did not receive your function's answers. The "
        "test cell stopped before it could hand them in, or your code changed "
        "how the tests run"
    )
    if kernel_error is None:
        return Verdict(False, "MissingAnswer", message, kind="no-answers", mistake="no-answers")
    name, text = kernel_error
    name = name if name.isidentifier() and len(name) <= 80 else "Error"
    undefined = NOT_DEFINED.match(text) if name == "NameError" else None
    if undefined is None or not undefined[1].isidentifier():  # the text might quote the test cell
        return Verdict(False, name, message, kind="no-answers", mistake="no-answers")
    # "name 'initialize_parameters_he' is not defined": the function was never
    # defined (grading/plugins/experiments.py reads the name: a rerun in full may help).
    # Written anew from the name: nothing else of the kernel's text is shown.
    return Verdict(
        False,
        name,
        f"name '{undefined[1]}' is not defined ({message})",
        kind="no-answers",
        mistake="no-answers",
    )


NOT_DEFINED = re.compile(r"name '(\w{1,80})' is not defined")


def error_text(error: Exception) -> str:
    """An exception's message with its notes (the checks add hints as notes)."""
    lines = [str(error), *getattr(error, "__notes__", [])]
    return "\n".join(line for line in lines if line)[: answers.MAX_MESSAGE]


def verdict_outputs(verdict: Verdict, language: str = ENGLISH) -> list:
    """The outputs a judged cell keeps: only the verdict, shown as the
    notebook's language shows an error (grading/notes.py)."""
    if verdict.passed:
        return [new_output("stream", name="stdout", text=verdict.message)]
    return [
        new_output(
            "error",
            ename=verdict.error_name,
            evalue=verdict.message,
            traceback=[error_line(language, verdict.error_name, verdict.message)],
        )
    ]
