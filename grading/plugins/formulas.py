"""The formulas of the feedback page, written into it as MathML (docs/upstream.md).

nbconvert leaves formulas as TeX for MathJax, loaded from a CDN: offline, a student sees raw TeX.
The course writes each as MathML when the page is made (latex2mathml), which browsers render
themselves, so the page loads no script. A formula latex2mathml cannot read is shown as typed.
Students type formulas too: the MathML is rebuilt from known elements and presentation attributes
only (no href, style or class), and a formula whose MathML holds anything else is shown as typed
(latex2mathml copies `\\text{...}` unescaped).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree

from nbconvert.filters.markdown_mistune import IPythonRenderer

MATHML = "http://www.w3.org/1998/Math/MathML"

# The MathML elements a formula may hold (MathML Core and what latex2mathml writes).
ELEMENTS = frozenset(
    """math semantics annotation mrow mi mn mo ms mtext mspace mfrac msqrt mroot msub msup
    msubsup munder mover munderover mmultiscripts mprescripts none mtable mtr mtd mlabeledtr
    mstyle mpadded mphantom menclose merror maligngroup malignmark""".split()
)
# Their presentation attributes: sizes, spacing, alignment, variants, colours.
ATTRIBUTES = frozenset(
    """display displaystyle scriptlevel mathvariant mathsize mathcolor mathbackground dir
    stretchy fence separator accent accentunder largeop movablelimits symmetric form lspace
    rspace minsize maxsize linethickness bevelled numalign denomalign width height depth
    voffset notation columnalign columnspacing columnlines columnwidth rowalign rowspacing
    rowlines frame framespacing equalrows equalcolumns align side minlabelspacing rowspan
    columnspan encoding""".split()
)


# TeX's escaped characters, which latex2mathml leaves in \text{...} and \texttt{...} ("layers\_dims").
TEXT_ESCAPE = re.compile(r"\\([_&%$#{} ])")


class UnsafeFormula(ValueError):
    """latex2mathml's MathML holds an element outside ELEMENTS."""


def tex_to_mathml(tex: str, display: bool) -> str | None:
    """The formula tex as a <math> element (display: a block of its own), or
    None when latex2mathml cannot read it or writes something unsafe."""
    from latex2mathml.converter import convert  # an instructor's package (requirements/instructor.txt)

    try:
        tree = ElementTree.fromstring(convert(tex, display="block" if display else "inline"))
        return _element(tree)
    except Exception:  # latex2mathml raises many kinds on TeX it cannot read
        return None


def _element(element) -> str:
    """element and its children as MathML in HTML (whose parser puts <math> in
    the MathML namespace itself), with only ELEMENTS and ATTRIBUTES kept."""
    namespace, _, name = element.tag.rpartition("}")
    if namespace not in ("", "{" + MATHML) or name not in ELEMENTS:
        raise UnsafeFormula(element.tag)
    attributes = "".join(
        f' {key}="{html.escape(value, quote=True)}"'
        for key, value in element.attrib.items()
        if key in ATTRIBUTES
    )
    text = element.text or ""
    if name == "mtext":
        text = TEXT_ESCAPE.sub(r"\1", text)
    inside = html.escape(text, quote=False)
    for child in element:
        inside += _element(child) + html.escape(child.tail or "", quote=False)
    return f"<{name}{attributes}>{inside}</{name}>"


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with each formula written as MathML.

    nbconvert's HTML sanitizer (HTMLExporter.sanitize_html) escaped "<", ">" and "&" in the
    markdown: a formula is unescaped once before it is read."""

    def _formula(self, tex: str, display: bool, typed: str) -> str:
        return tex_to_mathml(html.unescape(tex), display) or self.escape_html(html.unescape(typed))

    def block_math(self, body: str) -> str:
        return self._formula(body, True, f"$${body}$$")

    def inline_math(self, body: str) -> str:
        return self._formula(body, False, f"${body}$")

    def latex_environment(self, name: str, body: str) -> str:
        environment = f"\\begin{{{name}}}{body}\\end{{{name}}}"
        return self._formula(environment, True, environment)
