"""Due dates in the gradebook from the moment an assignment is generated, so
that formgrader shows them before anything is graded.

The dates live in nbgrader_config.py (c.Grading.due_dates). nbgrader keeps
an assignment's due date in the gradebook, where late penalties and
formgrader read it; this preprocessor, one of the GenerateAssignment steps,
writes it there each time `nbgrader generate_assignment` (or formgrader's
Generate button) runs. The grading command writes it again before grading.
"""

from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor

from grading.course import Grading


class WriteDueDate(NbGraderPreprocessor):
    """Write the assignment's configured due date into the gradebook (not
    under `generate_assignment --no-db`); the notebook passes through unchanged."""

    def preprocess(self, nb, resources):
        assignment = resources["nbgrader"]["assignment"]
        due = Grading(parent=self).due_dates.get(assignment)
        if due and not self.config.GenerateAssignment.get("no_database", False):
            # The course's own id: a Gradebook opened without one adds a
            # course named "default_course" to the database.
            course_id = CourseDirectory(parent=self).course_id
            with Gradebook(resources["nbgrader"]["db_url"], course_id=course_id) as gradebook:
                gradebook.update_or_create_assignment(assignment, duedate=due)
        return nb, resources
