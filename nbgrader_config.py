"""nbgrader configuration of the course. The folder holding this file is the
course root: run every nbgrader command from here."""

import os
import sys

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

# Make the course's own grading package importable from the course root.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grading.feedback import HideHiddenTests  # noqa: E402

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

c.CourseDirectory.course_id = "initializing-neural-networks"

# Solutions sit between these lines. nbgrader replaces the first line with the
# stub and drops the second, so the stub repeats both to keep them visible.
c.ClearSolutions.begin_solution_delimeter = "### START CODE HERE ###"
c.ClearSolutions.end_solution_delimeter = "### END CODE HERE ###"
c.ClearSolutions.code_stub = {
    "python": ("### START CODE HERE ###\n"
               "# YOUR CODE HERE\n"
               "raise NotImplementedError()\n"
               "### END CODE HERE ###"),
}

# Hidden tests: removed from the release, restored when autograding.
c.ClearHiddenTests.begin_test_delimeter = "### BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "### END HIDDEN TESTS"

# Seconds one cell may run when validating or autograding. The slowest cell,
# a 15,000-iteration training, takes 1-3 s; a stuck cell is stopped after this.
c.Execute.timeout = 60

# Feedback: the default shows hidden test code and tracebacks; this does not.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    HideHiddenTests,
    CSSHTMLHeaderPreprocessor,
]
