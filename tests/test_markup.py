"""grading/plugins/markup.py: a student's written answer made inert.

formgrader renders a submission's markdown without cleaning it, and
nbconvert keeps javascript: links, so whatever a student types must reach
those pages as text: tags escaped, harmful links shown as typed, code kept
as the student wrote it. (That grading applies it to every markdown and raw
cell is tested in tests/test_execute.py.)"""

import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from grading.plugins.markup import inert_markup


def test_code_in_a_written_answer_is_shown_as_typed():
    """A `<` in a code span or a fenced block is shown as the student typed
    it (not as `&lt;`), while a tag outside code is still escaped."""
    answer = "If `x<y` then <b>bold</b>:\n\n```python\nif a<b:\n    pass\n```\n"
    shown = inert_markup(answer)
    assert shown == "If `x<y` then &lt;b>bold&lt;/b>:\n\n```python\nif a<b:\n    pass\n```\n"
    page = markdown2html_mistune(shown)
    assert "<code>x&lt;y</code>" in page and "<b>" not in page


CODE_THAT_IS_NOT_CODE = [
    "\\`<img src=x onerror=alert(1)>`",  # an escaped backtick opens no code span
    "``a` <img src=x onerror=1> `",  # runs of different lengths
    "`a\n\nb` <img src=x onerror=1> `c`",  # a blank line ends a span
    "```\n<img src=x onerror=1>",  # a fence left open
    "<!-- `x` --> <img src=x onerror=1> `y`",
]


@pytest.mark.parametrize("answer", CODE_THAT_IS_NOT_CODE)
def test_what_only_looks_like_code_keeps_no_tag(answer):
    """Wherever the markdown renderer would not see code, every tag stays escaped."""
    page = markdown2html_mistune(inert_markup(answer))
    assert "<img" not in page and "<!--" not in page, page


HARMFUL_LINKS = [
    "see [the proof](javascript:alert(1))",
    "see [the proof](JaVa&#x53;cript:alert(1))",  # an entity a browser decodes
    "see [the proof](&#106;avascript:alert(1))",
    "see [the proof]( \tjavascript:alert(1))",  # blanks a browser drops
    "see [the proof](vbscript:msgbox(1))",
    "see [the proof](data:text/html;base64,PHNjcmlwdD4=)",
    "![a picture](data:image/svg+xml;base64,PHN2Zz4=)",
    "see [the proof][1]\n\n[1]: javascript:alert(1)",  # a reference
    "so $\\href{javascript:alert(1)}{W}$ grows",  # MathJax's link
]


@pytest.mark.parametrize("answer", HARMFUL_LINKS)
def test_a_written_answer_with_a_harmful_link_is_shown_as_plain_text(answer):
    """nbconvert keeps javascript: links, and formgrader renders a written
    answer without cleaning it: such an answer is shown as typed, in a fence."""
    shown = inert_markup(answer)
    assert shown == f"~~~\n{answer}\n~~~\n"
    assert 'href="javascript' not in markdown2html_mistune(shown).lower()


def test_a_fenced_answer_shows_its_tags_as_typed_and_runs_none():
    """A fence escapes what it holds: a tag in it is shown as typed, once
    escaped (not `&lt;` shown literally), and no tag reaches the page."""
    answer = "see [it](javascript:alert(1)) <img src=x onerror=f()> ~~~\n</code></pre><script>g()</script>"
    shown = inert_markup(answer)
    assert shown == f"~~~~\n{answer}\n~~~~\n"
    page = markdown2html_mistune(shown)
    assert "<img" not in page and "<script" not in page and "</code></pre><" not in page
    assert "&lt;img src=x onerror=f()&gt;" in page


def test_a_raw_cell_with_a_fence_is_escaped_all_the_same():
    """Only markdown keeps code as typed: a raw cell's text is escaped
    whole, a fence in it included."""
    raw = "~~~\n<script>alert(1)</script>\n~~~"
    assert "<script" not in inert_markup(raw, markdown=False)
    assert inert_markup(raw, markdown=False) == "~~~\n&lt;script>alert(1)&lt;/script>\n~~~"


def test_links_to_the_web_mail_the_page_and_attachments_stay_links():
    answer = (
        "See [the paper](https://arxiv.org/abs/1502.01852), [mail](mailto:a@b.org), "
        "[above](#he-initialization), [notes](notes.md) and ![plot](attachment:plot.png); $\\sqrt{2/n}$"
    )
    assert inert_markup(answer) == answer
