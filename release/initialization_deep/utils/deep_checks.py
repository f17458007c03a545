"""Visible checks for the `initialization_deep` exercises.

Like init_checks.py, on whose machinery they are built: each ``check_*``
function calls the student's function and either prints "All visible tests
passed." or raises an AssertionError whose message starts with the kind of
mistake and says how to fix it. The seeded initializers are compared with a
private ``RandomState(3)``; the activation spreads with numbers computed once
for the small network below (the checks contain no ready-made solution).
"""

import math

import numpy as np

from .i18n import N_, say, student_text, student_type_name, tr
from .init_checks import (
    _GLOROT,
    _HE,
    _HE_FAN_OUT,
    _HE_NO_SQRT,
    _HE_PREVIOUS_FAN_IN,
    _NO_SCALE,
    _SMALL,
    _TIMES_10,
    _XAVIER,
    _XAVIER_ELSEWHERE,
    NOT_ANSWERED,
    NotAnswered,
    _call,
    _check_seeded,
    _check_structure,
    _fan_out_rule,
    _first_nonzero,
    _previous_fan_in_rule,
    _print_parameters,
    _ScaleRule,
    _variance_rule,
    _wrong,
)

# What Xavier's rule looks like when something else was used.
_XAVIER_FOR_TANH = _ScaleRule("sqrt(1 / layers_dims[l-1])", lambda n_in, n_out: math.sqrt(1 / n_in))
_HE_FOR_TANH = _ScaleRule(
    "sqrt(2 / layers_dims[l-1])",
    lambda n_in, n_out: math.sqrt(2 / n_in),
    N_(
        "Scale error: the weights use the He scale sqrt(2 / fan_in), made for "
        "ReLU units, which zero half their inputs; Xavier's scale for tanh keeps "
        "the variance at 1 / fan_in"
    ),
    mistake="he-scale-for-xavier",
)
_XAVIER_FAN_OUT = _fan_out_rule(1)
_XAVIER_PREVIOUS_FAN_IN = _previous_fan_in_rule(1)
_XAVIER_NO_SQRT = _variance_rule(1)

LAYER_LISTS = [[2, 4, 1], [3, 1, 2], [4, 3, 5, 2]]
# A cache or parameters key a graded message may quote ("'Z1'", "'A5'").
CACHE_KEY = r"'[AZWb][0-9]{1,2}'"

# For initialize_parameters(layers_dims, method): the rule of each seeded
# method and the rules a mistaken answer most likely used instead.
_METHODS = {
    "random": (_TIMES_10, [_NO_SCALE, _SMALL, _HE, _XAVIER_ELSEWHERE]),
    "small": (_SMALL, [_NO_SCALE, _TIMES_10, _HE, _XAVIER_ELSEWHERE]),
    "xavier": (
        _XAVIER_FOR_TANH,
        [
            _HE_FOR_TANH,
            _XAVIER_FAN_OUT,
            _XAVIER_PREVIOUS_FAN_IN,
            _XAVIER_NO_SQRT,
            _GLOROT,
            _TIMES_10,
            _NO_SCALE,
            _SMALL,
        ],
    ),
    "he": (
        _HE,
        [_XAVIER, _HE_FAN_OUT, _HE_PREVIOUS_FAN_IN, _HE_NO_SQRT, _GLOROT, _TIMES_10, _NO_SCALE, _SMALL],
    ),
}


def check_xavier_initializer(initialize_parameters_xavier):
    """Check an implementation of initialize_parameters_xavier."""
    rule, wrong = _METHODS["xavier"]
    _check_seeded(initialize_parameters_xavier, rule, LAYER_LISTS, wrong)
    say(tr("layers_dims = {layers_dims}").format(layers_dims=[2, 4, 1]))
    _print_parameters(_call(initialize_parameters_xavier, [2, 4, 1]), names=("W1", "W2"))
    say(tr("All visible tests passed."))


def check_initializer_by_method(initialize_parameters):
    """Check initialize_parameters(layers_dims, method) for every method."""
    try:
        _check_zeros_method(initialize_parameters)
    except AssertionError as error:
        raise _for_method("zeros", error) from None
    for method, (rule, wrong) in _METHODS.items():
        try:
            _check_seeded(lambda dims: initialize_parameters(dims, method), rule, LAYER_LISTS, wrong)
        except AssertionError as error:
            raise _for_method(method, error) from None
    _check_unknown_method(initialize_parameters)
    say(
        tr(
            "Methods zeros, random, small, xavier and he give the expected weights,\n"
            "and an unknown method is refused with a ValueError."
        )
    )
    say(tr("All visible tests passed."))


def _for_method(method, error):
    """An AssertionError with error's message, for one method, and its mistake's id."""
    message = tr("method '{method}': {error}").format(method=method, error=error)
    return _wrong(message, getattr(error, "mistake", None) or "wrong-values")


def _check_zeros_method(initialize_parameters):
    for layers_dims in LAYER_LISTS:
        try:
            parameters = _call(lambda dims: initialize_parameters(dims, "zeros"), layers_dims)
        except NameError as error:  # UnboundLocalError too: W was never set for "zeros"
            raise _wrong(
                tr(
                    "Method error: the call raised {type_name} ({error}): the branch "
                    "for 'zeros' is missing, or does not set the weights and biases"
                ).format(type_name=student_type_name(error), error=student_text(error)),
                "zeros-branch-missing",
            ) from None
        if parameters == {}:
            raise _wrong(
                tr(
                    "Method error: the call returned an empty dict: the branch for "
                    "'zeros' is missing, or the loop never fills parameters"
                ),
                "zeros-branch-missing",
            )
        _check_structure(parameters, layers_dims)
        for l in range(1, len(layers_dims)):
            if np.any(parameters[f"W{l}"]):
                index, value = _first_nonzero(parameters[f"W{l}"])
                message = tr("Value error: {name} has non-zero entries, for example entry {index} = {value}")
                raise _wrong(message.format(name=f"W{l}", index=index, value=value), "nonzero-weights")


def _check_unknown_method(initialize_parameters):
    """A misspelt name and a capitalized one must both be refused, by name."""
    for method in ("uniform", "Xavier"):
        try:
            initialize_parameters([3, 2, 1], method)
        except ValueError as error:
            if method not in str(error):
                raise _wrong(
                    tr(
                        "Message error: the ValueError for an unknown method should "
                        "name it, so the caller sees their typo; got: {error}"
                    ).format(error=student_text(error)),
                    "unknown-method-unnamed",
                )
        except Exception as error:
            raise _wrong(
                tr(
                    "Error type error: the unknown method {method} raised "
                    '{type_name}; raise ValueError(f"unknown method '
                    '{{method!r}}, expected one of zeros, random, small, xavier, he") '
                    "instead"
                ).format(method=repr(method), type_name=student_type_name(error)),
                "unknown-method-wrong-error",
            ) from None
        else:
            raise _wrong(_accepted_unknown(method), "unknown-method-accepted")


def _accepted_unknown(method):
    if method == "Xavier":
        return tr(
            "Method error: initialize_parameters([3, 2, 1], 'Xavier') returned "
            "without complaint. The method names are exact, lowercase words: "
            "refuse 'Xavier' with a ValueError rather than converting it "
            "(no method.lower()), so that a caller's mistake is seen at once"
        )
    return tr(
        "Method error: initialize_parameters([3, 2, 1], {method}) returned "
        "without complaint; raise a ValueError that names the unknown "
        "method"
    ).format(method=repr(method))


# --------------------------------------------------------------------------
# activation_stds
# --------------------------------------------------------------------------


def _spread_case(layers_dims=(4, 6, 5, 3, 1)):
    """A small batch and network: 4 inputs, hidden layers of 6, 5 and 3 units by default."""
    generator = np.random.RandomState(0)
    X = generator.standard_normal((4, 50))
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters[f"W{l}"] = generator.standard_normal((layers_dims[l], layers_dims[l - 1])) * math.sqrt(
            1 / layers_dims[l - 1]
        )
        parameters[f"b{l}"] = generator.standard_normal((layers_dims[l], 1)) * 0.1
    return X, parameters


# Standard deviations of the hidden activations A1, A2, A3 for _spread_case(),
# and of the values Z1, Z2, Z3 before the activation, computed once with numpy.
_EXPECTED = {
    "relu": [0.49861208331606044, 0.15429261897521337, 0.18357230778680547],
    "tanh": [0.5661945925924131, 0.47381537058668943, 0.34174786299577675],
}
_BEFORE_ACTIVATION = {
    "relu": [0.8087718433045067, 0.5512214589862074, 0.20329457893209624],
    "tanh": [0.8087718433045067, 0.5893288490864819, 0.40536527917240633],
}


def check_activation_stds(activation_stds):
    """Check activation_stds(X, parameters, activation) on a small network."""
    for activation in ("relu", "tanh"):
        X, parameters = _spread_case()
        spreads = _call_stds(activation_stds, X, parameters, activation)
        values = _as_numbers(spreads, num_hidden=3)
        X_given, parameters_given = _spread_case()
        if not np.array_equal(X, X_given):
            raise _wrong(tr("Input error: the function changed X; only read it"), "changes-input")
        if parameters.keys() != parameters_given.keys() or not all(
            np.array_equal(parameters[name], parameters_given[name]) for name in parameters_given
        ):
            raise _wrong(tr("Input error: the function changed parameters; only read them"), "changes-input")
        _diagnose_spreads(values, activation)
        say(f"{activation}: " + ", ".join(f"{value:.6f}" for value in values))
    _check_depth(activation_stds)
    say(tr("All visible tests passed."))


# A deeper network than _spread_case()'s: the number of values must follow the parameters.
DEEPER = (4, 6, 5, 4, 3, 1)


def _check_depth(activation_stds):
    """One value per hidden layer of a network with 4 of them, not a count fixed at 3."""
    X, parameters = _spread_case(DEEPER)
    spreads = _call_stds(activation_stds, X, parameters, "relu")
    count = len(spreads) if isinstance(spreads, (list, tuple, np.ndarray)) else 0
    if count != len(DEEPER) - 2:
        raise _wrong(
            tr(
                "Depth error: for a network with {num_hidden} hidden layers "
                "(layers_dims = {layers_dims}) your function gave {count} values. "
                "The number of hidden layers is not always 3, as in the first network, "
                "[4, 6, 5, 3, 1]: take it from parameters. With L = len(parameters) // 2, "
                "the hidden layers are l = 1, ..., L-1, that is range(1, L)"
            ).format(num_hidden=len(DEEPER) - 2, layers_dims=list(DEEPER), count=count),
            "fixed-depth",
        )


def _call_stds(activation_stds, X, parameters, activation):
    """The student's spreads; an unanswered exercise or a missing cache entry
    becomes a message that says what to do."""
    try:
        return activation_stds(X, parameters, activation)
    except NotImplementedError:
        raise NotAnswered(tr(NOT_ANSWERED)) from None
    except KeyError as error:
        num_layers = len(parameters) // 2
        key = error.args[0] if error.args else None
        looked_up = student_text(error, safe=CACHE_KEY)
        if isinstance(key, str) and key.startswith("Z"):
            raise _wrong(
                tr(
                    "Key error: your function looked up {key}, but the cache of "
                    "forward_propagation holds only the activations, A0 (the input) "
                    "to A{num_layers} (the output), and no Z. The spread is measured "
                    'on the activations: cache["A" + str(l)] for the hidden layers '
                    "l = 1, ..., {last_hidden}"
                ).format(key=looked_up, num_layers=num_layers, last_hidden=num_layers - 1),
                "looks-up-z",
            ) from None
        raise _wrong(
            tr(
                "Key error: your function looked up {key}, which does "
                "not exist. This network has {num_layers} weight layers: "
                "parameters holds a W and a b for each, so the number of layers is "
                "len(parameters) // 2 = {num_layers}, and cache holds A0 (the "
                "input) to A{num_layers} (the output). The hidden layers are "
                "l = 1, ..., {last_hidden}"
            ).format(key=looked_up, num_layers=num_layers, last_hidden=num_layers - 1),
            "wrong-layer-count",
        ) from None


def _as_numbers(spreads, num_hidden):
    if not isinstance(spreads, (list, tuple, np.ndarray)):
        raise _wrong(
            tr("Type error: return a list of numbers, got {type_name}").format(
                type_name=student_type_name(spreads)
            ),
            "not-a-list",
        )
    count = len(spreads)
    if count == num_hidden + 1:
        raise _wrong(
            tr(
                "Length error: got {count} values for {num_hidden} hidden layers; "
                "leave out the sigmoid output layer (and the input X): one value "
                "per hidden layer, l = 1, ..., L-1"
            ).format(count=count, num_hidden=num_hidden),
            "includes-output-layer",
        )
    if count != num_hidden:
        raise _wrong(
            tr(
                "Length error: got {count} values; expected one per hidden layer, "
                "{num_hidden} for layers_dims = [4, 6, 5, 3, 1]"
            ).format(count=count, num_hidden=num_hidden),
            "wrong-length",
        )
    for l, value in enumerate(spreads, start=1):
        if np.ndim(value) != 0:
            raise _wrong(
                tr(
                    "Axis error: the value for layer {l} has shape {shape}; "
                    "it should be one number, np.std of all the layer's "
                    "activations together (no axis argument)"
                ).format(l=l, shape=np.shape(value)),
                "std-per-axis",
            )
    return [float(value) for value in spreads]


def _with_ddof_1(spreads):
    """The spreads np.std(..., ddof=1) gives for _spread_case()'s hidden layers."""
    X, parameters = _spread_case()
    sizes = [parameters[f"W{l}"].shape[0] * X.shape[1] for l in range(1, len(spreads) + 1)]
    return [spread * math.sqrt(size / (size - 1)) for spread, size in zip(spreads, sizes)]


def _diagnose_spreads(values, activation):
    expected = _EXPECTED[activation]
    if np.allclose(values, expected, rtol=1e-6, atol=0):
        return
    other = "tanh" if activation == "relu" else "relu"
    if np.allclose(values, _EXPECTED[other], rtol=1e-6, atol=0):
        raise _wrong(
            tr(
                "Activation error: with activation='{activation}' you get the "
                "spreads of a {other} network; pass the activation on, as in "
                "forward_propagation(X, parameters, activation)"
            ).format(activation=activation, other=other),
            "ignores-activation",
        )
    if np.allclose(values, _with_ddof_1(expected), rtol=1e-6, atol=0):
        raise _wrong(
            tr(
                "Spread error: these are np.std(..., ddof=1) values, the estimate of a "
                "population's spread from a sample; the spread here is that of the "
                "numbers themselves: np.std without ddof"
            ),
            "ddof-1",
        )
    if np.allclose(values, np.square(expected), rtol=1e-6, atol=0):
        raise _wrong(
            tr("Spread error: these are variances; take the standard deviation, np.std, their square root"),
            "variance-for-std",
        )
    if np.allclose(values, _BEFORE_ACTIVATION[activation], rtol=1e-6, atol=0):
        raise _wrong(
            tr(
                "Activation error: these are the spreads of Z = W A + b, before "
                "the activation; measure the activations A that the layer outputs"
            ),
            "z-instead-of-a",
        )
    if np.allclose(values[1:], expected[:-1], rtol=1e-6, atol=0):
        raise _wrong(
            tr(
                "Layer error: your list starts with the spread of the input X (A0); "
                "start with the first hidden layer, A1, and end with the last hidden "
                "layer, A(L-1)"
            ),
            "includes-input",
        )
    raise _wrong(
        tr(
            "Value error: for activation='{activation}' expected spreads "
            "{expected}, got {got}. Each value should be np.std "
            "of the whole array A{{l}} (all units and examples together, no axis)"
        ).format(
            activation=activation,
            expected=[round(value, 6) for value in expected],
            got=[round(value, 6) for value in values],
        ),
        "wrong-values",
    )
