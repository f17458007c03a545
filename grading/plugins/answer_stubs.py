"""The places a student answers, in the notebook's language.

ClearSolutionsInLanguage, a GenerateAssignment step, uses the stubs configured for the notebook's
language (utils.i18n.notebook_language), so a Chinese release asks for 「在此作答」 where nbgrader
writes "YOUR ANSWER HERE"; English notebooks get nbgrader's configured stubs unchanged.
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
