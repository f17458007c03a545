"""Feedback that never shows hidden tests.

nbgrader's `generate_feedback` would show the hidden tests' code and tracebacks. `HideHiddenTests`
(nbgrader_config.py) removes each hidden-test region as ClearHiddenTests does for the release, and
cuts the traceback of such a cell, which would quote hidden code, to one line: name and message.
From the first cell with hidden tests on, only the grader's outputs are shown: code that ran after
the kernel saw a hidden test may have kept its text (an IPython hook, say) and printed it in any
encoding. See docs/threat-model.md.

`SettleLatePenalties` runs before GetGrades, so feedback after hand grading shows the final penalty.
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
    """Write the late penalty of the final score, hand grades included (late.py), for GetGrades."""

    display_data_priority = display_data_priority()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with course_gradebook(CourseDirectory(parent=self), info["db_url"]) as gradebook:
            settle_late_penalties(gradebook, self.config, info["assignment"], info["student"])
        return nb, resources


class ShowWaitingHandGrades(NbGraderPreprocessor):
    """Mark each graded cell waiting for hand grading (`needs_manual_grade`), so that the feedback page
    says so rather than show a 0 nobody gave (grading/templates/course_feedback)."""

    display_data_priority = display_data_priority()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with course_gradebook(CourseDirectory(parent=self), info["db_url"]) as gradebook:
            where = (info["notebook"], info["assignment"], info["student"])
            for cell in nb.cells:
                grade = cell.metadata.get("nbgrader", {})
                if grade.get("grade"):
                    found = gradebook.find_grade(grade["grade_id"], *where)
                    grade["waits_for_hand_grade"] = bool(found.needs_manual_grade)
        return nb, resources


# Cells whose outputs the grader made (grading/errors.py): they show no kernel output.
GRADERS_OUTPUTS = (JUDGED, SKIPPED, NOT_RUN)
# Cells that ran, then were stopped: the grader's error is their last output.
STOPPED = (TIMED_OUT, KERNEL_STOPPED)


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests that also shortens hidden tests' tracebacks and withholds kernel output after them."""

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
        """A code cell's outputs shown after a hidden test ran: the grader's own, never the kernel's."""
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
        """A judged cell's output as the feedback shows it. A failed verdict's error is named only
        when known (the grader's, or a built-in type: a student's class can have any name), and loses
        its message, the student's own text, when the student's function raised it (hints stay)."""
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
    """Whether a judged cell's verdict quotes an error the student's function raised. Fails closed: a
    cell judged before the grader wrote student_message counts if its verdict is an error."""
    flag = mark.get("student_message")
    return flag is True or (flag is None and mark.get("verdict") == "error")
