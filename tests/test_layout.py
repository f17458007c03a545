"""The code's dependencies go one way: the grading package never imports the
examples or the tests, its modules import each other without a cycle, and the
benchmarks need nothing of the test suite."""

import ast
import subprocess
import sys

from conftest import LONGEST_FIRST, REPO
from examples import example_class, example_class_deep
from examples.shape import shape_problems

TEST_ONLY = ("conftest", "tests", "pytest", "examples")


def imported_modules(path):
    """Absolute names of the modules a Python file imports (relative ones
    resolved within its package)."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.parent.relative_to(REPO).parts)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            names.add(f"{package}.{base}".rstrip(".") if node.level else base)
    return names


def module_name(path):
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def grading_graph():
    return {
        module_name(path): {name for name in imported_modules(path) if name.startswith("grading.")}
        for path in (REPO / "grading").rglob("*.py")
        if path.stem != "__init__"
    }


def test_the_grading_package_has_no_import_cycle():
    graph, finished, path = grading_graph(), set(), []

    def visit(module):
        assert module not in path, "import cycle: " + " -> ".join(path + [module])
        if module in finished:
            return
        path.append(module)
        for imported in graph.get(module, ()):
            visit(imported)
        path.pop()
        finished.add(module)

    for module in graph:
        visit(module)


def test_the_plugins_never_import_the_command():
    """What nbgrader loads into every autograde needs nothing of the grading command."""
    for module, imported in grading_graph().items():
        if module.startswith("grading.plugins."):
            command = {
                name for name in imported if name == "grading.grade" or name.startswith("grading.command.")
            }
            assert not command, f"{module} imports {sorted(command)}"


def test_production_code_and_benchmarks_import_no_test_code():
    for folder in ("grading", "benchmarks", "utils", "translation"):
        for path in (REPO / folder).rglob("*.py"):
            forbidden = {name for name in imported_modules(path) if name.split(".")[0] in TEST_ONLY}
            if folder == "benchmarks":
                forbidden -= {name for name in forbidden if name.startswith("examples")}
            assert not forbidden, f"{path.relative_to(REPO)} imports {sorted(forbidden)}"


def test_every_example_class_has_the_documented_shape():
    for example in (example_class, example_class_deep):
        assert shape_problems(example) == [], example.__name__


# From student code to a score, in reading order (docs/maintainers.md): the
# box that runs the notebook, the one file that comes out, the judge. These
# modules lean on nothing else of the package but the shared marks and
# reasons, so the path can be read, and reviewed, on its own.
SECURITY_PATH = [
    "grading.submissions",
    "grading.plugins.sandbox",
    "grading.plugins.cgroups",
    "grading.plugins.box",
    "grading.plugins.box_runner",
    "grading.plugins.outbox",
    "grading.plugins.answer_data",
    "grading.plugins.verdicts",
]
SHARED = {"grading.errors", "grading.notes", "grading.reasons"}


def test_the_security_critical_path_stands_on_its_own():
    graph = grading_graph()

    def reached(module, seen):
        for imported in graph.get(module, ()):
            if imported in graph and imported not in seen:
                seen.add(imported)
                reached(imported, seen)
        return seen

    for module in SECURITY_PATH:
        beyond = reached(module, set()) - set(SECURITY_PATH) - SHARED
        assert not beyond, f"{module} reaches {sorted(beyond)}"
    assert not reached("grading.plugins.box_runner", set()), "the box's runner imports nothing of the course"


def test_the_grader_refuses_helpers_from_another_folder(tmp_path):
    """Started in a folder with a utils/ of its own (a student's folder), the
    grader stops at once instead of judging with those helpers."""
    (tmp_path / "utils").mkdir()
    (tmp_path / "utils" / "__init__.py").write_text("")
    started = subprocess.run(
        [sys.executable, "-c", "import grading.grade"], cwd=tmp_path, capture_output=True, text=True
    )
    assert started.returncode == 1
    found = tmp_path.resolve() / "utils"
    assert f"'utils' is found at {found}: start it from the course root" in started.stderr
    (tmp_path / "elsewhere").mkdir()
    elsewhere = subprocess.run([sys.executable, "-c", "import grading.grade"], cwd=tmp_path / "elsewhere")
    assert elsewhere.returncode == 0


def test_the_modules_run_first_exist():
    """conftest's LONGEST_FIRST orders modules by name: a renamed one would
    silently go back to the end of the run."""
    assert [name for name in LONGEST_FIRST if not (REPO / name).is_file()] == []
