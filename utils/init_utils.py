"""Helpers for the `initialization` assignment.

A fully connected network with ReLU (or tanh) hidden layers and one sigmoid
output unit, trained by batch gradient descent on the binary cross-entropy
loss. The assignment uses three layers (LINEAR -> RELU -> LINEAR -> RELU ->
LINEAR -> SIGMOID, sizes ``[2, 10, 5, 1]``), but every function here works
for any number of layers; ``deep_utils.py`` builds the second assignment's
deeper networks on them.

Conventions, the same in every function:

* ``X`` has shape ``(n_x, m)``: one column per example.
* ``Y`` has shape ``(1, m)`` and holds 0/1 labels.
* ``parameters`` maps ``"W1", "b1", ..., "WL", "bL"`` to arrays with
  ``Wl`` of shape ``(n_l, n_{l-1})`` and ``bl`` of shape ``(n_l, 1)``.

Training with these helpers reproduces the course's published results: the
He costs to about 1e-16, and the zero-initialized cost at exactly ln 2 at
every iteration, on any numpy (see backward_propagation for why).
"""

import functools

import numpy as np

from .i18n import N_, figure_text, tr

# matplotlib is imported by the functions that draw, not here: a graded run
# draws nothing, and its kernel starts faster without it.

# --------------------------------------------------------------------------
# Shape checks: every public function validates its inputs with these, so a
# mistake is reported where it is made, naming the shape that was expected.
# --------------------------------------------------------------------------


def _require_shape(name, array, expected_shape, hint=""):
    """Raise ValueError unless ``array`` is an ndarray of ``expected_shape``."""
    if not isinstance(array, np.ndarray):
        raise ValueError(
            tr("{name} should be a numpy array of shape {shape}, got {kind}").format(
                name=name, shape=tuple(expected_shape), kind=type(array).__name__
            )
        )
    if array.shape != tuple(expected_shape):
        if hint:
            message = tr("{name} has shape {shape}, expected shape {expected} ({hint})")
        else:
            message = tr("{name} has shape {shape}, expected shape {expected}")
        raise ValueError(
            message.format(name=name, shape=array.shape, expected=tuple(expected_shape), hint=hint)
        )


def _require_row_vector(name, array, m):
    """Labels and outputs are row vectors: shape (1, m)."""
    _require_shape(name, array, (1, m), tr("one column per example"))


@functools.lru_cache(maxsize=64)  # asked three times an iteration while training
def _layer_keys(num_layers):
    """The names ("W1", "b1"), ..., ("WL", "bL") of a network's parameters."""
    return tuple((f"W{l}", f"b{l}") for l in range(1, num_layers + 1))


def _num_layers(parameters):
    """Number of weight layers L in a dict holding W1, b1, ..., WL, bL."""
    if not isinstance(parameters, dict):
        raise ValueError(
            tr("parameters should be a dict with keys W1, b1, ..., WL, bL, got {kind}").format(
                kind=type(parameters).__name__
            )
        )
    num_layers = len(parameters) // 2
    keys = _layer_keys(num_layers)
    if len(parameters) % 2 or not all(w in parameters and b in parameters for w, b in keys):
        raise ValueError(
            tr("parameters should have keys W1, b1, ..., WL, bL; got {keys}").format(keys=sorted(parameters))
        )
    return num_layers


def _check_parameters(parameters, n_x):
    """Check that the weights chain from n_x inputs to one output unit.

    Returns the number of layers L.
    """
    num_layers = _num_layers(parameters)
    n_prev = n_x
    for l, (w_key, b_key) in enumerate(_layer_keys(num_layers), start=1):
        W, b = parameters[w_key], parameters[b_key]
        if not isinstance(W, np.ndarray) or W.ndim != 2:
            raise ValueError(
                tr("{name} should be a 2-D numpy array of shape (n_{l}, {n_in})").format(
                    name=w_key, l=l, n_in=n_prev
                )
            )
        n_units = W.shape[0]
        if W.shape[1] != n_prev:
            _require_shape(
                w_key, W, (n_units, n_prev), tr("layer {l} receives {n} inputs").format(l=l, n=n_prev)
            )
        if not isinstance(b, np.ndarray) or b.shape != (n_units, 1):
            _require_shape(
                b_key, b, (n_units, 1), tr("one bias per unit of layer {l}, as a column").format(l=l)
            )
        n_prev = n_units
    if n_prev != 1:
        raise ValueError(
            tr(
                "W{L} has {rows} rows; the output layer of this binary classifier must have exactly 1 unit"
            ).format(L=num_layers, rows=n_prev)
        )
    return num_layers


def _check_examples(X, Y=None):
    """Check that X is (n_x, m) and, if given, that Y is (1, m)."""
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        raise ValueError(tr("X should be a 2-D numpy array of shape (n_x, m), one column per example"))
    if Y is not None:
        _require_row_vector("Y", Y, X.shape[1])


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------


def sigmoid(x):
    """Logistic sigmoid 1 / (1 + exp(-x)), elementwise, any shape."""
    # For x below about -709, exp(-x) overflows to inf and the result is
    # exactly 0, which is the right limit: silence numpy's overflow warning.
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def relu(x):
    """Rectified linear unit max(0, x), elementwise, any shape."""
    return np.maximum(0, x)


HIDDEN_ACTIVATIONS = ("relu", "tanh")


def _check_activation(activation):
    if activation not in HIDDEN_ACTIVATIONS:
        raise ValueError(
            tr("activation should be one of {names}, got {given}").format(
                names=HIDDEN_ACTIVATIONS, given=repr(activation)
            )
        )


# --------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------


def forward_propagation(X, parameters, activation="relu"):
    """Run the network on a batch.

    Arguments:
    X -- inputs, shape (n_x, m)
    parameters -- dict of W1, b1, ..., WL, bL (see the module docstring)
    activation -- of the hidden layers: "relu" (the default) or "tanh"

    Returns:
    AL -- sigmoid outputs, shape (1, m)
    cache -- dict with the inputs "A0" = X and, for each layer l, "Al" (its
             activations, shape (n_l, m)) and "Wl", for backward_propagation
    """
    _check_examples(X)
    _check_activation(activation)
    num_layers = _check_parameters(parameters, X.shape[0])
    cache = {"A0": X}
    A = X
    for l, (w_key, b_key) in enumerate(_layer_keys(num_layers), start=1):
        W = parameters[w_key]
        Z = np.dot(W, A) + parameters[b_key]
        if l == num_layers:
            A = sigmoid(Z)  # the output unit: a probability
        elif activation == "relu":
            A = relu(Z)
        else:
            A = np.tanh(Z)
        cache[w_key] = W
        cache[f"A{l}"] = A
    return A, cache


def backward_propagation(X, Y, cache, activation="relu"):
    """Gradients of the mean cross-entropy loss with respect to every parameter.

    Arguments:
    X -- inputs, shape (n_x, m)
    Y -- true labels, shape (1, m)
    cache -- the cache returned by forward_propagation(X, parameters, activation)
    activation -- of the hidden layers, as in the forward pass

    Returns:
    gradients -- dict with "dWl" (shape of Wl) and "dbl" (shape (n_l, 1))
                 for every layer l
    """
    _check_examples(X, Y)
    _check_activation(activation)
    if not isinstance(cache, dict) or "A0" not in cache:
        raise ValueError(tr("cache should be the dict returned by forward_propagation(X, parameters)"))
    _require_shape(
        "cache['A0']", cache["A0"], X.shape, tr("the cache must come from a forward pass on this X")
    )
    num_layers = (len(cache) - 1) // 2
    m = X.shape[1]
    gradients = {}
    # Per-example error at the output: for a sigmoid output with the
    # cross-entropy loss, dLoss_i/dZ_i simplifies to A_i - Y_i.
    error = cache[f"A{num_layers}"] - Y
    for l in range(num_layers, 0, -1):
        A_prev = cache[f"A{l - 1}"]
        # The loss is a mean over the m examples, so each gradient is the sum
        # of per-example gradients divided by m. Dividing once, at the end,
        # keeps exactly balanced sums at exactly 0: with zero weights the
        # output bias then stays exactly 0, whatever numpy's summation order.
        gradients[f"dW{l}"] = np.dot(error, A_prev.T) / m
        gradients[f"db{l}"] = np.sum(error, axis=1, keepdims=True) / m
        if l > 1:
            error = np.dot(cache[f"W{l}"].T, error)
            if activation == "relu":
                # ReLU passes the error through where the unit was active.
                error = error * (A_prev > 0)
            else:
                # tanh'(z) = 1 - tanh(z)^2, and A_prev is tanh(z).
                error = error * (1 - A_prev**2)
    return gradients


def update_parameters(parameters, grads, learning_rate):
    """One step of gradient descent: P <- P - learning_rate * dP.

    Arguments:
    parameters -- dict of W1, b1, ..., WL, bL
    grads -- dict with dW1, db1, ..., dWL, dbL of the same shapes
    learning_rate -- step size, a positive float

    Returns:
    a new dict of updated parameters (the arrays passed in are not changed)
    """
    num_layers = _num_layers(parameters)
    if not isinstance(grads, dict):
        raise ValueError(tr("grads should be the dict returned by backward_propagation"))
    updated = {}
    for keys in _layer_keys(num_layers):
        for name in keys:
            param, grad = parameters[name], grads.get("d" + name)
            if not isinstance(grad, np.ndarray) or grad.shape != param.shape:
                hint = tr("the gradient has the shape of {name}").format(name=name)
                _require_shape("d" + name, grad, param.shape, hint)
            updated[name] = param - learning_rate * grad
    return updated


def compute_loss(a3, Y):
    """Mean binary cross-entropy of the outputs against the labels.

    Arguments:
    a3 -- sigmoid outputs of the network, shape (1, m)
    Y -- true labels, shape (1, m)

    Returns:
    loss -- a Python float; inf when an output is exactly 0 or 1 on an example
            it gets wrong (a saturated sigmoid)
    """
    if not isinstance(a3, np.ndarray) or a3.ndim != 2:
        raise ValueError(tr("a3 should be a numpy array of shape (1, m)"))
    _require_row_vector("a3", a3, a3.shape[1])
    _require_row_vector("Y", Y, a3.shape[1])
    m = Y.shape[1]
    # log(0) = -inf is expected once the sigmoid saturates; the terms 0 * inf
    # that follow are nan and dropped by nansum, as the published results do.
    with np.errstate(divide="ignore", invalid="ignore"):
        logprobs = -np.log(a3) * Y + -np.log(1 - a3) * (1 - Y)
    return float(1.0 / m * np.nansum(logprobs))


# --------------------------------------------------------------------------
# Predictions
# --------------------------------------------------------------------------


def predict(X, y, parameters):
    """Predict 0/1 labels, print the accuracy and return the predictions.

    Arguments:
    X -- inputs, shape (n_x, m)
    y -- true labels, shape (1, m)
    parameters -- a trained dict of W1, b1, ..., WL, bL

    Returns:
    p -- integer predictions, shape (1, m): 1 where the output exceeds 0.5
    """
    _check_examples(X, y)
    a3, _ = forward_propagation(X, parameters)
    p = (a3 > 0.5).astype(int)
    print(tr("Accuracy: {accuracy}").format(accuracy=str(np.mean(p[0, :] == y[0, :]))))
    return p


def predict_dec(parameters, X):
    """Boolean predictions (output > 0.5), shape (1, m); used for plotting."""
    a3, _ = forward_propagation(X, parameters)
    return a3 > 0.5


# --------------------------------------------------------------------------
# Data and plots
# --------------------------------------------------------------------------


def make_circles(n_samples, noise, factor=0.8):
    """Two noisy concentric circles: scikit-learn's make_circles, without it.

    Gives exactly what ``sklearn.datasets.make_circles(n_samples,
    noise=noise, factor=factor)`` gives with numpy's global generator, so
    the course does not need scikit-learn.

    Returns:
    X -- points, shape (n_samples, 2): the outer circle has radius 1, the
         inner one radius ``factor``, both with Gaussian noise of std ``noise``
    y -- labels, shape (n_samples,): 0 on the outer circle, 1 on the inner
    """
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    # endpoint=False, so that no point is drawn twice (angle 0 and 2 pi).
    angles_outer = np.linspace(0, 2 * np.pi, n_outer, endpoint=False)
    angles_inner = np.linspace(0, 2 * np.pi, n_inner, endpoint=False)
    X = np.vstack(
        [
            np.append(np.cos(angles_outer), np.cos(angles_inner) * factor),
            np.append(np.sin(angles_outer), np.sin(angles_inner) * factor),
        ]
    ).T
    y = np.hstack([np.zeros(n_outer, dtype=np.intp), np.ones(n_inner, dtype=np.intp)])
    # The same draws from the global generator, in the same order, as
    # scikit-learn: first a shuffle of the points, then the noise.
    order = np.arange(n_samples)
    np.random.shuffle(order)
    X, y = X[order], y[order]
    X += np.random.normal(scale=noise, size=X.shape)
    return X, y


def load_dataset():
    """The two noisy concentric circles of the assignment.

    Returns:
    train_X -- shape (2, 300); train_Y -- shape (1, 300), 150 of each label
    test_X -- shape (2, 100);  test_Y -- shape (1, 100), 50 of each label

    make_circles draws from numpy's global generator, so the two seeds below
    fix the data.
    """
    np.random.seed(1)
    train_X, train_Y = make_circles(n_samples=300, noise=0.05)
    np.random.seed(2)
    test_X, test_Y = make_circles(n_samples=100, noise=0.05)
    return (train_X.T, train_Y.reshape(1, -1), test_X.T, test_Y.reshape(1, -1))


def _figure_label(text):
    """A title or legend entry given by the caller, in the figures' language.

    Only non-empty strings are looked up (gettext's entry for "" is the
    catalog's header); anything else, None for example, is returned as it is.
    """
    return figure_text(text) if isinstance(text, str) and text else text


# One colour per class, for the points and (lighter) for the plane behind them.
CLASS_COLOURS = ("#d7301f", "#2166ac")  # y = 0: red, y = 1: blue


def plot_dataset(X, Y, title=N_("Training data"), ax=None, legend=True):
    """Scatter plot of 2-D points coloured by label.

    X has shape (2, m) and Y shape (1, m). legend: draw the legend, to the
    right of the axes. Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    _check_examples(X, Y)
    if X.shape[0] != 2:
        raise ValueError(
            tr("X has shape {shape}, expected (2, m): only 2-D inputs can be drawn").format(shape=X.shape)
        )
    ax = ax if ax is not None else plt.figure().gca()
    labels = Y.ravel()
    for label, colour in enumerate(CLASS_COLOURS):
        chosen = labels == label
        ax.scatter(
            X[0, chosen],
            X[1, chosen],
            s=30,
            color=colour,
            edgecolors="k",
            linewidths=0.3,
            label=figure_text("y = {label}").format(label=label),
        )
    ax.set_title(_figure_label(title))
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
    return ax


def plane_grid(X, step):
    """The points of a grid over the data and a margin of 1 around it, as two
    arrays xx, yy of the grid's shape (numpy's meshgrid), step apart."""
    x_min, x_max = X[0, :].min() - 1, X[0, :].max() + 1
    y_min, y_max = X[1, :].min() - 1, X[1, :].max() + 1
    return np.meshgrid(np.arange(x_min, x_max, step), np.arange(y_min, y_max, step))


def plot_decision_boundary(predict_fn, X, Y, title=N_("Decision boundary"), ax=None, step=0.01, legend=True):
    """Colour the plane by the class that ``predict_fn`` gives each point.

    Arguments:
    predict_fn -- maps an array of points of shape (k, 2) to k labels 0 or 1
                  (any shape with k entries), for example
                  ``lambda pts: predict_dec(parameters, pts.T)``
    X, Y -- the data drawn on top: shapes (2, m) and (1, m)
    step -- grid spacing of the coloured background
    legend -- draw the legend, to the right of the axes

    The background takes the colour of the predicted class, lighter than the
    points of that class. Returns the matplotlib Axes.
    """
    from matplotlib.patches import Patch

    ax = plot_dataset(X, Y, title=title, ax=ax, legend=False)
    xx, yy = plane_grid(X, step)
    labels = np.asarray(predict_fn(np.c_[xx.ravel(), yy.ravel()]))
    ax.contourf(
        xx, yy, labels.reshape(xx.shape), levels=[-0.5, 0.5, 1.5], colors=CLASS_COLOURS, alpha=0.25, zorder=0
    )
    if legend:
        handles, _ = ax.get_legend_handles_labels()
        handles += [
            Patch(color=colour, alpha=0.25, label=figure_text("predicted {label}").format(label=label))
            for label, colour in enumerate(CLASS_COLOURS)
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize="small")
    return ax


def plot_output_map(output_fn, X, Y, title=N_("Network output"), ax=None, step=0.01, colorbar=True):
    """Colour the plane by the network's output, a probability from 0 to 1.

    Arguments:
    output_fn -- maps an array of points of shape (k, 2) to k outputs in
                 [0, 1] (any shape with k entries), for example
                 ``lambda pts: forward_propagation(pts.T, parameters)[0]``
    X, Y -- the data drawn on top: shapes (2, m) and (1, m)
    step -- grid spacing of the coloured background
    colorbar -- draw a colour bar beside the axes

    Outputs near 0 are red and near 1 blue, like the points of each class;
    0.5, where the network cannot tell, is white. Where the output crosses
    0.5 (the decision boundary), a black line is drawn. Returns the Axes.
    """
    from matplotlib.colors import LinearSegmentedColormap

    ax = plot_dataset(X, Y, title=title, ax=ax, legend=False)
    xx, yy = plane_grid(X, step)
    outputs = np.asarray(output_fn(np.c_[xx.ravel(), yy.ravel()]), dtype=float).reshape(xx.shape)
    red_white_blue = LinearSegmentedColormap.from_list(
        "classes", [CLASS_COLOURS[0], "white", CLASS_COLOURS[1]]
    )
    # Pale enough that the points of each class stay visible on top.
    shading = ax.pcolormesh(
        xx, yy, outputs, cmap=red_white_blue, vmin=0, vmax=1, alpha=0.5, shading="auto", zorder=0
    )
    if outputs.min() < 0.5 < outputs.max():  # otherwise there is no boundary to draw
        ax.contour(xx, yy, outputs, levels=[0.5], colors="k", linewidths=1.5, zorder=1)
    if colorbar:
        ax.figure.colorbar(shading, ax=ax, label=figure_text("network output"))
    return ax


# One colour per initialization method, the same in every figure of the
# course, and the method's name as the text writes it. No method is red or
# blue: those are the colours of the two classes (CLASS_COLOURS), and the
# cost curves sit beside decision boundaries and output maps.
METHOD_COLOURS = {
    "zeros": "tab:gray",
    "random": "tab:orange",
    "plain": "tab:olive",
    "small": "tab:brown",
    "xavier": "tab:green",
    "he": "tab:purple",
}
METHOD_NAMES = {
    "zeros": N_("zeros"),
    "random": N_("random"),
    "plain": N_("plain (×1)"),
    "small": N_("small"),
    "xavier": N_("Xavier"),
    "he": N_("He"),
}


def method_label(label):
    """The name a figure shows for ``label``: "He" for "he", "Xavier" for
    "xavier", any other label as it is; in the figures' language."""
    return _figure_label(METHOD_NAMES.get(label, label))


TRIANGLE_ROW_POINTS = 14  # height of a row of infinite-cost triangles above the axes


def plot_costs(costs_by_label, record_every, title, ax=None):
    """Cost curves on one axes, one per initialization method.

    costs_by_label maps a label (a method such as "he", or any text) to a
    list of costs recorded every record_every iterations. The title and the
    labels (in English) are shown in the figures' language; a method has
    its colour (METHOD_COLOURS).

    An infinite cost has no place on the cost axis: it is marked by a
    triangle just above the top of the axes, in the curve's colour, and the
    legend says what the triangle means.
    """
    import matplotlib.pyplot as plt
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.transforms import offset_copy

    ax = ax if ax is not None else plt.figure().gca()
    top_of_the_axes = ax.get_xaxis_transform()  # x in data, y as a fraction of the axes
    infinite_markers = []
    for label, costs in costs_by_label.items():
        costs = np.asarray(costs, dtype=float)
        iterations = np.arange(len(costs)) * record_every
        finite = np.isfinite(costs)
        (line,) = ax.plot(
            iterations[finite], costs[finite], color=METHOD_COLOURS.get(label), label=method_label(label)
        )
        if not finite.all():
            # Each curve's triangles get a row of their own, so none hides
            # another; rows are spaced in points, so that the title (padded
            # by as many rows below) clears them whatever the axes' height.
            height = TRIANGLE_ROW_POINTS * (len(infinite_markers) + 0.7)
            row = offset_copy(top_of_the_axes, fig=ax.figure, y=height, units="points")
            (markers,) = ax.plot(
                iterations[~finite],
                np.ones((~finite).sum()),
                "^",
                ms=8,
                color=line.get_color(),
                transform=row,
                clip_on=False,
            )
            infinite_markers.append(markers)
    handles, labels = ax.get_legend_handles_labels()
    if infinite_markers:
        # One legend entry for all the triangles, drawn in each of their colours.
        handles.append(tuple(infinite_markers))
        labels.append(figure_text("infinite cost (above the axes)"))
    ax.set_title(_figure_label(title), pad=6 + TRIANGLE_ROW_POINTS * len(infinite_markers))
    ax.set_xlabel(figure_text("iteration"))
    ax.set_ylabel(figure_text("cost (cross-entropy)"))
    # Beside the axes, where no curve can run through it.
    ax.legend(
        handles,
        labels,
        handler_map={tuple: HandlerTuple(ndivide=None)},
        loc="upper left",
        bbox_to_anchor=(1.02, 1),
        fontsize="small",
    )
    return ax
