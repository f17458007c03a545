"""A student's results (grading/command/results.py)."""

from grading.command.results import exercise_names


def test_exercise_names_drop_the_shared_prefix():
    assert exercise_names(["test_initialize_parameters_zeros", "test_initialize_parameters_he"]) == [
        "zeros",
        "he",
    ]
    assert exercise_names(["test_only"]) == ["only"]
