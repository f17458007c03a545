"""What a translation must carry over unchanged from its English text.

A translation rewrites the sentences, but not the facts a student checks
against the notebook: numbers, code, formulas, placeholders filled in at run
time, the markdown structure, and the names a docstring documents. It also
follows the edition's typography: an English gloss in full-width brackets
with no space, 扇入（fan-in）; no italics on Chinese characters, which have no
italic glyphs; one spelling of the scale formulas.
"""

import functools
import re
from collections import Counter
from pathlib import Path

GLOSSARY = Path(__file__).resolve().parents[1] / "locale" / "zh_CN" / "glossary.tsv"

_FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
_CODE = re.compile(r"(?<!`)`[^`]+`(?!`)")
_TEXT_IN_MATH = re.compile(r"\\text\{[^{}]*\}")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.DOTALL)
_PLACEHOLDER = re.compile(r"(?<!\{)\{[A-Za-z_][A-Za-z0-9_]*(?:![rs])?(?::[^{}]*)?\}(?!\})")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?%?")
_HEADING = re.compile(r"^(#{1,6}) ", re.MULTILINE)
_LIST_ITEM = re.compile(r"^\s*(?:\d+\.|[-*]) ", re.MULTILINE)
_ARGUMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*) -- ", re.MULTILINE)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_EXPRESSION = re.compile(r"\{[^{}]*\}")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
# 权重 (weights): half-width brackets after Chinese, with or without a space
# (or closing emphasis) between; the gloss is English words, not code such as (n_x, m).
_HALF_WIDTH_GLOSS = re.compile(rf"[{_HAN}]\**[ \t]*\([A-Za-z][A-Za-z' /-]*[A-Za-z]\)")
# 扇入（fan-in）: the one way to gloss a term.
_GLOSS = re.compile(rf"[{_HAN}]\**（([A-Za-z][A-Za-z' /-]*[A-Za-z])）")
# 权重 （weights）: a full-width gloss set off by a space.
_SPACED_GLOSS = re.compile(rf"[{_HAN}]\**[ \t]+（[A-Za-z]")
# *为什么*: emphasis with single asterisks around text that holds Chinese.
_ITALIC = re.compile(r"(?<![*\\])\*(?![*\s])([^*\n]*?)(?<![\s*])\*(?!\*)")
# sqrt(2 / 扇入) and √(2/扇入): prose writes $\sqrt{2/n}$, code sqrt(2 / layers_dims[l-1]).
_FAN_IN_FORMULA = re.compile(r"(?:√|sqrt)\s*\([^()]*扇入")
# 15,000 in English may be 15000 in Chinese, which writes no thousands separators.
_SEPARATED = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?:e[-+]?\d+)?%?")
# What a translation may add for its readers beyond its English; removed from
# the translation before the comparisons of code and structure.
ADDITIONS = (
    # PyTorch's name of He's initializer, beside 又称 Kaiming 初始化
    re.compile(r"`kaiming_normal_`"),
    # further reading in Chinese, appended to the deep notebook's references
    re.compile(r"^\* [^\n]*\(https://zh\.d2l\.ai/[^\n]*$", re.MULTILINE),
)


def _without(pattern, text):
    return pattern.sub(" ", text)


def _formulas(text):
    """The formulas of a text; words in \\text{...} may be translated."""
    return Counter(
        _TEXT_IN_MATH.sub(r"\\text{}", formula)
        for formula in _MATH.findall(_without(_CODE, _without(_FENCE, text)))
    )


def numbers(text):
    """The numbers written in text, outside inline code and formulas (which
    are compared whole); fenced blocks (expected output) count."""
    prose = _without(_MATH, _without(_CODE, text))
    return Counter(number.rstrip(",") for number in _NUMBER.findall(prose))


def problems(english, translation, kind="markdown"):
    """Differences between ``english`` and ``translation`` that a translation
    must not have, as readable sentences (empty when all is well)."""
    found = []
    typography = typography_problems(translation, kind)
    for addition in ADDITIONS:
        translation = addition.sub(" ", translation)

    def compare(name, of_english, of_translation):
        if of_english != of_translation:
            found.append(f"{name} differ: {of_english} in English, {of_translation} in the translation")

    compare(
        "inline code spans",
        Counter(_CODE.findall(_without(_FENCE, english))),
        Counter(_CODE.findall(_without(_FENCE, translation))),
    )
    compare("fenced blocks", len(_FENCE.findall(english)), len(_FENCE.findall(translation)))
    compare("formulas", _formulas(english), _formulas(translation))
    compare(
        "placeholders", Counter(_PLACEHOLDER.findall(english)), Counter(_PLACEHOLDER.findall(translation))
    )
    missing = numbers(english) - numbers(translation)
    surplus = numbers(translation) - numbers(english)
    for number in list(missing.elements()):
        plain = number.replace(",", "")
        if _SEPARATED.fullmatch(number) and surplus[plain] > 0:
            surplus[plain] -= 1
            missing[number] -= 1
    missing = +missing
    if missing:
        found.append(f"numbers missing from the translation: {sorted(missing)}")
    if kind == "markdown":
        compare("heading levels", _HEADING.findall(english), _HEADING.findall(translation))
        compare("list items", len(_LIST_ITEM.findall(english)), len(_LIST_ITEM.findall(translation)))
    if kind == "printed":  # an f-string's {expressions} are code
        compare(
            "expressions", Counter(_EXPRESSION.findall(english)), Counter(_EXPRESSION.findall(translation))
        )
    if kind == "docstring":
        compare("documented names", _ARGUMENT.findall(english), _ARGUMENT.findall(translation))
    found += glossary_problems(english, translation)
    found += typography
    if kind == "printed":  # names such as train_X or ValueError read the same in Chinese
        has_words = re.search(r"(?<!\w)(?:[a-z]{3,}|[A-Z][a-z]{3,})(?!\w)", _without(_EXPRESSION, english))
    else:
        has_words = re.search(r"[A-Za-z]{3,}", _without(_MATH, _without(_CODE, english)))
    only_output = _FENCE.fullmatch(english.strip())  # a block of expected output
    if has_words and not only_output and not _CJK.search(english) and not _CJK.search(translation):
        found.append("the translation has no Chinese text")
    return found


def glosses(translation):
    """The English glosses of a translation, "fan-in" for 扇入（fan-in）: a
    notebook glosses a term once, where it defines it."""
    return _GLOSS.findall(translation)


def typography_problems(translation, kind="markdown"):
    """Where a translation breaks the edition's typography: a half-width or
    spaced gloss, italics on Chinese text (markdown), a formula spelled with
    扇入 in it."""
    # code and formulas, which may stand between 用 and （He）, as a mark that is no space
    text = _FENCE.sub("⟨⟩", translation)
    text = _MATH.sub("⟨⟩", _CODE.sub("⟨⟩", text))
    found = [
        f"gloss in half-width brackets: {gloss!r}; write 中文（English）"
        for gloss in _HALF_WIDTH_GLOSS.findall(text)
    ]
    found += [
        f"space before a full-width gloss: {gloss!r}; write 中文（English）"
        for gloss in _SPACED_GLOSS.findall(text)
    ]
    if kind == "markdown":
        found += [
            f"italics on Chinese text: *{emphasis}*; use bold or nothing"
            for emphasis in _ITALIC.findall(text)
            if re.search(f"[{_HAN}]", emphasis)
        ]
    found += [
        f"formula written with 扇入: {formula!r}...; write $\\sqrt{{2/n}}$ in prose, "
        "sqrt(2 / layers_dims[l-1]) in code"
        for formula in _FAN_IN_FORMULA.findall(translation)
    ]
    return found


@functools.cache
def glossary():
    """The glossary's entries: (English term, rendering, renderings not to
    use, English phrases in which the term has another sense)."""
    entries = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            term, rendering, avoided, other_senses = (line.split("\t") + ["", "", ""])[:4]
            entries.append(
                (
                    term,
                    rendering,
                    [variant for variant in avoided.split(",") if variant],
                    [phrase for phrase in other_senses.split(",") if phrase],
                )
            )
    return entries


def glossary_problems(english, translation):
    """Where a translation renders a glossary term of its English otherwise
    than listed, or with a rendering the glossary rules out."""
    prose = _without(_MATH, _without(_CODE, _without(_FENCE, english)))
    prose = " ".join(prose.split())  # a phrase may be broken across lines
    found = []
    for term, rendering, avoided, other_senses in glossary():
        in_this_sense = prose
        for phrase in other_senses:  # "the outputs spread between": not the standard deviation
            in_this_sense = re.sub(re.escape(phrase), " ", in_this_sense, flags=re.IGNORECASE)
        mentioned = re.search(rf"(?<![\w-]){re.escape(term)}s?(?![\w-])", in_this_sense, re.IGNORECASE)
        if not mentioned:
            continue  # 渐变 is fine in a sentence about colours, not for "vanishing"
        if rendering not in translation:
            found.append(f"glossary: {term!r} is rendered {rendering!r}")
        found += [
            f"glossary: {variant!r} should read {rendering!r}"
            for variant in avoided
            if variant in translation
        ]
    return found
