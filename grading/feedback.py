"""Feedback that never shows hidden tests.

nbgrader's `generate_feedback` renders the autograded notebook, in which the
hidden tests have been put back, and by default shows their code and the
tracebacks they raised. `HideHiddenTests` is used in their place (see
nbgrader_config.py): in every grade cell that holds a hidden-test region it
removes the region, exactly as nbgrader's ClearHiddenTests does when it makes
the release, and replaces each error's traceback, which would quote hidden
code, by one line with the error's name and message. The student still sees
which test cell failed, its score, and why in a sentence.
"""

from nbgrader.preprocessors import ClearHiddenTests
from traitlets import List


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests that also shortens the tracebacks of the cells it cleans."""

    # nbconvert's HTML exporter sets NbConvertBase.display_data_priority for
    # everything it runs; nbgrader's preprocessors redefine that trait without
    # config=True, and traitlets would warn "Config option display_data_priority
    # not recognized by HideHiddenTests" on every feedback. Configurable here
    # (as nbgrader's GetGrades has it), unused.
    display_data_priority = List(ClearHiddenTests.class_traits()["display_data_priority"].default()).tag(
        config=True
    )

    def preprocess_cell(self, cell, resources, cell_index):
        had_hidden_tests = cell.cell_type == "code" and self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if had_hidden_tests:
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
