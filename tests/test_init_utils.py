"""Unit tests of utils/init_utils.py."""

import ast
import os
import subprocess
import sys
import warnings

import matplotlib
import numpy as np
import pytest

from conftest import REPO
from utils import init_utils
from utils.init_utils import (
    METHOD_COLOURS,
    backward_propagation,
    compute_loss,
    forward_propagation,
    load_dataset,
    plot_costs,
    plot_dataset,
    plot_decision_boundary,
    plot_output_map,
    predict,
    predict_dec,
    relu,
    sigmoid,
    update_parameters,
)

matplotlib.use("Agg")


def random_parameters(layers_dims, seed=0, scale=0.5):
    generator = np.random.RandomState(seed)
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters[f"W{l}"] = generator.randn(layers_dims[l], layers_dims[l - 1]) * scale
        parameters[f"b{l}"] = generator.randn(layers_dims[l], 1) * 0.1
    return parameters


def random_batch(n_x, m, seed=1):
    generator = np.random.RandomState(seed)
    return generator.randn(n_x, m), (generator.rand(1, m) > 0.5).astype(int)


# ------------------------------------------------------------- activations


def test_sigmoid_values_and_saturation_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = sigmoid(np.array([-1000.0, 0.0, 40.0]))
    assert values.tolist() == [0.0, 0.5, 1.0]


def test_relu_values():
    assert relu(np.array([[-2.0, 0.0, 3.0]])).tolist() == [[0.0, 0.0, 3.0]]


def test_tanh_hidden_layers_and_an_unknown_activation():
    X, _ = random_batch(2, 5)
    parameters = random_parameters([2, 3, 1])
    _, cache = forward_propagation(X, parameters, "tanh")
    np.testing.assert_allclose(cache["A1"], np.tanh(parameters["W1"] @ X + parameters["b1"]))
    with pytest.raises(ValueError, match="activation should be one of"):
        forward_propagation(X, parameters, "sigmoid")


# ------------------------------------------------------------- gradients


def loss_of(parameters, X, Y, activation):
    return compute_loss(forward_propagation(X, parameters, activation)[0], Y)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("layers_dims", [[2, 1], [2, 10, 5, 1], [3, 4, 4, 3, 1], [4, 3, 3, 3, 3, 3, 1]])
def test_backward_propagation_matches_finite_differences(layers_dims, activation):
    X, Y = random_batch(layers_dims[0], 7)
    parameters = random_parameters(layers_dims)
    _, cache = forward_propagation(X, parameters, activation)
    gradients = backward_propagation(X, Y, cache, activation)
    epsilon = 1e-6
    for name, value in parameters.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: v.copy() for k, v in parameters.items()}
            shifted[name][index] += epsilon
            plus = loss_of(shifted, X, Y, activation)
            shifted[name][index] -= 2 * epsilon
            minus = loss_of(shifted, X, Y, activation)
            numeric[index] = (plus - minus) / (2 * epsilon)
        analytic = gradients["d" + name]
        assert analytic.shape == value.shape
        difference = np.linalg.norm(analytic - numeric) / (
            np.linalg.norm(analytic) + np.linalg.norm(numeric) + 1e-12
        )
        assert difference < 1e-7, (name, difference)


def test_balanced_zero_network_keeps_an_exactly_zero_output_bias_gradient():
    # The zero-initialization run stays at exactly ln 2 only if this holds.
    X, _ = random_batch(2, 300)
    Y = np.array([[0, 1] * 150])
    parameters = {
        "W1": np.zeros((10, 2)),
        "b1": np.zeros((10, 1)),
        "W2": np.zeros((5, 10)),
        "b2": np.zeros((5, 1)),
        "W3": np.zeros((1, 5)),
        "b3": np.zeros((1, 1)),
    }
    a3, cache = forward_propagation(X, parameters)
    gradients = backward_propagation(X, Y, cache)
    assert gradients["db3"][0, 0] == 0.0
    assert repr(compute_loss(a3, Y)) == "0.6931471805599453"


def test_update_parameters_steps_against_the_gradient_and_keeps_the_input():
    parameters = random_parameters([2, 3, 1])
    before = {k: v.copy() for k, v in parameters.items()}
    grads = {"d" + k: np.ones_like(v) for k, v in parameters.items()}
    updated = update_parameters(parameters, grads, 0.1)
    for name in parameters:
        np.testing.assert_array_equal(parameters[name], before[name])
        np.testing.assert_allclose(updated[name], before[name] - 0.1)


# ------------------------------------------------------------- loss


def test_compute_loss_known_value_and_saturation():
    Y = np.array([[1, 0]])
    assert compute_loss(np.array([[0.5, 0.5]]), Y) == pytest.approx(np.log(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert compute_loss(np.array([[0.0, 0.0]]), Y) == np.inf
        assert compute_loss(np.array([[1.0, 0.0]]), Y) == 0.0


# ------------------------------------------------------------- shape errors


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda p: p.update(W2=np.zeros((3, 4))), r"W2 has shape \(3, 4\), expected shape \(3, 5\)"),
        (lambda p: p.update(b1=np.zeros(5)), r"b1 has shape \(5,\), expected shape \(5, 1\)"),
        (lambda p: p.update(W1=np.zeros((2, 5))), r"W1 has shape \(2, 5\), expected shape \(2, 2\)"),
        (lambda p: p.pop("b2"), r"keys W1, b1, \.\.\., WL, bL"),
    ],
)
def test_forward_propagation_names_the_expected_shape(change, message):
    parameters = random_parameters([2, 5, 3, 1])
    change(parameters)
    with pytest.raises(ValueError, match=message):
        forward_propagation(np.zeros((2, 4)), parameters)


def test_wrong_label_shapes_are_named():
    X, Y = random_batch(2, 6)
    parameters = random_parameters([2, 3, 1])
    a3, cache = forward_propagation(X, parameters)
    expected = r"Y has shape \(6,\), expected shape \(1, 6\)"
    with pytest.raises(ValueError, match=expected):
        backward_propagation(X, Y.ravel(), cache)
    with pytest.raises(ValueError, match=expected):
        compute_loss(a3, Y.ravel())
    with pytest.raises(ValueError, match=r"Y has shape \(1, 5\), expected shape \(1, 6\)"):
        predict(X, Y[:, :5], parameters)


def test_a_gradient_of_the_wrong_shape_is_named():
    parameters = random_parameters([2, 3, 1])
    grads = {"d" + k: np.zeros_like(v) for k, v in parameters.items()}
    grads["dW1"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"dW1 has shape \(2, 3\), expected shape \(3, 2\)"):
        update_parameters(parameters, grads, 0.1)


def test_an_output_layer_with_several_units_is_refused():
    with pytest.raises(ValueError, match="exactly 1 unit"):
        forward_propagation(np.zeros((2, 4)), random_parameters([2, 3]))


# ------------------------------------------------------------- predictions


def test_predict_prints_accuracy_and_returns_integer_labels(capsys):
    X = np.array([[-1.0, 1.0, 2.0, -2.0]])
    Y = np.array([[0, 1, 1, 1]])
    parameters = {"W1": np.array([[10.0]]), "b1": np.array([[0.0]])}
    predictions = predict(X, Y, parameters)
    assert capsys.readouterr().out == "Accuracy: 0.75\n"
    assert predictions.shape == (1, 4)
    assert np.issubdtype(predictions.dtype, np.integer)
    assert predictions.tolist() == [[0, 1, 1, 0]]
    assert predict_dec(parameters, X).tolist() == [[False, True, True, False]]


# ------------------------------------------------------------- data


def test_dataset_shapes_labels_and_determinism():
    train_X, train_Y, test_X, test_Y = load_dataset()
    assert (train_X.shape, train_Y.shape) == ((2, 300), (1, 300))
    assert (test_X.shape, test_Y.shape) == ((2, 100), (1, 100))
    assert (int(train_Y.sum()), int(test_Y.sum())) == (150, 50)
    assert set(np.unique(train_Y)) == {0, 1}
    again = load_dataset()
    for first, second in zip((train_X, train_Y, test_X, test_Y), again):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("n_samples, noise, seed", [(300, 0.05, 1), (100, 0.05, 2), (7, 0.2, 0), (2, 0.0, 5)])
def test_make_circles_gives_exactly_what_scikit_learn_gives(n_samples, noise, seed):
    from sklearn.datasets import make_circles as sklearn_make_circles

    np.random.seed(seed)
    expected_X, expected_y = sklearn_make_circles(n_samples=n_samples, noise=noise)
    np.random.seed(seed)
    X, y = init_utils.make_circles(n_samples=n_samples, noise=noise)
    assert X.tobytes() == expected_X.tobytes() and X.shape == expected_X.shape
    assert y.tobytes() == expected_y.tobytes() and y.dtype == expected_y.dtype
    # And it leaves the global generator where scikit-learn leaves it.
    after = np.random.random()
    np.random.seed(seed)
    sklearn_make_circles(n_samples=n_samples, noise=noise)
    assert np.random.random() == after


def test_the_helpers_load_without_scikit_learn():
    """Every kernel that runs the notebook imports init_utils; scikit-learn
    (and SciPy under it) would add about 0.8 s to each."""
    probe = "import sys, utils.init_utils; print(sorted({'sklearn', 'scipy'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_plots_have_titles_and_axis_labels():
    train_X, train_Y, _, _ = load_dataset()
    ax = plot_dataset(train_X, train_Y, title="data")
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("data", "$x_1$", "$x_2$")
    parameters = random_parameters([2, 4, 1])
    ax = plot_decision_boundary(
        lambda points: predict_dec(parameters, points.T), train_X, train_Y, title="boundary", step=0.05
    )
    assert ax.get_title() == "boundary" and ax.collections
    matplotlib.pyplot.close("all")


def test_the_output_map_colours_outputs_from_0_to_1_and_draws_the_boundary_where_there_is_one():
    train_X, train_Y, _, _ = load_dataset()
    left_is_red = lambda points: sigmoid(5 * points[:, 0])  # noqa: E731 -- crosses 0.5 at x1 = 0
    ax = plot_output_map(left_is_red, train_X, train_Y, title="output", step=0.05)
    meshes = [artist for artist in ax.collections if type(artist).__name__ == "QuadMesh"]
    assert len(meshes) == 1 and meshes[0].get_clim() == (0, 1), "one colour scale, from 0 to 1"
    assert len(ax.figure.axes) == 2, "the colour bar has axes of its own"
    assert any(type(artist).__name__ == "QuadContourSet" for artist in ax.get_children()), "the boundary"
    # An output that never reaches 0.5 has no boundary, and no warning about it.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_output_map(lambda points: np.ones(len(points)), train_X, train_Y, step=0.1, colorbar=False)
    assert not any(type(artist).__name__ == "QuadContourSet" for artist in ax.get_children())
    assert len(ax.figure.axes) == 1
    matplotlib.pyplot.close("all")


def test_infinite_costs_are_marked_above_the_axes_in_each_curves_colour():
    ax = plot_costs(
        {"random": [np.inf, 0.6, 0.5], "he": [np.inf, 0.7, 0.3], "zeros": [0.69] * 3}, 1000, "Costs"
    )
    curves = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert {label: line.get_color() for label, line in curves.items()} == {
        "random": METHOD_COLOURS["random"],
        "He": METHOD_COLOURS["he"],
        "zeros": METHOD_COLOURS["zeros"],
    }
    markers = [line for line in ax.get_lines() if line.get_marker() == "^"]
    assert [line.get_color() for line in markers] == [METHOD_COLOURS["random"], METHOD_COLOURS["he"]]
    assert triangle_rows(ax) == 2
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["random", "He", "zeros", "infinite cost (above the axes)"]
    finite = plot_costs({"he": [0.7, 0.3]}, 100, "Costs")
    assert [text.get_text() for text in finite.get_legend().get_texts()] == ["He"]
    matplotlib.pyplot.close("all")


def triangle_rows(ax):
    """The rows of infinite-cost triangles, checked to lie between the top
    of the axes and the title, without touching either or each other."""
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    boxes = [
        line.get_window_extent(renderer) for line in ax.get_lines() if line.get_marker() == "^"
    ]  # the pixels each row's triangles cover
    bottoms = sorted(box.y0 for box in boxes)
    assert bottoms[0] > ax.bbox.y1, "a triangle reaches into the axes"
    assert max(box.y1 for box in boxes) < ax.title.get_window_extent(renderer).y0, (
        "a triangle hides the title"
    )
    rows = sorted({(box.y0, box.y1) for box in boxes})
    assert all(lower[1] <= upper[0] for lower, upper in zip(rows, rows[1:])), "two rows overlap"
    return len(rows)


@pytest.mark.parametrize("height", [2.5, 12])
def test_triangles_clear_the_title_whatever_the_axes_height(height):
    fig = matplotlib.pyplot.figure(figsize=(6, height))
    costs = {label: [np.inf, 0.5] for label in ("zeros", "random", "small", "he")}
    assert triangle_rows(plot_costs(costs, 1000, "Costs", ax=fig.gca())) == 4
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_the_helpers_import_no_matplotlib_until_they_draw(language):
    """A graded kernel draws nothing: importing the helpers and the checks,
    choosing a language and failing a check must not import matplotlib (it
    costs a graded run a third of a second); the first figure does."""
    code = (
        "import sys\n"
        "import utils.deep_utils, utils.deep_checks, utils.init_checks, utils.answers\n"
        "from utils.i18n import set_language\n"
        f"set_language({language!r})\n"
        "try:\n"
        "    utils.init_checks.check_zeros_initializer(lambda dims: {})\n"
        "except AssertionError:\n"
        "    pass\n"
        "def loaded():\n"
        "    return any(name.split('.')[0] == 'matplotlib' for name in sys.modules)\n"
        "print(loaded())\n"
        "utils.deep_utils.plot_layer_spreads({'he': [1.0, 0.9]}, 'Spreads')\n"
        "print(loaded())"
    )
    environment = {**os.environ, "MPLBACKEND": "Agg"}
    process = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, env=environment
    )
    assert process.stdout.split() == ["False", "True"]


def test_plot_dataset_refuses_data_that_is_not_two_dimensional():
    with pytest.raises(ValueError, match=r"expected \(2, m\)"):
        plot_dataset(np.zeros((3, 5)), np.zeros((1, 5)))


# ------------------------------------------------------------- the module


def test_init_utils_imports_only_what_it_uses():
    tree = ast.parse((REPO / "utils" / "init_utils.py").read_text())
    imported = {
        alias.asname or alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert imported <= used, imported - used
    assert "h5py" not in imported


def test_public_helpers_have_docstrings():
    for name in [
        "sigmoid",
        "relu",
        "forward_propagation",
        "backward_propagation",
        "update_parameters",
        "compute_loss",
        "predict",
        "predict_dec",
        "load_dataset",
        "plot_dataset",
        "plot_decision_boundary",
    ]:
        assert getattr(init_utils, name).__doc__, name


def test_the_sigmoid_rounds_to_exactly_0_and_1_where_the_notebook_says():
    """Initialization.ipynb: exactly 1 above about 37, exactly 0 below about -710."""
    z = np.array([36.7, 36.8, -709.0, -709.8])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no overflow warning on the way
        one_below, one, zero_above, zero = init_utils.sigmoid(z)
    assert one_below < 1.0 and one == 1.0
    assert zero_above > 0.0 and zero == 0.0


def test_no_method_is_drawn_in_the_colour_of_a_class():
    """Cost curves sit beside decision boundaries and output maps, whose red
    and blue are the two classes: a method's colour must not read as one."""
    from matplotlib.colors import to_rgb

    method_colours = [np.array(to_rgb(colour)) for colour in METHOD_COLOURS.values()]
    for class_colour in init_utils.CLASS_COLOURS:
        for colour in method_colours:
            assert np.linalg.norm(colour - np.array(to_rgb(class_colour))) > 0.3
    for colour in ("tab:red", "tab:blue", "red", "blue"):
        assert colour not in METHOD_COLOURS.values()
    assert len(set(METHOD_COLOURS.values())) == len(METHOD_COLOURS)
    assert METHOD_COLOURS.keys() == init_utils.METHOD_NAMES.keys()
