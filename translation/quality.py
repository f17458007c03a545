"""What a translation must carry over unchanged from its English text.

A translation rewrites the sentences, but not the facts a student checks
against the notebook: numbers, code, formulas, placeholders filled in at run
time, the markdown structure, and the names a docstring documents.
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
    if kind == "printed":  # names such as train_X or ValueError read the same in Chinese
        has_words = re.search(r"(?<!\w)(?:[a-z]{3,}|[A-Z][a-z]{3,})(?!\w)", _without(_EXPRESSION, english))
    else:
        has_words = re.search(r"[A-Za-z]{3,}", _without(_MATH, _without(_CODE, english)))
    only_output = _FENCE.fullmatch(english.strip())  # a block of expected output
    if has_words and not only_output and not _CJK.search(english) and not _CJK.search(translation):
        found.append("the translation has no Chinese text")
    return found


@functools.cache
def glossary():
    """The glossary's entries: (English term, rendering, renderings not to use)."""
    entries = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            term, rendering, avoided = (line.split("\t") + ["", ""])[:3]
            entries.append((term, rendering, [variant for variant in avoided.split(",") if variant]))
    return entries


def glossary_problems(english, translation):
    """Where a translation renders a glossary term of its English otherwise
    than listed, or with a rendering the glossary rules out."""
    prose = _without(_MATH, _without(_CODE, _without(_FENCE, english)))
    found = []
    for term, rendering, avoided in glossary():
        mentioned = re.search(rf"(?<![\w-]){re.escape(term)}s?(?![\w-])", prose, re.IGNORECASE)
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
