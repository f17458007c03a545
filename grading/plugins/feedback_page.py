"""The feedback page in the language of the notebook it shows.

The course's template (grading/templates/course_feedback: nbgrader's, each text through the
`course_text` filter) shows nbgrader's English words ("Score", "Test cell", ...) in the notebook's
language (utils.i18n.notebook_language), and sets the page's lang. nbgrader_config.py makes
`FeedbackPage` the exporter of `GenerateFeedback`, which the grading command uses too
(grading/command/feedback_writer.py).
"""

from pathlib import Path

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.markdown_mistune import MarkdownWithMath

from grading.compat import html_page
from grading.plugins.formulas import MathMLRenderer
from utils.i18n import N_, notebook_language, translation

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_NAME = "course_feedback"

# Every text of the template, for the catalog (translation/editions.py); a test checks it uses no other.
PAGE_TEXTS = (
    N_("Score: {score}"),
    N_("(Score: {score})"),
    N_("Waiting for hand grading (out of {points})"),
    N_("(waiting for hand grading, out of {points})"),
    N_("Test cell"),
    N_("Coding free-response"),
    N_("Written response"),
    N_("Task"),
    N_("Comment"),
    N_("Late submission penalty (Score: -{penalty})"),
    N_("(Top)"),
    N_("Student's answer"),
    N_("Student's task"),
    N_("Test cell:"),
    N_("Comments:"),
)
# Comments nbgrader writes itself (SaveAutoGrades), translated; an instructor's are shown as written.
GRADER_COMMENTS = (N_("No response."),)
# The value of the html element's lang attribute, per language of the course.
PAGE_LANGUAGES = {"en": "en", "zh_CN": "zh-CN"}


def course_text(text: str, notebook, **values) -> str:
    """text (one of PAGE_TEXTS) in the notebook's language, filled with values."""
    return translation(notebook_language(notebook)).gettext(text).format(**values)


def grader_comment(comment: str, notebook) -> str:
    """A comment nbgrader wrote, in the notebook's language; any other as it is."""
    if comment in GRADER_COMMENTS:
        return translation(notebook_language(notebook)).gettext(comment)
    return comment


def page_title(notebook, file_name: str) -> str:
    """The notebook's title (its first markdown cell's first heading), or else its file name."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
            title = first_line.lstrip("#").strip() if first_line.startswith("#") else ""
            return title[:200] or file_name
    return file_name


def page_language(notebook) -> str:
    """The html lang attribute of the notebook's page ("en", "zh-CN")."""
    return PAGE_LANGUAGES[notebook_language(notebook)]


class FeedbackPage(HTMLExporter):
    """nbconvert's HTML exporter, with the course feedback template's filters (nbgrader_config.py).

    Formulas are written as MathML (formulas.py), so the page loads nothing from the network."""

    @pass_context
    def markdown2html(self, context, source):
        """HTMLExporter.markdown2html (nbconvert 7.17), with the course's renderer."""
        cell = context.get("cell", {})
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=context.get("resources", {}).get("metadata", {}).get("path", ""),
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)

    def from_notebook_node(self, nb, resources=None, **kw):
        # nbconvert's, without its slow last pass where it has nothing to do.
        return html_page(self, nb, resources, **kw)

    def default_filters(self):
        yield from super().default_filters()
        yield ("course_text", course_text)
        yield ("grader_comment", grader_comment)
        yield ("page_language", page_language)
        yield ("page_title", page_title)
