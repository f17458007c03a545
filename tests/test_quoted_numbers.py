"""Numbers the notebooks' prose quotes about their own results are the ones
the notebooks print.

Each entry names a piece of prose (it must stand in a markdown cell of the
notebook) and a check on the recorded outputs that the prose describes. When
a re-record changes a result, the check fails until the prose is updated.
"""

import math
import re

import nbformat
import pytest

from conftest import REPO

FIRST = REPO / "source" / "initialization" / "Initialization.ipynb"
DEEP = REPO / "source" / "initialization_deep" / "InitializationDeep.ipynb"
TOUR = REPO / "notebooks" / "DataAndHelpersTour.ipynb"
VARIANCE = REPO / "notebooks" / "VarianceThroughDepth.ipynb"


def notebook_text(path):
    """(all markdown, all printed output) of a notebook, as two strings."""
    notebook = nbformat.read(path, as_version=4)
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    printed = "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    )
    return " ".join(prose.split()), printed  # prose with line breaks folded


def costs(printed, run):
    """{iteration: cost} of the first notebook's run number `run` (0 zeros, 1 random, 2 He)."""
    runs = re.split(r"Cost after iteration 0: ", printed)[1:]
    text = "Cost after iteration 0: " + runs[run]
    return {int(i): float(c) for i, c in re.findall(r"Cost after iteration (\d+): (\S+)", text)}


def accuracies(printed):
    """[(train, test)] of the three runs, in order."""
    found = re.findall(r"Training set: Accuracy: (\S+)\nTest set: Accuracy: (\S+)", printed)
    return [(float(train), float(test)) for train, test in found]


def spreads(printed, activation, method):
    """The deep notebook's printed spreads of hidden layers 1, 2, 5 and 10."""
    block = printed.split(f"{activation}: spread of the activations")[1]
    return [float(value) for value in re.search(rf"^\s*{method}:(.*)$", block, re.M).group(1).split()]


def table(printed, network):
    """{method: (first cost, final cost)} of the deep notebook's training tables."""
    rows = re.findall(r"^\s+(zeros|random|small|xavier|he)\s+(\S+)\s+([\d.]+)\s", printed, re.M)
    chosen = rows[:5] if network == "tanh" else rows[5:10]
    return {method: (float(first), float(final)) for method, first, final in chosen}


def number_after(printed, words):
    """The number printed right after words, such as 'of dW20' in '... of dW20 3.8e+00'."""
    return float(re.search(re.escape(words) + r"\s+(\S+)", printed).group(1).rstrip(","))


def gradient_sizes(printed, rule):
    """(size of dW1, size of dW20) for one rule of the variance companion."""
    line = next(line for line in printed.splitlines() if line.strip().startswith(rule))
    return number_after(line, "of dW1"), number_after(line, "of dW20")


def about(value, quoted, relative=0.15):
    return math.isclose(value, quoted, rel_tol=relative)


QUOTES = [
    # the first assignment
    (
        FIRST,
        "it is $0.693147\\ldots = \\ln 2$ at every iteration, and the accuracy is 50%",
        lambda out: set(costs(out, 0).values()) == {math.log(2)} and accuracies(out)[0] == (0.5, 0.5),
    ),
    (
        FIRST,
        "falls quickly (about 0.62 after 1,000 iterations)",
        lambda out: round(costs(out, 1)[1000], 2) == 0.62,
    ),
    (
        FIRST,
        "from iteration 8,000 on it hardly moves and it ends near 0.38, with 83% training accuracy",
        lambda out: (
            max(costs(out, 1)[i] for i in range(8000, 15000, 1000))
            - min(costs(out, 1)[i] for i in range(8000, 15000, 1000))
            < 0.02
            and costs(out, 1)[7000] - costs(out, 1)[8000] > 0.05
            and "Cost after training, rounded: 0.38" in out
            and accuracies(out)[1][0] == 0.83
        ),
    ),
    (
        FIRST,
        "the first cost is a reasonable 0.88. It stays close to $\\ln 2 \\approx 0.69$ "
        "for the first few thousand iterations, then falls steadily to about 0.07",
        lambda out: (
            round(costs(out, 2)[0], 2) == 0.88
            and all(abs(costs(out, 2)[i] - math.log(2)) < 0.05 for i in (1000, 2000, 3000))
            and round(costs(out, 2)[14000], 2) == 0.07
        ),
    ),
    (
        FIRST,
        "(99% on the training set, 96% on the test set)",
        lambda out: (round(accuracies(out)[2][0], 2), accuracies(out)[2][1]) == (0.99, 0.96),
    ),
    (FIRST, "| Zeros | 50% | 50% |", lambda out: accuracies(out)[0] == (0.5, 0.5)),
    (FIRST, "| Large random (×10) | 83% | 86% |", lambda out: accuracies(out)[1] == (0.83, 0.86)),
    (
        FIRST,
        "| He, ×√(2/fan-in) | 99% | 96% |",
        lambda out: (round(accuracies(out)[2][0], 2), accuracies(out)[2][1]) == (0.99, 0.96),
    ),
    (FIRST, "the cost levels off near 0.38", lambda out: "rounded: 0.38" in out),
    (FIRST, "Every output is *exactly* 0 or 1.", lambda out: "exactly 0 or exactly 1: 300 of 300" in out),
    # the deep assignment
    (
        DEEP,
        "$\\sqrt{64} \\times 0.01 = 0.08$ (tanh) or $\\sqrt{64/2} \\times 0.01 \\approx 0.057$",
        lambda out: (
            about(spreads(out, "tanh", "small")[1] / spreads(out, "tanh", "small")[0], 0.08)
            and about(spreads(out, "relu", "small")[1] / spreads(out, "relu", "small")[0], 0.057)
        ),
    ),
    (
        DEEP,
        "After ten layers nothing is left: $10^{-11}$ or less",
        lambda out: max(spreads(out, a, "small")[3] for a in ("tanh", "relu")) < 2e-11,
    ),
    (
        DEEP,
        "the spread is multiplied by about 50 at every layer and reaches $10^{17}$",
        lambda out: (
            about(spreads(out, "relu", "random")[1] / spreads(out, "relu", "random")[0], 50)
            and 1e17 <= spreads(out, "relu", "random")[3] < 1e18
        ),
    ),
    (
        DEEP,
        "The two effects balance at a spread of about 0.6",
        lambda out: all(about(value, 0.6) for value in spreads(out, "tanh", "he")[2:]),
    ),
    (
        DEEP,
        "multiplies the spread by about $1/\\sqrt 2 \\approx 0.71$ at every layer, which is a "
        "factor of about 20 after ten layers",
        lambda out: (
            about(
                (spreads(out, "relu", "xavier")[3] / spreads(out, "relu", "xavier")[0]) ** (1 / 9), 0.71, 0.05
            )
            and about(spreads(out, "relu", "xavier")[0] / spreads(out, "relu", "xavier")[3], 20, 0.25)
        ),
    ),
    (DEEP, "but after 2,000 steps it is still 0.6368", lambda out: table(out, "tanh")["random"][1] == 0.6368),
    (
        DEEP,
        "the spread of its last hidden layer is 3.8e-10 (printed above), against 2.2e-03",
        lambda out: (
            "6 hidden layers: spread of the last hidden layer with small weights: 3.8e-10" in out
            and "[64, 5, 5, 1]: spread of the last hidden layer with small weights: 2.2e-03" in out
        ),
    ),
    (
        DEEP,
        "starts from a higher cost, 1.6370 against 0.7054",
        lambda out: (table(out, "relu")["he"][0], table(out, "relu")["xavier"][0]) == (1.637, 0.7054),
    ),
    (DEEP, "ends lower", lambda out: table(out, "relu")["he"][1] < table(out, "relu")["xavier"][1]),
    (
        DEEP,
        "Xavier does slightly better (96.0% against 94.7%): both fit the training set perfectly",
        lambda out: (
            re.search(r"^\s+xavier\s+\S+\s+\S+\s+100\.0%\s+96\.0%$", out, re.M) is not None
            and re.search(r"^\s+he\s+\S+\s+\S+\s+100\.0%\s+94\.7%$", out, re.M) is not None
        ),
    ),
    (DEEP, "In the six-layer ReLU network it is 3.8e-10", lambda out: "with small weights: 3.8e-10" in out),
    # the companions
    (
        TOUR,
        "With He-scaled weights the outputs spread between about 0.5 and 0.9",
        lambda out: "(He)  outputs from 0.5044 to 0.8765" in out,
    ),
    (
        TOUR,
        "the cost is close to $\\ln 2 \\approx 0.693$",
        lambda out: "(small)           outputs from 0.5000 to 0.5000, cost 0.6931" in out,
    ),
    (
        VARIANCE,
        "with $1/n$ it stays near 1 for every fan-in",
        lambda out: all(
            about(float(v), 1.0, 0.25)
            for v in re.search(r"Var\(w\) = 1/n: Var\(z\) =(.*)", out).group(1).split(",")
        ),
    ),
    (
        VARIANCE,
        "**ReLU with Xavier** loses half of the signal's power at every layer and is "
        "about $10^{-7}$ times smaller after 50 layers",
        lambda out: (
            1e-8
            < number_after(out, "ReLU, Xavier 1/n: spread after layer 1 0.580, after layer 50") / 0.580
            < 1e-6
        ),
    ),
    (
        VARIANCE,
        "more of its units sit beyond $\\pm 0.9$",
        lambda out: (
            "He 2/n: spread after layer 1 0.720, after layer 50 5.41e-01, units beyond +-0.9: 5%" in out
            and "units beyond +-0.9: 0%" in out
        ),
    ),
    (
        VARIANCE,
        "With He's rule the gradients have a usable size, between about 0.5 and 4",
        lambda out: all(0.4 < size < 5 for size in gradient_sizes(out, "He 2/n")),
    ),
    (
        VARIANCE,
        "they are about a thousand times smaller, and with $0.25/n$ about a billion times smaller",
        lambda out: (
            all(
                3e2 < he / xavier < 3e3 * 1.5
                for he, xavier in zip(gradient_sizes(out, "He 2/n"), gradient_sizes(out, "Xavier 1/n"))
            )
            and all(
                1e8 < he / small < 1e10
                for he, small in zip(gradient_sizes(out, "He 2/n"), gradient_sizes(out, "small, 0.25/n"))
            )
        ),
    ),
    (
        DEEP,
        "Since about half of the digits are odd",
        lambda out: "Odd digits: 50.1% of the training set, 51.2% of the test set" in out,
    ),
]


@pytest.mark.parametrize(
    "path, prose, check", QUOTES, ids=[f"{path.stem}: {prose[:40]}" for path, prose, _ in QUOTES]
)
def test_the_prose_quotes_what_the_notebook_prints(path, prose, check):
    markdown, printed = notebook_text(path)
    assert " ".join(prose.split()) in markdown, f"no such prose: {prose}"
    assert check(printed), f"the outputs no longer say what the prose quotes: {prose}"
