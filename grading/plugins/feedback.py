"""Feedback that never shows hidden tests.

nbgrader's `generate_feedback` renders the autograded notebook, in which the
hidden tests have been put back, and by default shows their code and the
tracebacks they raised. `HideHiddenTests` is used in their place (see
nbgrader_config.py): in every grade cell that holds a hidden-test region it
removes the region, exactly as nbgrader's ClearHiddenTests does when it makes
the release, and replaces each error's traceback, which would quote hidden
code, by one line with the error's name and message. The student still sees
which test cell failed, its score, and why in a sentence.

The graded cells' outputs are the trusted grader's verdicts
(grading/plugins/verdicts.py), but any other cell shows what the student's code
printed, and code that ran after a hidden test had been sent to the kernel
may have kept its text (an IPython hook that keeps each cell's source, say)
and printed it in any encoding. So from the first cell with hidden tests
on, the feedback shows only the outputs the grader made (its verdicts, its
notes on cells left out, stopped or not run), and a note in place of the
kernel's.

`SettleLatePenalties` runs before nbgrader's GetGrades, so that feedback
written after hand grading shows the late penalty of the final score.
"""

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from grading.errors import JUDGED, KERNEL_STOPPED, NOT_RUN, SKIPPED, TIMED_OUT, marked
from grading.gradebook import course_gradebook
from grading.notes import (
    ERROR_MESSAGE_WITHHELD,
    OUTPUT_WITHHELD,
    VERDICT_NAMES,
    error_line,
    note,
    stream_note,
)
from grading.plugins.late import settle_late_penalties
from grading.plugins.quiet_config import display_data_priority
from utils.i18n import KNOWN_TYPE_NAMES, notebook_language


class SettleLatePenalties(NbGraderPreprocessor):
    """The notebook's late penalty from its final score, hand grades included
    (grading/plugins/late.py), for GetGrades to show."""

    display_data_priority = display_data_priority()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with course_gradebook(CourseDirectory(parent=self), info["db_url"]) as gradebook:
            settle_late_penalties(gradebook, self.config, info["assignment"], info["student"])
        return nb, resources


class ShowWaitingHandGrades(NbGraderPreprocessor):
    """Mark each graded cell whose grade waits for the instructor's hand
    (nbgrader's `needs_manual_grade`), so that the feedback page says so
    instead of showing a score of 0 that nobody gave (see the course's
    feedback template, grading/templates/course_feedback)."""

    display_data_priority = display_data_priority()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with course_gradebook(CourseDirectory(parent=self), info["db_url"]) as gradebook:
            for cell in nb.cells:
                grade = cell.metadata.get("nbgrader", {})
                if not grade.get("grade"):
                    continue
                found = gradebook.find_grade(
                    grade["grade_id"], info["notebook"], info["assignment"], info["student"]
                )
                grade["waits_for_hand_grade"] = bool(found.needs_manual_grade)
        return nb, resources


# Cells whose outputs the grader made (grading/errors.py): they show no kernel output.
GRADERS_OUTPUTS = (JUDGED, SKIPPED, NOT_RUN)
# Cells that ran, then were stopped: the grader's error is their last output.
STOPPED = (TIMED_OUT, KERNEL_STOPPED)


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests that also shortens the tracebacks of the cells it
    cleans, and withholds what the kernel printed once it had seen a hidden test."""

    display_data_priority = display_data_priority()

    def preprocess(self, nb, resources):
        self._language = notebook_language(nb)  # of the notes the feedback adds
        self._first_hidden = next(
            (
                index
                for index, cell in enumerate(nb.cells)
                if utils.is_grade(cell) and self.begin_test_delimeter in cell.source
            ),
            len(nb.cells),
        )
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and cell_index >= self._first_hidden:
            cell.outputs = self.shown_outputs(cell)
        had_hidden_tests = cell.cell_type == "code" and self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if had_hidden_tests:
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [error_line(self._language, output.ename, output.evalue)]
        return cell, resources

    def shown_outputs(self, cell) -> list:
        """What the feedback shows of a code cell run after a hidden test was:
        the grader's own outputs, never the kernel's (a hook of the
        student's may have kept the hidden tests' text, in any encoding)."""
        mark = marked(cell)
        outcome = mark.get("outcome")
        if outcome == JUDGED:
            return [self.judged_output(output, mark) for output in cell.outputs]
        if outcome in GRADERS_OUTPUTS:
            return cell.outputs
        if outcome in STOPPED:
            return cell.outputs[-1:]
        return [stream_note(self._language, OUTPUT_WITHHELD)] if cell.outputs else []

    def judged_output(self, output, mark: dict):
        """A judged cell's output as the feedback shows it. Of a failed
        verdict, the error's name is shown only when it is a known one (the
        grader's, or a built-in type's): a class the student's code made can
        have any name. A verdict on an error the student's function raised
        loses its message too (the student's own text, up to 2,000
        characters); the hints the course's checks added to it stay."""
        if output.get("output_type") != "error":
            return output
        known = output.ename in KNOWN_TYPE_NAMES or output.ename in VERDICT_NAMES
        name = output.ename if known else "Error"
        message = output.evalue
        if quotes_the_student(mark):
            hints = [hint for hint in mark.get("hints", []) if isinstance(hint, str)]
            message = "\n".join([note(self._language, ERROR_MESSAGE_WITHHELD, name=name), *hints])
        line = error_line(self._language, name, message)
        return new_output("error", ename=name, evalue=message, traceback=[line])


def quotes_the_student(mark: dict) -> bool:
    """Whether a judged cell's verdict quotes an error the student's function
    raised. A cell judged before the grader wrote student_message (any
    verdict on an error) counts as one: the feedback fails closed."""
    flag = mark.get("student_message")
    return flag is True or (flag is None and mark.get("verdict") == "error")
