"""Answers that are the same across students, beyond what an exercise forces.

Each graded function's code is normalised with the standard library's own
parser (``ast``): comments, docstrings and layout go, and the names the
cell assigns (its locals, arguments, loop variables) are renamed in order
of first use, so that renaming a copied answer's variables or adding
comments does not hide it. Students whose normalised code is the same form
a group. What the exercise forces is left out: the release's unanswered
stub, the reference solution, and any form that more than COMMON_SHARE of
the students who answered share (the textbook answer, written alike by
many). A group is a hint for a human to look at, never a verdict.
"""

from __future__ import annotations

import ast
import builtins
from collections import defaultdict

# A form shared by more than this share of the students who answered the
# function (and by more than 2) is taken as what the exercise makes
# everyone write.
COMMON_SHARE = 0.25


def normalised(source: str) -> str:
    """source's code without comments, docstrings or layout, its own names
    renamed v1, v2, ... in order of first use. Code that does not parse
    (a syntax error) is compared as its non-blank lines, stripped."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return "\n".join(line.strip() for line in source.splitlines() if line.strip())
    _drop_docstrings(tree)
    own = _assigned_names(tree)
    _Renamer(own).visit(tree)
    return ast.unparse(tree)


def _drop_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]


def _assigned_names(tree: ast.AST) -> set[str]:
    """The names the code binds itself (not imports, functions or builtins):
    these are the author's choice, and renamed."""
    names, kept = set(), set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            kept.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            kept.add(node.name)  # the graded function's name is given
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names - kept


class _Renamer(ast.NodeTransformer):
    def __init__(self, own: set[str]):
        self.own, self.names = own, {}

    def _name(self, name: str) -> str:
        if name not in self.own:
            return name
        return self.names.setdefault(name, f"v{len(self.names) + 1}")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._name(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._name(node.arg)
        node.annotation = None
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        if node.name:
            node.name = self._name(node.name)
        self.generic_visit(node)
        return node


def identical_groups(
    code: dict[str, dict[str, str]], forced: dict[str, list[str]], common_share: float = COMMON_SHARE
) -> list[dict]:
    """Groups of students whose normalised code of one function is the same.

    code: {student: {function (solution grade id): normalised code}};
    forced: {function: [normalised codes the exercise forces: the stub, the
    reference solution]}. Returns [{"function", "students" (sorted),
    "code", "lines"}], the largest answers (most lines) first: a long answer
    shared is less likely a coincidence than a short one."""
    by_function: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for student, functions in code.items():
        for function, text in functions.items():
            if text and text not in forced.get(function, ()):
                by_function[function][text].append(student)
    groups = []
    for function, forms in by_function.items():
        answered = sum(len(students) for students in forms.values())
        common = max(2, common_share * answered)
        for text, students in forms.items():
            if 2 <= len(students) <= common:
                lines = text.count("\n") + 1
                groups.append(
                    {"function": function, "students": sorted(students), "code": text, "lines": lines}
                )
    return sorted(groups, key=lambda group: (-group["lines"], group["function"], group["students"]))


def common_forms(code: dict[str, dict[str, str]], forced: dict[str, list[str]], common_share=COMMON_SHARE):
    """{function: number of students whose answer is a form the exercise
    forces or many share}: what identical_groups leaves out, for the report
    to say."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for functions in code.values():
        for function, text in functions.items():
            counts[function][text] += 1
    left_out = {}
    for function, forms in counts.items():
        answered = sum(count for text, count in forms.items() if text not in forced.get(function, ()))
        common = max(2, common_share * answered)
        left_out[function] = sum(
            count for text, count in forms.items() if text in forced.get(function, ()) or count > common
        )
    return left_out
