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

from conftest import REPO, printed_by_notebook

FIRST = REPO / "source" / "initialization" / "Initialization.ipynb"
DEEP = REPO / "source" / "initialization_deep" / "InitializationDeep.ipynb"
TOUR = REPO / "notebooks" / "DataAndHelpersTour.ipynb"
VARIANCE = REPO / "notebooks" / "VarianceThroughDepth.ipynb"


def notebook_text(path):
    """(all markdown, all printed output) of a notebook, as two strings."""
    notebook = nbformat.read(path, as_version=4)
    prose = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return " ".join(prose.split()), printed_by_notebook(notebook)  # prose with line breaks folded


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


def dead_units(printed):
    """{hidden layer: dead units} of the deep notebook's trained x 10 ReLU network."""
    found = re.findall(r"hidden layer (\d+): (\d+) of 10 units dead", printed)
    return {int(layer): int(dead) for layer, dead in found}


def number_after(printed, words):
    """The number printed right after words, such as 'of dW20' in '... of dW20 3.8e+00'."""
    return float(re.search(re.escape(words) + r"\s+(\S+)", printed).group(1).rstrip(",;"))


def gradient_sizes(printed, rule):
    """(size of dW1, size of dW20) for one rule of the variance companion."""
    line = next(line for line in printed.splitlines() if line.strip().startswith(rule))
    return number_after(line, "of dW1"), number_after(line, "of dW20")


def deep_gradients(printed, activation, method):
    """(backward gain, size of dW1, of dW50, of dW101) the deep notebook prints
    for one activation and method in its section on the way back."""
    line = re.search(rf"^\s*{activation},\s+{method}: backward gain .*$", printed, re.M).group(0)
    gain = number_after(line, "backward gain")
    return (gain, *(number_after(line, f"of dW{layer}") for layer in (1, 50, 101)))


def tanh_gradients(printed, rule):
    """(size of dW1, of dW25, of dW50) of the variance companion's tanh network."""
    line = next(line for line in printed.splitlines() if line.strip().startswith(rule) and "of dW25" in line)
    return tuple(number_after(line, f"of dW{layer}") for layer in (1, 25, 50))


def deep_tanh(printed):
    """The deep notebook's trainings of 20 and 100 tanh layers:
    ({(depth, method): (dW1 / dW_out, mean size, same class, different classes)},
     {(depth, method): (first cost, last cost, train accuracy %, test accuracy %)})."""
    before, after = {}, {}
    for line in printed.splitlines():
        fields = line.split()
        if len(fields) == 6 and fields[0] in ("20", "100") and fields[1] in ("xavier", "he"):
            key = (int(fields[0]), fields[1])
            if fields[-1].endswith("%"):
                after[key] = (float(fields[2]), float(fields[3]), *(float(f.rstrip("%")) for f in fields[4:]))
            else:
                before[key] = tuple(float(f) for f in fields[2:])
    return before, after


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
        "falls quickly at first (about 0.62 after 1,000 iterations)",
        lambda out: round(costs(out, 1)[1000], 2) == 0.62,
    ),
    (
        FIRST,
        "from iteration 8,000 on it hardly moves, and it ends near 0.38, with 83% training accuracy",
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
        "(99.3% on the training set, 96% on the test set)",
        lambda out: (round(accuracies(out)[2][0], 3), accuracies(out)[2][1]) == (0.993, 0.96),
    ),
    (FIRST, "| Zeros | 50% | 50% |", lambda out: accuracies(out)[0] == (0.5, 0.5)),
    (FIRST, "| Large random (×10) | 83% | 86% |", lambda out: accuracies(out)[1] == (0.83, 0.86)),
    (
        FIRST,
        "| He, ×√(2/fan-in) | 99% | 96% |",
        lambda out: (round(accuracies(out)[2][0], 2), accuracies(out)[2][1]) == (0.99, 0.96),
    ),
    (
        FIRST,
        "| Plain (×1) | 100% | 96% |",
        lambda out: (round(accuracies(out)[3][0], 2), accuracies(out)[3][1]) == (1.0, 0.96),
    ),
    (
        FIRST,
        "plain's 99.7% shows as 100%, He's 99.3% as 99%",
        lambda out: (round(accuracies(out)[3][0], 3), round(accuracies(out)[2][0], 3)) == (0.997, 0.993),
    ),
    (
        FIRST,
        "faster than He's for a while (0.406 against 0.530 at iteration 5,000)",
        lambda out: (round(costs(out, 3)[5000], 3), round(costs(out, 2)[5000], 3)) == (0.406, 0.53),
    ),
    (
        FIRST,
        "The cost starts higher, 1.97 against He's 0.88",
        lambda out: (round(costs(out, 3)[0], 2), round(costs(out, 2)[0], 2)) == (1.97, 0.88),
    ),
    (
        FIRST,
        "multiplied by 1, $\\sqrt 5$ and $\\sqrt{2.5}$ in layers 1 to 3",
        lambda out: (
            math.isclose(1 / math.sqrt(2 / 10), math.sqrt(5))
            and math.isclose(1 / math.sqrt(2 / 5), math.sqrt(2.5))
        ),
    ),
    (
        FIRST,
        "ends a little lower (0.064 against 0.074), with 99.7% of the training points right (He 99.3%) and "
        "the same 96% on the test set",
        lambda out: (
            (round(costs(out, 3)[14000], 3), round(costs(out, 2)[14000], 3)) == (0.064, 0.074)
            and round(accuracies(out)[3][0], 3) == 0.997
            and accuracies(out)[3][1] == accuracies(out)[2][1] == 0.96
        ),
    ),
    (
        FIRST,
        "Plain weights did as well (cost 0.064, 96% on the test set)",
        lambda out: round(costs(out, 3)[14000], 3) == 0.064 and accuracies(out)[3][1] == 0.96,
    ),
    (FIRST, "(a first cost of 1.97)", lambda out: round(costs(out, 3)[0], 2) == 1.97),
    (FIRST, "the cost levels off near 0.38", lambda out: "rounded: 0.38" in out),
    (
        FIRST,
        "Every output is *exactly* 1: the network is certain that every point has label 1",
        lambda out: "Outputs that are exactly 1: 300, exactly 0: 0, of 300" in out,
    ),
    (
        FIRST,
        "(before training all 300 outputs were exactly 1)",
        lambda out: "Outputs that are exactly 1: 300, exactly 0: 0, of 300" in out,
    ),
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
        "the two effects balance at a spread of about 0.6",
        lambda out: all(about(value, 0.6) for value in spreads(out, "tanh", "he")[2:]),
    ),
    (
        DEEP,
        "multiplies the spread by about $1/\\sqrt 2 \\approx 0.71$ at every layer, and the spread falls "
        "from 0.572 at layer 1 to 0.0251 at layer 10, 23 times smaller ($0.71^9 \\approx 1/22$)",
        lambda out: (
            (spreads(out, "relu", "xavier")[0], spreads(out, "relu", "xavier")[3]) == (0.572, 0.0251)
            and round(0.572 / 0.0251) == 23
            and round(1 / 0.71**9) == 22
        ),
    ),
    (
        DEEP,
        "(0.809 at layer 1, 0.804 at layer 10)",
        lambda out: (spreads(out, "relu", "he")[0], spreads(out, "relu", "he")[3]) == (0.809, 0.804),
    ),
    (
        DEEP,
        "from 0.592 at layer 1 to 0.253 at layer 10",
        lambda out: (spreads(out, "tanh", "xavier")[0], spreads(out, "tanh", "xavier")[3]) == (0.592, 0.253),
    ),
    (
        DEEP,
        "(0.689 at layer 1, 0.580 at layer 10)",
        lambda out: (spreads(out, "tanh", "he")[0], spreads(out, "tanh", "he")[3]) == (0.689, 0.580),
    ),
    (
        DEEP,
        "are close to the predictions: 1.021 for ReLU with He and 0.510 with Xavier, "
        "0.958 for tanh with Xavier and 1.106 with He.",
        lambda out: (
            [
                deep_gradients(out, activation, method)[0]
                for activation, method in (
                    ("relu", "he"),
                    ("relu", "xavier"),
                    ("tanh", "xavier"),
                    ("tanh", "he"),
                )
            ]
            == [1.021, 0.510, 0.958, 1.106]
        ),
    ),
    (
        DEEP,
        "from 7.1e-01 at layer 1 to 1.4e+01 at the output, a factor of about 20.",
        lambda out: deep_gradients(out, "relu", "he")[1::2] == (0.71, 14.0) and round(14.0 / 0.71, -1) == 20,
    ),
    (
        DEEP,
        "every gradient is about $10^{-15}$ (4.3e-16 at layer 1, 1.2e-15 at the output)",
        lambda out: deep_gradients(out, "relu", "xavier")[1::2] == (4.3e-16, 1.2e-15),
    ),
    (
        DEEP,
        "the gradients stay level (2.6e-02 at layer 1, 1.5e-02 at layer 50, 3.3e-02 at the output)",
        lambda out: deep_gradients(out, "tanh", "xavier")[1:] == (2.6e-02, 1.5e-02, 3.3e-02),
    ),
    (
        DEEP,
        "grows by about 11% per layer on its way back (gain 1.106), and the gradients grow with it: "
        "2.7e-01 at the output, 8.5e-01 at layer 50 and 1.6e+01 at layer 1, about 60 times the output's",
        lambda out: (
            deep_gradients(out, "tanh", "he") == (1.106, 16.0, 0.85, 0.27) and round(16.0 / 0.27, -1) == 60
        ),
    ),
    (
        DEEP,
        "end at about the same cost (0.0046 and 0.0048)",
        lambda out: (table(out, "tanh")["xavier"][1], table(out, "tanh")["he"][1]) == (0.0046, 0.0048),
    ),
    (
        DEEP,
        "the first layer's is 0.76 times the output layer's (Xavier's, 1.21 times). What differs is their "
        "size, 0.454 on average against Xavier's 0.129, more than three times larger",
        lambda out: (
            deep_tanh(out)[0][20, "he"][:2] == (0.76, 0.454)
            and deep_tanh(out)[0][20, "xavier"][:2] == (1.21, 0.129)
            and 3 < 0.454 / 0.129 < 4
        ),
    ),
    (
        DEEP,
        "after 30 of them its cost is 0.160 against Xavier's 0.250 (95.0% of the training images right "
        "against 90.7%; on the test images both get 88.9%)",
        lambda out: (
            deep_tanh(out)[1][20, "he"][1:] == (0.160, 95.0, 88.9)
            and deep_tanh(out)[1][20, "xavier"][1:] == (0.250, 90.7, 88.9)
        ),
    ),
    (
        DEEP,
        "gets a gradient 58.94 times the output layer's: a learning rate that moves the output layer's "
        "weights by a useful amount moves the first layer's about 59 times as far",
        lambda out: deep_tanh(out)[0][100, "he"][0] == 58.94,
    ),
    (
        DEEP,
        "After 30 steps He's cost is 0.689, next to the $\\ln 2 = 0.693$ of a guess, and it gets 54.4% of "
        "the training images right; Xavier's cost is 0.351, with 88.4%.",
        lambda out: (
            deep_tanh(out)[1][100, "he"][1:3] == (0.689, 54.4)
            and deep_tanh(out)[1][100, "xavier"][1:3] == (0.351, 88.4)
        ),
    ),
    (
        DEEP,
        "In the pixels, two digits of the same class are a little more alike than two of different classes "
        "(0.057 against -0.055).",
        lambda out: "same class: 0.057; of different classes: -0.055" in out,
    ),
    (
        DEEP,
        "the last hidden layer's columns for two images are unrelated whatever digits they show (0.000 "
        "against -0.001), so the output unit starts with nothing that tells odd from even. With Xavier's "
        "weights a part of it survives (0.017 against -0.016).",
        lambda out: (
            deep_tanh(out)[0][100, "he"][2:] == (0.0, -0.001)
            and deep_tanh(out)[0][100, "xavier"][2:] == (0.017, -0.016)
        ),
    ),
    (
        DEEP,
        "Where He's signal settles, the slopes keep 0.557 of the error's variance, and the doubled variance "
        "turns that into a gain of $2 \\times 0.557 \\approx 1.11$ per layer (1.106 measured in section 6)",
        lambda out: (
            "there the slopes keep 0.557" in out
            and round(2 * 0.557, 2) == 1.11
            and deep_gradients(out, "tanh", "he")[0] == 1.106
        ),
    ),
    (
        DEEP,
        "at 2 hidden layers Xavier and He trained tanh equally well, and at 20 He's larger gradients even "
        "trained faster.",
        lambda out: (
            abs(table(out, "tanh")["xavier"][1] - table(out, "tanh")["he"][1]) < 0.001
            and deep_tanh(out)[1][20, "he"][1] < deep_tanh(out)[1][20, "xavier"][1]
        ),
    ),
    (
        DEEP,
        "(ratio 0.76), and more than three times Xavier's (0.454 against 0.129 on average), so at learning "
        "rate 0.05 it reached cost 0.160 against Xavier's 0.250.",
        lambda out: (
            deep_tanh(out)[0][20, "he"][:2] == (0.76, 0.454)
            and deep_tanh(out)[0][20, "xavier"][1] == 0.129
            and (deep_tanh(out)[1][20, "he"][1], deep_tanh(out)[1][20, "xavier"][1]) == (0.160, 0.250)
        ),
    ),
    (
        DEEP,
        "backward gain (0.958) stays below 1, so nothing grows, and it trained (90.7% of the training images "
        "after 30 steps)",
        lambda out: (
            deep_gradients(out, "tanh", "xavier")[0] == 0.958 and deep_tanh(out)[1][20, "xavier"][2] == 90.7
        ),
    ),
    (
        DEEP,
        "He's backward gain of 1.106 compounds over the depth, its first layer's gradient was 59 times the "
        "output layer's, and its last hidden layer no longer told the classes apart (0.000 against -0.001), "
        "so after 30 steps at learning rate 0.05 it was still near a guess (54.4%) while Xavier reached "
        "88.4%.",
        lambda out: (
            deep_gradients(out, "tanh", "he")[0] == 1.106
            and round(deep_tanh(out)[0][100, "he"][0]) == 59
            and deep_tanh(out)[0][100, "he"][2:] == (0.0, -0.001)
            and (deep_tanh(out)[1][100, "he"][2], deep_tanh(out)[1][100, "xavier"][2]) == (54.4, 88.4)
        ),
    ),
    (
        DEEP,
        "| ReLU | He, $2/n$ | 0.809 to 0.804 | 1.021 |",
        lambda out: (
            (spreads(out, "relu", "he")[0], spreads(out, "relu", "he")[3]) == (0.809, 0.804)
            and deep_gradients(out, "relu", "he")[0] == 1.021
        ),
    ),
    (
        DEEP,
        "| ReLU | Xavier, $1/n$ | 0.572 to 0.0251 | 0.510 | every gradient about $10^{-15}$",
        lambda out: (
            (spreads(out, "relu", "xavier")[0], spreads(out, "relu", "xavier")[3]) == (0.572, 0.0251)
            and deep_gradients(out, "relu", "xavier")[0] == 0.510
            and all(1e-16 < size < 1e-14 for size in deep_gradients(out, "relu", "xavier")[1:])
        ),
    ),
    (
        DEEP,
        "| tanh | Xavier, $1/n$ | 0.592 to 0.253 | 0.958 | gradients level; 88.4% of the training images "
        "right after 30 steps |",
        lambda out: (
            (spreads(out, "tanh", "xavier")[0], spreads(out, "tanh", "xavier")[3]) == (0.592, 0.253)
            and deep_gradients(out, "tanh", "xavier")[0] == 0.958
            and deep_tanh(out)[1][100, "xavier"][2] == 88.4
        ),
    ),
    (
        DEEP,
        "| tanh | He, $2/n$ | 0.689 to 0.580 | 1.106 | first layer's gradient 59 times the output's, classes "
        "no longer told apart; 54.4% after 30 steps |",
        lambda out: (
            (spreads(out, "tanh", "he")[0], spreads(out, "tanh", "he")[3]) == (0.689, 0.580)
            and deep_gradients(out, "tanh", "he")[0] == 1.106
            and round(deep_tanh(out)[0][100, "he"][0]) == 59
            and deep_tanh(out)[1][100, "he"][2] == 54.4
        ),
    ),
    (
        DEEP,
        "0.08 (tanh) or 0.057 (ReLU) for the 64 pixels, then about 0.022 in both networks",
        lambda out: (
            about(spreads(out, "tanh", "small")[0], 0.08, 0.05)
            and about(spreads(out, "relu", "small")[0], 0.057, 0.25)
            and round(0.01 * 5**0.5, 3) == round(0.01 * (10 / 2) ** 0.5, 3) == 0.022
        ),
    ),
    (
        DEEP,
        "its accuracies, 50.1% and 51.2%, are the shares of odd digits in the two sets",
        lambda out: (
            re.search(r"^\s+zeros\s+\S+\s+\S+\s+50\.1%\s+51\.2%$", out, re.M) is not None
            and "Odd digits: 50.1% of the training set, 51.2% of the test set" in out
        ),
    ),
    (DEEP, "but after 2,000 steps it is still 0.6368", lambda out: table(out, "tanh")["random"][1] == 0.6368),
    (
        DEEP,
        "the spread of its last hidden layer is 3.8e-10 (printed above), against 2.2e-03",
        lambda out: (
            "10, 1]: spread of the last hidden layer with small weights: 3.8e-10" in out
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
    (
        DEEP,
        "at $\\mathrm{Var}(z) = 0.3$ they keep 0.688 and 0.654",
        lambda out: "Var(z) = 0.3: squashing keeps 0.654, the slopes keep 0.688" in out,
    ),
    (
        DEEP,
        "at $\\mathrm{Var}(z) \\approx 0.61$. (That is the variance of $z$; the activations then have a mean "
        "square of half of it, about 0.3, a spread of about 0.55, which is what section 5 measured for tanh "
        "with He.) There the slopes keep 0.557, more than half. So He's backward gain is "
        "$2 \\times 0.557 \\approx 1.11$",
        lambda out: (
            "one half at Var(z) = 0.61; there the slopes keep 0.557" in out
            and round(math.sqrt(0.61 / 2), 2) == 0.55
            and about(spreads(out, "tanh", "he")[2], 0.55, 0.02)
            and round(2 * 0.557, 2) == 1.11
        ),
    ),
    (
        DEEP,
        "every unit of hidden layers 3 to 6 is dead, its output 0 for every image, and the largest weight "
        "is 2.7e+39",
        lambda out: (
            all(dead_units(out)[layer] == 10 for layer in (3, 4, 5, 6))
            and dead_units(out)[2] < 10
            and "largest weight after training: 2.7e+39" in out
        ),
    ),
    # the companions
    (
        TOUR,
        "With He-scaled weights the outputs spread between about 0.5 and 0.9",
        lambda out: "he: outputs from 0.5044 to 0.8765" in out,
    ),
    (
        TOUR,
        "the cost is close to $\\ln 2 \\approx 0.693$",
        lambda out: "small: outputs from 0.5000 to 0.5000, cost 0.6931" in out,
    ),
    (
        VARIANCE,
        "after 50 layers the spread is 1.4e-05 with $c = 0.8$ and 1.0e+04 with $c = 1.2$",
        lambda out: (
            "c = 0.8: spread after layer 50 1.4e-05" in out
            and "c = 1.2: spread after layer 50 1.0e+04" in out
        ),
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
        "after 50 layers its spread is $4.7 \\times 10^{-8}$ times what it was after the first "
        "(2.73e-08 against 0.580)",
        lambda out: (
            number_after(out, "ReLU, Xavier 1/n: spread after layer 1 0.580, after layer 50") == 2.73e-08
            and round(2.73e-08 / 0.580, 9) == 4.7e-08
        ),
    ),
    (
        VARIANCE,
        "(0.630 after the first, 0.103 after the last)",
        lambda out: "tanh, Xavier 1/n: spread after layer 1 0.630, after layer 50 1.03e-01" in out,
    ),
    (
        VARIANCE,
        "(0.720, then 0.541)",
        lambda out: "tanh, He 2/n: spread after layer 1 0.720, after layer 50 5.41e-01" in out,
    ),
    (
        VARIANCE,
        "(4.9e-02 at layer 1, 4.5e-02 at layer 25, 4.3e-02 at the output)",
        lambda out: tanh_gradients(out, "Xavier 1/n") == (4.9e-02, 4.5e-02, 4.3e-02),
    ),
    (
        VARIANCE,
        "3.1e-01 at the output, 9.1e-01 at layer 25 and 4.0e+00 at layer 1, 13 times the output's",
        lambda out: tanh_gradients(out, "He 2/n") == (4.0, 0.91, 0.31) and round(4.0 / 0.31) == 13,
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
                for he, small in zip(gradient_sizes(out, "He 2/n"), gradient_sizes(out, "0.25/n"))
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
