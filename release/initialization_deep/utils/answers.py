"""Handing a graded function's answers to the grader, as plain data: the
kernel's side of grading, the only grading code that runs beside a
student's code.

When nbgrader autogrades a notebook, the student's code runs in a sandboxed
kernel, and nothing that kernel says can be trusted: it could print "All
tests passed", replace the checks, or read any value kept in its memory. So
the hidden part of each graded test cell holds no expected value and no
checking code. It calls ``hand_in``, which

1. runs the exercise's visible check on a recording copy of the student's
   function, quietly, so that every call the check makes is recorded;
2. calls the function on the hidden inputs given by the instructor, each
   after seeding numpy's global generator with HIDDEN_SEED;
3. displays the record: for each call, its arguments, what the function
   returned or raised, and its arguments afterwards, all as plain data
   (numbers, strings, lists, dicts and numeric arrays, in JSON);
4. leaves numpy's global generator as it found it, so later cells run as
   in the student's own run.

The grader, in its own process outside the sandbox, reads the record
(``grading/plugins/verdicts.py``), decodes it and compares the hidden calls'
answers with those of the reference solution, recorded the same way from
the instructor's notebook (``grading/plugins/answer_data.py``). A forged
record can only claim answers; it scores only if those answers are right.
The hidden inputs are in the notebook the kernel runs, so a student's code
can see them: they are not secret, and need not be, since no expected
value is.

The replay contract, which every visible check of the course keeps: a
check is a function of one argument, the student's function; it calls it
with positional arguments only, each a value ``encode`` describes in full
(numbers, strings, lists, dicts, numeric arrays); it may look at what the
function returned or raised (its type, the types it derives from and its
message) and at what the call did to its arguments; and it says what is
wrong by raising an AssertionError with a message. The grader replays the
check on a stand-in that answers each call as the student's function did
(the n-th call with the same arguments gets the n-th answer), so the
student's feedback shows the message the check gave, or would have given.
A check that made other calls, or depended on anything else, could not be
replayed. An assignment names the modules of its checks in
``c.SandboxedExecute.check_modules`` (nbgrader_config.py).

Outside autograding (a student's own run, ``nbgrader validate``, the
instructor's notebook) ``hand_in`` does nothing at all.
"""

import contextlib
import copy
import io
import json
import math
import os

import numpy as np

from .i18n import get_language

# The MIME type of a record in a notebook's outputs.
MIME_TYPE = "application/vnd.initialization-course.answers+json"
FORMAT = 1
# numpy's global generator is seeded with this before each hidden call, so
# that a function that forgets its own seed gives other numbers than the
# reference's.
HIDDEN_SEED = 12345

# What a record may hold, at most: the grader refuses larger ones.
MAX_ITEMS = 10_000  # entries of one list, dict or array
MAX_DEPTH = 8  # nesting of lists and dicts
MAX_TEXT = 300  # characters of a string
MAX_MESSAGE = 2000  # characters of an error's message (a check may look for a name in it)
MAX_DIMENSIONS = 32  # of an array
MAX_NAME = 80  # characters of a type's or a check's name
NUMERIC_KINDS = "biuf"  # numpy dtype kinds a record may hold: bool, int, uint, float


# --------------------------------------------------------------------------
# Values as plain data
# --------------------------------------------------------------------------


def encode(value, depth=0):
    """value as plain JSON data: {"kind": ..., ...}.

    Arrays keep their dtype and shape; a value of any other type is
    described by its type's name only, which is all a check needs to say
    "return a dict, not a list"."""
    if depth > MAX_DEPTH:
        return {"kind": "other", "type": "too deeply nested"}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in NUMERIC_KINDS or value.size > MAX_ITEMS:
            return {"kind": "other", "type": f"ndarray of {value.size} {value.dtype}"}
        return {
            "kind": "array",
            "dtype": value.dtype.str,
            "shape": list(value.shape),
            "data": [_plain_number(item) for item in np.asarray(value).ravel().tolist()],
        }
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return {"kind": "number", "type": _number_type(value), "value": _plain_number(value)}
    if isinstance(value, str):
        return {"kind": "str", "value": value[:MAX_TEXT]}
    if value is None:
        return {"kind": "none"}
    if isinstance(value, dict) and len(value) <= MAX_ITEMS and all(isinstance(key, str) for key in value):
        return {"kind": "dict", "items": {key: encode(item, depth + 1) for key, item in value.items()}}
    if isinstance(value, (list, tuple)) and len(value) <= MAX_ITEMS:
        kind = "list" if isinstance(value, list) else "tuple"
        return {"kind": kind, "items": [encode(item, depth + 1) for item in value]}
    return {"kind": "other", "type": type(value).__name__[:MAX_NAME]}


def _number_type(value):
    if isinstance(value, (bool, int, float)):
        return type(value).__name__
    return np.asarray(value).dtype.name


def _plain_number(number):
    """A Python bool, int or float (JSON keeps a float's every digit), or
    "nan", "inf" or "-inf", which JSON has no numbers for."""
    if isinstance(number, (bool, np.bool_)):
        return bool(number)
    if isinstance(number, (int, np.integer)):
        return int(number)
    number = float(number)
    return number if math.isfinite(number) else repr(number)


def key_of(args):
    """The arguments of a call as one canonical string, to look the call up by."""
    return json.dumps([encode(argument) for argument in args], sort_keys=True)


# --------------------------------------------------------------------------
# The kernel's side: recording the calls
# --------------------------------------------------------------------------


class _Recorder:
    """Calls a function and records each call as plain data."""

    def __init__(self, function, hidden):
        self.function = function
        self.hidden = hidden
        self.calls = []

    def __call__(self, *args):
        call = {"hidden": self.hidden, "args": [encode(argument) for argument in args]}
        self.calls.append(call)
        try:
            value = self.function(*args)
        except BaseException as error:  # sys.exit() and KeyboardInterrupt are the student's too
            call["raised"] = _describe_error(error, show_message=not self.hidden)
            raise
        else:
            call["returned"] = encode(value)
            return value
        finally:
            # What the function did to its arguments (a list it was given, say).
            call["args_after"] = [encode(argument) for argument in args]


def _describe_error(error, show_message):
    """An exception as plain data: the names of its type and of the types it
    derives from (a ValueError of the student's own kind is a ValueError),
    and, for a visible call, its arguments (a check may look at the message)."""
    described = {
        "type": type(error).__name__[:MAX_NAME],
        "bases": [kind.__name__[:MAX_NAME] for kind in type(error).__mro__[1:8]],
        "args": [],
    }
    if show_message:
        described["args"] = [
            argument[:MAX_MESSAGE] if isinstance(argument, str) else argument
            for argument in error.args
            if isinstance(argument, (str, int, bool))
            or (isinstance(argument, float) and math.isfinite(argument))
        ]
    return described


def answer_record(check, function, hidden_calls=()):
    """The record of function's answers: to the calls the visible check makes,
    then to hidden_calls (a list of argument tuples), each made after
    seeding numpy's global generator with HIDDEN_SEED. What a call raises,
    sys.exit() included, is recorded as its answer; a KeyboardInterrupt
    (the grader stopping a cell over its time) stops the cell.

    numpy's global generator is left as it was found, so the cells after
    this one see the numbers they see in the student's own run (where
    hand_in does nothing): a check there gives the same message in both."""
    state = np.random.get_state()
    visible, hidden = _Recorder(function, hidden=False), _Recorder(function, hidden=True)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception, SystemExit):
            check(visible)
        for args in hidden_calls:
            np.random.seed(HIDDEN_SEED)
            with contextlib.suppress(Exception, SystemExit):
                hidden(*copy.deepcopy(tuple(args)))
            np.random.set_state(state)
    finally:
        np.random.set_state(state)
    return {
        "format": FORMAT,
        "check": check.__name__,
        "language": get_language(),
        "calls": visible.calls + hidden.calls,
    }


def hand_in(check, function, hidden_calls=()):
    """Show the grader function's answers (see the module's docstring).

    Only while nbgrader autogrades (NBGRADER_EXECUTION=autograde); at any
    other time it does nothing."""
    if os.environ.get("NBGRADER_EXECUTION") != "autograde":
        return
    from IPython.display import display

    display({MIME_TYPE: answer_record(check, function, hidden_calls)}, raw=True)
