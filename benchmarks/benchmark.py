"""Benchmark: the instructor notebooks and one 15,000-iteration training.

    .venv/bin/python benchmarks/benchmark.py [--repeats N]

Prints the seconds to execute each instructor notebook (source/*/) in a real
kernel, and the seconds (and microseconds per iteration) of one He
training of [2, 10, 5, 1] with utils/init_utils.py and with the plain
baseline in benchmarks/plain_helpers.py, in the same run, best of N. It also
prints how far the printed costs of the two differ and how far they are from
the published ones. This measures; it asserts nothing.
"""

import argparse
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

import plain_helpers  # noqa: E402
from examples import published_results  # noqa: E402  (the numbers the tests check too)
from utils import init_utils  # noqa: E402

NOTEBOOKS = [
    REPO / "source" / "initialization" / "Initialization.ipynb",
    REPO / "source" / "initialization_deep" / "InitializationDeep.ipynb",
]
LAYERS = [2, 10, 5, 1]


def he_parameters(layers_dims):
    np.random.seed(3)
    return {
        key: value
        for l in range(1, len(layers_dims))
        for key, value in (
            (
                f"W{l}",
                np.random.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(2.0 / layers_dims[l - 1]),
            ),
            (f"b{l}", np.zeros((layers_dims[l], 1))),
        )
    }


def train(helpers, X, Y, num_iterations=15000, learning_rate=0.01):
    """The notebook's training loop; returns the costs it would print."""
    parameters, printed = he_parameters(LAYERS), []
    for i in range(num_iterations):
        a3, cache = helpers.forward_propagation(X, parameters)
        if i % 1000 == 0:  # the cost only when shown, as the notebook does
            printed.append(float(helpers.compute_loss(a3, Y)))
        grads = helpers.backward_propagation(X, Y, cache)
        parameters = helpers.update_parameters(parameters, grads, learning_rate)
    return printed


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def execute_notebook(path):
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    X, Y, _, _ = init_utils.load_dataset()

    for path in NOTEBOOKS:
        seconds, _ = best_time(lambda: execute_notebook(path), repeats)
        print(f"{path.name}, executed in a fresh kernel: {seconds:.2f} s (best of {repeats})")

    results = {}
    for name, helpers in (("plain baseline", plain_helpers), ("utils/init_utils", init_utils)):
        seconds, costs = best_time(lambda: train(helpers, X, Y), repeats)
        results[name] = (seconds, costs)
        print(
            f"15,000-iteration training, {name:17s}: {seconds:.3f} s = "
            f"{seconds / 15000 * 1e6:.1f} us/iteration (best of {repeats})"
        )
    (plain_s, plain_costs), (ours_s, our_costs) = results.values()
    print(f"speed ratio plain / utils: {plain_s / ours_s:.2f}")
    print(
        "largest difference between the two implementations' printed costs: "
        f"{max(abs(a - b) for a, b in zip(plain_costs, our_costs)):.1e}"
    )
    print(
        "largest difference of utils' costs from the published ones: "
        f"{max(abs(a - b) for a, b in zip(our_costs, published_results.HE_COSTS)):.1e}"
    )


if __name__ == "__main__":
    main()
