"""Formulas render with no network (issue 36): the feedback page carries
them as MathML (grading/plugins/formulas.py) and loads nothing from outside
its own file; formgrader's grading page takes MathJax from the Jupyter
server. The pages here are made by the course's exporter as nbgrader's
GenerateFeedback builds it, from a notebook given full marks, without
grading; the browser opens real ones with the network cut in
test_browser_formgrader.py.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nbformat
import pytest
from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory

from conftest import ASSIGNMENTS, REPO
from grading.configuration import course_config
from grading.plugins.formulas import tex_to_mathml

# Schemes a browser fetches from another machine; "//host/..." takes the page's.
NETWORK_SCHEMES = ("http", "https", "ftp", "ws", "wss")
CSS_ADDRESS = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")


class PageAddresses(HTMLParser):
    """What a browser loads on its own from a page (scripts, styles, images,
    fonts, frames, the <base> of relative addresses; not the links a reader
    may follow), how many scripts it has, and the text it shows outside code
    and formulas."""

    LOADED = {"src", "srcset", "data", "poster", "background", "xlink:href"}
    LOADED_BY_HREF = {"link", "base", "image", "use"}
    SKIPPED = {"code", "pre", "math", "style", "script"}

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.loaded, self.scripts, self.text, self._skipping, self._style = [], 0, [], [], False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.scripts += tag == "script"
        for name, value in attrs:
            if value and (name in self.LOADED or (name == "href" and tag in self.LOADED_BY_HREF)):
                self.loaded += [part.split()[0] for part in value.split(",")] if name == "srcset" else [value]
            if name == "style" and value:
                self.loaded += [match[0] or match[1] for match in CSS_ADDRESS.findall(value)]
        if tag in self.SKIPPED:
            self._skipping.append(tag)
        self._style = tag == "style"

    def handle_endtag(self, tag):
        if tag in self._skipping:
            del self._skipping[len(self._skipping) - 1 - self._skipping[::-1].index(tag) :]
        self._style = False

    def handle_data(self, data):
        if self._style:
            self.loaded += [match[0] or match[1] for match in CSS_ADDRESS.findall(data)]
        if not self._skipping:
            self.text.append(data)

    def from_the_network(self):
        """The addresses that lead to another machine."""
        return [
            address
            for address in self.loaded
            if urlsplit(address.strip()).scheme.lower() in NETWORK_SCHEMES or address.strip().startswith("//")
        ]


def graded(notebook):
    """The notebook as GetGrades leaves it for the page, every grade cell at full marks."""
    total = 0
    for cell in notebook.cells:
        nbgrader = cell.metadata.get("nbgrader", {})
        if nbgrader.get("grade"):
            nbgrader["score"] = nbgrader["points"]
            total += nbgrader["points"]
    return notebook, {"score": total, "max_score": total, "late_penalty": 0}


def feedback_page(notebook, name="Notebook"):
    """The feedback page of the notebook, from the exporter nbgrader's
    GenerateFeedback makes with the course's configuration."""
    config = course_config(REPO)
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config, root=str(REPO)), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor, enabled=True)
    notebook, scores = graded(notebook)
    page, _ = exporter.from_notebook_node(notebook, resources={"nbgrader": {**scores, "notebook": name}})
    return page


def markdown_notebook(*sources):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source) for source in sources])


@pytest.fixture(scope="module", params=sorted(ASSIGNMENTS))
def assignment_page(request):
    """(the source notebook of an assignment, its feedback page)."""
    notebook = nbformat.read(REPO / "source" / request.param / ASSIGNMENTS[request.param], as_version=4)
    return notebook, feedback_page(nbformat.from_dict(notebook), ASSIGNMENTS[request.param][: -len(".ipynb")])


def test_the_check_finds_what_nbconvert_loads_from_a_cdn():
    """nbconvert's own page loads MathJax, require.js and more from a CDN:
    the check sees them (and a relative address, a local file, is no network)."""
    page, _ = HTMLExporter(template_name="classic").from_notebook_node(markdown_notebook("$x$"))
    found = PageAddresses(page).from_the_network()
    assert any("mathjax" in address.lower() for address in found), found
    assert PageAddresses('<img src="figure.png"><link href="style.css">').from_the_network() == []


def test_a_feedback_page_loads_nothing_from_the_network(assignment_page):
    _, page = assignment_page
    shown = PageAddresses(page)
    assert shown.from_the_network() == []
    assert shown.scripts == 0  # no MathJax, nor any other script


def test_every_formula_of_a_feedback_page_is_mathml(assignment_page):
    """No formula is left as TeX for a script to typeset: the page's text
    (outside code) holds no TeX delimiter, and the formulas are <math> elements."""
    notebook, page = assignment_page
    text = "".join(PageAddresses(page).text)
    for delimiter in ("$", "\\(", "\\[", "\\begin{"):
        assert delimiter not in text, text[max(0, text.find(delimiter) - 80) :][:200]
    typed = sum(cell.source.count("$") for cell in notebook.cells if cell.cell_type == "markdown")
    assert typed and page.count("<math ") >= typed // 4  # a formula takes 2 dollars, or 4
    assert "<msqrt>" in page and "<mfrac>" in page


def test_formulas_are_written_as_mathml_without_links_styles_or_markup():
    assert tex_to_mathml(r"\sqrt{2/n}", display=False).startswith('<math display="inline">')
    assert "<msqrt>" in tex_to_mathml(r"\sqrt{2/n}", display=True)
    # What a student may type: no link, style or class reaches the page.
    for tex in (r"\href{javascript:alert(1)}{\sqrt{2}}", r"\style{color:red}{x}", r"\class{nav}{x}"):
        mathml = tex_to_mathml(tex, display=False)
        assert mathml and not re.search(r"href|style=|class=|javascript", mathml), mathml
    # latex2mathml copies \text{...} unescaped, and cannot read everything:
    # such formulas are left to the page to show as typed.
    assert tex_to_mathml(r"\text{<img src=x onerror=alert(1)>}", display=False) is None
    assert tex_to_mathml(r"\frac{1}{", display=False) is None
    assert ">layers_dims[l-1]</mtext>" in tex_to_mathml(r"\texttt{layers\_dims[l-1]}", display=False)


def test_a_formula_that_cannot_be_read_is_shown_as_typed():
    """Through the page's sanitizer and markdown: "<" is a formula's operator,
    and a formula that is not turned into MathML shows as escaped text."""
    page = feedback_page(
        markdown_notebook(
            "Order: $a < b$.",
            "Broken: $\\frac{1}{$ and hostile: $\\text{<img src=x onerror=alert(1)>}$.",
        )
    )
    assert "<mo>&lt;</mo>" in page
    assert "$\\frac{1}{$" in page
    assert "<img src=x" not in page
    assert "$\\text{&lt;img src=x onerror=alert(1)&gt;}$" in page


def test_the_page_without_nbconverts_last_pass_shows_the_same(assignment_page):
    """grading.compat.html_page leaves out nbconvert's BeautifulSoup pass when
    a page has no picture without alt text: the page shows the same text,
    and a picture without alt text still gets nbconvert's."""
    from bs4 import BeautifulSoup

    notebook, page = assignment_page
    config = course_config(REPO)
    converter = GenerateFeedback(coursedir=CourseDirectory(config=config, root=str(REPO)), config=config)
    exporter = converter.exporter_class(parent=converter, config=converter.config)
    exporter.register_preprocessor(CSSHTMLHeaderPreprocessor, enabled=True)
    copy, scores = graded(nbformat.from_dict(notebook))
    resources = {"nbgrader": {**scores, "notebook": "Notebook"}}
    by_nbconvert, _ = HTMLExporter.from_notebook_node(exporter, copy, resources=resources)
    assert "<img" not in page or "alt=" in page
    assert (
        BeautifulSoup(page, "html.parser").get_text() == BeautifulSoup(by_nbconvert, "html.parser").get_text()
    )

    picture = nbformat.v4.new_markdown_cell('<img src="data:image/png;base64,iVBORw0KGgo=">')
    with_picture = feedback_page(nbformat.v4.new_notebook(cells=[picture]))
    assert 'alt="No description has been provided for this image"' in with_picture


def test_a_page_made_from_remembered_cells_is_the_page_made_anew(assignment_page):
    """Each worker renders a markdown text or highlights a code cell once
    (feedback_page.py): the next student's page is the page rendered anew."""
    from grading.plugins import feedback_page as pages

    notebook, page = assignment_page
    pages.remembered_markdown_html.cache_clear()
    pages.highlighted_html.cache_clear()
    anew = feedback_page(nbformat.from_dict(notebook), "Notebook")
    assert pages.remembered_markdown_html.cache_info().currsize > 0
    assert pages.highlighted_html.cache_info().currsize > 0
    assert feedback_page(nbformat.from_dict(notebook), "Notebook") == anew


def test_a_cells_attachments_are_never_taken_from_another_page():
    """Two students' cells of the same text with different pictures attached
    each show their own picture: a cell with attachments is never remembered."""

    def page_with(picture):
        cell = nbformat.v4.new_markdown_cell("![drawing](attachment:drawing.png)")
        cell.attachments = {"drawing.png": {"image/png": picture}}
        return feedback_page(nbformat.v4.new_notebook(cells=[cell]))

    assert "iVBORw0KGgoAAAA" in page_with("iVBORw0KGgoAAAA")
    assert "iVBORw0KGgoBBBB" in page_with("iVBORw0KGgoBBBB")
