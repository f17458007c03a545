"""Unit tests of utils/deep_utils.py (the network itself, shared with
init_utils.py, is gradient-checked for both activations in test_init_utils)."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

from conftest import REPO
from utils import deep_utils, init_utils
from utils.deep_utils import (
    METHOD_COLOURS,
    accuracy,
    backward_gains,
    gradient_norms,
    load_digits_binary,
    plot_costs,
    plot_digits,
    plot_layer_spreads,
    plot_layer_values,
    predict,
    train,
)

matplotlib.use("Agg")


def he_parameters(layers_dims, seed=3):
    generator = np.random.RandomState(seed)
    return {
        key: value
        for l in range(1, len(layers_dims))
        for key, value in (
            (f"W{l}", generator.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(2 / layers_dims[l - 1])),
            (f"b{l}", np.zeros((layers_dims[l], 1))),
        )
    }


def test_the_network_is_the_one_of_init_utils():
    assert deep_utils.forward_propagation is init_utils.forward_propagation
    assert deep_utils.backward_propagation is init_utils.backward_propagation


def test_digits_task_shapes_balance_scaling_and_determinism():
    train_X, train_Y, test_X, test_Y = load_digits_binary()
    assert train_X.shape == (64, 1348) and train_Y.shape == (1, 1348)
    assert test_X.shape == (64, 449) and test_Y.shape == (1, 449)
    assert set(np.unique(train_Y)) == {0.0, 1.0}
    assert 0.45 < train_Y.mean() < 0.55  # odd and even digits, about half each
    # Standardized with the training set's statistics.
    np.testing.assert_allclose(train_X.mean(axis=1), 0, atol=1e-12)
    spread = train_X.std(axis=1)
    assert np.all((np.abs(spread - 1) < 1e-9) | (spread == 0))
    again = load_digits_binary()
    for first, second in zip((train_X, train_Y, test_X, test_Y), again):
        np.testing.assert_array_equal(first, second)


def test_digits_refuses_a_bad_test_fraction():
    with pytest.raises(ValueError, match="between 0 and 1"):
        load_digits_binary(test_fraction=1.5)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_training_lowers_the_cost_and_records_it(activation):
    train_X, train_Y, test_X, test_Y = load_digits_binary()
    start = he_parameters([64, 8, 8, 1])
    trained, costs = train(
        train_X, train_Y, start, activation, learning_rate=0.1, num_iterations=300, record_every=100
    )
    assert len(costs) == 4  # iterations 0, 100, 200, 300
    assert costs[-1] < costs[0]
    assert accuracy(test_X, test_Y, trained, activation) > 0.8
    np.testing.assert_array_equal(start["W1"], he_parameters([64, 8, 8, 1])["W1"])


def test_predict_gives_integer_labels_and_accuracy_checks_shapes():
    X = np.random.RandomState(0).randn(3, 6)
    parameters = he_parameters([3, 2, 1])
    predictions = predict(X, parameters)
    assert predictions.shape == (1, 6) and predictions.dtype.kind == "i"
    with pytest.raises(ValueError, match=r"Y should have shape \(1, 6\)"):
        accuracy(X, np.zeros(6), parameters)


def test_plots_have_titles_axis_labels_and_legends():
    ax = plot_costs({"he": [0.7, 0.3], "xavier": [0.7, 0.4]}, 100, "Costs")
    assert ax.get_title() == "Costs" and ax.get_xlabel() and ax.get_ylabel()
    # Methods are named as the text names them.
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["He", "Xavier"]
    ax = plot_layer_spreads({"he": [1.0, 0.9]}, "Spreads")
    assert ax.get_title() == "Spreads" and ax.get_yscale() == "log"
    assert ax.get_xlabel() == "hidden layer" and ax.get_legend()


def test_gradient_norms_are_the_norms_of_backward_propagations_dW():
    X = np.random.RandomState(0).randn(4, 30)
    Y = (np.random.RandomState(1).rand(1, 30) > 0.5).astype(float)
    parameters = he_parameters([4, 5, 3, 1])
    for activation in ("relu", "tanh"):
        _, cache = init_utils.forward_propagation(X, parameters, activation)
        gradients = init_utils.backward_propagation(X, Y, cache, activation)
        expected = [np.sqrt(np.sum(gradients[f"dW{l}"] ** 2)) for l in (1, 2, 3)]
        assert gradient_norms(X, Y, parameters, activation) == pytest.approx(expected, rel=1e-12)


def test_backward_gains_follow_the_theory_on_wide_layers():
    """n Var(w) E[f'(z)^2]: 2 * 1/2 for ReLU with He, 1/2 with Xavier's half
    the variance; about n Var(w) for tanh with small z, where f' is near 1."""
    X = np.random.RandomState(2).randn(400, 500)
    dims = [400, 400, 400, 400, 1]
    he = he_parameters(dims)
    xavier = {key: value / np.sqrt(2) if key.startswith("W") else value for key, value in he.items()}
    tiny = {key: value / 100 if key.startswith("W") else value for key, value in he.items()}
    assert len(backward_gains(X, he, "relu")) == 2  # between hidden layers 1, 2 and 3
    assert np.mean(backward_gains(X, he, "relu")) == pytest.approx(1.0, abs=0.05)
    assert np.mean(backward_gains(X, xavier, "relu")) == pytest.approx(0.5, abs=0.03)
    assert np.mean(backward_gains(X, tiny, "tanh")) == pytest.approx(2e-4, rel=0.05)
    # He with tanh: once the spread has settled, deeper in, the error grows on its way back.
    deep_he = he_parameters([400] + [200] * 15 + [1])
    assert 1.05 < np.mean(backward_gains(X, deep_he, "tanh")[-5:]) < 1.25


def test_the_digits_are_captioned_with_their_label():
    pixels, digits = deep_utils.read_digits()
    fig = plot_digits(pixels, digits, count=3)
    assert [ax.get_title() for ax in fig.axes] == ["0: even", "1: odd", "2: even"]
    assert fig.get_suptitle() == "The first 3 digits of the data set and their labels"
    assert [ax.get_title() for ax in plot_digits(pixels, digits, count=1).axes] == ["0: even"]


def test_each_method_has_its_colour_in_every_layer_figure():
    values = {"he": [1.0, 0.9], "xavier": [1.0, 0.5]}
    first = plot_layer_values(values, "A", "size")
    second = plot_layer_values(dict(reversed(values.items())), "B", "size")
    for ax in (first, second):
        colours = {line.get_label(): line.get_color() for line in ax.get_lines()}
        assert colours == {"He": METHOD_COLOURS["he"], "Xavier": METHOD_COLOURS["xavier"]}
    assert first.get_ylabel() == "size" and first.get_lines()[0].get_marker() == "o"
    many = plot_layer_values({"other": list(range(1, 40))}, "C", "size")
    assert many.get_lines()[0].get_marker() == "None"  # 39 points: a line without marks


def test_read_digits_gives_exactly_what_scikit_learn_loads():
    from sklearn.datasets import load_digits

    expected_pixels, expected_digits = load_digits(return_X_y=True)
    pixels, digits = deep_utils.read_digits()
    assert pixels.tobytes() == expected_pixels.tobytes()
    assert pixels.shape == (1797, 64) and pixels.dtype == expected_pixels.dtype
    assert digits.tolist() == expected_digits.tolist()


def test_the_helpers_load_without_scikit_learn():
    """Every kernel that runs the notebook imports deep_utils; scikit-learn
    (and SciPy under it) would add about 0.7 s to each."""
    probe = (
        "import sys, utils.deep_utils as d; d.load_digits_binary(); "
        "print(sorted({'sklearn', 'scipy'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_class_similarity_compares_the_columns_of_pairs_of_examples():
    """Cosines between columns, by hand on four examples, and the errors a
    caller can make."""
    A = np.array([[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    Y = np.array([[1, 1, 0, 0]])
    same, different = deep_utils.class_similarity(A, Y)
    # Pairs (1, 2) and (3, 4) are of the same class: cosines 1 and 0 (column 3
    # is zeros); (1, 3), (1, 4), (2, 3), (2, 4) are not: all 0.
    assert same == pytest.approx((1.0 + 0.0) / 2)
    assert different == pytest.approx(0.0)
    with pytest.raises(ValueError, match=r"shape \(1, 4\)"):
        deep_utils.class_similarity(A, Y.T)
    with pytest.raises(ValueError, match="both classes"):
        deep_utils.class_similarity(A, np.ones((1, 4)))
