"""grading/command/course.py: the course as the grading command loads it."""

from conftest import gradebook_locked
from grading.command.course import Course


def test_a_locked_gradebook_at_the_tidy_up_is_a_message_not_an_error(course):
    """The tidy-up after the class is graded (nbgrader's empty default_course
    row) meets a gradebook another process has locked: it returns why the
    row stays, in one line, for the command to print before it goes on to
    the export and the summary, instead of raising."""
    grading_course = Course(course)
    with gradebook_locked(grading_course):
        problem = grading_course.drop_empty_default_course()
    assert "database is locked" in problem and "\n" not in problem
    assert grading_course.drop_empty_default_course() is None  # once the lock is gone
