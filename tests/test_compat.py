"""grading/compat.py: the one place that leans on nbgrader's and IPython's
undocumented parts, for the versions it was checked against."""

import importlib.metadata
import warnings

import pytest
from sqlalchemy.exc import SAWarning

from grading import compat
from grading.errors import GradingError


def test_the_installed_versions_are_the_supported_ones():
    compat.check_versions()  # raises otherwise
    for distribution, series in compat.SUPPORTED.items():
        assert importlib.metadata.version(distribution).startswith(series)


def test_another_version_stops_grading_with_what_to_check():
    with pytest.raises(
        GradingError, match=r"written for nbgrader 0\.1\.x and found 0\.9\.\d+: check each function"
    ):
        compat.check_versions({"nbgrader": "0.1."})


def test_only_nbgraders_session_warning_is_ignored():
    """The filter hides nbgrader 0.9's known gradebook warning, and no other."""
    session = "Object of type <SubmittedAssignment> not in session, add operation along 'x' will not proceed"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compat.quiet_nbgrader_session_warnings()
        warnings.warn_explicit(session, SAWarning, "nbgrader/api.py", 2229, module="nbgrader.api")
        warnings.warn_explicit(session, SAWarning, "course.py", 1, module="grading.course")
        warnings.warn_explicit("Another warning", SAWarning, "nbgrader/api.py", 149, module="nbgrader.api")
    assert [(str(w.message), w.filename) for w in caught] == [
        (session, "course.py"),
        ("Another warning", "nbgrader/api.py"),
    ]


def test_magics_and_shell_lines_become_python():
    assert compat.python_source("%matplotlib inline\nx = 1\n!ls\n").count("get_ipython()") == 2


def test_nothing_else_in_the_package_imports_nbgraders_undocumented_parts():
    """init_plugin/plugin_inst, TransformerManager, ORM deletes and the copy
    of BaseConverter.start appear in compat.py only."""
    from pathlib import Path

    package = Path(compat.__file__).parent
    for path in package.rglob("*.py"):
        if path.name == "compat.py":
            continue
        text = path.read_text(encoding="utf-8")
        private_names = ("init_plugin", "plugin_inst", "TransformerManager", ").delete()", "BaseConverter")
        for private in (*private_names, "api.create_engine"):
            assert private not in text, f"{path.relative_to(package)} uses {private}: move it to compat.py"


def test_the_grading_command_opens_one_engine_per_gradebook(tmp_path):
    """Once shared, every nbgrader Gradebook of one database URL has the same
    SQLAlchemy engine (its compiled statements kept), and still works after
    another one was closed; another URL has its own."""
    from nbgrader.api import Gradebook

    compat.share_gradebook_engines()
    compat.share_gradebook_engines()  # twice changes nothing
    first, other = (f"sqlite:///{tmp_path / name}" for name in ("first.db", "other.db"))
    with Gradebook(first) as gradebook:
        gradebook.add_student("ada")
        engine = gradebook.engine
    with Gradebook(first) as gradebook:
        assert gradebook.engine is engine
        assert [student.id for student in gradebook.students] == ["ada"]
    with Gradebook(other) as gradebook:
        assert gradebook.engine is not engine and gradebook.students == []


def test_each_module_leaning_on_insides_is_guarded_by_the_version_check():
    """Every module the comment above SUPPORTED names imports grading.compat,
    whose import checks the versions. Not sandbox.py, whose provisioner is
    jupyter_client's documented extension point, nor box_runner.py, which
    runs in the box and imports nothing of the course (compat.py checks the
    versions both run against)."""
    import ast
    import re
    from pathlib import Path

    root = Path(compat.__file__).parent.parent
    comment = Path(compat.__file__).read_text(encoding="utf-8").split("SUPPORTED = {")[0]
    named = set(re.findall(r"grading/[\w/]+\.py", comment))
    named -= {"grading/plugins/sandbox.py", "grading/plugins/box_runner.py"}
    assert len(named) >= 6
    for module in sorted(named):
        tree = ast.parse((root / module).read_text(encoding="utf-8"))
        imported = {
            alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "grading.compat" in imported, f"{module} leans on insides but does not import grading.compat"
