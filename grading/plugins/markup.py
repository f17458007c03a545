"""A submission's markdown, made safe for the pages that show it (docs/threat-model.md).

Formgrader renders markdown without cleaning the HTML: a written answer could run script in the
instructor's browser, on the Jupyter server's origin. So every non-code cell of the autograded
notebook (and so of the feedback) goes through inert_markup: each `<` that would open a tag, comment
or declaration is escaped (raw HTML cells too), and a cell whose rendered links or pictures lead
anywhere but the web, mail, the page or its attachments (`javascript:`, `data:`, however spelled), or
whose math holds MathJax's `\\href` or `\\url`, is shown as plain text. The course's markdown has neither.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

import grading.compat  # noqa: F401 (checks the nbconvert whose renderer this uses)

TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# Where a link may lead (no scheme at all: this page or a relative address).
SAFE_SCHEMES = {"http", "https", "mailto", "attachment"}
SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
URL_ATTRIBUTES = {"href", "src", "xlink:href", "action", "formaction", "poster", "background"}
TEX_LINKS = ("\\href", "\\url")
# What a browser takes out of an address before it reads its scheme.
IGNORED_IN_URLS = re.compile(r"[\x00-\x20]")
# A picture's own bytes (what a cell's attachments become in a page).
PICTURE_DATA = re.compile(r"data:image/(png|jpeg|gif);")


def inert_markup(text: str, markdown: bool = True) -> str:
    """A markdown (or, markdown=False, raw) cell's text with no HTML tag and no harmful link."""
    escaped = TAG_START.sub("&lt;", text)
    if markdown and escaped != text and ("`" in text or "~~~" in text):
        # Code shows `&lt;` as typed: keep code as written when the page
        # then holds nothing but markdown's own markup (else escape it all).
        kept = escape_outside_code(text)
        if kept != escaped and renders_only_markdown(kept):
            escaped = kept
    if may_link(escaped) and has_harmful_link(escaped):
        return as_plain_text(text)  # a fenced block escapes its text itself: shown as typed
    return escaped


# Fenced code blocks (3+ backticks or tildes up to the same fence) and code spans (same-length runs).
CODE = re.compile(
    r"^ {0,3}(?P<fence>`{3,}|~{3,})[^\n]*\n.*?^ {0,3}(?P=fence)[`~]*[ \t]*$"
    r"|(?<!`)(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)",
    re.MULTILINE | re.DOTALL,
)
# What nbconvert's markdown renderer writes itself, pygments included: {tag: the attributes it may carry}.
PLAIN = ()
MARKDOWN_MARKUP = {
    **dict.fromkeys(["p", "em", "strong", "del", "ul", "li", "blockquote", "hr", "br"], PLAIN),
    **dict.fromkeys(["h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr"], PLAIN),
    **dict.fromkeys(["code", "pre", "div", "span"], ("class",)),
    **dict.fromkeys(["th", "td"], ("style", "align")),
    "ol": ("start",),
    "a": ("href", "title"),
    "img": ("src", "alt", "title"),
}


def escape_outside_code(text: str) -> str:
    """text with every `<` that would open a tag escaped, except in what
    looks like code (CODE); renders_only_markdown decides whether it was."""
    pieces, start = [], 0
    for code in CODE.finditer(text):
        pieces += [TAG_START.sub("&lt;", text[start : code.start()]), code.group()]
        start = code.end()
    return "".join(pieces) + TAG_START.sub("&lt;", text[start:])


def renders_only_markdown(text: str) -> bool:
    """Whether nbconvert renders text with no tag or attribute of its own
    making: the `<` left in code stayed code."""
    try:
        page = render(text)
    except Exception:  # noqa: BLE001 (what nbconvert cannot render is escaped whole)
        return False
    checker = MarkupChecker()
    checker.feed(page)
    checker.close()
    return checker.only_markdown


def may_link(text: str) -> bool:
    """False when text cannot hold a link (most cells: no rendering needed)."""
    return "](" in text or "]:" in text or any(macro in text for macro in TEX_LINKS)


@functools.lru_cache(maxsize=1024)  # the course's own cells come again for every student
def has_harmful_link(text: str) -> bool:
    if any(macro in text for macro in TEX_LINKS):
        return True
    try:
        page = render(text)
    except Exception:  # noqa: BLE001 (what nbconvert cannot render is not shown rendered)
        return True
    finder = AddressFinder()
    finder.feed(page)
    finder.close()
    return any(is_harmful(address) for address in finder.addresses)


def render(text: str) -> str:
    """text as formgrader's nbconvert renders a markdown cell, any named attachment a picture's bytes."""
    return MarkdownWithMath(renderer=IPythonRenderer(escape=False, attachments=AnyAttachment())).render(text)


class AnyAttachment(dict):
    """The attachments of a cell that has every attachment it names."""

    def __missing__(self, name):
        return {"image/png": ""}

    def __contains__(self, name):
        return True


def is_harmful(address: str) -> bool:
    """Whether a browser would follow address somewhere other than SAFE_SCHEMES."""
    address = IGNORED_IN_URLS.sub("", address).lower()
    scheme = SCHEME.match(address)
    return scheme is not None and scheme[1] not in SAFE_SCHEMES and not PICTURE_DATA.match(address)


class MarkupChecker(HTMLParser):
    """Whether a page has only the tags and attributes markdown makes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.only_markdown = True

    def handle_starttag(self, tag, attrs):
        allowed = MARKDOWN_MARKUP.get(tag)
        if allowed is None or any(name not in allowed for name, _ in attrs):
            self.only_markdown = False

    handle_startendtag = handle_starttag

    def handle_comment(self, data):  # a comment, declaration or processing instruction
        self.only_markdown = False

    handle_decl = handle_pi = handle_comment


class AddressFinder(HTMLParser):
    """The addresses in a page's links and pictures, entities decoded as a browser does."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.addresses: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.addresses += [value or "" for name, value in attrs if name in URL_ATTRIBUTES]


def as_plain_text(text: str) -> str:
    """text in a fenced block: shown as it was typed, with nothing rendered."""
    fence = "~" * max(3, 1 + max((len(run) for run in re.findall("~+", text)), default=0))
    return f"{fence}\n{text}\n{fence}\n"
