"""The visible checks accept correct initializers written in several ways and
name the likely mistake of each wrong one."""

import math

import numpy as np
import pytest

from utils.init_checks import (
    _add_call_hint,
    _add_note,
    check_he_initializer,
    check_random_initializer,
    check_zeros_initializer,
)


def make_initializer(
    scale,
    *,
    draw="randn",
    reseed_each_layer=False,
    draw_transposed=False,
    bias_shape="column",
    dtype=None,
    seed=3,
    random_biases=False,
):
    """A student-style initializer with the given (possibly wrong) choices.

    ``scale(n_in, n_out)`` gives the factor of layer l's draws.
    """

    def initializer(layers_dims):
        if seed is not None:
            np.random.seed(seed)
        parameters = {}
        for l in range(1, len(layers_dims)):
            n_in, n_out = layers_dims[l - 1], layers_dims[l]
            if reseed_each_layer:
                np.random.seed(seed)
            if draw == "randn":
                W = np.random.randn(n_in, n_out).T if draw_transposed else np.random.randn(n_out, n_in)
            elif draw == "rand":
                W = np.random.rand(n_out, n_in)
            else:
                W = np.zeros((n_out, n_in))
            W = W * scale(n_in, n_out)
            b_shape = (n_out, 1) if bias_shape == "column" else (n_out,)
            b = np.random.randn(*b_shape) if random_biases else np.zeros(b_shape)
            if dtype is not None:
                W, b = W.astype(dtype), b.astype(dtype)
            parameters[f"W{l}"] = W
            parameters[f"b{l}"] = b
        return parameters

    return initializer


def he(n_in, n_out):
    return np.sqrt(2 / n_in)


def ten(n_in, n_out):
    return 10


def one(n_in, n_out):
    return 1


# ------------------------------------------------------------- zeros


def test_zeros_accepts_correct_variants(capsys):
    check_zeros_initializer(make_initializer(one, draw="zeros", seed=None))

    def with_zeros_like(layers_dims):
        return {
            key: np.zeros_like(value) for key, value in make_initializer(one, seed=None)(layers_dims).items()
        }

    check_zeros_initializer(with_zeros_like)
    assert "All visible tests passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, expected_words",
    [
        (dict(bias_shape="flat"), ["Bias error", "(2, 1)"]),
        (dict(dtype=int), ["Dtype error", "int64"]),
        (dict(dtype=np.float32), ["Dtype error", "float32"]),
        (dict(draw="randn"), ["Value error", "non-zero"]),
        (dict(draw_transposed=True, draw="randn"), ["Value error"]),
    ],
)
def test_zeros_names_the_mistake(wrong, expected_words):
    options = dict(draw="zeros", seed=None)
    options.update(wrong)
    with pytest.raises(AssertionError) as error:
        check_zeros_initializer(make_initializer(one, **options))
    for word in expected_words:
        assert word in str(error.value)


def test_zeros_names_a_transposed_matrix():
    def transposed(layers_dims):
        parameters = make_initializer(one, draw="zeros")(layers_dims)
        return {k: v.T if k.startswith("W") else v for k, v in parameters.items()}

    with pytest.raises(AssertionError, match=r"Shape error: W1 has shape \(3, 2\), the transpose"):
        check_zeros_initializer(transposed)


def test_zeros_names_missing_layers():
    def one_layer_short(layers_dims):
        return make_initializer(one, draw="zeros")(layers_dims[:-1])

    with pytest.raises(AssertionError, match="Key error"):
        check_zeros_initializer(one_layer_short)


def test_zeros_catches_a_modified_input_list():
    def pops(layers_dims):
        parameters = make_initializer(one, draw="zeros")(layers_dims)
        layers_dims.pop()
        return parameters

    with pytest.raises(AssertionError, match="Input error"):
        check_zeros_initializer(pops)


def test_zeros_explains_the_tuple_argument_of_np_zeros():
    def two_arguments(layers_dims):
        return {"W1": np.zeros(layers_dims[1], layers_dims[0])}

    with pytest.raises(TypeError) as error:
        check_zeros_initializer(two_arguments)
    assert "one tuple" in "".join(error.value.__notes__)


class ErrorWithoutNotes:
    """An exception as Python 3.10 makes it: args, and no add_note."""

    def __init__(self, *args):
        self.args = args

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def test_the_hint_reaches_students_on_pythons_without_add_note():
    # On Python 3.10 (Colab, many lab images) exceptions have no add_note:
    # the hint joins the message instead of raising an AttributeError.
    error = ErrorWithoutNotes("Cannot interpret '3' as a data type")
    _add_call_hint(error)
    assert error.args[0].startswith("Cannot interpret '3' as a data type\nHint: np.zeros takes the shape")
    sizes = ErrorWithoutNotes("'tuple' object cannot be interpreted as an integer")
    _add_call_hint(sizes)
    assert "np.random.randn (like np.random.rand) takes the sizes as separate numbers" in sizes.args[0]
    bare = ErrorWithoutNotes()
    _add_note(bare, "a note")
    assert bare.args == ("a note",)


# ------------------------------------------------------------- random (x10)


def test_random_accepts_correct_variants(capsys):
    check_random_initializer(make_initializer(ten))

    def with_normal(layers_dims):
        np.random.seed(3)
        parameters = {}
        for l in range(1, len(layers_dims)):
            size = (layers_dims[l], layers_dims[l - 1])
            parameters["W" + str(l)] = np.random.normal(0, 10, size)
            parameters["b" + str(l)] = np.zeros((layers_dims[l], 1))
        return parameters

    check_random_initializer(with_normal)
    output = capsys.readouterr().out
    assert "17.88628473" in output and "All visible tests passed." in output


@pytest.mark.parametrize(
    "scale, wrong, expected_words",
    [
        (one, {}, ["Scale error", "factor is missing"]),
        (he, {}, ["Scale error", "He scale"]),
        (ten, dict(reseed_each_layer=True), ["Seed error", "once"]),
        (ten, dict(draw="rand"), ["Distribution error", "np.random.randn"]),
        (ten, dict(draw_transposed=True), ["Shape error", "transposed"]),
        (ten, dict(seed=None), ["Seed error", "did not seed"]),
        (lambda n_in, n_out: 0.01, dict(seed=None), ["Seed error", "scale is wrong too", "0.01"]),
        (ten, dict(draw="rand"), [">= 0", "times 10"]),
        (ten, dict(seed=1), ["Value error"]),
        (ten, dict(bias_shape="flat"), ["Bias error"]),
        (ten, dict(random_biases=True), ["Bias error", "zero"]),
        (ten, dict(dtype=np.float32), ["Dtype error"]),
    ],
)
def test_random_names_the_mistake(scale, wrong, expected_words):
    np.random.seed(3)  # where the notebook may have left it: a seedless answer must fail anyway
    with pytest.raises(AssertionError) as error:
        check_random_initializer(make_initializer(scale, **wrong))
    for word in expected_words:
        assert word in str(error.value)


def test_the_xavier_scale_in_the_large_weights_exercise_gets_no_relu_advice():
    with pytest.raises(AssertionError) as error:
        check_random_initializer(make_initializer(lambda n_in, n_out: np.sqrt(1 / n_in)))
    message = str(error.value)
    assert "Xavier scale" in message and "not the scale this exercise asks for" in message
    assert "ReLU" not in message and "expected 10" in message


def constant_weights(value_of):
    """An initializer whose weights are all one value: value_of(n_in)."""

    def initializer(layers_dims):
        np.random.seed(3)
        parameters = {}
        for l in range(1, len(layers_dims)):
            shape = (layers_dims[l], layers_dims[l - 1])
            parameters[f"W{l}"] = np.zeros(shape) + value_of(layers_dims[l - 1])
            parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
        return parameters

    return initializer


@pytest.mark.parametrize(
    "check, value_of",
    [
        (check_random_initializer, lambda n_in: np.zeros(1)[0] * 10),  # np.zeros(...) * 10
        (check_he_initializer, lambda n_in: np.sqrt(2 // n_in)),  # integer division: 0
        (check_he_initializer, lambda n_in: 0.5),
    ],
)
def test_constant_weights_are_named_as_such(check, value_of):
    with pytest.raises(AssertionError) as error:
        check(constant_weights(value_of))
    message = str(error.value)
    assert "Distribution error: every entry of W1" in message and "must be random" in message
    assert "uniform" not in message and "2 // n" in message


# ------------------------------------------------------------- He


def test_he_accepts_correct_variants(capsys):
    check_he_initializer(make_initializer(he))
    check_he_initializer(make_initializer(lambda n_in, n_out: np.sqrt(2) / np.sqrt(n_in)))
    check_he_initializer(make_initializer(lambda n_in, n_out: (2 / n_in) ** 0.5))
    check_he_initializer(make_initializer(lambda n_in, n_out: math.sqrt(2.0 / n_in)))
    output = capsys.readouterr().out
    assert "1.78862847" in output and "-2.63537665" in output


@pytest.mark.parametrize(
    "scale, wrong, expected_words",
    [
        (lambda n_in, n_out: np.sqrt(1 / n_in), {}, ["Scale error", "Xavier"]),
        (lambda n_in, n_out: np.sqrt(2 / n_out), {}, ["Fan-in error", "layers_dims[l-1]"]),
        (lambda n_in, n_out: 2 / n_in, {}, ["Scale error", "square root"]),
        (lambda n_in, n_out: np.sqrt(2 / (n_in + n_out)), {}, ["Scale error", "Glorot"]),
        (ten, {}, ["Scale error", "multiplied by 10"]),
        (one, {}, ["Scale error", "factor is missing"]),
        (he, dict(reseed_each_layer=True), ["Seed error"]),
        (he, dict(draw="rand"), ["Distribution error"]),
        (he, dict(draw_transposed=True), ["Shape error", "transposed"]),
        (he, dict(bias_shape="flat"), ["Bias error", "(4, 1)"]),
        (he, dict(dtype=np.float16), ["Dtype error"]),
        (he, dict(draw="rand"), ["uniform draws in [0, 1)", ">= 0"]),  # not "moved and stretched"
        (lambda n_in, n_out: np.sqrt(2 // n_in), {}, ["every entry of W2", "is 0, so"]),  # not "-0"
        (lambda n_in, n_out: 0.01, dict(seed=None), ["Seed error", "scale is wrong too", "0.01"]),
        (lambda n_in, n_out: np.sqrt(2 / (n_in + n_out)), dict(seed=None), ["Seed error", "Glorot"]),
    ],
)
def test_he_names_the_mistake(scale, wrong, expected_words):
    with pytest.raises(AssertionError) as error:
        check_he_initializer(make_initializer(scale, **wrong))
    for word in expected_words:
        assert word in str(error.value)


def test_a_fan_in_from_the_layer_before_is_named():
    """layers_dims[l-2]: for l = 2 of [2, 4, 1] the scale is sqrt(2/2) = 1,
    which alone would read as plain randn draws."""

    def initialize_parameters_he(layers_dims):
        np.random.seed(3)
        parameters = {}
        for l in range(1, len(layers_dims)):
            draws = np.random.randn(layers_dims[l], layers_dims[l - 1])
            parameters[f"W{l}"] = draws * np.sqrt(2 / layers_dims[l - 2])
            parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
        return parameters

    with pytest.raises(AssertionError, match=r"Fan-in error: the scale uses layers_dims\[l-2\]"):
        check_he_initializer(initialize_parameters_he)


def test_uniform_draws_moved_name_both_functions():
    def initialize_parameters_he(layers_dims):
        np.random.seed(3)
        parameters = {}
        for l in range(1, len(layers_dims)):
            draws = np.random.uniform(-1, 1, (layers_dims[l], layers_dims[l - 1]))
            parameters[f"W{l}"] = draws * np.sqrt(2 / layers_dims[l - 1])
            parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
        return parameters

    with pytest.raises(AssertionError, match=r"uniform draws \(np.random.rand or np.random.uniform\), moved"):
        check_he_initializer(initialize_parameters_he)


def test_checks_leave_the_global_random_state_alone():
    np.random.seed(123)
    expected_next = np.random.RandomState(123).rand()
    check_he_initializer(make_initializer(he))
    assert np.random.rand() == expected_next


def test_a_changing_seed_is_caught_on_the_second_call():
    calls = []

    def reseeds_with_call_count(layers_dims):
        calls.append(1)
        return make_initializer(he, seed=3 if len(calls) == 1 else len(calls))(layers_dims)

    with pytest.raises(AssertionError, match="Seed error|Value error"):
        check_he_initializer(reseeds_with_call_count)


def test_an_unanswered_exercise_says_what_to_replace():
    def initialize_parameters_he(layers_dims):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match=r"Answer error: .*raise NotImplementedError"):
        check_he_initializer(initialize_parameters_he)


def test_float32_weights_turned_back_into_float64_are_named():
    def initialize_parameters_he(layers_dims):
        np.random.seed(3)
        return {
            key: value
            for l in range(1, len(layers_dims))
            for key, value in (
                (
                    f"W{l}",
                    np.random.randn(layers_dims[l], layers_dims[l - 1]).astype(np.float32)
                    * np.sqrt(2 / layers_dims[l - 1]),
                ),
                (f"b{l}", np.zeros((layers_dims[l], 1))),
            )
        }

    with pytest.raises(AssertionError, match="Precision error: .*float32"):
        check_he_initializer(initialize_parameters_he)


@pytest.mark.parametrize(
    "draw, diagnosis",
    [
        (lambda shape, l: np.random.default_rng(3).standard_normal(shape), "Generator error"),
        (lambda shape, l: np.random.rand(*shape) - 0.5, "Distribution error: .* uniform draws"),
    ],
)
def test_other_generators_and_distributions_are_named(draw, diagnosis):
    def initialize_parameters_he(layers_dims):
        np.random.seed(3)
        return {
            key: value
            for l in range(1, len(layers_dims))
            for key, value in (
                (f"W{l}", draw((layers_dims[l], layers_dims[l - 1]), l) * np.sqrt(2 / layers_dims[l - 1])),
                (f"b{l}", np.zeros((layers_dims[l], 1))),
            )
        }

    with pytest.raises(AssertionError, match=diagnosis):
        check_he_initializer(initialize_parameters_he)
