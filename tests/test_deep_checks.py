"""The visible checks of initialization_deep: correct answers, written in
different ways, pass; each common mistake gets its own diagnosis."""

import numpy as np
import pytest

from utils.deep_checks import check_activation_stds, check_initializer_by_method, check_xavier_initializer
from utils.init_utils import forward_propagation

SCALES = {
    "random": lambda n_in: 10,
    "small": lambda n_in: 0.01,
    "xavier": lambda n_in: np.sqrt(1 / n_in),
    "he": lambda n_in: np.sqrt(2 / n_in),
}


def seeded(scale_of, draw=None):
    """An initializer drawing randn per layer times scale_of(fan_in)."""

    def initialize(layers_dims):
        np.random.seed(3)
        parameters = {}
        for l in range(1, len(layers_dims)):
            n_out, n_in = layers_dims[l], layers_dims[l - 1]
            W = draw(n_out, n_in) if draw else np.random.randn(n_out, n_in)
            parameters[f"W{l}"] = W * scale_of(n_in, n_out)
            parameters[f"b{l}"] = np.zeros((n_out, 1))
        return parameters

    return initialize


def by_method(overrides=None, unknown=None):
    """initialize_parameters(layers_dims, method), with some methods replaced."""
    rules = {name: (lambda rule: lambda n_in, n_out: rule(n_in))(rule) for name, rule in SCALES.items()}
    rules.update(overrides or {})

    def initialize_parameters(layers_dims, method):
        if method == "zeros":
            return {
                key: value
                for l in range(1, len(layers_dims))
                for key, value in (
                    (f"W{l}", np.zeros((layers_dims[l], layers_dims[l - 1]))),
                    (f"b{l}", np.zeros((layers_dims[l], 1))),
                )
            }
        if method not in rules:
            if unknown:
                return unknown(method)
            raise ValueError(f"unknown method {method!r}")
        return seeded(rules[method])(layers_dims)

    return initialize_parameters


# ------------------------------------------------------------------ xavier


@pytest.mark.parametrize(
    "scale_of",
    [
        lambda n_in, n_out: np.sqrt(1 / n_in),
        lambda n_in, n_out: 1 / np.sqrt(n_in),
        lambda n_in, n_out: (1 / n_in) ** 0.5,
    ],
)
def test_correct_xavier_variants_pass(scale_of, capsys):
    check_xavier_initializer(seeded(scale_of))
    assert "All visible tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "scale_of, diagnosis",
    [
        (lambda n_in, n_out: np.sqrt(2 / n_in), "Scale error: the weights use the He scale"),
        (lambda n_in, n_out: np.sqrt(1 / n_out), "Fan-in error"),
        (lambda n_in, n_out: 1 / n_in, "Scale error: the weights are multiplied by 1 / fan_in"),
        (lambda n_in, n_out: np.sqrt(2 / (n_in + n_out)), "Glorot"),
        (lambda n_in, n_out: 1.0, "a factor is missing"),
    ],
)
def test_xavier_mistakes_are_named(scale_of, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_xavier_initializer(seeded(scale_of))


def test_xavier_with_uniform_draws_is_named():
    uniform = seeded(
        lambda n_in, n_out: np.sqrt(1 / n_in), draw=lambda n_out, n_in: np.random.rand(n_out, n_in)
    )
    with pytest.raises(AssertionError, match="Distribution error"):
        check_xavier_initializer(uniform)


# --------------------------------------------------------------- by method


def test_a_correct_initializer_by_method_passes(capsys):
    check_initializer_by_method(by_method())
    assert "All visible tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "method, wrong_rule, diagnosis",
    [
        ("small", lambda n_in, n_out: 0.1, "method 'small': Scale error"),
        (
            "xavier",
            lambda n_in, n_out: np.sqrt(2 / n_in),
            "method 'xavier': Scale error: the weights use the He",
        ),
        ("he", lambda n_in, n_out: np.sqrt(1 / n_in), "method 'he': Scale error: the weights use the Xavier"),
        ("random", lambda n_in, n_out: 1.0, "method 'random': Scale error"),
        # The Xavier scale where x 10 belongs: named, without advice about ReLU.
        (
            "random",
            lambda n_in, n_out: np.sqrt(1 / n_in),
            r"method 'random': Scale error: the weights use the Xavier scale .* not the scale this exercise",
        ),
    ],
)
def test_a_wrong_method_is_named(method, wrong_rule, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_initializer_by_method(by_method({method: wrong_rule}))


def ignores_zeros(on_zeros):
    """initialize_parameters whose "zeros" is left to on_zeros(layers_dims)."""
    correct = by_method()
    return lambda layers_dims, method: (
        on_zeros(layers_dims) if method == "zeros" else correct(layers_dims, method)
    )


def unset_scale(layers_dims):
    raise UnboundLocalError("cannot access local variable 'scale' where it is not associated with a value")


@pytest.mark.parametrize(
    "initialize_parameters, diagnosis",
    [
        (ignores_zeros(lambda dims: {}), "method 'zeros': Method error: the call returned an empty dict"),
        (ignores_zeros(unset_scale), r"method 'zeros': Method error: the call raised UnboundLocalError"),
        (
            ignores_zeros(lambda dims: by_method()(dims, "he")),
            r"method 'zeros': Value error: W1 has non-zero entries",
        ),
    ],
)
def test_a_missing_zeros_branch_is_named(initialize_parameters, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_initializer_by_method(initialize_parameters)


@pytest.mark.parametrize(
    "unknown, diagnosis",
    [
        (lambda method: None, "Method error"),
        (lambda method: {}[method], "Error type error: the unknown method 'uniform' raised KeyError"),
        (lambda method: (_ for _ in ()).throw(ValueError("bad method")), "Message error"),
    ],
)
def test_an_unknown_method_must_raise_a_clear_value_error(unknown, diagnosis):
    initialize = by_method(unknown=unknown)
    initialize_parameters = lambda dims, method: (  # noqa: E731
        initialize(dims, method) if method != "uniform" else unknown(method)
    )
    with pytest.raises(AssertionError, match=diagnosis):
        check_initializer_by_method(initialize_parameters)


def test_a_method_name_in_capitals_must_be_refused_not_lowered():
    lowered = by_method()

    def initialize_parameters(layers_dims, method):
        return lowered(layers_dims, method.lower())

    with pytest.raises(AssertionError, match=r"'Xavier'\) returned without complaint.*no method.lower"):
        check_initializer_by_method(initialize_parameters)


# ------------------------------------------------------- activation_stds


def spreads(X, parameters, activation):
    _, cache = forward_propagation(X, parameters, activation)
    return [np.std(cache[f"A{l}"]) for l in range(1, len(parameters) // 2)]


def spreads_loop(X, parameters, activation):
    A, result = X, []
    for l in range(1, len(parameters) // 2):
        Z = parameters[f"W{l}"] @ A + parameters[f"b{l}"]
        A = np.maximum(Z, 0) if activation == "relu" else np.tanh(Z)
        result.append(float(A.std()))
    return result


@pytest.mark.parametrize("implementation", [spreads, spreads_loop])
def test_correct_spread_functions_pass(implementation, capsys):
    check_activation_stds(implementation)
    assert "All visible tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "mistake, diagnosis",
    [
        (lambda X, p, a: spreads(X, p, "relu"), "Activation error: with activation='tanh'"),
        (lambda X, p, a: [s**2 for s in spreads(X, p, a)], "Spread error: these are variances"),
        (lambda X, p, a: spreads(X, p, a) + [0.1], "Length error: got 4 values for 3 hidden"),
        (lambda X, p, a: spreads(X, p, a)[:2], "Length error: got 2 values"),
        (
            lambda X, p, a: [np.std(forward_propagation(X, p, a)[1][f"A{l}"], axis=1) for l in (1, 2, 3)],
            "Axis error",
        ),
        (lambda X, p, a: [0.5, 0.5, 0.5], "Value error"),
    ],
)
def test_spread_mistakes_are_named(mistake, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_activation_stds(mistake)


def test_spreads_before_the_activation_are_named():
    def before(X, parameters, activation):
        A, result = X, []
        for l in range(1, 4):
            Z = parameters[f"W{l}"] @ A + parameters[f"b{l}"]
            result.append(np.std(Z))
            A = np.maximum(Z, 0) if activation == "relu" else np.tanh(Z)
        return result

    with pytest.raises(AssertionError, match="before the activation"):
        check_activation_stds(before)


def test_a_number_of_hidden_layers_fixed_at_three_is_named():
    """Right for the first network's three hidden layers, and for no other:
    the visible check says so, before the hidden tests' networks would."""

    def three_layers(X, parameters, activation):
        _, cache = forward_propagation(X, parameters, activation)
        return [float(np.std(cache[f"A{l}"])) for l in (1, 2, 3)]

    with pytest.raises(AssertionError, match=r"Depth error: for a network with 4 hidden layers") as failure:
        check_activation_stds(three_layers)
    assert failure.value.mistake == "fixed-depth"
    assert "gave 3 values" in str(failure.value)


@pytest.mark.parametrize(
    "student, diagnosis",
    [
        (
            lambda X, parameters, activation: (_ for _ in ()).throw(NotImplementedError()),
            r"Answer error: .*Replace the line `raise NotImplementedError\(\)`",
        ),
        (
            lambda X, parameters, activation: [
                np.std(forward_propagation(X, parameters, activation)[1][f"A{l}"])
                for l in range(1, len(parameters))
            ],  # L = len(parameters): twice the layers
            r"Key error: your function looked up 'A5'.*len\(parameters\) // 2 = 4",
        ),
        (
            lambda X, parameters, activation: [
                np.std(forward_propagation(X, parameters, activation)[1][f"Z{l}"])
                for l in range(1, len(parameters) // 2)
            ],  # the cache has no Z: not a layer-count mistake
            r"Key error: your function looked up 'Z1', but the cache .* holds only the activations",
        ),
    ],
)
def test_activation_stds_errors_become_instructions(student, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_activation_stds(student)


@pytest.mark.parametrize(
    "student, diagnosis",
    [
        (
            lambda X, parameters, activation: [
                np.std(forward_propagation(X, parameters, activation)[1][f"A{l}"], ddof=1)
                for l in range(1, len(parameters) // 2)
            ],
            "Spread error: these are np.std.*ddof=1",
        ),
        (
            lambda X, parameters, activation: [
                np.std(forward_propagation(X, parameters, activation)[1][f"A{l}"])
                for l in range(0, len(parameters) // 2 - 1)
            ],
            "Layer error: .*input X",
        ),
    ],
)
def test_ddof_and_a_list_from_the_input_are_named(student, diagnosis):
    with pytest.raises(AssertionError, match=diagnosis):
        check_activation_stds(student)
