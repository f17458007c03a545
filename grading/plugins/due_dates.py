"""Due dates in the gradebook from the moment an assignment is generated, so formgrader shows them.

The dates live in nbgrader_config.py (c.Grading.due_dates). WriteDueDate, a GenerateAssignment step,
writes them into the gradebook, where late penalties and formgrader read them; the grading command
writes them again before grading, with the same function (write_due_date).
"""

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict
from traitlets.config import Configurable

from grading.gradebook import course_gradebook


class Grading(Configurable):
    """Course settings of the grading command, read from nbgrader_config.py."""

    due_dates = Dict(
        help="Due date of each assignment, such as "
        "{'initialization': '2026-12-04 23:59:00 UTC'}; "
        "written into the gradebook before grading."
    ).tag(config=True)


def write_due_date(gradebook: Gradebook, settings: Grading, assignment: str) -> None:
    """Write the assignment's configured due date, if it has one, into the gradebook."""
    due = settings.due_dates.get(assignment)
    if due:
        gradebook.update_or_create_assignment(assignment, duedate=due)


class WriteDueDate(NbGraderPreprocessor):
    """Write the assignment's configured due date into the gradebook (not with `--no-db`)."""

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        settings = Grading(parent=self)
        if assignment in settings.due_dates and not self.config.GenerateAssignment.get("no_database", False):
            coursedir = CourseDirectory(parent=self)
            with course_gradebook(coursedir, resources["nbgrader"]["db_url"]) as gradebook:
                write_due_date(gradebook, settings, assignment)
        return nb, resources
