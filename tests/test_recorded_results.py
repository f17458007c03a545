"""The instructor notebook's recorded outputs reproduce the published results.

nbval checks that a fresh run gives the recorded outputs; these tests check
that the recorded outputs are the published ones.
"""

import re

import nbformat
import pytest

from conftest import REPO, printed, printed_by_notebook
from examples import published_results as published

NOTEBOOK = REPO / "source" / "initialization" / "Initialization.ipynb"
COST_LINE = re.compile(r"^Cost after iteration (\d+): (\S+)$", re.MULTILINE)
ACCURACY_LINE = re.compile(r"^(Training|Test) set: Accuracy: (\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(NOTEBOOK, as_version=4).cells


def text_output(cells, code_fragment):
    """All printed text of the one code cell whose source holds code_fragment."""
    matches = [cell for cell in cells if cell.cell_type == "code" and code_fragment in cell.source]
    assert len(matches) == 1, f"expected one cell with {code_fragment!r}"
    return printed(matches[0].outputs)


def costs(text):
    """{iteration: cost text} from the model's printout."""
    return {int(i): cost for i, cost in COST_LINE.findall(text)}


def accuracies(text):
    found = dict(ACCURACY_LINE.findall(text))
    return {"train": found.get("Training"), "test": found.get("Test")}


def expected_iterations():
    return list(range(0, published.NUM_ITERATIONS, published.PRINT_EVERY))


def test_zeros_cost_is_ln2_at_every_print_and_accuracy_is_half(cells):
    text = text_output(cells, 'model(train_X, train_Y, initialization="zeros")')
    recorded = costs(text)
    assert list(recorded) == expected_iterations()
    assert set(recorded.values()) == {published.ZEROS_COST_TEXT}
    assert accuracies(text) == published.ZEROS_ACCURACY


def test_zeros_predicts_zero_everywhere(cells):
    text = text_output(cells, "Predictions equal to 0")
    assert "training 300 of 300 | test 100 of 100" in text


def test_large_random_costs_loosely_and_accuracies_exactly(cells):
    recorded = costs(text_output(cells, 'model(train_X, train_Y, initialization="random")'))
    assert list(recorded) == expected_iterations()
    assert recorded[0] == published.RANDOM_FIRST_COST_TEXT
    for iteration, approx in published.RANDOM_COSTS_APPROX.items():
        assert float(recorded[iteration]) == pytest.approx(approx, abs=published.RANDOM_COST_TOLERANCE)
    summary = text_output(cells, "Cost after training, rounded")
    assert accuracies(summary) == published.RANDOM_ACCURACY


def test_large_random_saturates_before_training(cells):
    text = text_output(cells, "initial_parameters = initialize_parameters_random")
    assert "exactly 1: 300, exactly 0: 0, of 300" in text
    assert "Cost before training: inf" in text


def test_he_costs_to_1e12_and_accuracies_exactly(cells):
    text = text_output(cells, 'model(train_X, train_Y, initialization="he")')
    recorded = costs(text)
    assert list(recorded) == expected_iterations()
    for (iteration, cost), expected in zip(recorded.items(), published.HE_COSTS):
        assert abs(float(cost) - expected) <= published.HE_COST_TOLERANCE, iteration
    assert accuracies(text) == published.HE_ACCURACY


@pytest.mark.parametrize(
    "check, values",
    [
        ("check_random_initializer", [published.RANDOM_3_2_1]),
        ("check_he_initializer", [published.HE_2_4_1, published.HE_3_1_2]),
    ],
)
def test_initial_values_match_the_published_ones(cells, check, values):
    text = text_output(cells, check + "(")
    for parameters in values:
        for matrix in parameters.values():
            for number in (x for row in matrix for x in row):
                assert f"{number:.8f}".rstrip("0") in text


def test_conclusions_table_lists_the_three_results(cells):
    table = next(
        cell.source for cell in cells if cell.cell_type == "markdown" and "| Initialization |" in cell.source
    )
    for label, accuracy in published.CONCLUSIONS:
        row = next(line for line in table.splitlines() if line.startswith("| " + label))
        assert accuracy in row


# ------------------------------------------------------- initialization_deep


def deep_outputs():
    notebook = nbformat.read(
        REPO / "source" / "initialization_deep" / "InitializationDeep.ipynb", as_version=4
    )
    return printed_by_notebook(notebook)


def results_tables(text):
    """{network: {method: (first cost text, final cost, train accuracy)}} from the tables."""
    rows = re.findall(
        r"^\s+(zeros|random|small|xavier|he)\s+(\S+)\s+([\d.]+)\s+([\d.]+)%\s+([\d.]+)%$", text, re.MULTILINE
    )
    assert len(rows) == 10, "two tables of five methods"
    tables = {"tanh": rows[:5], "relu": rows[5:]}
    return {
        network: {
            method: (first, float(final), float(train) / 100) for method, first, final, train, _ in table
        }
        for network, table in tables.items()
    }


def test_deep_training_shows_the_expected_pattern():
    tables = results_tables(deep_outputs())
    for network, table in tables.items():
        for method in published.DEEP_STALLED[network]:
            _, final, train = table[method]
            assert final == published.DEEP_STALLED_COST, (network, method)
            low, high = published.DEEP_GUESSING_ACCURACY
            assert low < train < high, (network, method)
        for method in published.DEEP_LEARNING[network]:
            _, final, train = table[method]
            assert final < published.DEEP_LEARNED["max_final_cost"], (network, method)
            assert train >= published.DEEP_LEARNED["min_train_accuracy"], (network, method)
        assert table["random"][0] == published.DEEP_RANDOM_FIRST_COST
    assert tables["tanh"]["random"][1] > published.DEEP_TANH_RANDOM_MIN_FINAL_COST


def test_deep_spreads_vanish_explode_or_stay_steady():
    text = deep_outputs()
    spreads = {}
    for network, block in re.findall(
        r"^(tanh|relu): spread of the activations.*?\n((?:  .*\n)+)", text, re.MULTILINE
    ):
        for method, values in re.findall(r"^\s+(\w+):\s+(.*)$", block, re.MULTILINE):
            spreads[(network, method)] = [float(value) for value in values.split()]
    assert len(spreads) == 10
    for key, (low, high) in published.DEEP_SPREAD_LAYER_10.items():
        assert low <= spreads[key][-1] <= high, key
    assert all(value == 0 for network in ("tanh", "relu") for value in spreads[(network, "zeros")])
