"""Visible checks for the initialization exercises.

Each ``check_*`` function calls a student's initializer on small layer lists
and either prints "All visible tests passed." or raises an AssertionError
whose message starts with the kind of mistake (shape, bias, dtype, scale,
fan-in, seed, distribution, ...) and says how to fix it.

Each AssertionError also carries, as its ``mistake`` attribute, a short id
of the mistake it diagnoses ("fan-out", "seed-in-loop", ...; see ``_wrong``):
the grader counts a class's mistakes by these ids, which are never
translated, while the messages are.

The checks never contain a ready-made initializer. For the seeded exercises
they draw standard normal numbers from a private ``RandomState(3)`` (the same
stream that ``np.random.seed(3)`` followed by ``np.random.randn`` gives) and
work out which scale, seed use or draw order the student's weights reveal.
The graded tests in the notebooks test more than these checks do.
"""

import math

import numpy as np

from .i18n import N_, say, student_text, student_type_name, tr

SEED = 3  # the seed the seeded exercises set once, at the top
OTHER_SEED = 2026  # the global generator's seed when a check calls the student's function
RTOL = 1e-10  # relative tolerance for "the same number" (float64 rounding)
# Keys of a parameters dict that a graded message may quote ("['W3', 'b3']"):
# anything else the student's dict holds reads as a placeholder there.
PARAMETER_KEYS = r"\[('[Wb][0-9]{1,2}'(, )?)*\]"


# --------------------------------------------------------------------------
# Public checks, one per exercise
# --------------------------------------------------------------------------


def check_zeros_initializer(initialize_parameters_zeros):
    """Check an implementation of initialize_parameters_zeros."""
    for layers_dims in ([3, 2, 1], [4, 3, 5, 2]):
        parameters = _call(initialize_parameters_zeros, layers_dims)
        _check_structure(parameters, layers_dims)
        for l in range(1, len(layers_dims)):
            W = parameters[f"W{l}"]
            if np.any(W):
                index, value = _first_nonzero(W)
                raise _wrong(
                    tr(
                        "Value error: {name} has non-zero entries, for example "
                        "entry {index} = {value}; every weight should start at 0"
                    ).format(name=f"W{l}", index=index, value=value),
                    "nonzero-weights",
                )
    _print_parameters(_call(initialize_parameters_zeros, [3, 2, 1]))
    say(tr("All visible tests passed."))


def check_random_initializer(initialize_parameters_random):
    """Check an implementation of initialize_parameters_random (randn * 10)."""
    _check_seeded(
        initialize_parameters_random,
        _TIMES_10,
        [[3, 2, 1], [4, 3, 5, 2]],
        wrong_scales=[_NO_SCALE, _SMALL, _HE, _XAVIER_ELSEWHERE],
    )
    _print_parameters(_call(initialize_parameters_random, [3, 2, 1]), names=("W1", "W2"))
    say(tr("All visible tests passed."))


def check_he_initializer(initialize_parameters_he):
    """Check an implementation of initialize_parameters_he."""
    _check_seeded(
        initialize_parameters_he,
        _HE,
        [[2, 4, 1], [3, 1, 2], [4, 3, 5, 2]],
        wrong_scales=[
            _XAVIER,
            _HE_FAN_OUT,
            _HE_PREVIOUS_FAN_IN,
            _HE_NO_SQRT,
            _GLOROT,
            _TIMES_10,
            _NO_SCALE,
            _SMALL,
        ],
    )
    for layers_dims in ([2, 4, 1], [3, 1, 2]):
        say(tr("layers_dims = {layers_dims}").format(layers_dims=layers_dims))
        _print_parameters(_call(initialize_parameters_he, layers_dims), names=("W1", "W2"))
    say(tr("All visible tests passed."))


# --------------------------------------------------------------------------
# Scale rules: what a weight of layer l is multiplied by
# --------------------------------------------------------------------------


class _ScaleRule:
    """A named rule giving the scale of a layer from its fan-in and fan-out.

    ``diagnosis`` is the English message (a template, filled in with
    ``values``) for weights that used this rule by mistake; it is translated
    only when shown, by ``explain``, so that a language chosen after import
    applies. ``mistake`` is that mistake's id (see ``_wrong``).
    """

    def __init__(self, formula, scale_of, diagnosis="", values=None, in_network=None, mistake=None):
        self.formula = formula
        self.scale_of = scale_of
        self.diagnosis = diagnosis
        self.mistake = mistake
        self.values = dict(values or {})
        self.in_network = in_network  # (layers_dims, l) -> scale, for a rule that reads other layers

    def __call__(self, n_in, n_out):
        return self.scale_of(n_in, n_out)

    def at(self, layers_dims, l):
        """The scale of layer l (1, ..., L) of the network layers_dims."""
        if self.in_network is not None:
            return self.in_network(layers_dims, l)
        return self.scale_of(layers_dims[l - 1], layers_dims[l])

    def explain(self):
        """The diagnosis in the chosen language, with its values filled in."""
        if not self.diagnosis:  # gettext("") would be the catalog's header
            return ""
        return tr(self.diagnosis).format(**self.values)


_HE = _ScaleRule(
    "sqrt(2 / layers_dims[l-1])",
    lambda n_in, n_out: math.sqrt(2 / n_in),
    N_("Scale error: the weights use the He scale sqrt(2 / layers_dims[l-1])"),
    mistake="he-scale",
)
_XAVIER = _ScaleRule(
    "sqrt(1 / layers_dims[l-1])",
    lambda n_in, n_out: math.sqrt(1 / n_in),
    N_(
        "Scale error: the weights use the Xavier scale sqrt(1 / fan_in), made "
        "for tanh units; ReLU units (He) need twice that variance"
    ),
    mistake="xavier-scale-for-he",
)

# The Xavier scale where the exercise asks for neither He nor Xavier (the
# "x 10" weights): the advice about ReLU units would be beside the point.
_XAVIER_ELSEWHERE = _ScaleRule(
    "sqrt(1 / layers_dims[l-1])",
    lambda n_in, n_out: math.sqrt(1 / n_in),
    N_(
        "Scale error: the weights use the Xavier scale sqrt(1 / fan_in), "
        "which is not the scale this exercise asks for"
    ),
    mistake="xavier-scale",
)


def _fan_out_rule(numerator):
    """sqrt(numerator / fan_in), mistakenly computed with the fan-out."""
    return _ScaleRule(
        f"sqrt({numerator} / layers_dims[l])",
        lambda n_in, n_out: math.sqrt(numerator / n_out),
        N_(
            "Fan-in error: the scale uses layers_dims[l], the number of units in "
            "the layer (its fan-out); it should use the number of inputs each unit "
            "receives, layers_dims[l-1] (its fan-in)"
        ),
        mistake="fan-out",
    )


def _previous_fan_in_rule(numerator):
    """sqrt(numerator / fan_in), with layers_dims[l-2] for the fan-in: the
    layer before, and for l = 1 Python's layers_dims[-1], the last one."""
    return _ScaleRule(
        f"sqrt({numerator} / layers_dims[l-2])",
        None,
        N_(
            "Fan-in error: the scale uses layers_dims[l-2], the size of the layer "
            "before the inputs (and for l = 1, layers_dims[-1], the last layer); each "
            "unit of layer l receives layers_dims[l-1] inputs"
        ),
        in_network=lambda layers_dims, l: math.sqrt(numerator / layers_dims[l - 2]),
        mistake="previous-fan-in",
    )


def _variance_rule(numerator):
    """numerator / fan_in: the variance used where its square root belongs."""
    return _ScaleRule(
        f"{numerator} / layers_dims[l-1]",
        lambda n_in, n_out: numerator / n_in,
        N_(
            "Scale error: the weights are multiplied by {numerator} / fan_in, which "
            "is the variance; multiply by its square root, "
            "np.sqrt({numerator} / layers_dims[l-1])"
        ),
        values={"numerator": numerator},
        mistake="variance-as-scale",
    )


_HE_FAN_OUT = _fan_out_rule(2)
_HE_PREVIOUS_FAN_IN = _previous_fan_in_rule(2)
_HE_NO_SQRT = _variance_rule(2)
_GLOROT = _ScaleRule(
    "sqrt(2 / (fan_in + fan_out))",
    lambda n_in, n_out: math.sqrt(2 / (n_in + n_out)),
    N_(
        "Scale error: the weights use Glorot's averaged scale "
        "sqrt(2 / (fan_in + fan_out)) instead of one based on the fan-in only"
    ),
    mistake="glorot-scale",
)
_TIMES_10 = _ScaleRule(
    "10",
    lambda n_in, n_out: 10.0,
    N_("Scale error: the weights are multiplied by 10, as in the large random initialization"),
    mistake="times-10",
)
_NO_SCALE = _ScaleRule(
    "1",
    lambda n_in, n_out: 1.0,
    N_("Scale error: the weights are plain np.random.randn draws; a factor is missing"),
    mistake="no-scale",
)
_SMALL = _ScaleRule(
    "0.01",
    lambda n_in, n_out: 0.01,
    N_("Scale error: the weights are multiplied by 0.01 (small random initialization)"),
    mistake="small-scale",
)


# --------------------------------------------------------------------------
# Calling the student's function
# --------------------------------------------------------------------------


def _call(initializer, layers_dims):
    """Call initializer on a copy of layers_dims, leaving numpy's global
    random state as it was, and check that the list was not changed.

    The call starts from the global generator seeded with OTHER_SEED, not
    from wherever the notebook left it: a function that forgets its own
    seed then never matches by chance (right after a cell that called
    np.random.seed(3), it would), so the check says so every time."""
    given = list(layers_dims)
    state = np.random.get_state()
    np.random.seed(OTHER_SEED)
    try:
        parameters = initializer(given)
    except NotImplementedError:
        raise NotAnswered(tr(NOT_ANSWERED)) from None
    except TypeError as error:
        _add_call_hint(error)
        raise
    finally:
        np.random.set_state(state)
    if given != list(layers_dims):
        raise _wrong(
            tr(
                "Input error: the function changed the list it was given, from "
                "{before} to {after}; read layers_dims, don't modify it"
            ).format(before=list(layers_dims), after=student_text(given)),
            "changes-input",
        )
    return parameters


class NotAnswered(AssertionError):
    """The exercise still raises NotImplementedError: it has not been written.

    A failed check like any other, under its own name, so that the grader's
    summary can say "not answered" rather than "wrong answer"."""

    mistake = "not-answered"


def _wrong(message, mistake):
    """An AssertionError with message that carries the id of the mistake it
    diagnoses, as its ``mistake`` attribute ("fan-out", "uniform-draws", ...).

    The student sees only the message. The grader replays the checks in its
    own process and counts a class's mistakes by these ids
    (grading/plugins/verdicts.py): messages are translated, the ids never are."""
    error = AssertionError(message)
    error.mistake = mistake
    return error


# In English; raise it as tr(NOT_ANSWERED), in the language chosen by then.
NOT_ANSWERED = N_(
    "Answer error: the function still raises NotImplementedError, so it has "
    "not been written yet. Replace the line `raise NotImplementedError()` "
    "between START CODE HERE and END CODE HERE with your code, run that cell, "
    "then run this one again"
)


def _add_call_hint(error):
    """Explain the two classic argument mix-ups of np.zeros and np.random.randn."""
    text = str(error)
    if "data type" in text:
        _add_note(error, tr("Hint: np.zeros takes the shape as one tuple: np.zeros((rows, columns))."))
    elif "cannot be interpreted as an integer" in text:
        _add_note(
            error,
            tr(
                "Hint: np.random.randn (like np.random.rand) takes the sizes as separate numbers: "
                "np.random.randn(rows, columns)."
            ),
        )


def _add_note(error, note):
    """Show note under the error's message: error.add_note on Python 3.11 and
    later; on older Pythons (Colab's, a lab's image), the note is added to the
    message itself, so that the student sees it either way."""
    if hasattr(error, "add_note"):
        error.add_note(note)
    elif error.args and isinstance(error.args[0], str):
        error.args = (f"{error.args[0]}\n{note}", *error.args[1:])
    else:
        error.args = (*error.args, note)


# --------------------------------------------------------------------------
# Structure: keys, types, shapes, dtypes, zero biases
# --------------------------------------------------------------------------


def _check_structure(parameters, layers_dims):
    """Keys W1, b1, ..., WL, bL with the right shapes, float64 and zero biases."""
    if not isinstance(parameters, dict):
        raise _wrong(
            tr("Type error: return a dict of parameters, not {type_name}").format(
                type_name=student_type_name(parameters)
            ),
            "not-a-dict",
        )
    num_layers = len(layers_dims) - 1
    expected_keys = [f"{kind}{l}" for l in range(1, num_layers + 1) for kind in ("W", "b")]
    missing = [key for key in expected_keys if key not in parameters]
    extra = sorted(set(parameters) - set(expected_keys), key=str)
    if missing or extra:
        # Name only what is wrong: the keys missing, the keys too many, or both.
        if missing and extra:
            problem = tr("missing {missing}, unexpected {extra}")
        elif missing:
            problem = tr("missing {missing}")
        else:
            problem = tr("unexpected {extra}")
        raise _wrong(
            tr(
                "Key error: for layers_dims = {layers_dims} the dict should hold "
                "exactly {expected_keys}; {problem}. "
                "The loop should run for l = 1, ..., {num_layers}"
            ).format(
                problem=problem.format(missing=missing, extra=student_text(extra, safe=PARAMETER_KEYS)),
                layers_dims=layers_dims,
                expected_keys=expected_keys,
                num_layers=num_layers,
            ),
            "wrong-keys",
        )
    for l in range(1, num_layers + 1):
        _check_weight_shape(parameters[f"W{l}"], l, layers_dims)
        _check_bias(parameters[f"b{l}"], l, layers_dims)


def _check_weight_shape(W, l, layers_dims):
    name = f"W{l}"
    expected = (layers_dims[l], layers_dims[l - 1])
    _check_is_array(W, name)
    if W.shape == expected[::-1] and expected[0] != expected[1]:
        raise _wrong(
            tr(
                "Shape error: {name} has shape {shape}, the transpose of the "
                "expected {expected} = (layers_dims[{l}], layers_dims[{previous}]). "
                "Rows are the units of layer {l}, columns their inputs"
            ).format(name=name, shape=W.shape, expected=expected, l=l, previous=l - 1),
            "transposed-weights",
        )
    if W.shape != expected:
        raise _wrong(
            tr(
                "Shape error: {name} has shape {shape}, expected {expected} = "
                "(layers_dims[{l}], layers_dims[{previous}]) for layers_dims = "
                "{layers_dims}"
            ).format(
                name=name, shape=W.shape, expected=expected, l=l, previous=l - 1, layers_dims=layers_dims
            ),
            "wrong-shape",
        )
    _check_dtype(W, name)


def _check_bias(b, l, layers_dims):
    name = f"b{l}"
    n = layers_dims[l]
    _check_is_array(b, name)
    if b.shape == (n,):
        raise _wrong(
            tr(
                "Bias error: {name} has shape ({n},) but should be a column of "
                "shape ({n}, 1): write np.zeros(({n}, 1)), with the 1, so that "
                "it adds to each column of {weights} @ A"
            ).format(name=name, n=n, weights=f"W{l}"),
            "bias-1d",
        )
    if b.shape != (n, 1):
        raise _wrong(
            tr("Shape error: {name} has shape {shape}, expected ({n}, 1) = (layers_dims[{l}], 1)").format(
                name=name, shape=b.shape, n=n, l=l
            ),
            "wrong-bias-shape",
        )
    _check_dtype(b, name)
    if np.any(b):
        index, value = _first_nonzero(b)
        raise _wrong(
            tr(
                "Bias error: {name} should start at zero; got non-zero entries "
                "such as entry {index} = {value}. Random weights already break the "
                "symmetry, so the biases can all be 0"
            ).format(name=name, index=index, value=value),
            "nonzero-bias",
        )


def _check_is_array(array, name):
    if not isinstance(array, np.ndarray):
        raise _wrong(
            tr("Type error: {name} should be a numpy array, got {type_name}").format(
                name=name, type_name=student_type_name(array)
            ),
            "not-an-array",
        )


def _check_dtype(array, name):
    if array.dtype != np.float64:
        raise _wrong(
            tr(
                "Dtype error: {name} has dtype {dtype}, expected float64. "
                "Weights must hold real numbers that gradient descent can change "
                "by small amounts; don't pass dtype=int (or float32)"
            ).format(name=name, dtype=array.dtype),
            "wrong-dtype",
        )


def _first_nonzero(array):
    """(index, value) of the first non-zero entry, for "entry {index} = {value}"."""
    index = tuple(int(i) for i in np.argwhere(array)[0])
    return index, array[index]


# --------------------------------------------------------------------------
# Seeded initializers: which draws and which scale did the student use?
# --------------------------------------------------------------------------


def _check_seeded(initializer, scale_rule, layer_lists, wrong_scales):
    for layers_dims in layer_lists:
        parameters = _call(initializer, layers_dims)
        _check_structure(parameters, layers_dims)
        draws = _normal_draws(layers_dims)
        weights = [parameters[f"W{l}"] for l in range(1, len(layers_dims))]
        scales = _layer_scales(scale_rule, layers_dims)
        wrong = [
            l for l, (W, z, scale) in enumerate(zip(weights, draws, scales), 1) if not _close(W, z * scale)
        ]
        if wrong:
            raise _diagnose(weights, wrong[0], layers_dims, draws, scale_rule, wrong_scales)
        again = _call(initializer, layers_dims)
        if not all(np.array_equal(again[k], parameters[k]) for k in parameters):
            raise _wrong(
                tr(
                    "Seed error: a second call gave different weights; call "
                    "np.random.seed({seed}) once at the top of the function"
                ).format(seed=SEED),
                "seed-not-at-top",
            )


def _normal_draws(layers_dims):
    """Standard normal draws per layer, in the order np.random.randn makes them
    after np.random.seed(SEED): layer l takes the next n_l * n_{l-1} numbers."""
    generator = np.random.RandomState(SEED)
    return [
        generator.standard_normal((layers_dims[l], layers_dims[l - 1])) for l in range(1, len(layers_dims))
    ]


def _generator_draws(l, layers_dims):
    """Layer l's draws from np.random.default_rng(SEED): from one generator
    for all layers, and from a generator made again for each layer."""
    generator = np.random.default_rng(SEED)
    for k in range(1, l + 1):
        in_order = generator.standard_normal((layers_dims[k], layers_dims[k - 1]))
    restarted = np.random.default_rng(SEED).standard_normal(in_order.shape)
    return [in_order, restarted]


def _uniform_draws(l, layers_dims):
    """Layer l's draws of np.random.rand after np.random.seed(SEED)."""
    generator = np.random.RandomState(SEED)
    for k in range(1, l + 1):
        block = generator.random_sample((layers_dims[k], layers_dims[k - 1]))
    return block


def _layer_scales(rule, layers_dims):
    """The factor ``rule`` gives each layer l = 1, ..., L."""
    return [rule.at(layers_dims, l) for l in range(1, len(layers_dims))]


def _diagnose(weights, l, layers_dims, draws, scale_rule, wrong_scales):
    """The AssertionError that names the most likely reason why the weights
    differ from the expected (see _wrong); layer l is the first wrong one."""
    n_in, n_out = layers_dims[l - 1], layers_dims[l]
    scale = scale_rule.at(layers_dims, l)
    W, z = weights[l - 1], draws[l - 1]
    # The values every message below may name; each template uses some.
    where = {"name": f"W{l}", "layers_dims": layers_dims, "seed": SEED}

    # The right numbers, but only to float32's 7 digits.
    if np.allclose(W, z * scale, rtol=1e-6, atol=0):
        return _wrong(
            tr(
                "Precision error: {name} for layers_dims = {layers_dims} holds "
                "the right numbers to about 7 digits only, as float32 arithmetic "
                "gives; compute in float64, numpy's default: leave out "
                "astype(np.float32) and dtype=np.float32"
            ).format(**where),
            "float32",
        )
    # Numpy's newer Generator API: other numbers from the same seed.
    if any(_close(W, draws_l * scale) for draws_l in _generator_draws(l, layers_dims)):
        return _wrong(
            tr(
                "Generator error: {name} for layers_dims = {layers_dims} holds "
                "draws of np.random.default_rng({seed}), numpy's newer generator, "
                "which gives other numbers for the same seed. This exercise uses "
                "np.random.seed({seed}) (already at the top of the function) with "
                "np.random.randn, so that everyone's numbers match"
            ).format(**where),
            "default-rng",
        )
    # One value everywhere: no draws at all (np.zeros(...) * 10), or draws
    # times a scale of 0 (np.sqrt(2 // n), integer division).
    if W.size > 1 and np.all(W == W.flat[0]):
        return _wrong(
            tr(
                "Distribution error: every entry of {name} for layers_dims = "
                "{layers_dims} is {value:.6g}, so the units of a layer cannot "
                "differ. The weights must be random: np.random.randn draws times "
                "the scale, {formula}. (A scale of 0 can come from integer "
                "division: 2 // n is 0 when n > 2; write 2 / n)"
            ).format(value=float(W.flat[0]) + 0.0, formula=scale_rule.formula, **where),  # + 0.0: no "-0"
            "constant-weights",
        )
    # Uniform draws: np.random.rand times a scale, or moved as well
    # (rand() - 0.5, np.random.uniform(-a, a), which draws the same stream).
    uniform = _uniform_draws(l, layers_dims)
    stretch, shift = np.polyfit(uniform.ravel(), W.ravel(), 1) if W.size > 2 else (None, None)
    if stretch is not None and _close(W, stretch * uniform + shift):
        if abs(shift) <= 1e-9 * abs(stretch):
            return _wrong(
                tr(
                    "Distribution error: {name} for layers_dims = {layers_dims} is "
                    "uniform draws in [0, 1) from np.random.rand, times {scale:.6g}: "
                    "every weight is >= 0. Use np.random.randn, whose draws follow "
                    "the standard normal distribution, centred on 0"
                ).format(scale=stretch, **where),
                "uniform-draws",
            )
        return _wrong(
            tr(
                "Distribution error: {name} for layers_dims = {layers_dims} is "
                "made of uniform draws (np.random.rand or np.random.uniform), moved "
                "and stretched; centring them on 0 does not make them normal. Use "
                "np.random.randn, whose draws follow the standard normal "
                "distribution"
            ).format(**where),
            "uniform-draws",
        )

    # Right draws, wrong scale: in every layer W / z is one constant. Several
    # rules can agree on one layer (sqrt(2/4) == sqrt(1/2)), so a rule must
    # match all of them.
    ratios = [_constant_ratio(W_k, z_k) for W_k, z_k in zip(weights, draws)]
    if all(ratio is not None for ratio in ratios):
        return _wrong_scale(ratios, l, layers_dims, scale_rule, wrong_scales)

    # Draws the function did not seed: the global generator's, as _call left it.
    unseeded = [_constant_ratio(W_k, z_k) for W_k, z_k in zip(weights, _unseeded_draws(layers_dims))]
    if all(ratio is not None for ratio in unseeded):
        seed_problem = tr(
            "Seed error: {name} for layers_dims = {layers_dims} holds draws the "
            "function did not seed: np.random.seed({seed}) must run once at the "
            "top of the function, before the first draw"
        ).format(**where)
        expected_scales = _layer_scales(scale_rule, layers_dims)
        if all(_same(ratio, expected) for ratio, expected in zip(unseeded, expected_scales)):
            return _wrong(seed_problem, "no-seed")
        # Name both mistakes: fixing the seed alone would not be enough (the
        # id names the first, which hides the second from the checks).
        return _wrong(
            tr("{seed_problem}. The scale is wrong too: {scale_problem}").format(
                seed_problem=seed_problem,
                scale_problem=str(_wrong_scale(unseeded, l, layers_dims, scale_rule, wrong_scales)),
            ),
            "no-seed",
        )

    # Right scale, wrong draws.
    restarted = np.random.RandomState(SEED).standard_normal(W.shape)
    if l > 1 and _close(W, restarted * scale):
        return _wrong(
            tr(
                "Seed error: {name} for layers_dims = {layers_dims} repeats the "
                "first numbers of the random stream: np.random.seed({seed}) is "
                "being called again for every layer. Call it once, before the "
                "loop"
            ).format(**where),
            "seed-in-loop",
        )
    if _close(W, _drawn_transposed(l, layers_dims) * scale):
        return _wrong(
            tr(
                "Shape error: {name} for layers_dims = {layers_dims} holds the "
                "right numbers in the wrong places: it was drawn with shape "
                "({n_in}, {n_out}) and then transposed. Draw it directly as "
                "np.random.randn(layers_dims[l], layers_dims[l-1])"
            ).format(n_in=n_in, n_out=n_out, **where),
            "transposed-draws",
        )
    if np.all(W >= 0):
        return _wrong(
            tr(
                "Distribution error: every entry of {name} for layers_dims = "
                "{layers_dims} is >= 0, as uniform draws in [0, 1) from "
                "np.random.rand give. Use np.random.randn, the standard normal "
                "distribution, whose draws are centred on 0"
            ).format(**where),
            "uniform-draws",
        )
    return _wrong(
        tr(
            "Value error: {name} for layers_dims = {layers_dims} does not match "
            "np.random.randn draws after np.random.seed({seed}) times {formula}. "
            "Check that the seed is set once at the top, that nothing else "
            "draws random numbers (the biases are zeros), and that each "
            "layer draws one matrix in order l = 1, 2, ...; "
            "expected {name}[0, 0] = {expected:.8f}, got {got:.8f}"
        ).format(formula=scale_rule.formula, expected=z[0, 0] * scale, got=W.flat[0], **where),
        "wrong-values",
    )


def _wrong_scale(ratios, l, layers_dims, scale_rule, wrong_scales):
    """The AssertionError for weights that are the draws times the wrong
    number in each layer (ratios: that number, layer by layer): the first
    rule of wrong_scales that gives those numbers in every layer, with that
    rule's mistake, else the numbers.
    Several rules can agree on one layer (sqrt(2/4) == sqrt(1/2)), so a rule
    must match all of them."""
    where = {"name": f"W{l}", "layers_dims": layers_dims}
    expected = _describe(scale_rule.at(layers_dims, l), scale_rule)
    for rule in wrong_scales:
        rule_scales = _layer_scales(rule, layers_dims)
        if all(_same(ratio, rule_scale) for ratio, rule_scale in zip(ratios, rule_scales)):
            message = tr(
                "{diagnosis} ({name} for layers_dims = {layers_dims}: scale {scale:.6g}, expected {expected})"
            ).format(diagnosis=rule.explain(), scale=ratios[l - 1], expected=expected, **where)
            return _wrong(message, rule.mistake or "wrong-scale")
    return _wrong(
        tr(
            "Scale error: {name} for layers_dims = {layers_dims} is "
            "np.random.randn draws times {scale:.6g}; expected times {expected}"
        ).format(scale=ratios[l - 1], expected=expected, **where),
        "wrong-scale",
    )


def _unseeded_draws(layers_dims):
    """The draws of a function that sets no seed: np.random.randn in layer
    order, from the global generator as _call seeds it (OTHER_SEED)."""
    generator = np.random.RandomState(OTHER_SEED)
    return [
        generator.standard_normal((layers_dims[l], layers_dims[l - 1])) for l in range(1, len(layers_dims))
    ]


def _describe(scale, rule):
    """'0.707107 = sqrt(2 / layers_dims[l-1])', or just '10' for a constant."""
    value = f"{scale:.6g}"
    return value if value == rule.formula else f"{value} = {rule.formula}"


def _drawn_transposed(l, layers_dims):
    """The draws a student gets with randn(n_in, n_out).T for every layer."""
    generator = np.random.RandomState(SEED)
    for k in range(1, l + 1):
        block = generator.standard_normal((layers_dims[k - 1], layers_dims[k]))
    return block.T


def _constant_ratio(W, z):
    """The number c with W == c * z, if there is one (else None)."""
    if W.shape != z.shape or not np.all(np.isfinite(W)):
        return None
    ratio = W.flat[0] / z.flat[0]
    return float(ratio) if _close(W, ratio * z) else None


def _close(a, b):
    return a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=0)


def _same(x, y):
    return abs(x - y) <= RTOL * abs(y)


def _print_parameters(parameters, names=None):
    """Print the arrays a check worked on, as the notebook's expected output."""
    with np.printoptions(precision=8, suppress=True):
        for name in names or parameters:
            say(f"{name} = {np.array2string(parameters[name], prefix=name + ' = ')}")
