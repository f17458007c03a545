"""Helpers for the `initialization_deep` assignment: L-layer networks.

The network, its loss and its gradients are those of ``init_utils.py``,
which already work for any list of layer sizes: hidden layers use ReLU or
tanh (``activation="relu"`` or ``"tanh"``) and the output unit a sigmoid.
This module adds what deeper experiments need: a training loop that records
the cost, accuracy, a real data set, the size of each layer's gradient and
of the error's growth on the way back, and plots.

Conventions, as in init_utils: ``X`` has shape ``(n_x, m)``, one column per
example; ``Y`` has shape ``(1, m)`` with 0/1 labels; ``parameters`` maps
``"W1", "b1", ..., "WL", "bL"`` to arrays, ``Wl`` of shape ``(n_l, n_{l-1})``.
"""

import gzip
import importlib.util
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .i18n import N_, figure_text, tr
from .init_utils import (
    HIDDEN_ACTIVATIONS,
    METHOD_COLOURS,
    _figure_label,
    backward_propagation,
    compute_loss,
    forward_propagation,
    method_label,
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
    "gradient_norms",
    "backward_gains",
    "class_similarity",
    "plot_costs",
    "plot_digits",
    "plot_layer_spreads",
    "plot_layer_values",
    "plot_tanh_shares",
    "DIGITS_SPLIT_SEED",
]

DIGITS_SPLIT_SEED = 0  # fixes which images go to the test set


def read_digits():
    """The 1,797 digit images of scikit-learn's load_digits, read directly.

    Returns the same arrays as ``load_digits(return_X_y=True)``: pixels of
    shape (1797, 64) as floats from 0 to 16, and labels 0-9 of shape (1797,).
    The file ships inside scikit-learn; it is read without importing
    scikit-learn, which would take longer than reading the file.
    """
    spec = importlib.util.find_spec("sklearn")  # locates it, runs nothing
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            tr("scikit-learn is not installed: its digits data set is needed (see requirements.txt)")
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
        raise ValueError(
            tr("test_fraction should be between 0 and 1, got {value}").format(value=test_fraction)
        )
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
        raise ValueError(tr("record_every must be at least 1 and num_iterations at least 0"))
    costs = []
    # One thread for the matrix products: split over several cores, a product
    # adds its terms in another order, and a deep network's training turns
    # that last-digit difference into another result. With one thread the
    # numbers do not depend on how many cores the machine has.
    with threadpool_limits(limits=1, user_api="blas"):
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
            tr("Y should have shape (1, {m}), one label per column of X, got {given}").format(
                m=X.shape[1], given=getattr(Y, "shape", type(Y).__name__)
            )
        )
    return float(np.mean(predict(X, parameters, activation) == Y))


def gradient_norms(X, Y, parameters, activation="relu"):
    """How large the gradient of each weight matrix is for one batch.

    One forward and one backward pass; nothing is trained.

    Arguments:
    X -- inputs, shape (n_x, m); Y -- labels, shape (1, m)
    parameters -- dict of W1, b1, ..., WL, bL
    activation -- of the hidden layers: "relu" or "tanh"

    Returns:
    norms -- list of L floats: the norm of dW1, ..., dWL (the square root of
             the sum of the squares of its entries), layer 1 first
    """
    _, cache = forward_propagation(X, parameters, activation)
    gradients = backward_propagation(X, Y, cache, activation)
    return [float(np.linalg.norm(gradients[f"dW{l}"])) for l in range(1, len(parameters) // 2 + 1)]


def backward_gains(X, parameters, activation="relu"):
    """By how much the variance of the error is multiplied as it goes back
    from one hidden layer to the one before, for a batch X.

    Going back from hidden layer l + 1 to hidden layer l, the error is
    multiplied by the transposed weights of layer l + 1 and by the slope of
    the activation at layer l, so its variance is multiplied by about

        n_{l+1} * Var(W^[l+1]) * mean(f'(Z^[l])^2),

    measured here with the weights and the activations of this batch. For
    ReLU, f' is 1 where a unit is on and 0 where it is off; for tanh it is
    1 - tanh(z)^2. (The step from the output unit back to the last hidden
    layer is left out: it goes from one unit to many, not from a layer to a
    layer like it.)

    Returns:
    gains -- list of L - 2 floats, for l = 1, ..., L - 2, layer 1 first
    """
    _, cache = forward_propagation(X, parameters, activation)
    num_layers = len(parameters) // 2
    gains = []
    for l in range(1, num_layers - 1):
        W_next, A = parameters[f"W{l + 1}"], cache[f"A{l}"]
        slope = (A > 0).astype(float) if activation == "relu" else 1 - A**2
        gains.append(float(W_next.shape[0] * np.var(W_next) * np.mean(slope**2)))
    return gains


def class_similarity(A, Y):
    """How alike the columns of A are for two examples of the same class, and
    for two examples of different classes.

    The likeness of two examples is the cosine of the angle between their
    columns: 1 when the columns point the same way, 0 when they are
    unrelated, -1 when opposite. Every pair of distinct examples counts once.

    Arguments:
    A -- one column per example, shape (n, m): the inputs X, or the
         activations of a layer (cache["A" + str(l)] of forward_propagation)
    Y -- 0/1 labels, shape (1, m), with both classes present

    Returns:
    same, different -- the mean cosine over pairs of the same class, and over
                       pairs of different classes
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or not isinstance(Y, np.ndarray) or Y.shape != (1, A.shape[1]):
        raise ValueError(
            tr("Y should have shape (1, {m}), one label per column of A, got {given}").format(
                m=A.shape[-1] if A.ndim else 0, given=getattr(Y, "shape", type(Y).__name__)
            )
        )
    lengths = np.linalg.norm(A, axis=0, keepdims=True)
    directions = A / np.where(lengths > 0, lengths, 1.0)  # a column of zeros stays zeros
    cosines = directions.T @ directions
    labels = Y.ravel()
    same_class = labels[:, None] == labels[None, :]
    distinct = ~np.eye(len(labels), dtype=bool)
    if not (same_class & distinct).any() or same_class.all():
        raise ValueError(tr("Y should hold examples of both classes, with at least two of one class"))
    return float(cosines[same_class & distinct].mean()), float(cosines[~same_class].mean())


def plot_digits(pixels, digits, count=8):
    """The first ``count`` images, each captioned with its digit and whether
    it is odd (the label of the task). pixels has shape (k, 64), digits
    shape (k,), as read_digits returns them. Returns the figure."""
    import matplotlib.pyplot as plt  # here, not on import: see init_utils

    fig, axes = plt.subplots(1, count, figsize=(count, 1.6), squeeze=False)
    for ax, image, digit in zip(axes[0], pixels.reshape(-1, 8, 8), digits):
        ax.imshow(image, cmap="gray_r")
        caption = figure_text("{digit}: odd") if digit % 2 else figure_text("{digit}: even")
        ax.set_title(caption.format(digit=digit), fontsize=9)
        ax.axis("off")
    fig.suptitle(figure_text("The first {count} digits of the data set and their labels").format(count=count))
    return fig


def plot_layer_values(
    values_by_label, title, ylabel, xlabel=N_("hidden layer"), ax=None, log_scale=True, legend=True
):
    """One value per layer, one line per label, such as the spread of each
    hidden layer or the size of each layer's gradient.

    values_by_label maps a label to a sequence of values, layer 1 first.
    The title, the axis labels and the line labels (in English) are shown
    in the figures' language. Each point is marked while there are few; a
    label that is an initialization method has its colour (METHOD_COLOURS)
    and its name as the text writes it. legend: draw the legend (panels
    side by side can share one).
    """
    import matplotlib.pyplot as plt  # here, not on import: see init_utils
    from matplotlib.ticker import MaxNLocator

    ax = ax if ax is not None else plt.figure().gca()
    for label, values in values_by_label.items():
        layers = np.arange(1, len(values) + 1)
        ax.plot(
            layers,
            values,
            marker="o" if len(values) <= 20 else None,
            color=METHOD_COLOURS.get(label),  # None: the next colour of the cycle
            label=method_label(label),
        )
    if log_scale:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # layers are whole numbers
    ax.set_title(_figure_label(title))
    ax.set_xlabel(_figure_label(xlabel))
    ax.set_ylabel(_figure_label(ylabel))
    if legend:
        ax.legend()
    return ax


def plot_layer_spreads(spreads_by_label, title, ax=None, log_scale=True, legend=True):
    """Standard deviation of each hidden layer's activations, one line per
    label (see plot_layer_values)."""
    return plot_layer_values(
        spreads_by_label,
        title,
        N_("standard deviation of activations"),
        ax=ax,
        log_scale=log_scale,
        legend=legend,
    )


def plot_tanh_shares(variances, squashing, slopes, balance, ax=None):
    """What tanh keeps of the variance of z on the way forward and of the
    error on the way back, against Var(z).

    variances, squashing and slopes are sequences of the same length:
    squashing[i] is E[tanh(z)^2] / Var(z) and slopes[i] is E[f'(z)^2] for z
    of variance variances[i]. balance is the variance at which squashing
    keeps one half, where He's doubled variance settles: a dotted line
    marks it, another the share 1/2. Labels are in the figures' language.
    """
    import matplotlib.pyplot as plt  # here, not on import: see init_utils

    ax = ax if ax is not None else plt.figure().gca()
    # Colours of no initialization method (METHOD_COLOURS): these are not methods.
    ax.plot(variances, squashing, color="tab:cyan", label=figure_text("forward: E[tanh(z)²] / Var(z)"))
    ax.plot(variances, slopes, color="tab:pink", label=figure_text("backward: E[f′(z)²]"))
    ax.axhline(0.5, color="black", linestyle=":", linewidth=1)
    ax.axvline(balance, color="black", linestyle=":", linewidth=1)
    ax.set_ylim(0, 1.05)
    ax.set_xlim(0, max(variances))
    ax.set_xlabel(figure_text("Var(z)"))
    ax.set_ylabel(figure_text("share of the variance kept"))
    ax.set_title(figure_text("What a tanh layer keeps, forward and backward"))
    ax.legend()
    return ax
