"""Handing a graded function's answers to the grader, as plain data.

When nbgrader autogrades a notebook, the student's code runs in a sandboxed
kernel, and nothing that kernel says can be trusted: it could print "All
tests passed", replace the checks, or read any value kept in its memory. So
the hidden part of each graded test cell holds no expected value and no
checking code. It calls ``hand_in``, which

1. runs the exercise's visible check on a recording copy of the student's
   function, quietly, so that every call the check makes is recorded;
2. calls the function on the hidden inputs given by the instructor;
3. displays the record: for each call, its arguments, what the function
   returned or raised, and its arguments afterwards, all as plain data
   (numbers, strings, lists, dicts and numeric arrays, in JSON).

The course's grader, in its own process outside the kernel
(``grading/plugins/verdicts.py``), reads that record, replays the visible check on
it to find the message a student should see, and compares the hidden
calls' answers with those of the reference solution, which it recorded
the same way from the instructor's notebook. A forged record can only
claim answers; it scores only if those answers are right.

Outside autograding (a student's own run, ``nbgrader validate``, the
instructor's notebook) ``hand_in`` does nothing at all.

The same module turns the plain data back into values (``decode``) for the
grader, and compares a student's hidden answers with the reference's
(``hidden_test_problem``), with messages in the notebook's language.
"""

import contextlib
import copy
import io
import json
import math
import os

import numpy as np

from .i18n import get_language, tr

# The MIME type of a record in a notebook's outputs.
MIME_TYPE = "application/vnd.initialization-course.answers+json"
FORMAT = 1
# numpy's global generator is seeded with this before each hidden call, so
# that a function that forgets its own seed gives other numbers than the
# reference's.
HIDDEN_SEED = 12345
# "The same number": as loose as the loosest visible check (activation_stds
# accepts 1e-6), so that no answer the visible checks accept fails here.
RELATIVE_TOLERANCE = 1e-6

# What a record may hold, at most: the grader refuses larger ones.
MAX_ITEMS = 10_000  # entries of one list, dict or array
MAX_DEPTH = 8  # nesting of lists and dicts
MAX_TEXT = 300  # characters of a string
MAX_MESSAGE = 2000  # characters of an error's message (a check may look for a name in it)
MAX_DIMENSIONS = 32  # of an array
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
    return {"kind": "other", "type": type(value).__name__[:80]}


def _number_type(value):
    if isinstance(value, (bool, int, float)):
        return type(value).__name__
    return np.asarray(value).dtype.name


NON_FINITE = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


def _plain_number(number):
    """A Python bool, int or float (JSON keeps a float's every digit), or
    "nan", "inf" or "-inf", which JSON has no numbers for."""
    if isinstance(number, (bool, np.bool_)):
        return bool(number)
    if isinstance(number, (int, np.integer)):
        return int(number)
    number = float(number)
    return number if math.isfinite(number) else repr(number)


def _number(value):
    """A number of a record: a bool, an int, a float or a non-finite float's name."""
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    if not isinstance(value, (bool, int, float)):
        raise Unreadable("a number is not a number")
    return value


class Unreadable(ValueError):
    """A record, or a value in it, that is not plain data of the expected form."""


_NUMBER_TYPES = {"bool": bool, "int": int, "float": float}


def decode(data, depth=0):
    """The value that ``encode`` described (a stand-in object for "other").

    data comes from an untrusted kernel: anything unexpected raises
    Unreadable, and only numbers, strings, lists, tuples, dicts of them and
    numeric arrays are ever made."""
    if not isinstance(data, dict) or depth > MAX_DEPTH + 1:
        raise Unreadable("a value is not described as plain data")
    kind = data.get("kind")
    if kind == "array":
        return _decode_array(data)
    if kind == "number":
        return _decode_number(data)
    if kind == "str":
        return _text(data.get("value"))
    if kind == "none":
        return None
    if kind == "dict":
        items = data.get("items")
        if not isinstance(items, dict) or len(items) > MAX_ITEMS:
            raise Unreadable("a dict is malformed")
        return {_text(key): decode(item, depth + 1) for key, item in items.items()}
    if kind in ("list", "tuple"):
        items = data.get("items")
        if not isinstance(items, list) or len(items) > MAX_ITEMS:
            raise Unreadable("a list is malformed")
        decoded = [decode(item, depth + 1) for item in items]
        return decoded if kind == "list" else tuple(decoded)
    if kind == "other":
        return stand_in(_text(data.get("type")))
    raise Unreadable("a value of an unknown kind")


def _decode_array(data):
    shape, values = data.get("shape"), data.get("data")
    # Checked before anything is computed from them: a shape of a million
    # dimensions, or of sizes past any integer, costs nothing here.
    if not isinstance(shape, list) or len(shape) > MAX_DIMENSIONS or not isinstance(values, list):
        raise Unreadable("an array's shape or values are malformed")
    if not all(isinstance(size, int) and 0 <= size <= MAX_ITEMS for size in shape):
        raise Unreadable("an array's shape is malformed")
    if len(values) > MAX_ITEMS or len(values) != math.prod(shape):
        raise Unreadable("an array's values do not fit its shape")
    dtype = _numeric_dtype(data.get("dtype"))
    try:
        return np.array([_number(value) for value in values], dtype=dtype).reshape(shape)
    except (OverflowError, ValueError) as error:
        raise Unreadable("an array's values do not fit its dtype") from error


def _decode_number(data):
    name, value = data.get("type"), _number(data.get("value"))
    try:
        if name in _NUMBER_TYPES:
            return _NUMBER_TYPES[name](value)
        return _numeric_dtype(name).type(value)
    except (OverflowError, ValueError) as error:
        raise Unreadable("a number does not fit its type") from error


def _numeric_dtype(name):
    """numpy's dtype of that name, if it is a plain numeric one."""
    try:
        dtype = np.dtype(_text(name))
    except (TypeError, ValueError) as error:
        raise Unreadable("a dtype is unknown") from error
    if dtype.kind not in NUMERIC_KINDS or dtype.names is not None or dtype.shape:
        raise Unreadable("a dtype is not numeric")
    return dtype


def _text(value):
    if not isinstance(value, str):
        raise Unreadable("a text is not a string")
    return value[:MAX_TEXT]


def stand_in(type_name):
    """An object whose type is called type_name and that does nothing else:
    what a check sees in place of a value the record only names."""
    name = type_name if type_name.isidentifier() else "object"
    return type(name, (), {"__repr__": lambda self: f"<{name}>"})()


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
        except Exception as error:
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
        "type": type(error).__name__[:80],
        "bases": [kind.__name__[:80] for kind in type(error).__mro__[1:8]],
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
    seeding numpy's global generator with HIDDEN_SEED."""
    visible = _Recorder(function, hidden=False)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(Exception):
        check(visible)
    hidden = _Recorder(function, hidden=True)
    for args in hidden_calls:
        np.random.seed(HIDDEN_SEED)
        with contextlib.suppress(Exception):
            hidden(*copy.deepcopy(tuple(args)))
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


# --------------------------------------------------------------------------
# The grader's side: comparing hidden answers
# --------------------------------------------------------------------------


def hidden_test_problem(answers, reference):
    """None if each hidden call's answer matches the reference's, else
    (error name, message) for the first that does not.

    answers and reference are lists of recorded hidden calls, decoded (see
    grading/plugins/verdicts.py: each has its arguments' canonical "key", and
    "returned" or "raised", and "args_after"); the reference's decide which
    calls count."""
    if len(answers) != len(reference) or any(
        mine["key"] != theirs["key"] for mine, theirs in zip(answers, reference)
    ):
        return "MissingAnswer", tr(
            "Hidden test: the grader did not receive your function's answers to "
            "the hidden tests; run the notebook from the top and check that the "
            "test cell runs to its end"
        )
    for mine, theirs in zip(answers, reference):
        problem = _call_problem(mine, theirs)
        if problem is not None:
            return problem
    return None


def _call_problem(mine, theirs):
    if "raised" in theirs:
        expected = theirs["raised"]["type"]
        if "raised" not in mine:
            return "AssertionError", tr(
                "Hidden test: for an input the visible tests do not try, your "
                "function returned, where it should raise {type_name}"
            ).format(type_name=expected)
        if expected not in (mine["raised"]["type"], *mine["raised"]["bases"]):
            return "AssertionError", tr(
                "Hidden test: for an input the visible tests do not try, your "
                "function raised {got}, where it should raise {type_name}"
            ).format(got=mine["raised"]["type"], type_name=expected)
        return None
    if "raised" in mine:
        return mine["raised"]["type"], tr(
            "Hidden test: your function raised {type_name} for an input the "
            "visible tests do not try (a larger network); it should work for "
            "any input of the right form, not only the visible tests' inputs"
        ).format(type_name=mine["raised"]["type"])
    if not same_value(mine["args_after"], theirs["args_after"]):
        return "AssertionError", tr(
            "Hidden test: your function changed the arguments it was given; only read them"
        )
    difference = value_difference(mine["returned"], theirs["returned"], tr("the result"))
    if difference is not None:
        return "AssertionError", difference
    return None


def value_difference(mine, theirs, name):
    """None if mine matches theirs (the reference's), else a message that
    names the part that differs, without giving the expected value."""
    if isinstance(theirs, dict):
        if not isinstance(mine, dict) or set(mine) != set(theirs):
            return tr("Hidden test: {name} does not hold the expected keys for a larger network").format(
                name=name
            )
        for key in theirs:
            difference = value_difference(mine[key], theirs[key], key)
            if difference is not None:
                return difference
        return None
    if isinstance(theirs, np.ndarray) and theirs.ndim >= 2:
        if not isinstance(mine, np.ndarray) or mine.shape != theirs.shape or mine.dtype != theirs.dtype:
            return tr(
                "Hidden test: {name} does not have the expected shape and dtype for a larger network"
            ).format(name=name)
    if not same_value(mine, theirs):
        return tr(
            "Hidden test: the values of {name} differ from the reference solution's "
            "for an input the visible tests do not try"
        ).format(name=name)
    return None


def same_value(mine, theirs):
    """Equal data, with numbers equal to RELATIVE_TOLERANCE; a list, tuple or
    one-dimensional array of numbers equals another of the same numbers."""
    if isinstance(theirs, dict):
        return (
            isinstance(mine, dict)
            and set(mine) == set(theirs)
            and all(same_value(mine[key], theirs[key]) for key in theirs)
        )
    if _is_numbers(theirs):
        if not _is_numbers(mine):
            return False
        mine_array, theirs_array = (np.asarray(value, dtype=float) for value in (mine, theirs))
        return mine_array.shape == theirs_array.shape and bool(
            np.allclose(mine_array, theirs_array, rtol=RELATIVE_TOLERANCE, atol=0, equal_nan=True)
        )
    if isinstance(theirs, (list, tuple)):
        return (
            isinstance(mine, (list, tuple))
            and len(mine) == len(theirs)
            and all(same_value(a, b) for a, b in zip(mine, theirs))
        )
    return type(mine) is type(theirs) and mine == theirs


def _is_numbers(value):
    """A number, a numeric array, or a list or tuple of numbers."""
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in NUMERIC_KINDS
    if isinstance(value, (list, tuple)):
        return len(value) > 0 and all(_is_one_number(item) for item in value)
    return False


def _is_one_number(value):
    """A number, or a numeric array of one number with no dimensions."""
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in NUMERIC_KINDS
    return isinstance(value, (bool, int, float, np.number))
