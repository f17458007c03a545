"""The main job (scripts/main.sh) regenerates the release and grades the
example classes in a scratch copy of the course, leaving the course's own
submitted/, gradebook and grades.csv as they were: they belong to the
instructor.

The test runs the job in a copy of this repository, without its set-up step
(SKIP_SETUP=1: no apt-get, no pip; scripts/test.sh has set up the
environment already), so that the checkout's release/ is never rewritten
while other tests read it."""

import hashlib
import os
import shutil
import subprocess

import pytest

from conftest import REPO
from examples.grade_examples import MARKER, scratch_problem
from examples.nbgrader_runs import scores

INSTRUCTOR_FILES = ["gradebook.db", "grades.csv", "submitted", "autograded", "feedback", "reports"]
# Top-level names of the checkout the copy leaves out: git's, the
# environment (linked instead), caches, and the instructor's work.
NOT_COPIED = {
    ".git",
    ".venv",
    ".pytest_cache",
    ".ruff_cache",
    "example-course",
    "downloaded",
    *INSTRUCTOR_FILES,
}


def copy_of_the_repository(destination):
    """The checkout's files as they are now (uncommitted changes included),
    with a link to its environment; returns destination."""
    shutil.copytree(
        REPO,
        destination,
        symlinks=True,
        ignore=lambda folder, names: [
            name
            for name in names
            if name in ("__pycache__", ".ipynb_checkpoints") or (folder == str(REPO) and name in NOT_COPIED)
        ],
    )
    (destination / ".venv").symlink_to((REPO / ".venv").resolve())
    return destination


def snapshot(root):
    """{path: digest of its content, or of its listing} for the instructor's files."""
    seen = {}
    for name in INSTRUCTOR_FILES:
        path = root / name
        if path.is_file():
            seen[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            seen[name] = sorted(str(item.relative_to(path)) for item in path.rglob("*"))
        else:
            seen[name] = None
    return seen


def release_files(root):
    """{path: (size, modification time in ns)} of every file of root's release/."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in (root / "release").rglob("*")
        if path.is_file()
    }


def release_status():
    """What git says of the checkout's release/ (changed, new or deleted files)."""
    return subprocess.run(
        ["git", "status", "--porcelain", "--", "release/"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_main_job_grades_in_a_scratch_course(tmp_path):
    copy = copy_of_the_repository(tmp_path / "repository")
    # The instructor's work, in the copy the job runs in.
    (copy / "gradebook.db").write_text("the instructor's gradebook")
    (copy / "grades.csv").write_text("student,score\nada,9\n")
    (copy / "submitted" / "ada" / "initialization").mkdir(parents=True)
    (copy / "submitted" / "ada" / "initialization" / "Initialization.ipynb").write_text("{}")
    scratch = tmp_path / "example-course"
    before, release, checkout = snapshot(copy), release_files(copy), release_files(REPO)
    status = release_status()
    process = subprocess.run(
        ["bash", "scripts/main.sh"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "SKIP_SETUP": "1",
            "EXAMPLE_COURSE": str(scratch),
            "EXAMPLE_STUDENTS": "correct-variants",
        },
        timeout=1800,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    assert "Course environment ready" not in process.stdout  # setup.sh did not run
    assert f"The scratch course stays in {scratch}" in process.stdout
    assert snapshot(copy) == before
    # The release was up to date: regenerating it rewrote no file.
    assert release_files(copy) == release
    # The checkout's own release/ was never the job's to touch.
    assert release_files(REPO) == checkout
    assert release_status() == status
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
