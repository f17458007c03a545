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
printed, and that code may have copied a hidden test's text while it ran
(an IPython hook that keeps each cell's source, say). So every output of
the notebook that shows a line of a hidden test is replaced by a note.

`SettleLatePenalties` runs before nbgrader's GetGrades, so that feedback
written after hand grading shows the late penalty of the final score.
"""

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Integer

from grading.plugins.late import settle_late_penalties
from grading.plugins.quiet_config import display_data_priority


class SettleLatePenalties(NbGraderPreprocessor):
    """The notebook's late penalty from its final score, hand grades included
    (grading/plugins/late.py), for GetGrades to show."""

    display_data_priority = display_data_priority()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            settle_late_penalties(gradebook, self.config, info["assignment"], info["student"])
        return nb, resources


REMOVED = "[output removed: it showed a line of the grader's hidden tests]\n"


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests that also shortens the tracebacks of the cells it cleans."""

    display_data_priority = display_data_priority()

    shortest_line = Integer(
        12, help="Lines of hidden tests at least this long are looked for in outputs."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        self._hidden_lines = self.hidden_lines(nb)
        return super().preprocess(nb, resources)

    def hidden_lines(self, nb) -> set[str]:
        """The lines of the hidden tests in nb's grade cells, stripped."""
        lines, inside = set(), False
        for cell in nb.cells:
            if not utils.is_grade(cell):
                continue
            for line in cell.source.split("\n"):
                if self.begin_test_delimeter in line:
                    inside = True
                elif self.end_test_delimeter in line:
                    inside = False
                elif inside and len(line.strip()) >= self.shortest_line:
                    lines.add(line.strip())
        return lines

    def shows_hidden_test(self, output) -> bool:
        text = output_text(output)
        return any(line in text for line in self._hidden_lines)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code":
            removed = new_output("stream", name="stdout", text=REMOVED)
            cell.outputs = [removed if self.shows_hidden_test(output) else output for output in cell.outputs]
        had_hidden_tests = cell.cell_type == "code" and self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if had_hidden_tests:
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


def output_text(output) -> str:
    """All the text an output carries: stream text, error, and every data type."""
    parts = [output.get("text", ""), output.get("ename", ""), output.get("evalue", "")]
    parts += output.get("traceback", [])
    parts += [value if isinstance(value, str) else str(value) for value in output.get("data", {}).values()]
    return "\n".join(part if isinstance(part, str) else "".join(part) for part in parts)
