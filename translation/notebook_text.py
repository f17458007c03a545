"""The prose of a notebook as translation units, and the notebook rebuilt from
their translations.

A unit is one piece of English a student reads:

* a block of a markdown cell (a paragraph, a list, a heading, a displayed
  equation or a fenced code block: the text between blank lines);
* a comment in a code cell (consecutive full-line comments at one indentation
  form one unit, so that a sentence spread over several lines stays whole);
* a docstring;
* a string literal that a print() call is given (the line a cell prints),
  so that a Chinese notebook prints Chinese; an f-string's {expressions}
  stay as they are.

Code is never a unit: a translated notebook runs the same tokens as the
English one, graded test cells included, but for the text of its print()
strings, so both editions grade the same code. The lines of a solution and
of hidden tests are left whole: the student never sees them.
"""

import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

from grading.configuration import delimiters

# From Python 3.12 on, an f-string is several tokens, not one STRING: the
# printed f-strings would silently stop being units. The course pins 3.11.
if sys.version_info >= (3, 12):
    raise RuntimeError("translation/ reads f-strings as Python 3.11 tokenizes them: run it with Python 3.11")

_COURSE_ROOT = Path(__file__).resolve().parents[1]


def private_regions() -> list[tuple[str, str]]:
    """(begin, end) marker lines of the solutions and the hidden tests, as
    nbgrader_config.py sets them (read on first use, not on import)."""
    markers = delimiters(_COURSE_ROOT)
    return [markers["solution"], markers["hidden tests"]]


# Comments that tools read, not students.
_TOOL_COMMENT = re.compile(r"^#\s*(noqa|type:|pragma|pylint|fmt:)|^###")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Unit:
    """One translatable piece of a cell."""

    cell_index: int
    kind: str  # "markdown", "comment", "docstring" or "printed"
    text: str  # the English, as the catalog's msgid


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def markdown_blocks(source):
    """Split markdown into blocks at blank lines, except inside ``` fences
    and $$ display equations."""
    blocks, current, fenced = [], [], False
    for line in source.split("\n"):
        if line.strip() == "" and not fenced:
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
        if line.strip().startswith("```") or line.strip() == "$$":
            fenced = not fenced
    if current:
        blocks.append("\n".join(current))
    return blocks


def join_markdown(blocks):
    return "\n\n".join(blocks)


# --------------------------------------------------------------------------
# Code: comments and docstrings, located by the tokenizer
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """Where a unit sits in a cell's source: (line, column) from and to,
    lines counted from 1 as the tokenizer does."""

    start: tuple
    end: tuple
    kind: str
    text: str
    indent: str = ""  # for comment blocks: what precedes "#" on each line
    trailing: bool = False  # a comment after code, which must stay one line


def _is_magic(line):
    return line.lstrip().startswith(("%", "!"))


def masked_source(source):
    """The cell with IPython's magics (%matplotlib ...) commented out, so the
    tokenizer and ast read plain Python; the line numbers stay the same."""
    return "\n".join("#" + line[1:] if _is_magic(line) else line for line in source.split("\n"))


def _private_lines(source):
    """Line numbers (from 1) inside a solution or a hidden-test region,
    markers included: the student never reads them in the release."""
    regions = private_regions()
    private, inside = set(), False
    for number, line in enumerate(source.split("\n"), 1):
        if any(begin in line for begin, _ in regions):
            inside = True
        if inside:
            private.add(number)
        if any(end in line for _, end in regions):
            inside = False
    return private


def _docstring_positions(tree):
    """Start positions (line, column) of the docstrings of functions,
    classes and the module."""
    positions = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                positions.add((first.lineno, first.col_offset))
    return positions


def _printed_positions(tree, lines):
    """{start: end} positions (line, column) of the string literals,
    f-strings included, that print() calls are given as arguments. The
    columns count characters, as the tokenizer's do (ast counts bytes)."""

    def column(row, byte_offset):
        return len(lines[row - 1].encode()[:byte_offset].decode())

    positions = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            for argument in node.args:
                is_text = isinstance(argument, ast.JoinedStr) or (
                    isinstance(argument, ast.Constant) and isinstance(argument.value, str)
                )
                if is_text:
                    start = (argument.lineno, column(argument.lineno, argument.col_offset))
                    positions[start] = (
                        argument.end_lineno,
                        column(argument.end_lineno, argument.end_col_offset),
                    )
    return positions


def _printed_body(token_text):
    """(prefix and quote, text) of a one-line string literal without escapes
    of its quote; None for any other literal, which stays untranslated."""
    prefix = token_text[: len(token_text) - len(token_text.lstrip("fF"))]
    quoted = token_text[len(prefix) :]
    if quoted[:1] not in ("'", '"') or quoted[:3] in ('"""', "'''") or "\\" + quoted[0] in quoted:
        return None
    return prefix + quoted[0], quoted[1:-1]


def _docstring_body(token_text):
    """The text between a string literal's quotes (docstrings here are plain
    triple- or single-quoted strings without a prefix)."""
    quote = token_text[:3] if token_text[:3] in ('"""', "'''") else token_text[0]
    if not token_text.endswith(quote) or token_text[0] not in "\"'":
        raise ValueError(f"unsupported docstring literal: {token_text[:40]!r}")
    return quote, token_text[len(quote) : -len(quote)]


def code_spans(source):
    """The comment blocks, docstrings and printed strings of a code cell, in order."""
    masked = masked_source(source)
    private = _private_lines(source)
    tree = ast.parse(masked)
    docstrings = _docstring_positions(tree)
    printed = _printed_positions(tree, masked.split("\n"))
    lines = masked.split("\n")
    magics = {number for number, line in enumerate(source.split("\n"), 1) if _is_magic(line)}
    tokens = tokenize.generate_tokens(io.StringIO(masked).readline)
    spans, block = [], None
    for token in tokens:
        row, column = token.start
        if row in private or row in magics or token.type == tokenize.ENDMARKER:
            continue
        if token.type == tokenize.COMMENT:
            text = token.string[1:].strip()
            if _TOOL_COMMENT.match(token.string) or not text:
                continue
            own_line = lines[row - 1][:column].strip() == ""
            if (
                own_line
                and block
                and block.end[0] == row - 1
                and block.start[1] == column
                and block.kind == "comment"
            ):
                block = _Span(block.start, token.end, "comment", block.text + "\n" + text, block.indent)
                spans[-1] = block
                continue
            block = _Span(
                token.start,
                token.end,
                "comment",
                text,
                lines[row - 1][:column] if own_line else "",
                trailing=not own_line,
            )
            spans.append(block)
            if not own_line:
                block = None  # a trailing comment never continues onto the next line
        elif token.type == tokenize.STRING and (row, column) in docstrings:
            _, body = _docstring_body(token.string)
            spans.append(_Span(token.start, token.end, "docstring", body))
            block = None
        elif token.type == tokenize.STRING and printed.get((row, column)) == token.end:
            literal = _printed_body(token.string)  # one token: no implicit concatenation
            if literal is not None:
                spans.append(_Span(token.start, token.end, "printed", literal[1]))
            block = None
        elif token.type not in (
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.INDENT,
            tokenize.DEDENT,
            tokenize.COMMENT,
        ):
            block = None
    return spans


def _replacement(span, translation, original):
    """The source text that replaces ``span`` when it is translated."""
    if span.kind == "docstring":
        quote, _ = _docstring_body(original)
        return quote + translation + quote
    if span.kind == "printed":
        opening, _ = _printed_body(original)
        literal = opening + translation + opening[-1]
        try:  # a quote, a trailing backslash or a stray brace would break the cell
            valid = isinstance(ast.parse(literal, mode="eval").body, (ast.Constant, ast.JoinedStr))
        except SyntaxError:
            valid = False
        if not valid or "\n" in translation:
            raise ValueError(f"the translation of a printed line is no one-line string literal: {literal!r}")
        return literal
    if span.trailing:
        return "# " + " ".join(line.strip() for line in translation.split("\n"))
    lines = translation.split("\n")
    return ("\n" + span.indent).join("# " + line for line in lines)


def _offset(lines, position):
    row, column = position
    return sum(len(line) + 1 for line in lines[: row - 1]) + column


def translate_code(source, translate):
    """``source`` with its comments, docstrings and printed strings replaced
    by ``translate(kind, english)``; the code itself is untouched."""
    lines = source.split("\n")
    result = source
    for span in reversed(code_spans(source)):
        start, end = _offset(lines, span.start), _offset(lines, span.end)
        original = source[start:end]
        result = result[:start] + _replacement(span, translate(span.kind, span.text), original) + result[end:]
    return result


# --------------------------------------------------------------------------
# Whole notebooks
# --------------------------------------------------------------------------


def notebook_units(notebook):
    """Every translation unit of a notebook (an nbformat node), in order."""
    units = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            units += [
                Unit(index, "markdown", block) for block in markdown_blocks(cell.source) if block.strip()
            ]
        elif cell.cell_type == "code":
            units += [Unit(index, span.kind, span.text) for span in code_spans(cell.source)]
    return units


def translate_cell_source(cell, translate):
    """The source of ``cell`` in the other language; ``translate(kind,
    english)`` gives one unit's translation."""
    if cell.cell_type == "markdown":
        return join_markdown(
            [
                translate("markdown", block) if block.strip() else block
                for block in markdown_blocks(cell.source)
            ]
        )
    if cell.cell_type == "code":
        return translate_code(cell.source, translate)
    return cell.source
