"""Answers that are the same across students, beyond what an exercise forces.

Each graded function's code is normalised with ``ast``, so renamed variables or added comments do
not hide a copy; students with the same normalised code form a group. Left out: the release's stub, the
reference solution, and a correct form many share (COMMON_*). A shared wrong answer is never left out:
a shared misconception is worth a look. Submissions byte for byte the same are grouped too. A group
is a hint for a human to look at, never a verdict.
"""

from __future__ import annotations

import ast
import builtins
from collections import defaultdict

# A form with full points shared by at least COMMON_SHARE of the students with code for the function,
# and by at least COMMON_MINIMUM of them, is the textbook answer many write alike.
COMMON_SHARE = 0.25
COMMON_MINIMUM = 3


def normalised(source: str) -> str:
    """source's code without comments, docstrings or layout, its own names renamed v1, v2, ... in
    order of first use. Code that does not parse is compared as its non-blank lines, stripped."""
    try:
        tree = ast.parse(source)
        _drop_docstrings(tree)
        own = _assigned_names(tree)
        _Renamer(own).visit(tree)
        return ast.unparse(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # Too deep for Python's parser (`a+a+...` hundreds of times) is a student's to write: never a stop.
        return "\n".join(line.strip() for line in source.splitlines() if line.strip())


def _drop_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]


def _assigned_names(tree: ast.AST) -> set[str]:
    """The names the code binds itself (not imports, functions or builtins): the author's, renamed."""
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


def identical_groups(code: dict, scores: dict, forced: dict) -> tuple[list[dict], dict]:
    """Groups of students whose normalised code of one function is the same, and what was left out.

    code: {student: {function (solution grade id): normalised code}}; scores: {student: {function:
    (points, max)}}; forced: {function: [the stub's and the reference's normalised code]}. Returns
    (groups, left_out): groups [{"function", "students" (sorted), "code", "lines", "points" ([lowest,
    highest]), "max"}], most lines first (a long answer shared is less likely a coincidence); left_out
    {function: {"forced", "common"}: how many students}."""
    forms: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for student, functions in code.items():
        for function, text in functions.items():
            if text:
                forms[function][text].append(student)
    groups, left_out = [], {}
    for function, shared in forms.items():
        common = max(COMMON_MINIMUM, COMMON_SHARE * sum(len(students) for students in shared.values()))
        left_out[function] = {"forced": 0, "common": 0}
        for text, students in shared.items():
            points = [scores.get(student, {}).get(function, (0.0, 0.0)) for student in students]
            maximum = max(top for _, top in points)
            if text in forced.get(function, ()):
                left_out[function]["forced"] += len(students)
            elif len(students) >= common and all(0 < top <= score for score, top in points):
                left_out[function]["common"] += len(students)
            elif len(students) >= 2:
                lowest, highest = min(score for score, _ in points), max(score for score, _ in points)
                groups.append(
                    {
                        "function": function,
                        "students": sorted(students),
                        "code": text,
                        "lines": text.count("\n") + 1,
                        "points": [lowest, highest],
                        "max": maximum,
                    }
                )
    groups.sort(key=lambda group: (-group["lines"], group["function"], group["students"]))
    return groups, left_out


def identical_submissions(hashes: dict[str, str | None], answered_nothing: set[str]) -> list[list[str]]:
    """Groups of students whose notebooks are byte for byte the same (records.submission_hash),
    largest first; those who answered nothing (the release handed in as it was) left out."""
    by_hash = defaultdict(list)
    for student, digest in hashes.items():
        if digest and student not in answered_nothing:
            by_hash[digest].append(student)
    groups = [sorted(students) for students in by_hash.values() if len(students) >= 2]
    return sorted(groups, key=lambda students: (-len(students), students))
