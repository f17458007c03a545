"""The committed release is what nbgrader generates from source/, leaks
nothing, carries its helpers, and fails its tests until a student fills it in."""

import json
import os
import subprocess
import sys

import nbformat
import pytest
from nbgrader.utils import parse_utc
from nbgrader.validator import Validator
from traitlets.config import Config

from conftest import ASSIGNMENTS, REPO
from grading.command.course import Course
from grading.configuration import delimiters
from grading.gradebook import open_gradebook
from utils.i18n import notebook_language

SOLUTION_BEGIN, SOLUTION_END = delimiters(REPO)["solution"]
HIDDEN_BEGIN, HIDDEN_END = delimiters(REPO)["hidden tests"]

# Fields that record where and when a notebook ran, not what it holds.
VOLATILE_METADATA = ("language_info",)

# The tests that generate or run a release are marked slow; the file checks are fast.
pytestmark = pytest.mark.parametrize("assignment", list(ASSIGNMENTS))


def notebook_path(root, folder, assignment):
    return root / folder / assignment / ASSIGNMENTS[assignment]


def comparable(path):
    notebook = json.loads(path.read_text())
    for field in VOLATILE_METADATA:
        notebook["metadata"].pop(field, None)
    return notebook


def region_lines(source, begin, end):
    """The non-blank lines strictly between begin and end marker lines."""
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside and len(line.strip()) >= 12:  # skip lines like "):"
            lines.append(line.strip())
    return lines


def release_files(assignment):
    folder = REPO / "release" / assignment
    return [path for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts]


@pytest.mark.slow
def test_release_matches_a_fresh_generation(course, assignment):
    """`course` is a scratch copy where generate_assignment ran just now."""
    fresh = notebook_path(course, "release", assignment)
    committed = notebook_path(REPO, "release", assignment)
    assert comparable(committed) == comparable(fresh), (
        "release/ is out of date: run `nbgrader generate_assignment "
        f"{assignment} --force` from the repository root and commit it"
    )
    fresh_files = sorted(
        p.relative_to(fresh.parent)
        for p in fresh.parent.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    committed_files = sorted(p.relative_to(committed.parent) for p in release_files(assignment))
    assert committed_files == fresh_files


# The companion notebooks each assignment hands out, from notebooks/ (the
# Chinese assignments hand out the Chinese editions, under the same name).
COMPANIONS = {
    "initialization": ("DataAndHelpersTour.ipynb", "DataAndHelpersTour.ipynb"),
    "initialization_zh": ("DataAndHelpersTour.ipynb", "DataAndHelpersTour.zh_CN.ipynb"),
    "initialization_deep": ("VarianceThroughDepth.ipynb", "VarianceThroughDepth.ipynb"),
    "initialization_deep_zh": ("VarianceThroughDepth.ipynb", "VarianceThroughDepth.zh_CN.ipynb"),
}


@pytest.mark.slow
def test_the_companion_notebooks_are_handed_out_and_import_from_there(course, assignment):
    """Students who only get the release (from the exchange or a download)
    get the companion the assignment sends them to, and its imports cell
    finds the helpers from where it lies."""
    name, original = COMPANIONS[assignment]
    handed_out = course / "release" / assignment / "companion" / name
    assert handed_out.read_bytes() == (REPO / "notebooks" / original).read_bytes()
    assert Course(course).companion_notebooks(assignment) == [f"companion/{name}"]
    imports = nbformat.read(handed_out, as_version=4).cells[1].source
    python = "\n".join(line for line in imports.splitlines() if not line.startswith("%"))
    process = subprocess.run(
        [sys.executable, "-c", python],
        cwd=handed_out.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": ""},
    )
    assert process.returncode == 0, process.stderr[-2000:]


def test_the_answer_stubs_are_in_the_notebooks_language(assignment):
    """A Chinese release asks for its answers in Chinese (grading/plugins/answer_stubs.py)."""
    release = nbformat.read(notebook_path(REPO, "release", assignment), as_version=4)
    text = "\n".join(cell.source for cell in release.cells)
    chinese = notebook_language(release) == "zh_CN"
    assert chinese == assignment.endswith("_zh")
    if chinese:
        assert "在此编写你的代码" in text and "YOUR CODE HERE" not in text and "YOUR ANSWER HERE" not in text
    else:
        assert "YOUR CODE HERE" in text and "在此" not in text
    written_answers = 1 if assignment.startswith("initialization_deep") else 2
    assert text.count("在此作答" if chinese else "YOUR ANSWER HERE") == written_answers


@pytest.mark.slow
def test_generating_writes_the_due_date_into_the_gradebook(course, assignment):
    """formgrader shows each assignment's due date from the moment it is generated."""
    configured = Course(course).settings.due_dates[assignment]
    with open_gradebook(course) as gradebook:
        written = gradebook.find_assignment(assignment).duedate
    assert written == parse_utc(configured)


def test_release_helpers_are_exact_copies_of_utils(assignment):
    """Every file of the release's utils/ (the compiled catalog too) is utils/'s."""
    folder = REPO / "release" / assignment / "utils"
    names = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file())
    assert "init_utils.py" in names and "locale/zh_CN/LC_MESSAGES/course.mo" in names
    for name in names:
        assert (folder / name).read_bytes() == (REPO / "utils" / name).read_bytes(), (
            f"release/{assignment}/utils/{name} differs from utils/{name}: regenerate the release"
        )


def test_the_release_ships_the_students_requirements(assignment):
    """A student who receives only the assignment folder finds the packages
    to install in it: requirements/student.txt, linked from the source."""
    link = REPO / "source" / assignment / "requirements.txt"
    assert link.is_symlink() and os.readlink(link) == "../../requirements/student.txt"
    shipped = REPO / "release" / assignment / "requirements.txt"
    wanted = (REPO / "requirements" / "student.txt").read_bytes()
    assert shipped.read_bytes() == wanted, "regenerate the release"


def test_source_helpers_are_links_into_utils(assignment):
    """Every file under source/<assignment>/utils/ (the compiled catalog in
    locale/ too) is a relative link to the same path under utils/."""
    folder = REPO / "source" / assignment / "utils"
    links = sorted(path for path in folder.rglob("*") if not path.is_dir())
    assert links
    for link in links:
        inside = link.relative_to(folder)
        target = "../" * (len(inside.parts) + 2) + "utils/" + inside.as_posix()
        assert link.is_symlink(), f"{link} should link to {target}"
        assert os.readlink(link) == target
        assert link.resolve() == (REPO / "utils" / inside).resolve()


def test_no_solution_or_hidden_test_reaches_the_release(assignment):
    source = nbformat.read(notebook_path(REPO, "source", assignment), as_version=4)
    secret, public = [], set()
    for cell in source.cells:
        hidden = region_lines(cell.source, SOLUTION_BEGIN, SOLUTION_END) + region_lines(
            cell.source, HIDDEN_BEGIN, HIDDEN_END
        )
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("solution"):
            hidden = [line.strip() for line in cell.source.splitlines() if line.strip()]
        secret += hidden
        public.update(line.strip() for line in cell.source.splitlines() if line.strip() not in hidden)
    for helper in (REPO / "utils").glob("*.py"):
        public.update(line.strip() for line in helper.read_text().splitlines())
    # A line that the source or the published helpers also show outside every
    # solution (a loop header given elsewhere, say) gives nothing away.
    secret = [line for line in secret if line not in public]
    assert len(secret) > 20
    for path in release_files(assignment):
        text = path.read_text(errors="replace")  # the compiled catalog is binary
        leaked = [line for line in secret if line in text]
        assert not leaked, f"{path.relative_to(REPO)} contains {leaked[:3]}"
        assert HIDDEN_BEGIN not in text and HIDDEN_END not in text


def validator():
    config = Config()
    config.Execute.timeout = 120
    return Validator(config=config)


@pytest.mark.slow
def test_unfilled_release_fails_every_graded_test(assignment):
    release = notebook_path(REPO, "release", assignment)
    # `nbgrader validate`, run once: every graded test cell fails, and fails
    # because the exercise is not done (what `--invert` checks, and more).
    failed = {
        failure["source"]: failure["raw_error"] for failure in validator().validate(str(release))["failed"]
    }
    graded = [
        cell.source.strip()
        for cell in nbformat.read(release, as_version=4).cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    ]
    assert len(graded) == 3
    for test_source in graded:
        assert "NotImplementedError" in failed[test_source]


@pytest.mark.slow
def test_release_runs_as_a_folder_on_its_own(tmp_path, assignment):
    """As a student receives it: the folder alone, outside the repository."""
    folder = tmp_path / assignment
    folder.mkdir()
    for path in release_files(assignment):
        target = folder / path.relative_to(REPO / "release" / assignment)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    probe = (
        "from utils.init_utils import load_dataset; "
        "from utils.init_checks import check_he_initializer; "
        "import utils; print(utils.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(folder))
