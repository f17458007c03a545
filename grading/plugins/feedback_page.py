"""The feedback page in the language of the notebook it shows.

The course's template (grading/templates/course_feedback: nbgrader's, each text through the
`course_text` filter) shows nbgrader's English words ("Score", "Test cell", ...) in the notebook's
language (utils.i18n.notebook_language), and sets the page's lang. nbgrader_config.py makes
`FeedbackPage` the exporter of `GenerateFeedback`, which the grading command uses too
(grading/command/feedback_writer.py).
"""

import functools
import json
from pathlib import Path

from jinja2 import pass_context
from nbconvert.exporters import HTMLExporter
from nbconvert.filters.highlight import Highlight2HTML
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


# Most cells are the same on every student's page: a process renders each text once.
# Both keys hold everything the HTML depends on (the text and the exporter's settings).
REMEMBERED = 1024  # texts, of each kind
REMEMBERED_LENGTH = 5_000  # characters (the course's longest cell has 4,048): a longer one is rendered anew


def markdown_html(source: str, settings: tuple, attachments=None, embed_images=False, path="") -> str:
    """The HTML of a markdown text (settings: anchor_link_text, exclude_anchor_links and the
    lexer_options as JSON), with formulas as MathML (formulas.py)."""
    anchor_link_text, exclude_anchor_links, lexer_options = settings
    renderer = MathMLRenderer(
        escape=False,
        attachments=attachments or {},
        embed_images=embed_images,
        path=path,
        anchor_link_text=anchor_link_text,
        exclude_anchor_links=exclude_anchor_links,
        **json.loads(lexer_options),
    )
    return MarkdownWithMath(renderer=renderer).render(source)


remembered_markdown_html = functools.lru_cache(maxsize=REMEMBERED)(markdown_html)


@functools.lru_cache(maxsize=REMEMBERED)
def highlighted_html(source: str, language: str, magics_language, formatter_options: str) -> str:
    """nbconvert's highlighted HTML of a code cell's source (formatter_options as JSON)."""
    options = json.loads(formatter_options)
    highlighter = Highlight2HTML(pygments_lexer=language, extra_formatter_options=options)
    metadata = None if magics_language is None else {"magics_language": magics_language}
    return highlighter(source, language, metadata)


class RememberedHighlight:
    """The page's highlight_code filter, each source highlighted once per process."""

    def __init__(self, highlighter):
        self.highlighter = highlighter

    def __call__(self, source, language=None, metadata=None):
        magics_language = (metadata or {}).get("magics_language")
        if (
            type(self.highlighter) is not Highlight2HTML  # a filter the course's configuration gave
            or len(source) > REMEMBERED_LENGTH
            or ("magics_language" in (metadata or {}) and not isinstance(magics_language, str))
        ):
            return self.highlighter(source, language, metadata)
        return highlighted_html(
            source,
            language or self.highlighter.pygments_lexer,
            magics_language,
            json.dumps(self.highlighter.extra_formatter_options, sort_keys=True),
        )


def page_title(notebook, file_name: str) -> str:
    """The notebook's title (its first markdown cell's first heading), or else its file name."""
    markdown = next((cell.source for cell in notebook.cells if cell.cell_type == "markdown"), "")
    first_line = (markdown.strip().splitlines() or [""])[0]
    title = first_line.lstrip("#").strip() if first_line.startswith("#") else ""
    return title[:200] or file_name


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
        attachments = cell.get("attachments", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        lexer_options = json.dumps(self.lexer_options, sort_keys=True)
        settings = (self.anchor_link_text, self.exclude_anchor_links, lexer_options)
        if attachments or self.embed_images or len(source) > REMEMBERED_LENGTH:
            # the HTML depends on more than the text, or the text is too long to keep
            return markdown_html(source, settings, attachments, self.embed_images, path)
        return remembered_markdown_html(source, settings)

    def from_notebook_node(self, nb, resources=None, **kw):
        # nbconvert's, without its slow last pass where it has nothing to do.
        return html_page(self, nb, resources, remembered=RememberedHighlight, **kw)

    def default_filters(self):
        yield from super().default_filters()
        yield ("course_text", course_text)
        yield ("grader_comment", grader_comment)
        yield ("page_language", page_language)
        yield ("page_title", page_title)
