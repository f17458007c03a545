"""Scores decided outside the student's kernel.

A graded test cell calls ``hand_in`` (utils/answers.py), which displays a record of the student's
function's answers as plain data; nothing else about the cell is believed. In the grader's process:

1. ``read_record`` takes the record from the cell's outputs (anything malformed counts as none).
2. ``judge`` replays the visible check, from the course's own copy, on the recorded answers, then
   compares the hidden calls' answers with the reference solution's.
3. ``verdict_outputs`` replace the cell's outputs: no kernel output survives in a judged cell, so
   nbgrader's score depends on the verdict alone. See docs/threat-model.md.
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
    # Of a failed cell, for the class report (grading/report/mistakes.py): the visible check's
    # `mistake` id, else one of VERDICT_MISTAKES. Never translated.
    mistake: str = ""
    # Whether message is the student's function's error text (the feedback withholds it:
    # feedback.py), and the checks' own hints on it, which the feedback keeps.
    student_message: bool = False
    hints: tuple = ()


# ------------------------------------------------------------ the record


def displayed_record(cell):
    """The last answer record among cell's outputs, as displayed (unchecked JSON); None if none."""
    records = [
        output["data"][answers.MIME_TYPE]
        for output in cell.get("outputs", [])
        if output.get("output_type") == "display_data" and answers.MIME_TYPE in output.get("data", {})
    ]
    return records[-1] if records else None


def read_record(cell) -> Record | None:
    """The last answer record among cell's outputs, decoded; None if none or malformed."""
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
        check=str(data.get("check", ""))[: answers.MAX_NAME],
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
    """A class's name as the box reported it; one that is no identifier reads as "Error"."""
    if not isinstance(value, str):
        raise Unreadable("a name is not a string")
    name = value[: answers.MAX_NAME]
    return name if name.isidentifier() else "Error"


# ------------------------------------------------------------- replaying


class MissingAnswer(BaseException):
    """The visible check made a call the record holds no answer for.

    A BaseException: a check that catches the student's Exceptions must not catch this one."""


class Replay:
    """A stand-in for the student's function that answers from a record.

    Called with some arguments, it does what the student's function did for the same arguments
    (the n-th such call, the n-th answer): returns the same value, raises the same error, changes
    the arguments the same way."""

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
            error = error_class(call["raised"]["type"], call["raised"]["bases"])(*call["raised"]["args"])
            error.replayed = True  # the student's error, even an AssertionError: judge tells them apart
            raise error
        return decode(answers.encode(call["returned"]))  # a fresh copy each time


def _change_like(argument, after) -> None:
    """Make a list, dict or array argument hold what the student's call left in it."""
    if isinstance(argument, list) and isinstance(after, list):
        argument[:] = after
    elif isinstance(argument, dict) and isinstance(after, dict):
        argument.clear()
        argument.update(after)
    elif hasattr(argument, "shape") and getattr(after, "shape", None) == argument.shape:
        argument[...] = after


# Exceptions a replayed call raises as themselves; any other name becomes an Exception subclass.
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
    """The exception class to raise for one the student's function raised: the built-in one of
    that name, else a class of that name derived from its first built-in base, else Exception."""
    if name in KNOWN_ERRORS:
        return KNOWN_ERRORS[name]
    base = next((KNOWN_ERRORS[base] for base in bases if base in KNOWN_ERRORS), Exception)
    return type(name if name.isidentifier() else "Error", (base,), {})


# (mtime, size) of each checks module when first judged with: a Dask worker outlives the command
# and must not judge with checks the instructor has since fixed.
_check_files: dict[str, tuple[int, int]] = {}


def check_module(module_name: str):
    """The module of checks, imported; raises RuntimeError (the course's fault) when its file or a
    course helper's (utils.*) has changed since this process first judged with it."""
    module = importlib.import_module(module_name)
    # A copy: a Dask worker's other threads may import meanwhile.
    helpers = [name for name in list(sys.modules) if name.split(".")[0] == module_name.split(".")[0]]
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
    """The visible check called name in one of modules (import names: the assignment's check_modules)."""
    for module_name in modules:
        check = getattr(check_module(module_name), name, None)
        if name.startswith("check_") and callable(check):
            return check
    raise LookupError(f"no visible check named {name!r} in {', '.join(modules) or 'no module'}")


# ------------------------------------------------------------- judging

# The verdict's kind for each problem a hidden test reports (any other: the student's function raised).
HIDDEN_PROBLEM_KINDS = {"MissingAnswer": "no-answers", "AssertionError": "wrong"}

# The mistake of a failed verdict that no visible check diagnosed.
VERDICT_MISTAKES = {"no-answers": "no-answers", "error": "raises-error", "wrong": "unclassified"}
HIDDEN_TESTS_MISTAKE = "hidden-tests"


def mistake_of(error: BaseException, kind: str) -> str:
    """The id of the mistake a check's error diagnoses: its ``mistake`` attribute (set only by the
    course's checks: replayed errors carry none), else the kind's."""
    mistake = getattr(error, "mistake", None)
    if isinstance(mistake, str) and mistake:
        return mistake
    return VERDICT_MISTAKES[kind]


def judge(
    record: Record | None, reference: Record, kernel_error: tuple | None = None, *, checks: Sequence[str]
) -> Verdict:
    """The verdict on a student's record, given the reference solution's.

    The reference names the check (looked up in the modules checks), the hidden calls and the
    messages' language; the student's record only answers. kernel_error, (name, message) of the
    cell's first error in the kernel, says why a cell without a record stopped."""
    check = check_named(reference.check, checks)  # a LookupError here is the course's fault
    printed = io.StringIO()  # what the check prints of the student's answers: never shown
    with judging_in(reference.language, printed):
        if record is None:
            return no_record_verdict(kernel_error)
        try:
            check(Replay(record.visible_calls))
        except MissingAnswer:
            return no_record_verdict(kernel_error)
        except Exception as error:
            if isinstance(error, AssertionError) and not from_the_student(error):
                mistake = mistake_of(error, "wrong")  # the check's message
                return Verdict(False, type(error).__name__, error_text(error), kind="wrong", mistake=mistake)
            # The student's own error, as the check let it through (an AssertionError of theirs too:
            # its text is the student's, never shown as the check's message).
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
        # Decoded answers compare without error (answer_data.py): an exception here is a CourseFault.
        problem = hidden_test_problem(record.hidden_calls, reference.hidden_calls)
        if problem is not None:
            name, message = problem
            kind = HIDDEN_PROBLEM_KINDS.get(name, "error")
            mistake = HIDDEN_TESTS_MISTAKE if kind == "wrong" else VERDICT_MISTAKES[kind]
            return Verdict(False, name, message, kind=kind, mistake=mistake)
        return Verdict(True, message=printed_by_check(check, reference) + tr("Hidden tests: passed.") + "\n")


def from_the_student(error: AssertionError) -> bool:
    """Whether error is an AssertionError the student's function raised (replayed), or one the check
    raised while it handled such an error: a check that wraps its sub-checks' AssertionErrors in
    its own (deep_checks._for_method) would quote the student's text as its message."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, AssertionError) and getattr(error, "replayed", False):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def printed_by_check(check, reference: Record) -> str:
    """What the visible check prints replaying the reference's answers.

    A passing cell shows these, not the student's: a check prints more than it tests, and the
    student's function, having seen the hidden inputs, could leak them there into the feedback."""
    printed = io.StringIO()
    with judging_in(reference.language, printed):
        try:
            check(Replay(reference.visible_calls))
        except MissingAnswer:  # not an Exception: made one, for the caller's CourseFault
            raise RuntimeError("the reference has no answer for a call of its own check") from None
    return printed.getvalue()


def no_record_verdict(kernel_error: tuple | None) -> Verdict:
    """A cell that handed in no usable record scores 0; the kernel's own error, if any, is named."""
    message = tr(
        "Grading error: the grader did not receive your function's answers. The "
        "test cell stopped before it could hand them in, or your code changed "
        "how the tests run"
    )
    name, text = ("MissingAnswer", "") if kernel_error is None else kernel_error
    name = name if name.isidentifier() and len(name) <= answers.MAX_NAME else "Error"
    undefined = NOT_DEFINED.match(text) if name == "NameError" else None
    if undefined is not None and undefined[1].isidentifier():  # else the text might quote the test cell
        # The function was never defined (experiments.py reads the name: a rerun in full may help).
        # Written anew from the name: nothing else of the kernel's text is shown.
        message = f"name '{undefined[1]}' is not defined ({message})"
    return Verdict(False, name, message, kind="no-answers", mistake="no-answers")


NOT_DEFINED = re.compile(rf"name '(\w{{1,{answers.MAX_NAME}}})' is not defined")


def error_text(error: Exception) -> str:
    """An exception's message with its notes (the checks add hints as notes)."""
    lines = [str(error), *getattr(error, "__notes__", [])]
    return "\n".join(line for line in lines if line)[: answers.MAX_MESSAGE]


def verdict_outputs(verdict: Verdict, language: str = ENGLISH) -> list:
    """The outputs a judged cell keeps: only the verdict, in the notebook's language (grading/notes.py)."""
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
