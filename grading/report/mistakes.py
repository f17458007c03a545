"""The mistakes a class report counts: each id's name, and the section that teaches its exercise.

The ids come from the visible checks (utils/init_checks.py, utils/deep_checks.py: an
AssertionError's ``mistake``) and, where no check diagnosed one, from the grader's verdict
(grading/plugins/verdicts.py). They are never translated; TITLES is the one place that names them.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

# id -> what the instructor reads; tests/test_class_report.py checks that every id a check raises is here.
TITLES = {
    # Scales
    "fan-out": "Fan-out instead of fan-in",
    "previous-fan-in": "layers_dims[l-2] as the fan-in",
    "xavier-scale-for-he": "Xavier's scale for He",
    "he-scale-for-xavier": "He's scale for Xavier",
    "variance-as-scale": "The variance as the scale (no square root)",
    "glorot-scale": "Glorot's averaged scale, fan-in plus fan-out",
    "times-10": "The large factor 10 where another scale is asked",
    "no-scale": "Plain draws: the scale factor is missing",
    "small-scale": "The small factor 0.01 where another scale is asked",
    "he-scale": "He's scale where another is asked",
    "xavier-scale": "Xavier's scale where another is asked",
    "wrong-scale": "Another scale factor",
    # Random draws and seeds
    "seed-in-loop": "The seed inside the loop",
    "no-seed": "Draws not seeded at the top of the function",
    "seed-not-at-top": "A second call gives other weights (the seed is not set once, at the top)",
    "uniform-draws": "Uniform draws (np.random.rand) instead of normal ones",
    "default-rng": "np.random.default_rng instead of np.random.seed with np.random.randn",
    "transposed-draws": "Draws made in the transposed shape",
    "constant-weights": "Every weight the same (no draws, or a scale of 0 from integer division)",
    "float32": "float32 arithmetic: right to 7 digits only",
    # Structure
    "nonzero-weights": "Non-zero weights where zeros are asked",
    "nonzero-bias": "Non-zero biases",
    "bias-1d": "Biases of shape (n,) instead of (n, 1)",
    "wrong-bias-shape": "Biases of another shape",
    "transposed-weights": "Weights of the transposed shape",
    "wrong-shape": "Weights of another shape",
    "wrong-keys": "Missing or extra layers in the dict",
    "wrong-dtype": "Another dtype than float64",
    "not-a-dict": "Returns no dict",
    "not-an-array": "A parameter that is no numpy array",
    "changes-input": "Changes its arguments",
    "wrong-values": "Other values (no known cause)",
    # One initializer, five methods
    "zeros-branch-missing": "No branch for 'zeros'",
    "unknown-method-accepted": "An unknown method is accepted",
    "unknown-method-wrong-error": "An unknown method raises another error than ValueError",
    "unknown-method-unnamed": "The ValueError does not name the unknown method",
    # Measuring the signal
    "variance-for-std": "Variance instead of standard deviation",
    "z-instead-of-a": "Z instead of A: the spread before the activation",
    "ignores-activation": "The activation argument not passed on",
    "includes-output-layer": "The output layer counted as a hidden layer",
    "includes-input": "The input X counted as a hidden layer",
    "ddof-1": "np.std with ddof=1",
    "std-per-axis": "A standard deviation per axis instead of one number",
    "looks-up-z": "Z looked up in a cache that holds only the A's",
    "wrong-layer-count": "A layer that does not exist looked up",
    "wrong-length": "Another number of values than hidden layers",
    "fixed-depth": "The number of hidden layers fixed at the visible test's",
    "not-a-list": "Returns no list",
    # What no visible check diagnosed (grading/plugins/verdicts.py)
    "hidden-tests": "Passes the visible checks, fails the hidden tests",
    "raises-error": "Raises an error",
    "unclassified": "Wrong, with no diagnosis",
    "not-answered": "Not answered",
    "no-answers": "Handed in no answers (the test cell stopped)",
}

# Ids that are no mistake to teach: the report lists these students apart, with the reason.
NOT_MISTAKES = {"not-answered", "no-answers", "raises-error"}


def title(mistake: str) -> str:
    """The instructor's name for a mistake id (an unknown id, from a newer check, stands for itself)."""
    return TITLES.get(mistake, mistake)


# "## 5 - He initialization" -> ("5", "He initialization")
SECTION = re.compile(r"^##\s+(\d+)\s*-\s*(.+?)\s*$")


def exercise_sections(notebook_path: Path) -> dict[str, str]:
    """{test cell's grade id: "§5 He initialization"}: the "## n - ..." section of the instructor's
    notebook that holds each exercise, in the notebook's language."""
    notebook = nbformat.read(notebook_path, as_version=4)
    sections, current = {}, ""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                match = SECTION.match(line)
                if match:
                    current = f"§{match.group(1)} {match.group(2)}"
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id and cell.metadata["nbgrader"].get("grade") and cell.cell_type == "code":
            sections[grade_id] = current
    return sections
