"""The main job (scripts/main.sh) grades the example classes in a scratch
copy of the course and leaves the course's own submitted/, gradebook and
grades.csv as they were: they belong to the instructor."""

import hashlib
import os
import subprocess

import pytest

from conftest import REPO
from examples.grade_examples import MARKER, scratch_problem
from grading.gradebook import scores

INSTRUCTOR_FILES = ["gradebook.db", "grades.csv", "submitted", "autograded", "feedback", "reports"]


def snapshot():
    """{path: digest of its content, or of its listing} for the instructor's files."""
    seen = {}
    for name in INSTRUCTOR_FILES:
        path = REPO / name
        if path.is_file():
            seen[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            seen[name] = sorted(str(item.relative_to(path)) for item in path.rglob("*"))
        else:
            seen[name] = None
    return seen


def release_files():
    """{path: (size, modification time in ns)} of every file of release/."""
    return {
        str(path.relative_to(REPO)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in (REPO / "release").rglob("*")
        if path.is_file()
    }


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_main_job_grades_in_a_scratch_course(tmp_path):
    scratch = tmp_path / "example-course"
    before = snapshot()
    release = release_files()
    process = subprocess.run(
        ["bash", "scripts/main.sh"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "EXAMPLE_COURSE": str(scratch), "EXAMPLE_STUDENTS": "correct-variants"},
        timeout=1800,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    assert f"The scratch course stays in {scratch}" in process.stdout
    assert snapshot() == before
    # The release was up to date: regenerating it rewrote no file, so tests
    # that copy release/ beside this one never see it half written.
    assert release_files() == release
    for assignment, notebook in (
        ("initialization", "Initialization"),
        ("initialization_deep", "InitializationDeep"),
    ):
        graded = scores(scratch, assignment, notebook)
        assert set(graded) == {"correct-variants"}
        assert all(score == maximum for score, maximum in graded["correct-variants"].values()), graded
    assert (scratch / "grades.csv").is_file() and (scratch / MARKER).is_file()


def test_the_scratch_course_is_a_folder_of_its_own(tmp_path):
    assert scratch_problem(REPO) and scratch_problem(REPO.parent)
    assert scratch_problem(REPO / "source" / "x")
    assert scratch_problem(REPO / "example-course") is None
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    assert "was not made by this script" in scratch_problem(mine)
    (tmp_path / "empty").mkdir()
    assert scratch_problem(tmp_path / "empty") is None and scratch_problem(tmp_path / "new") is None
