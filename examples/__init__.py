"""Example classes and the student's side of a submission.

The main job grades the example classes (`python -m examples.grade_examples`),
the tests check every score they must get, and the benchmarks time them: all
three use this package, which needs no pytest. The grading package itself
never imports it.
"""
