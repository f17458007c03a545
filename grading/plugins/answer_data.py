"""The grader's side of an answer record: its values decoded, and a
student's hidden answers compared with the reference solution's.

The kernel's side is utils/answers.py. The data comes from an untrusted kernel: anything unexpected
raises Unreadable, and only numbers, strings, lists, tuples, dicts of them and numeric arrays are made.
"""

import math

import numpy as np

from utils.answers import MAX_DEPTH, MAX_DIMENSIONS, MAX_ITEMS, MAX_TEXT, NUMERIC_KINDS
from utils.i18n import KNOWN_TYPE_NAMES, student_text, tr

# As loose as the loosest visible check (deep_checks.check_activation_stds, rtol=1e-6), so no
# answer the visible checks accept fails here.
RELATIVE_TOLERANCE = 1e-6

# ------------------------------------------------------------------ decoding

NON_FINITE = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


def _number(value):
    """A number of a record: a bool, an int, a float or a non-finite float's name."""
    if isinstance(value, str) and value in NON_FINITE:
        return NON_FINITE[value]
    if not isinstance(value, (bool, int, float)):
        raise Unreadable("a number is not a number")
    if isinstance(value, int) and not -(2**64) < value < 2**64:
        raise Unreadable("an integer past 64 bits")  # no float or array could hold it
    return value


class Unreadable(ValueError):
    """A record, or a value in it, that is not plain data of the expected form."""


_NUMBER_TYPES = {"bool": bool, "int": int, "float": float}


def decode(data, depth=0):
    """The value that ``encode`` described (a stand-in object for "other"); raises Unreadable."""
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
    # Checked before anything is computed from them: a huge shape costs nothing here.
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


class StandIn:
    """The base of stand_in's classes."""

    def __repr__(self):
        return f"<{type(self).__name__}>"


def stand_in(type_name):
    """An object of a type called type_name: what a check sees for a value the record only names."""
    name = type_name if type_name.isidentifier() else "object"
    return type(name, (StandIn,), {})()


def holds_stand_in(value) -> bool:
    """Whether a decoded value is or holds a stand-in (which equals nothing: each is a new class)."""
    if isinstance(value, StandIn):
        return True
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, (list, tuple)) and any(map(holds_stand_in, value))


# ------------------------------------------------------- comparing hidden answers


def known_name(name: str) -> str:
    """A class name the student's code chose, for the feedback: a built-in one (or "Error") as it
    is, any other as a placeholder."""
    return name if name in KNOWN_TYPE_NAMES or name == "Error" else student_text(name)


def hidden_test_problem(answers, reference):
    """None if each hidden call's answer matches the reference's, else
    (error name, message) for the first that does not.

    answers and reference are decoded hidden calls (verdicts.py: "key", "returned" or "raised",
    "args_after"); the reference's decide which calls count."""
    if len(answers) != len(reference) or any(
        mine["key"] != theirs["key"] for mine, theirs in zip(answers, reference)
    ):
        return "MissingAnswer", tr(
            "Hidden test: the grader did not receive your function's answers to "
            "the hidden tests; run the notebook from the top and check that the "
            "test cell runs to its end"
        )
    problems = (_call_problem(mine, theirs) for mine, theirs in zip(answers, reference))
    return next((problem for problem in problems if problem is not None), None)


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
            ).format(got=known_name(mine["raised"]["type"]), type_name=expected)
        return None
    if "raised" in mine:
        return mine["raised"]["type"], tr(
            "Hidden test: your function raised {type_name} for an input the "
            "visible tests do not try (a larger network); it should work for "
            "any input of the right form, not only the visible tests' inputs"
        ).format(type_name=known_name(mine["raised"]["type"]))
    if not same_value(mine["args_after"], theirs["args_after"]):
        return "AssertionError", tr(
            "Hidden test: your function changed the arguments it was given; only read them"
        )
    difference = value_difference(mine["returned"], theirs["returned"], tr("the result"))
    if difference is not None:
        return "AssertionError", difference
    return None


def value_difference(mine, theirs, name):
    """None if mine matches theirs (the reference's), else a message naming the part that differs
    (never the expected value)."""
    if isinstance(theirs, dict):
        if not isinstance(mine, dict) or set(mine) != set(theirs):
            return tr("Hidden test: {name} does not hold the expected keys for a larger network").format(
                name=name
            )
        differences = (value_difference(mine[key], theirs[key], key) for key in theirs)
        return next((difference for difference in differences if difference is not None), None)
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
    """Equal data, numbers within RELATIVE_TOLERANCE; lists, tuples and 1-D arrays of numbers alike."""
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
