"""Helpers for the `initialization_deep` assignment: L-layer networks.

The network, its loss and its gradients are those of ``init_utils.py``,
which already work for any list of layer sizes: hidden layers use ReLU or
tanh (``activation="relu"`` or ``"tanh"``) and the output unit a sigmoid.
This module adds what deeper experiments need: a training loop that records
the cost, accuracy, a real data set, and plots.

Conventions, as in init_utils: ``X`` has shape ``(n_x, m)``, one column per
example; ``Y`` has shape ``(1, m)`` with 0/1 labels; ``parameters`` maps
``"W1", "b1", ..., "WL", "bL"`` to arrays, ``Wl`` of shape ``(n_l, n_{l-1})``.
"""

import gzip
import importlib.util
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from .i18n import figure_text
from .init_utils import (
    HIDDEN_ACTIVATIONS,
    _figure_label,
    backward_propagation,
    compute_loss,
    forward_propagation,
    plot_costs,
    relu,
    sigmoid,
    update_parameters,
)

__all__ = [
    "HIDDEN_ACTIVATIONS",
    "forward_propagation",
    "backward_propagation",
    "update_parameters",
    "compute_loss",
    "relu",
    "sigmoid",
    "read_digits",
    "load_digits_binary",
    "train",
    "predict",
    "accuracy",
    "plot_costs",
    "plot_layer_spreads",
    "DIGITS_SPLIT_SEED",
]

DIGITS_SPLIT_SEED = 0  # fixes which images go to the test set


def read_digits():
    """The 1,797 digit images of scikit-learn's load_digits, read directly.

    Returns the same arrays as ``load_digits(return_X_y=True)``: pixels of
    shape (1797, 64) as floats from 0 to 16, and labels 0-9 of shape (1797,).
    The file ships inside scikit-learn; it is found without importing
    scikit-learn, whose import (about 0.7 s, with SciPy) every kernel that
    runs the notebook would pay, so every student when a class is graded.
    """
    spec = importlib.util.find_spec("sklearn")  # locates it, runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "scikit-learn is not installed: its digits data set is needed (see requirements.txt)"
        )
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(path, mode="rt", encoding="utf-8") as rows:
        table = np.loadtxt(rows, delimiter=",")  # 64 pixels, then the label
    return table[:, :-1], table[:, -1].astype(int)


def load_digits_binary(test_fraction=0.25):
    """Handwritten digits from scikit-learn, as a binary task: is the digit odd?

    The 1,797 8x8 images ship inside scikit-learn (no download). Each pixel
    (0 to 16) is standardized with the mean and spread of the training set,
    so that every input has mean 0 and variance 1 there, the inputs the
    initialization rules assume. The split is the same on every run.

    Returns:
    train_X -- shape (64, m_train); train_Y -- shape (1, m_train), 1 = odd digit
    test_X -- shape (64, m_test);   test_Y -- shape (1, m_test)
    """
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction should be between 0 and 1, got {test_fraction}")
    pixels, digits = read_digits()
    X = pixels.astype(float)  # (1797, 64)
    Y = (digits % 2).astype(float)  # 1 for 1, 3, 5, 7, 9
    order = np.random.RandomState(DIGITS_SPLIT_SEED).permutation(len(Y))
    m_test = int(round(test_fraction * len(Y)))
    test, train = order[:m_test], order[m_test:]
    mean = X[train].mean(axis=0)
    spread = X[train].std(axis=0)
    spread[spread == 0] = 1.0  # pixels that are always blank stay at 0
    X = (X - mean) / spread
    return (X[train].T, Y[train].reshape(1, -1), X[test].T, Y[test].reshape(1, -1))


def train(X, Y, parameters, activation="relu", learning_rate=0.1, num_iterations=2000, record_every=100):
    """Batch gradient descent from the given parameters.

    Arguments:
    X -- inputs, shape (n_x, m); Y -- labels, shape (1, m)
    parameters -- the starting dict of W1, b1, ..., WL, bL (left unchanged)
    activation -- of the hidden layers: "relu" or "tanh"
    learning_rate, num_iterations -- of gradient descent
    record_every -- record the cost every this many iterations

    Returns:
    parameters -- the trained parameters (a new dict)
    costs -- list of the costs at iterations 0, record_every, 2 * record_every, ...
    """
    if record_every < 1 or num_iterations < 0:
        raise ValueError("record_every must be at least 1 and num_iterations at least 0")
    costs = []
    for i in range(num_iterations + 1):
        AL, cache = forward_propagation(X, parameters, activation)
        if i % record_every == 0:
            costs.append(compute_loss(AL, Y))
        if i == num_iterations:
            break
        gradients = backward_propagation(X, Y, cache, activation)
        parameters = update_parameters(parameters, gradients, learning_rate)
    return parameters, costs


def predict(X, parameters, activation="relu"):
    """0/1 predictions (output above 0.5), integers of shape (1, m)."""
    AL, _ = forward_propagation(X, parameters, activation)
    return (AL > 0.5).astype(int)


def accuracy(X, Y, parameters, activation="relu"):
    """Fraction of the m examples whose label the network predicts right."""
    if not isinstance(Y, np.ndarray) or Y.shape != (1, X.shape[1]):
        raise ValueError(
            f"Y should have shape (1, {X.shape[1]}), one label per "
            f"column of X, got {getattr(Y, 'shape', type(Y).__name__)}"
        )
    return float(np.mean(predict(X, parameters, activation) == Y))


def plot_layer_spreads(spreads_by_label, title, ax=None, log_scale=True):
    """Standard deviation of each hidden layer's activations, one line per label.

    spreads_by_label maps a label to a sequence of spreads, layer 1 first.
    The title and the labels (in English) are shown in the figures' language.
    """
    ax = ax if ax is not None else plt.figure().gca()
    for label, spreads in spreads_by_label.items():
        layers = np.arange(1, len(spreads) + 1)
        ax.plot(layers, spreads, marker="o", label=_figure_label(label))
    if log_scale:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are whole numbers
    ax.set_title(_figure_label(title))
    ax.set_xlabel(figure_text("hidden layer"))
    ax.set_ylabel(figure_text("standard deviation of activations"))
    ax.legend()
    return ax
