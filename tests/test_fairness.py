"""Fair grading: an answer passes an exercise's visible checks exactly when
the grader gives it the points.

Each graded function has a bank of answers a student might write: correct
ones in other words, and debatable or wrong ones (letter case, dtype, numpy's
newer Generator API, ddof=1, a wrong layer count, ...). Every answer is
written into the instructor notebook's solution cell and run in process: the
locked imports cell, the solution cell, then the test cell's visible part
and, separately, its hidden part, whose answers the trusted grader judges
against the reference solution's (grading/plugins/verdicts.py), as autograding does.
An answer that would lose points must fail a visible check first, with a
message; one that passes the visible checks must keep its points.
"""

import contextlib
import functools
import io
import json
import re

import nbformat
import pytest

import utils.answers
from conftest import CHECKS, REPO
from examples.students import fill_in
from grading.configuration import delimiters
from grading.plugins.verdicts import judge, parse_record

HIDDEN = re.compile("{}.*?{}".format(*map(re.escape, delimiters(REPO)["hidden tests"])), re.DOTALL)

# ------------------------------------------------------- the answer banks
# Answers to the first assignment's three functions go inside their
# `for l in range(1, L + 1):` loop; the others replace the whole solution.

ZEROS = {
    "np.zeros": """
parameters[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1]))
parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
""",
    "np.full with 0.0": """
parameters[f"W{l}"] = np.full((layers_dims[l], layers_dims[l - 1]), 0.0)
parameters[f"b{l}"] = np.full((layers_dims[l], 1), 0.0)
""",
    "zeros times a draw": """
parameters[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * 0
parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
""",
    "not answered": "raise NotImplementedError()",
    "integer zeros": """
parameters[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1]), dtype=int)
parameters[f"b{l}"] = np.zeros((layers_dims[l], 1), dtype=int)
""",
    "float32 zeros": """
parameters[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1]), dtype=np.float32)
parameters[f"b{l}"] = np.zeros((layers_dims[l], 1), dtype=np.float32)
""",
    "transposed": """
parameters[f"W{l}"] = np.zeros((layers_dims[l - 1], layers_dims[l]))
parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
""",
    "flat bias": """
parameters[f"W{l}"] = np.zeros((layers_dims[l], layers_dims[l - 1]))
parameters[f"b{l}"] = np.zeros(layers_dims[l])
""",
    "lists": """
parameters[f"W{l}"] = [[0.0] * layers_dims[l - 1] for _ in range(layers_dims[l])]
parameters[f"b{l}"] = [[0.0] for _ in range(layers_dims[l])]
""",
}


def scaled_draws(scale, draw="np.random.randn(layers_dims[l], layers_dims[l - 1])"):
    return f"""
parameters[f"W{{l}}"] = {draw} * {scale}
parameters[f"b{{l}}"] = np.zeros((layers_dims[l], 1))
"""


RANDOM = {
    "randn * 10": scaled_draws("10"),
    "10.0 * standard_normal": scaled_draws(
        "10.0", "np.random.standard_normal((layers_dims[l], layers_dims[l - 1]))"
    ),
    "normal(0, 10)": scaled_draws("1", "np.random.normal(0, 10, size=(layers_dims[l], layers_dims[l - 1]))"),
    "float32": scaled_draws(
        "np.float32(10)", "np.random.randn(layers_dims[l], layers_dims[l - 1]).astype(np.float32)"
    ),
    "default_rng": scaled_draws(
        "10", "np.random.default_rng(3).standard_normal((layers_dims[l], layers_dims[l - 1]))"
    ),
    "seed again in the loop": "np.random.seed(3)\n" + scaled_draws("10"),
    "uniform shifted to mean 0": scaled_draws(
        "10", "(np.random.rand(layers_dims[l], layers_dims[l - 1]) - 0.5)"
    ),
    "times 0.01": scaled_draws("0.01"),
    "no scale": scaled_draws("1"),
}

HE = {
    "sqrt(2 / n)": scaled_draws("np.sqrt(2 / layers_dims[l - 1])"),
    "sqrt(2) / sqrt(n)": scaled_draws("np.sqrt(2) / np.sqrt(layers_dims[l - 1])"),
    "(2 / n) ** 0.5": scaled_draws("(2 / layers_dims[l - 1]) ** 0.5"),
    "math.sqrt": "import math\n" + scaled_draws("math.sqrt(2 / layers_dims[l - 1])"),
    "normal with the scale": scaled_draws(
        "1", "np.random.normal(0, np.sqrt(2 / layers_dims[l - 1]), (layers_dims[l], layers_dims[l - 1]))"
    ),
    "fan-out": scaled_draws("np.sqrt(2 / layers_dims[l])"),
    "no square root": scaled_draws("2 / layers_dims[l - 1]"),
    "Xavier's scale": scaled_draws("np.sqrt(1 / layers_dims[l - 1])"),
    "Glorot's average": scaled_draws("np.sqrt(2 / (layers_dims[l - 1] + layers_dims[l]))"),
    "integer division": scaled_draws("np.sqrt(2 // layers_dims[l - 1])"),
    "uniform draws times the scale": scaled_draws(
        "np.sqrt(2 / layers_dims[l - 1])", "np.random.rand(layers_dims[l], layers_dims[l - 1])"
    ),
    "np.random.uniform": scaled_draws(
        "np.sqrt(2 / layers_dims[l - 1])", "np.random.uniform(-1, 1, (layers_dims[l], layers_dims[l - 1]))"
    ),
    "fan-in of the layer before": scaled_draws("np.sqrt(2 / layers_dims[l - 2])"),
    "default_rng": scaled_draws(
        "np.sqrt(2 / layers_dims[l - 1])",
        "np.random.default_rng(3).standard_normal((layers_dims[l], layers_dims[l - 1]))",
    ),
}

XAVIER = {
    "sqrt(1 / n)": scaled_draws("np.sqrt(1 / layers_dims[l - 1])"),
    "1 / sqrt(n)": scaled_draws("1 / np.sqrt(layers_dims[l - 1])"),
    "n ** -0.5": scaled_draws("layers_dims[l - 1] ** -0.5"),
    "normal with the scale": scaled_draws(
        "1", "np.random.normal(0, 1 / np.sqrt(layers_dims[l - 1]), (layers_dims[l], layers_dims[l - 1]))"
    ),
    "He's scale": HE["sqrt(2 / n)"],
    "Glorot's average": HE["Glorot's average"],
    "fan-out": scaled_draws("np.sqrt(1 / layers_dims[l])"),
    "no square root": scaled_draws("1 / layers_dims[l - 1]"),
    "float32": scaled_draws(
        "np.sqrt(1 / layers_dims[l - 1])",
        "np.random.randn(layers_dims[l], layers_dims[l - 1]).astype(np.float32)",
    ),
}


def replacing(answer, old, new):
    """answer with old replaced by new; old must be there, so that a changed
    reference answer cannot silently leave the variant equal to it."""
    assert old in answer, f"{old!r} is not in the answer any more"
    return answer.replace(old, new)


def by_method(check=None, scales=None, name="method", draw_for_zeros=False):
    """An initialize_parameters answer: check is the line that refuses unknown names."""
    scales = scales or (
        '{"random": 10.0, "small": 0.01, "xavier": np.sqrt(1 / n_in), "he": np.sqrt(2 / n_in)}'
    )
    zeros = "W = np.random.randn(n_out, n_in) * 0.0" if draw_for_zeros else "W = np.zeros((n_out, n_in))"
    return f"""
{
        check
        if check is not None
        else "if method not in METHODS:" + chr(10) + '    raise ValueError(f"unknown method {method!r}")'
    }
for l in range(1, L + 1):
    n_in, n_out = layers_dims[l - 1], layers_dims[l]
    if {name} == "zeros":
        {zeros}
    else:
        W = np.random.randn(n_out, n_in) * {scales}[{name}]
    parameters[f"W{{l}}"] = W
    parameters[f"b{{l}}"] = np.zeros((n_out, 1))
"""


INITIALIZE_PARAMETERS = {
    "dict of scales": by_method(),
    "if/elif chain": """
if method not in ("zeros", "random", "small", "xavier", "he"):
    raise ValueError("unknown method: " + method)
for l in range(1, L + 1):
    shape = (layers_dims[l], layers_dims[l - 1])
    if method == "zeros":
        parameters["W" + str(l)] = np.zeros(shape)
    elif method == "random":
        parameters["W" + str(l)] = np.random.randn(*shape) * 10
    elif method == "small":
        parameters["W" + str(l)] = np.random.randn(*shape) * 0.01
    elif method == "xavier":
        parameters["W" + str(l)] = np.random.randn(*shape) * np.sqrt(1 / shape[1])
    else:
        parameters["W" + str(l)] = np.random.randn(*shape) * np.sqrt(2 / shape[1])
    parameters["b" + str(l)] = np.zeros((shape[0], 1))
""",
    "zeros drawn then scaled by 0": by_method(draw_for_zeros=True),
    "method.lower()": "method = method.lower()\n" + by_method(),
    "refuse later, in the loop": replacing(
        by_method(check=""),
        "    else:\n        W = np.random.randn(n_out, n_in) * {",
        "    elif method not in METHODS:\n        raise ValueError(f'unknown method {method!r}')\n"
        "    else:\n        W = np.random.randn(n_out, n_in) * {",
    ),
    "assert instead of ValueError": by_method(check="assert method in METHODS, method"),
    "KeyError from the dict": by_method(check=""),
    "message without the name": by_method(
        check='if method not in METHODS:\n    raise ValueError("unknown method")'
    ),
    "falls back to He": replacing(by_method(check=""), "[method]", ".get(method, np.sqrt(2 / n_in))"),
    "a ValueError of its own kind": "class UnknownMethod(ValueError):\n    pass\n"
    + by_method(check='if method not in METHODS:\n    raise UnknownMethod(f"unknown method {method!r}")'),
    "a long message that names the method last": by_method(
        check='if method not in METHODS:\n    raise ValueError("x" * 400 + f" unknown method {method!r}")'
    ),
    "METHODS reordered": "global METHODS\nMETHODS = tuple(sorted(METHODS))\n" + by_method(),
    "no branch for zeros": """
if method not in METHODS:
    raise ValueError(f"unknown method {method!r}")
if method != "zeros":
    for l in range(1, L + 1):
        scale = {"random": 10.0, "small": 0.01, "xavier": np.sqrt(1 / layers_dims[l - 1])}.get(method)
        scale = np.sqrt(2 / layers_dims[l - 1]) if scale is None else scale
        parameters[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * scale
        parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
""",
    "zeros leaves the scale unset": """
if method not in METHODS:
    raise ValueError(f"unknown method {method!r}")
for l in range(1, L + 1):
    if method == "random":
        scale = 10.0
    elif method == "small":
        scale = 0.01
    elif method == "xavier":
        scale = np.sqrt(1 / layers_dims[l - 1])
    elif method == "he":
        scale = np.sqrt(2 / layers_dims[l - 1])
    parameters[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * scale
    parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
""",
    "xavier with He's scale": by_method(
        scales='{"random": 10.0, "small": 0.01, "xavier": np.sqrt(2 / n_in), "he": np.sqrt(2 / n_in)}'
    ),
}

ACTIVATION_STDS = {
    "not answered": "raise NotImplementedError()",
    "np.std per layer": """
_, cache = forward_propagation(X, parameters, activation)
L = len(parameters) // 2
stds = [float(np.std(cache[f"A{l}"])) for l in range(1, L)]
""",
    "square root of the variance": """
_, cache = forward_propagation(X, parameters, activation)
stds = [np.sqrt(np.var(cache["A" + str(l)])) for l in range(1, len(parameters) // 2)]
""",
    "numpy array of numpy floats": """
_, cache = forward_propagation(X, parameters, activation)
stds = np.array([cache["A" + str(l)].std() for l in range(1, len(parameters) // 2)])
""",
    "ddof=1": """
_, cache = forward_propagation(X, parameters, activation)
stds = [np.std(cache[f"A{l}"], ddof=1) for l in range(1, len(parameters) // 2)]
""",
    "L = len(parameters)": """
_, cache = forward_propagation(X, parameters, activation)
stds = [np.std(cache[f"A{l}"]) for l in range(1, len(parameters))]
""",
    "output layer included": """
_, cache = forward_propagation(X, parameters, activation)
stds = [np.std(cache[f"A{l}"]) for l in range(1, len(parameters) // 2 + 1)]
""",
    "input included": """
_, cache = forward_propagation(X, parameters, activation)
stds = [np.std(X)] + [np.std(cache[f"A{l}"]) for l in range(1, len(parameters) // 2 - 1)]
""",
    "mean of per-unit spreads": """
_, cache = forward_propagation(X, parameters, activation)
stds = [np.std(cache[f"A{l}"], axis=1).mean() for l in range(1, len(parameters) // 2)]
""",
    "pre-activations Z": """
_, cache = forward_propagation(X, parameters, activation)
stds = [np.std(cache[f"Z{l}"]) for l in range(1, len(parameters) // 2)]
""",
    "float32 arithmetic": """
_, cache = forward_propagation(X, parameters, activation)
stds = [float(np.std(cache[f"A{l}"].astype(np.float32))) for l in range(1, len(parameters) // 2)]
""",
    "zero-dimensional arrays": """
_, cache = forward_propagation(X, parameters, activation)
stds = [np.asarray(np.std(cache[f"A{l}"])) for l in range(1, len(parameters) // 2)]
""",
    "adds to parameters": """
_, cache = forward_propagation(X, parameters, activation)
parameters["seen"] = True
stds = [np.std(cache[f"A{l}"]) for l in range(1, (len(parameters) - 1) // 2)]
""",
    "three hidden layers, as in the visible network": """
_, cache = forward_propagation(X, parameters, activation)
stds = [np.std(cache[f"A{l}"]) for l in range(1, 4)]
""",
    "always ReLU": """
_, cache = forward_propagation(X, parameters)
stds = [np.std(cache[f"A{l}"]) for l in range(1, len(parameters) // 2)]
""",
}

BANKS = {
    ("initialization", "initialize_parameters_zeros"): ZEROS,
    ("initialization", "initialize_parameters_random"): RANDOM,
    ("initialization", "initialize_parameters_he"): HE,
    ("initialization_deep", "initialize_parameters_xavier"): XAVIER,
    ("initialization_deep", "initialize_parameters"): INITIALIZE_PARAMETERS,
    ("initialization_deep", "activation_stds"): ACTIVATION_STDS,
}
NOTEBOOKS = {"initialization": "Initialization.ipynb", "initialization_deep": "InitializationDeep.ipynb"}

# --------------------------------------------------------------- running


def cell(notebook, grade_id):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def python_of(source):
    """A cell's source without IPython magics (the imports cell has one)."""
    return "\n".join(line for line in source.splitlines() if not line.startswith("%"))


def attempt(source, namespace):
    """Run a cell's source in namespace, quietly; the error it raised, as text, or None."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(python_of(source), "<cell>", "exec"), namespace)
    except Exception as error:  # noqa: BLE001 (any error costs the cell's points)
        return f"{type(error).__name__}: {error}"
    return None


def handed_in(notebook, grade_id, answer=None):
    """(the error of the solution cell or None, the record the test cell's
    hidden part hands in or None) for answer (the notebook's own when None)."""
    namespace = {}
    assert attempt(cell(notebook, "imports").source, namespace) is None
    filled = notebook if answer is None else fill_in(notebook, {grade_id: answer})
    broken = attempt(cell(filled, grade_id).source, namespace)
    test = cell(notebook, f"test_{grade_id}").source
    hidden = HIDDEN.search(test).group(0)
    records = []
    original = utils.answers.hand_in
    # What hand_in would display while autograding, kept here instead.
    utils.answers.hand_in = lambda *args, **kw: records.append(utils.answers.answer_record(*args, **kw))
    try:
        attempt(hidden, namespace)
    finally:
        utils.answers.hand_in = original
    record = parse_record(json.loads(json.dumps(records[-1]))) if records else None
    return broken, record, namespace


@functools.cache
def reference_record(assignment, grade_id):
    notebook = nbformat.read(REPO / "source" / assignment / NOTEBOOKS[assignment], as_version=4)
    broken, record, _ = handed_in(notebook, grade_id)
    assert broken is None and record is not None
    return record


def verdicts(assignment, grade_id, answer):
    """(visible checks' error, the grader's verdict's error) for an answer; None is a pass."""
    notebook = nbformat.read(REPO / "source" / assignment / NOTEBOOKS[assignment], as_version=4)
    broken, record, namespace = handed_in(notebook, grade_id, answer)
    visible = HIDDEN.sub("", cell(notebook, f"test_{grade_id}").source)
    seen = broken or attempt(visible, namespace)
    verdict = judge(record, reference_record(assignment, grade_id), checks=CHECKS)
    graded = broken or (None if verdict.passed else f"{verdict.error_name}: {verdict.message}")
    return seen, graded


CASES = [
    (assignment, grade_id, name, answer)
    for (assignment, grade_id), bank in BANKS.items()
    for name, answer in bank.items()
]


@pytest.mark.parametrize(
    "assignment, grade_id, name, answer", CASES, ids=[f"{grade_id}-{name}" for _, grade_id, name, _ in CASES]
)
def test_visible_checks_agree_with_the_hidden_tests(assignment, grade_id, name, answer):
    seen, graded = verdicts(assignment, grade_id, answer)
    if graded is None:
        assert seen is None, f"the visible checks refuse an answer that gets the points: {seen}"
    else:
        assert seen is not None, f"the answer passes every visible check but loses the points: {graded}"
        assert re.match(r"(AssertionError|NotAnswered): (method '\w+': )?[A-Z][\w -]* error: ", seen), (
            f"the visible check's message does not name the mistake: {seen}"
        )


def test_each_bank_holds_correct_and_wrong_answers():
    for (assignment, grade_id), bank in BANKS.items():
        outcomes = {verdicts(assignment, grade_id, answer)[1] is None for answer in bank.values()}
        assert outcomes == {True, False}, f"{grade_id}'s bank is one-sided"
