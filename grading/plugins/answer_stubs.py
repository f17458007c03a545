"""The places a student answers, in the notebook's language.

nbgrader's ClearSolutions replaces each solution with one stub for code and
one for written answers ("YOUR ANSWER HERE"), whatever the notebook's
language. This subclass, one of the GenerateAssignment steps, uses the stubs
configured for the notebook's language (utils.i18n.notebook_language: the
Chinese edition says so in its metadata), so that a Chinese release asks for
「在此作答」; English notebooks get nbgrader's configured stubs unchanged.
"""

from nbgrader.preprocessors import ClearSolutions
from traitlets import Dict

from utils.i18n import ENGLISH, notebook_language


class ClearSolutionsInLanguage(ClearSolutions):
    """ClearSolutions with stubs in the notebook's language."""

    text_stubs = Dict(
        help="{language: the stub of a written answer}, for notebooks not in English",
    ).tag(config=True)
    code_stubs = Dict(
        help="{language: {programming language: the stub of a solution}}, for notebooks not in English",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        language = notebook_language(nb)
        if language == ENGLISH:
            return super().preprocess(nb, resources)
        english = self.text_stub, self.code_stub
        self.text_stub = self.text_stubs.get(language, self.text_stub)
        self.code_stub = self.code_stubs.get(language, self.code_stub)
        try:
            return super().preprocess(nb, resources)
        finally:
            self.text_stub, self.code_stub = english
