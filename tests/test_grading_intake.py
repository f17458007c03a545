"""Collecting submissions into submitted/<student>/<assignment>/.

The grading command on submissions downloaded from a learning platform: a
zip of notebooks named <student>_[attempt_<time>_]<notebook>.ipynb,
filed as nbgrader's zip_collect would file them. Grading twice changes nothing; grades
given by hand and grades of earlier runs are kept.

Then what intake refuses, tested on collect() alone (no kernel, no
grading): anything that is not a plain notebook from that student. A link,
a FIFO, a nested archive, a file too large or a student id such as "*" or
".." refuses that student (or that file, when it names no valid student),
with a reason; every other student is still collected, and a refused
student's earlier submission stays as it was.
"""

import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import zipfile

import nbformat
import pytest
from nbgrader.apps.zipcollectapp import ZipCollectApp
from nbgrader.coursedir import CourseDirectory

from conftest import copy_course, copy_generated, run_grading_command
from examples import example_class
from examples.nbgrader_runs import run_nbgrader, scores
from examples.students import fill_in, write_submission
from grading.atomic import write_json
from grading.command.course import Course
from grading.command.intake import collect, put_in_place, submitted_students
from grading.errors import GradingError
from grading.gradebook import open_gradebook
from grading.plugins.download_names import (
    LmsFileNames,
    notebook_name,
    read_download_name,
    same_name,
    student_of,
)
from grading.reasons import Why
from grading.submissions import (
    MAX_FILE_BYTES,
    MiB,
    check_submission_folder,
    extra_notebooks,
    timestamp_problem,
    valid_student_id,
)

ASSIGNMENT = example_class.ASSIGNMENT
RELEASE_NAME = example_class.NOTEBOOK + ".ipynb"
# Submitted a day and an hour after the due date in nbgrader_config.py:
# two started days late.
LATE_NAME = f"bob_attempt_2026-12-06T005900_{RELEASE_NAME}"
CLASS = {
    f"alice_{RELEASE_NAME}": example_class.CORRECT,
    LATE_NAME: example_class.correct_but(he=example_class.XAVIER_SCALE),
    f"carol_{RELEASE_NAME}": example_class.CORRECT,
}


def notebook_text(course, answers):
    """The release notebook with answers filled in, as a student hands it in."""
    release = nbformat.read(course / "release" / ASSIGNMENT / RELEASE_NAME, as_version=4)
    return nbformat.writes(fill_in(release, answers))


class UnflaggedName(zipfile.ZipInfo):
    """A member whose name is UTF-8 without the zip's UTF-8 flag, as Info-ZIP's
    zip on Linux writes it (zipfile itself would set the flag)."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("utf-8"), self.flag_bits


def make_zip(course, path, files, unflagged=()):
    """A zip of the files {name: answers, or the file's content as a string or
    bytes}; the names in unflagged are written without the UTF-8 flag."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            if not isinstance(content, str | bytes):
                content = notebook_text(course, content)
            archive.writestr(UnflaggedName(name) if name in unflagged else name, content)
    return path


def grade(course, *arguments, status=0):
    return run_grading_command(course, ASSIGNMENT, *arguments, status=status)


def table_sizes(course):
    """Rows in every gradebook table: regrading must not add any."""
    with sqlite3.connect(course / "gradebook.db") as database:
        tables = [name for (name,) in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: database.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables}


@pytest.fixture(scope="module")
def zip_course(generated_course, tmp_path_factory):
    root = copy_generated(generated_course, tmp_path_factory.mktemp("zip_course"))
    archive = make_zip(root, tmp_path_factory.mktemp("lms") / "download.zip", CLASS)
    first = grade(root, str(archive))
    return root, archive, first


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_zip_download_is_collected_and_graded(zip_course):
    course, _, summary = zip_course
    recorded = scores(course, ASSIGNMENT, example_class.NOTEBOOK)
    assert (
        recorded["alice"]
        == recorded["carol"]
        == {cell: (points, points) for cell, points in example_class.POINTS.items()}
    )
    assert recorded["bob"][example_class.HE] == (0.0, 3.0)
    # The time in bob's file name: two started days late, 20% of his 5 points.
    assert (
        (course / "submitted" / "bob" / ASSIGNMENT / "timestamp.txt")
        .read_text()
        .startswith("2026-12-06 00:59:00")
    )
    with open_gradebook(course) as gradebook:
        bob = gradebook.find_submission_notebook(example_class.NOTEBOOK, ASSIGNMENT, "bob")
        assert bob.late_submission_penalty == pytest.approx(1.0)
    assert "Collecting download.zip" in summary.printed


@pytest.mark.slow
@pytest.mark.sandbox
def test_grading_again_changes_nothing_and_keeps_hand_grades(zip_course):
    course, archive, _ = zip_course
    # The instructor grades a written answer by hand between the two runs.
    with open_gradebook(course) as gradebook:
        answer = gradebook.find_grade("observations_he", example_class.NOTEBOOK, ASSIGNMENT, "alice")
        answer.manual_score = 1.0
        gradebook.db.commit()
    before = table_sizes(course)
    grades_before = (course / "grades.csv").read_text()
    assert "alice,,,,8.0,0.0,8.0" in grades_before
    grade(course, str(archive))
    assert table_sizes(course) == before
    assert (course / "grades.csv").read_text() == grades_before.replace(
        "alice,,,,8.0,0.0,8.0", "alice,,,,9.0,0.0,9.0"
    )
    with open_gradebook(course) as gradebook:
        assert (
            gradebook.find_grade("observations_he", example_class.NOTEBOOK, ASSIGNMENT, "alice").score == 1.0
        )


@pytest.mark.slow
@pytest.mark.sandbox
def test_an_unreadable_resubmission_keeps_the_earlier_grade(zip_course, tmp_path):
    course, _, _ = zip_course
    files = {name: answers for name, answers in CLASS.items() if "carol" not in name}
    files[f"carol_{RELEASE_NAME}"] = '{"cells": [{"cell_type": "code", "sour'
    run = grade(course, str(make_zip(course, tmp_path / "again.zip", files)), status=2)
    carol = run.result("carol")
    assert carol.has(Why.UNREADABLE) and carol.has(Why.EARLIER_GRADE), carol.reasons
    assert not run.summary["everything_graded"]
    assert scores(course, ASSIGNMENT, example_class.NOTEBOOK)["carol"][example_class.HE] == (
        3.0,
        3.0,
    )


@pytest.mark.slow
@pytest.mark.sandbox
def test_without_a_working_sandbox_nothing_is_graded(zip_course, tmp_path):
    """A bwrap that cannot make its namespaces (a container, Ubuntu's AppArmor
    rule): the command stops before grading, says why, and the gradebook
    keeps every earlier grade."""
    course, archive, _ = zip_course
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n")
    fake.chmod(0o755)
    before = (table_sizes(course), scores(course, ASSIGNMENT, example_class.NOTEBOOK))
    process = subprocess.run(
        [sys.executable, "-m", "grading.grade", ASSIGNMENT, str(archive)],
        cwd=course,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"},
    )
    assert process.returncode == 1
    assert "bwrap: setting up uid map: Permission denied" in process.stderr
    assert "nothing was written to the gradebook" in process.stderr
    assert (table_sizes(course), scores(course, ASSIGNMENT, example_class.NOTEBOOK)) == before


# ------------------------------------------------ what intake refuses
# collect() alone, in a scratch course: no kernel runs.


@pytest.fixture
def course(tmp_path, empty_gradebook):
    """A scratch course root, with its committed release and a copy of the
    empty gradebook (nbgrader would take seconds to create one)."""
    root = tmp_path / "course"
    root.mkdir()
    copy_course(root)
    shutil.copyfile(empty_gradebook, root / "gradebook.db")
    return root


def submitted_notebook(course, student):
    return course / "submitted" / student / ASSIGNMENT / RELEASE_NAME


def students_in(course):
    """The folders in submitted/ (any name, so that a "*" would show)."""
    folder = course / "submitted"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def layout_submission(folder, student, files):
    """<folder>/<student>/<assignment>/ holding files {relative path: text}."""
    assignment = folder / student / ASSIGNMENT
    for relative, text in files.items():
        (assignment / relative).parent.mkdir(parents=True, exist_ok=True)
        (assignment / relative).write_text(text)
    return assignment


def refused(collected):
    """{student or file: reason} of the refusals of collect() (or a list of
    them), a download's several reasons joined by newlines."""
    reasons = {}
    for refusal in getattr(collected, "refusals", collected):
        reasons.setdefault(refusal.student_or_file, []).append(refusal.reason)
    return {name: "\n".join(lines) for name, lines in reasons.items()}


def test_a_new_submission_folder_replaces_the_old_only_once_complete(tmp_path):
    """The new folder is swapped in whole; when the move fails (here the new
    folder is gone), the earlier submission is back in place, whole."""
    destination = tmp_path / "submitted" / "ada" / "initialization"
    destination.mkdir(parents=True)
    (destination / "Initialization.ipynb").write_text("earlier")
    new = tmp_path / "submitted" / ".incoming-1"
    new.mkdir()
    (new / "Initialization.ipynb").write_text("later")
    put_in_place(new, destination)
    assert (destination / "Initialization.ipynb").read_text() == "later"
    assert sorted(path.name for path in (tmp_path / "submitted").iterdir()) == ["ada"]
    assert [path.name for path in destination.parent.iterdir()] == ["initialization"]
    with pytest.raises(FileNotFoundError):
        put_in_place(tmp_path / "submitted" / ".incoming-2", destination)
    assert (destination / "Initialization.ipynb").read_text() == "later"


def test_valid_student_ids():
    for name in ["alice", "bob.smith", "b0b", "a@example.org", "x+y", "A-1", "7", "a" * 64]:
        assert valid_student_id(name), name
    for name in ["", "*", "a*", "a?", "[ab]", ".", "..", ".hidden", "-rf", "a/b", "a\\b", "a b"]:
        assert not valid_student_id(name), name
    for name in ["a" * 65, "al_ice", "alice\n", "émile", "ａlice"]:
        assert not valid_student_id(name), name


def test_a_link_refuses_that_student_and_the_others_are_copied(course, tmp_path):
    layout = tmp_path / "layout"
    honest = notebook_text(course, example_class.CORRECT)
    layout_submission(layout, "alice", {RELEASE_NAME: honest, "timestamp.txt": "2026-12-04 10:00:00"})
    solution = course / "source" / ASSIGNMENT / RELEASE_NAME
    # A notebook that is a link to the instructor's solution,
    (layout / "mallory" / ASSIGNMENT).mkdir(parents=True)
    (layout / "mallory" / ASSIGNMENT / RELEASE_NAME).symlink_to(solution)
    # an assignment folder that is a link to source/,
    (layout / "trudy").mkdir()
    (layout / "trudy" / ASSIGNMENT).symlink_to(solution.parent)
    # a student folder that is a link, and a link deep in a subfolder.
    layout_submission(tmp_path / "elsewhere", "eve", {RELEASE_NAME: honest})
    (layout / "eve").symlink_to(tmp_path / "elsewhere" / "eve")
    layout_submission(layout, "oscar", {RELEASE_NAME: honest, "data/notes.txt": "my notes"})
    (layout / "oscar" / ASSIGNMENT / "data" / "secret").symlink_to("/etc/shadow")

    refusals = refused(collect(Course(course), ASSIGNMENT, layout))

    assert set(refusals) == {"mallory", "trudy", "eve", "oscar"}
    assert all("symbolic link" in reason for reason in refusals.values()), refusals
    assert "data/secret" in refusals["oscar"]
    assert students_in(course) == ["alice"]  # nothing of the others, not even a folder
    assert submitted_notebook(course, "alice").read_text() == honest
    assert (
        (course / "submitted" / "alice" / ASSIGNMENT / "timestamp.txt").read_text().startswith("2026-12-04")
    )


def test_a_fifo_refuses_that_student_who_keeps_the_earlier_submission(course, tmp_path):
    write_submission(course, "bob", ASSIGNMENT, RELEASE_NAME, example_class.CORRECT)
    earlier = submitted_notebook(course, "bob").read_text()
    layout = tmp_path / "layout"
    layout_submission(layout, "alice", {RELEASE_NAME: notebook_text(course, example_class.CORRECT)})
    layout_submission(layout, "bob", {RELEASE_NAME: "{}"})
    # Opening a FIFO for reading waits for a writer: intake must never open it.
    os.mkfifo(layout / "bob" / ASSIGNMENT / "answers.pipe")

    refusals = refused(collect(Course(course), ASSIGNMENT, layout))

    assert refusals == {"bob": "answers.pipe is a named pipe (FIFO)"}
    assert submitted_notebook(course, "bob").read_text() == earlier
    assert submitted_notebook(course, "alice").exists()


def test_a_file_or_submission_over_the_limits_is_refused(course, tmp_path):
    layout = tmp_path / "layout"
    honest = notebook_text(course, example_class.CORRECT)
    layout_submission(layout, "alice", {RELEASE_NAME: honest})
    layout_submission(layout, "erin", {RELEASE_NAME: honest})
    layout_submission(layout, "frank", {RELEASE_NAME: honest})
    # Sparse files: their size costs no disk.
    with open(layout / "erin" / ASSIGNMENT / "weights.npy", "wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)
    for number in range(3):
        with open(layout / "frank" / ASSIGNMENT / f"part{number}.npy", "wb") as file:
            file.truncate(18 * MiB)

    refusals = refused(collect(Course(course), ASSIGNMENT, layout))

    assert refusals == {
        "erin": "weights.npy is 20.0 MiB, over the limit of 20.0 MiB per file",
        "frank": "the submission is over 50.0 MiB in all",
    }
    assert students_in(course) == ["alice"]


def test_junk_is_left_out_silently(course, tmp_path):
    layout = tmp_path / "layout"
    honest = notebook_text(course, example_class.CORRECT)
    folder = layout_submission(
        layout,
        "alice",
        {
            RELEASE_NAME: honest,
            "data/points.csv": "1,2\n",
            ".ipynb_checkpoints/Initialization-checkpoint.ipynb": "{}",
            f"__MACOSX/._{RELEASE_NAME}": "resource fork",
            f"._{RELEASE_NAME}": "resource fork",
            ".DS_Store": "finder",
        },
    )
    (folder / "__MACOSX" / "link").symlink_to("/etc/shadow")  # never looked at

    assert collect(Course(course), ASSIGNMENT, layout).refusals == []

    copied = course / "submitted" / "alice" / ASSIGNMENT
    assert sorted(str(path.relative_to(copied)) for path in copied.rglob("*")) == [
        RELEASE_NAME,
        "data",
        "data/points.csv",
    ]


def test_a_folder_named_as_no_valid_student_is_refused(course, tmp_path):
    layout = tmp_path / "layout"
    honest = notebook_text(course, example_class.CORRECT)
    for student in ["alice", "*", "-rf", ".hidden", "a[b]"]:
        layout_submission(layout, student, {RELEASE_NAME: honest})

    refusals = refused(collect(Course(course), ASSIGNMENT, layout))

    assert set(refusals) == {"*", "-rf", ".hidden", "a[b]"}
    assert all("not a valid student id" in reason for reason in refusals.values())
    assert students_in(course) == ["alice"]


def test_the_submitted_folder_is_checked_where_it_is(course, tmp_path):
    honest = notebook_text(course, example_class.CORRECT)
    submitted = course / "submitted"
    for student in ["alice", "*", "mallory", "bob"]:
        layout_submission(submitted, student, {RELEASE_NAME: honest})
    (submitted / "mallory" / ASSIGNMENT / "secret").symlink_to("/etc/shadow")
    os.mkfifo(submitted / "bob" / ASSIGNMENT / "pipe")
    layout_submission(tmp_path / "elsewhere", "eve", {RELEASE_NAME: honest})
    (submitted / "eve").symlink_to(tmp_path / "elsewhere" / "eve")
    scratch = Course(course)

    assert collect(scratch, ASSIGNMENT, submitted).refusals == []  # nothing to copy, nothing removed
    students, refusals = submitted_students(scratch, ASSIGNMENT)

    # Only ids are checked here; what a folder holds is checked once, right
    # before nbgrader reads it (the pipeline's check_submission_folder).
    assert students == ["alice", "bob", "eve", "mallory"]
    assert refused(refusals) == {
        "*": "'*' is not a valid student id (1 to 64 letters, digits and . @ + -, not starting with . or -)",
    }
    assert students_in(course) == ["*", "alice", "bob", "eve", "mallory"]
    assert {
        student: check_submission_folder(scratch.folder("submitted", student, ASSIGNMENT))
        for student in students
    } == {
        "alice": None,
        "bob": "pipe is a named pipe (FIFO)",
        "eve": "the student's folder eve is a symbolic link",
        "mallory": "secret is a symbolic link",
    }


def test_nbgrader_collect_copies_a_students_links_as_links(generated_course, tmp_path):
    """`nbgrader collect` with the course's configuration: a link in a
    student's exchange folder (to source/, which holds the solutions and the
    hidden tests) arrives in submitted/ as a link, which the grading command
    refuses; nbgrader's own copy would follow it. A pipe is left out, and
    stops no one's collect."""
    course = copy_generated(generated_course, tmp_path / "course")
    exchange = tmp_path / "exchange"
    inbound = exchange / Course(course).coursedir.course_id / "inbound"
    honest = notebook_text(course, example_class.CORRECT)
    when = "2026-12-04 10:00:00.000000 UTC"
    folders = {}
    for student in ("alice", "mallory", "bob"):
        folders[student] = inbound / f"{student}+{ASSIGNMENT}+{when}+r4nd0m"
        folders[student].mkdir(parents=True)
        (folders[student] / "timestamp.txt").write_text(when)
    (folders["alice"] / RELEASE_NAME).write_text(honest)
    (folders["mallory"] / RELEASE_NAME).symlink_to(course / "source" / ASSIGNMENT / RELEASE_NAME)
    (folders["bob"] / RELEASE_NAME).write_text(honest)
    os.mkfifo(folders["bob"] / "pipe")

    run_nbgrader(
        course, "collect", ASSIGNMENT, f"--Exchange.root={exchange}", "--CollectApp.check_owner=False"
    )

    submitted = {student: course / "submitted" / student / ASSIGNMENT for student in folders}
    assert (submitted["mallory"] / RELEASE_NAME).is_symlink()
    assert not (submitted["bob"] / "pipe").exists()
    assert {student: check_submission_folder(folder) for student, folder in submitted.items()} == {
        "alice": None,
        "mallory": f"{RELEASE_NAME} is a symbolic link",
        "bob": None,
    }
    assert submitted_notebook(course, "bob").read_text() == honest


def test_check_submission_folder(tmp_path, monkeypatch):
    folder = layout_submission(tmp_path, "alice", {RELEASE_NAME: "{}", "data/points.csv": "1,2\n"})
    assert check_submission_folder(folder) is None

    (folder / "__MACOSX").mkdir()  # nbgrader copies this folder too
    (folder / "__MACOSX" / "shadow").symlink_to("/etc/shadow")
    assert check_submission_folder(folder) == "__MACOSX/shadow is a symbolic link"
    (folder / "__MACOSX" / "shadow").unlink()

    with open(folder / "data" / "big.bin", "wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)
    assert "data/big.bin is 20.0 MiB, over the limit" in check_submission_folder(folder)
    (folder / "data" / "big.bin").unlink()

    with socket.socket(socket.AF_UNIX) as server:
        monkeypatch.chdir(folder)  # a socket's path must be short
        server.bind("listening")
        monkeypatch.chdir(tmp_path)
        assert check_submission_folder(folder) == "listening is a socket"
    (folder / "listening").unlink()

    os.rename(folder, tmp_path / "real")
    folder.symlink_to(tmp_path / "real")
    assert check_submission_folder(folder) == f"{ASSIGNMENT} is a symbolic link"
    assert check_submission_folder(tmp_path / "nobody" / ASSIGNMENT).startswith(
        f"{ASSIGNMENT} cannot be read"
    )


def test_extra_notebooks_are_named(tmp_path):
    folder = layout_submission(
        tmp_path,
        "alice",
        {
            RELEASE_NAME: "{}",
            "Initialization-Copy1.ipynb": "{}",
            f"old/{RELEASE_NAME}": "{}",
            ".ipynb_checkpoints/Initialization-checkpoint.ipynb": "{}",
            "notes.txt": "",
            "companion/DataAndHelpersTour.ipynb": "{}",
        },
    )
    expected = ["Initialization-Copy1.ipynb", f"old/{RELEASE_NAME}"]
    handed_out = ["companion/DataAndHelpersTour.ipynb"]  # the release's companion, handed back
    assert extra_notebooks(folder, [example_class.NOTEBOOK], handed_out) == expected
    assert extra_notebooks(folder, [RELEASE_NAME], handed_out) == expected
    assert extra_notebooks(folder, [RELEASE_NAME]) == sorted(expected + handed_out)


def symlink_member(name, target):
    """A zip member recorded as a symbolic link (as `zip --symlinks` writes one)."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


@pytest.fixture(scope="module")
def hostile_zip(tmp_path_factory):
    """(course, refusals, carol's notebook): a scratch course in which carol
    has handed in already, and the refusals of collecting a zip with every
    kind of hostile member."""
    base = tmp_path_factory.mktemp("hostile_zip")
    course = base / "course"
    course.mkdir()
    copy_course(course)
    write_submission(course, "carol", ASSIGNMENT, RELEASE_NAME, example_class.CORRECT)
    carol = submitted_notebook(course, "carol").read_text()
    # trent's folder in submitted/ is a link (left there by hand, or by an older intake).
    (base / "elsewhere").mkdir()
    (course / "submitted" / "trent").symlink_to(base / "elsewhere")
    blank = (course / "release" / ASSIGNMENT / RELEASE_NAME).read_text()
    inner = make_zip(course, base / "inner.zip", {f"carol_{RELEASE_NAME}": blank})
    path = make_zip(
        course,
        base / "download.zip",
        {
            f"alice_{RELEASE_NAME}": example_class.CORRECT,
            f"__MACOSX/._alice_{RELEASE_NAME}": b"\x00\x05\x16\x07 AppleDouble",
            f"../../dave_{RELEASE_NAME}": example_class.CORRECT,
            "oscar_extras.zip": inner.read_bytes(),
            f"peggy_{RELEASE_NAME}": inner.read_bytes(),  # a zip by its bytes
            f"erin_{RELEASE_NAME}": "{" + " " * MAX_FILE_BYTES + "}",
            f"*_{RELEASE_NAME}": example_class.CORRECT,
            f".._{RELEASE_NAME}": example_class.CORRECT,
            f"frank_{RELEASE_NAME}": example_class.CORRECT,
            f"frank/frank_{RELEASE_NAME}": blank,
            f"grace_attempt_2026-12-04T100000_{RELEASE_NAME}": blank,
            f"grace_attempt_2026-12-05T100000_{RELEASE_NAME}": example_class.CORRECT,
            "README.txt": "Downloaded from the learning platform",
            f"trent_{RELEASE_NAME}": example_class.CORRECT,
            # 99 Chinese characters: a legal name on macOS and Windows, 303 bytes here
            f"ivan_{'初始化' * 33}.ipynb": example_class.CORRECT,
        },
    )
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(
            *symlink_member(f"mallory_{RELEASE_NAME}", f"../../source/{ASSIGNMENT}/{RELEASE_NAME}")
        )
    return course, refused(collect(Course(course), ASSIGNMENT, path)), carol


@pytest.mark.slow
def test_plain_notebooks_of_a_zip_are_collected_and_junk_is_skipped(hostile_zip):
    course, refusals, _ = hostile_zip
    assert students_in(course) == ["alice", "carol", "dave", "grace", "trent"]  # trent: the link
    assert submitted_notebook(course, "alice").read_text() == notebook_text(course, example_class.CORRECT)
    assert not any("MACOSX" in reason or "._alice" in reason for reason in refusals.values())


@pytest.mark.slow
def test_a_symlink_member_refuses_its_student(hostile_zip):
    _, refusals, _ = hostile_zip
    assert refusals["mallory"] == f"mallory_{RELEASE_NAME} is a symbolic link"


@pytest.mark.slow
def test_a_nested_archive_is_reported_and_never_unpacked(hostile_zip):
    course, refusals, carol = hostile_zip
    # The nested zip held a blank notebook named as carol's: her own stays.
    assert submitted_notebook(course, "carol").read_text() == carol
    assert "oscar_extras.zip is an archive (zip)" in refusals["download.zip"]
    assert refusals["peggy"].startswith(f"peggy_{RELEASE_NAME} is an archive (zip)")
    assert not (course / "downloaded" / ASSIGNMENT / "extracted" / "oscar_extras").exists()


@pytest.mark.slow
def test_a_member_keeps_only_its_base_name(hostile_zip):
    course, _, _ = hostile_zip
    assert submitted_notebook(course, "dave").read_text() == notebook_text(course, example_class.CORRECT)
    # Filed under the notebook's name in dave's folder, and nowhere else under
    # the member's own name (which held a path).
    assert list(course.parent.rglob(f"dave_{RELEASE_NAME}")) == []


@pytest.mark.slow
def test_nothing_is_written_through_a_link_in_submitted(hostile_zip):
    course, refusals, _ = hostile_zip
    assert refusals["trent"] == "submitted/trent is a symbolic link: nothing is written through it"
    assert list((course.parent / "elsewhere").iterdir()) == []


@pytest.mark.slow
def test_an_oversized_member_refuses_its_student(hostile_zip):
    _, refusals, _ = hostile_zip
    assert refusals["erin"] == f"erin_{RELEASE_NAME} is over the limit of 20.0 MiB per file"


@pytest.mark.slow
def test_a_name_too_long_to_file_costs_only_itself(hostile_zip):
    _, refusals, _ = hostile_zip
    assert "the file name is too long to file" in " ".join(refusals.values())


@pytest.mark.slow
def test_a_file_named_for_no_valid_student_is_reported(hostile_zip):
    course, refusals, _ = hostile_zip
    reasons = refusals["download.zip"]
    assert f"*_{RELEASE_NAME}: '*' is not a valid student id" in reasons
    assert f".._{RELEASE_NAME}: '..' is not a valid student id" in reasons
    assert "README.txt is not a notebook (.ipynb)" in reasons
    # ".." would have been submitted/../<assignment>: the course root.
    assert not (course / ASSIGNMENT).exists()


@pytest.mark.slow
def test_two_files_for_one_notebook_keep_the_later_or_refuse_the_student(hostile_zip):
    course, refusals, _ = hostile_zip
    copies = f"frank_{RELEASE_NAME}, frank/frank_{RELEASE_NAME}"
    assert refusals["frank"] == f"2 files for {RELEASE_NAME} ({copies}), none later by its name"
    assert submitted_notebook(course, "grace").read_text() == notebook_text(course, example_class.CORRECT)
    timestamp = course / "submitted" / "grace" / ASSIGNMENT / "timestamp.txt"
    assert timestamp.read_text().startswith("2026-12-05 10:00:00")


@pytest.mark.slow
def test_a_folder_of_downloads_follows_the_same_rules(course, tmp_path):
    downloads = tmp_path / "downloads"
    (downloads / "late").mkdir(parents=True)
    (downloads / "__MACOSX").mkdir()
    honest = notebook_text(course, example_class.CORRECT)
    (downloads / f"alice_{RELEASE_NAME}").write_text(honest)
    (downloads / "late" / f"dave_{RELEASE_NAME}").write_text(honest)
    (downloads / "__MACOSX" / f"._alice_{RELEASE_NAME}").write_text("resource fork")
    (downloads / f"bob_{RELEASE_NAME}").symlink_to(course / "source" / ASSIGNMENT / RELEASE_NAME)
    os.mkfifo(downloads / f"carol_{RELEASE_NAME}")
    make_zip(course, downloads / "extras.zip", {f"erin_{RELEASE_NAME}": honest})

    refusals = refused(collect(Course(course), ASSIGNMENT, downloads))

    assert refusals == {
        "bob": f"bob_{RELEASE_NAME} is a symbolic link",
        "carol": f"carol_{RELEASE_NAME} is a named pipe (FIFO)",
        "downloads": "extras.zip is an archive (zip), and archives inside a download are not unpacked",
    }
    assert students_in(course) == ["alice", "dave"]
    assert submitted_notebook(course, "dave").read_text() == honest


def test_downloads_kept_where_nbgrader_says_to_put_them_stay_there(course):
    """nbgrader's documentation has instructors put LMS downloads in the
    archive folder (downloaded/<assignment>/archive/): collecting from there
    files the students and leaves the download where it was."""
    grading_course = Course(course)
    archive = grading_course.archive_folder(ASSIGNMENT)
    archive.mkdir(parents=True, exist_ok=True)
    download = make_zip(course, archive / "from_canvas.zip", {f"zoe_{RELEASE_NAME}": example_class.CORRECT})
    collected = collect(grading_course, ASSIGNMENT, download)
    assert "zoe" in collected.students and not collected.refusals
    assert sorted(path.name for path in archive.iterdir()) == ["from_canvas.zip"]
    assert submitted_notebook(course, "zoe").is_file()


def test_a_student_who_cannot_be_filed_costs_only_that_student(course, tmp_path):
    # Something in the way of dave's folder: filing fails for him alone.
    (course / "submitted").mkdir()
    (course / "submitted" / "dave").write_text("not a folder")
    honest = {f"{student}_{RELEASE_NAME}": example_class.CORRECT for student in ["alice", "dave", "erin"]}

    refusals = refused(collect(Course(course), ASSIGNMENT, make_zip(course, tmp_path / "d.zip", honest)))

    assert list(refusals) == ["dave"]
    assert refusals["dave"].startswith("could not be filed in submitted/:")
    assert students_in(course) == ["alice", "dave", "erin"]
    assert submitted_notebook(course, "erin").exists()


def test_a_file_nested_too_deeply_to_read_costs_only_that_student(course, tmp_path):
    """Python's JSON reader cannot follow 200,000 open brackets: the edition
    check skips such a file, and the class is collected all the same."""
    files = {f"{student}_{RELEASE_NAME}": example_class.CORRECT for student in ["alice", "erin"]}
    files[f"dave_{RELEASE_NAME}"] = "[" * 200_000

    collected = collect(Course(course), ASSIGNMENT, make_zip(course, tmp_path / "d.zip", files))

    assert sorted(collected.students) == ["alice", "dave", "erin"] and not collected.refusals
    assert submitted_notebook(course, "erin").exists()


# ------------------------------------------- Canvas's and Moodle's downloads

ROSTER = """id,first_name,last_name,email,lms_user_id
cyoung,Cy,Young,cy@example.org,5551
ddee,Dee,Dee,dee@example.org,7777
hana,Hana,Sato,hana@example.org,
jdoe,John,Doe,john@example.org,6661
jroe,Jane,Roe,jane@example.org,6662
twice,Tw,Ice,twice@example.org,1234
jose,José,García,jose@example.org,
"""


def import_roster(course):
    roster = course / "roster.csv"
    roster.write_text(ROSTER)
    run_nbgrader(course, "db", "student", "import", str(roster))


@pytest.mark.slow
def test_canvas_and_moodle_names_are_matched_through_the_roster(course, tmp_path):
    import_roster(course)
    honest = notebook_text(course, example_class.CORRECT)
    files = {
        "youngcy_5551_88888_Initialization-1.ipynb": honest,  # Canvas: uploaded again
        "deedee_late_7777_99999_Initialization.ipynb": honest,  # Canvas: marked late
        "__MACOSX/._youngcy_5551_88888_Initialization-1.ipynb": b"\x00\x05\x16\x07",
        "hana_Initialization (1).ipynb": honest,  # a browser's second download
        "hanna_Initialization.ipynb": honest,  # a typo: no new student
        "outsider_9999_11111_Initialization.ipynb": honest,  # on no roster
        "Initialization.ipynb": honest,  # nobody's
        "icetw_1234_501_Initialization.ipynb": honest,  # two files for one student
        "icetw_1234_502_Initialization-1.ipynb": honest,
        "submissions/John Doe_6661_assignsubmission_file_/Initialization.ipynb": honest,  # Moodle
        "Jane Roe_6662_assignsubmission_file_Initialization.ipynb": honest,  # Moodle, flat
    }

    collected = collect(Course(course), ASSIGNMENT, make_zip(course, tmp_path / "lms.zip", files))

    assert collected.students == ["cyoung", "ddee", "hana", "jdoe", "jroe"]
    assert students_in(course) == collected.students
    for student in collected.students:
        assert submitted_notebook(course, student).read_text() == honest
    reasons = refused(collected)
    assert "Canvas user 9999 (outsider) is on no student's row of the roster" in reasons["lms.zip"]
    assert "Initialization.ipynb is not named as a student's notebook" in reasons["lms.zip"]
    assert "hanna_Initialization.ipynb: hanna is not in the gradebook's roster" in reasons["lms.zip"]
    assert reasons["twice"].startswith(f"2 files for {RELEASE_NAME}")
    assert "MACOSX" not in "".join(reasons.values())
    [note] = collected.notes
    assert note.startswith("ddee: deedee_late_7777_99999_Initialization.ipynb is marked late by Canvas")


@pytest.mark.slow
def test_a_folder_named_as_the_assignment_in_a_moodle_download_is_read_as_a_download(course, tmp_path):
    """A Moodle download unpacked into a folder, where one student handed in
    a folder named as the assignment: the download is still read as a
    download, not as nbgrader's <student>/<assignment>/ layout (which would
    have left the other student out). Both are filed; the notebook in
    John's own folder is his, as anything inside a Moodle student folder is."""
    import_roster(course)
    honest = notebook_text(course, example_class.CORRECT)
    download = tmp_path / "moodle-download"
    for path in (
        f"John Doe_6661_assignsubmission_file_/{ASSIGNMENT}/{RELEASE_NAME}",
        f"Jane Roe_6662_assignsubmission_file_/{RELEASE_NAME}",
    ):
        (download / path).parent.mkdir(parents=True, exist_ok=True)
        (download / path).write_text(honest)

    collected = collect(Course(course), ASSIGNMENT, download)

    assert collected.students == ["jdoe", "jroe"] and collected.refusals == []
    for student in collected.students:
        assert submitted_notebook(course, student).read_text() == honest


@pytest.mark.slow
def test_moodle_names_are_matched_through_the_assignments_grading_worksheet(course, tmp_path):
    """Moodle numbers the participants of each assignment anew: with the
    assignment's worksheet configured, its numbers count, not the roster's
    lms_user_id (jdoe's 6661 came from another assignment)."""
    import_roster(course)
    (course / "worksheet.csv").write_text(
        "\ufeffIdentifier,Full name,Email address,Status,Grade,Maximum Grade\n"
        "Participant 9100,John Doe,John@Example.org,Submitted for grading,,10.00\n"
        "Participant 9101,Jane Roe,jane@example.org,Submitted for grading,,10.00\n"
        "Participant 9102,Sam Stranger,sam@example.org,Submitted for grading,,10.00\n"
        "Participant 9103,José García,jose@example.org,Submitted for grading,,10.00\n"
    )
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.LmsFileNames.moodle_worksheets = {{{ASSIGNMENT!r}: 'worksheet.csv'}}\n")
    honest = notebook_text(course, example_class.CORRECT)
    files = {
        f"John Doe_9100_assignsubmission_file_/{RELEASE_NAME}": honest,  # the email, in any case
        f"Jane Roe_6661_assignsubmission_file_/{RELEASE_NAME}": honest,  # jdoe's number elsewhere
        f"Sam Stranger_9102_assignsubmission_file_/{RELEASE_NAME}": honest,  # on no roster
        f"José García_9103_assignsubmission_file_/{RELEASE_NAME}": honest,  # written without the UTF-8 flag
        f"youngcy_5551_88888_{RELEASE_NAME}": honest,  # Canvas: still the roster's lms_user_id
    }

    unflagged = [name for name in files if name.startswith("José")]
    download = make_zip(course, tmp_path / "moodle.zip", files, unflagged)
    collected = collect(Course(course), ASSIGNMENT, download)

    assert collected.students == ["cyoung", "jdoe", "jose"]
    reasons = refused(collected)["moodle.zip"]
    assert "Moodle user 6661 (Jane Roe) is not in the grading worksheet worksheet.csv" in reasons
    assert "download this assignment's worksheet again" in reasons
    assert "Moodle user 9102 (Sam Stranger) has the email sam@example.org in worksheet.csv" in reasons

    # A folder named otherwise than the worksheet names its number: the
    # worksheet is not this download's, and no Moodle file of it is filed.
    mismatch = {
        f"Eve Evil_9101_assignsubmission_file_/{RELEASE_NAME}": honest,  # Jane Roe's number, not Eve's
        f"John Doe_9100_assignsubmission_file_/{RELEASE_NAME}": notebook_text(course, {}),
    }
    wrong = collect(Course(course), ASSIGNMENT, make_zip(course, tmp_path / "mismatch.zip", mismatch))
    assert wrong.students == []
    reasons = refused(wrong)
    assert "Moodle user 9101 (Eve Evil) is Jane Roe in the grading worksheet" in reasons["mismatch.zip"]
    assert "not filed, with every Moodle file of this download: 1 of its folders" in reasons["jdoe"]
    assert submitted_notebook(course, "jdoe").read_text() == honest  # his earlier file stays

    (course / "worksheet.csv").write_text("Student,ID\n")  # not a worksheet: every Moodle file waits
    again = collect(Course(course), ASSIGNMENT, make_zip(course, tmp_path / "again.zip", files))
    assert again.students == ["cyoung"]
    assert (
        "the grading worksheet worksheet.csv (LmsFileNames.moodle_worksheets) is unreadable"
        in (refused(again)["again.zip"])
    )


@pytest.mark.slow
def test_a_new_download_keeps_what_the_instructor_changed(course, tmp_path):
    """The instructor renames cyoung's oddly named file and writes ddee's time
    of submission; the next download, with the same files (and one new
    file of cyoung's), changes only what is new."""
    import_roster(course)
    honest = notebook_text(course, example_class.CORRECT)
    first = {
        "youngcy_5551_88888_HW3_Initialization_CYoung_final.ipynb": honest,
        "deedee_late_7777_99999_Initialization.ipynb": honest,
    }
    collect(Course(course), ASSIGNMENT, make_zip(course, tmp_path / "first.zip", first))
    cyoung = course / "submitted" / "cyoung" / ASSIGNMENT
    (cyoung / "HW3_Initialization_CYoung_final.ipynb").rename(cyoung / RELEASE_NAME)
    ddee_time = course / "submitted" / "ddee" / ASSIGNMENT / "timestamp.txt"
    ddee_time.write_text("2026-12-05 12:00:00 UTC")

    again = collect(Course(course), ASSIGNMENT, make_zip(course, tmp_path / "again.zip", first))
    assert sorted(path.name for path in cyoung.glob("*.ipynb")) == [RELEASE_NAME]
    assert ddee_time.read_text() == "2026-12-05 12:00:00 UTC"
    assert again.students == ["cyoung", "ddee"]
    [note] = again.notes  # and no "graded as on time" for ddee, whose time is written
    assert note.startswith("cyoung, ddee: the same files as in the download collected before")

    changed = {**first, "youngcy_5551_88890_Initialization.ipynb": notebook_text(course, {})}
    later = collect(Course(course), ASSIGNMENT, make_zip(course, tmp_path / "later.zip", changed))
    assert later.students == ["cyoung", "ddee"]
    assert submitted_notebook(course, "cyoung").read_text() == notebook_text(course, {})  # new: filed
    assert ddee_time.read_text() == "2026-12-05 12:00:00 UTC"  # the same: kept


def test_the_chinese_edition_reads_its_english_assignments_worksheet():
    """One LMS assignment for both editions: one worksheet."""
    app = ZipCollectApp()
    app.coursedir = CourseDirectory(assignment_id=f"{ASSIGNMENT}_zh")
    plugin = LmsFileNames(parent=app, moodle_worksheets={ASSIGNMENT: "worksheet.csv"})
    assert plugin.worksheet() == "worksheet.csv"
    assert same_name("Mary-Ann O'Neil", "Mary Ann ONeil") and not same_name("Jane Roe", "Eve Evil")
    assert same_name("José García", "Jose\u0301 Garci\u0301a")  # composed and decomposed, as macOS writes


def test_download_names_of_each_platform():
    releases = [RELEASE_NAME]
    cases = {
        "ada_Initialization.ipynb": ("nbgrader", "ada", None),
        "ada_attempt_2026-12-05T120000_Initialization.ipynb": ("nbgrader", "ada", None),
        "youngcy_5551_88888_Initialization-1.ipynb": ("Canvas", None, "5551"),
        "deedee_late_7777_99999_Initialization.ipynb": ("Canvas", None, "7777"),
        "x/John Doe_6661_assignsubmission_file_/Initialization (2).ipynb": ("Moodle", None, "6661"),
    }
    for path, (platform, student, lms_user_id) in cases.items():
        name = read_download_name(path)
        assert (name.platform, name.student, name.lms_user_id) == (platform, student, lms_user_id), path
        assert notebook_name(name.original, releases, name.platform) == RELEASE_NAME, path
    assert read_download_name("Initialization.ipynb") is None
    # A Moodle number on no roster row points to the assignment's worksheet.
    _, problem = student_of(read_download_name(f"Jo_6661_assignsubmission_file_/{RELEASE_NAME}"), {})
    assert "name this assignment's grading worksheet in c.LmsFileNames.moodle_worksheets" in problem
    assert read_download_name("deedee_late_7777_99999_Initialization.ipynb").late
    # Only Canvas adds "-1"; a notebook of another name stays as it is.
    assert notebook_name("Initialization-1.ipynb", releases, "nbgrader") == "Initialization-1.ipynb"
    assert notebook_name("notes.ipynb", releases, "Canvas") == "notes.ipynb"
    assert notebook_name("initialization.ipynb", releases) == RELEASE_NAME


def test_a_download_name_is_read_from_the_platforms_own_part_of_the_path():
    """A student names files and folders inside their own submission: Eve's
    can never be read as Bob's (4242), nor lose what the platform says."""
    eve = ("Moodle", "7777")
    cases = {
        # Moodle: a folder Eve made inside hers, holding an nbgrader-style name...
        "Eve Evil_7777_assignsubmission_file_/drafts/bob_attempt_2026-12-01T090000_Initialization.ipynb": eve,
        # ... or named as Bob's Moodle folder
        "Eve Evil_7777_assignsubmission_file_/Bob B_4242_assignsubmission_file_/Initialization.ipynb": eve,
        "x/Eve Evil_7777_assignsubmission_file_/Bob B_4242_assignsubmission_file_Initialization.ipynb": eve,
        # Canvas: an upload Eve named as Bob's Moodle file, or as Bob's nbgrader attempt
        "eve_7777_88888_bob_4242_assignsubmission_file_Initialization.ipynb": ("Canvas", "7777"),
        "eve_late_7777_88888_bob_attempt_2026-12-01T090000_Initialization.ipynb": ("Canvas", "7777"),
        # ... or with a backslash, which a name uploaded from Linux or macOS may hold
        "eve_7777_88888_x\\bob_4242_99999_Initialization.ipynb": ("Canvas", "7777"),
        "eve_late_7777_88888_x\\bob_attempt_2026-12-01T090000_Initialization.ipynb": ("Canvas", "7777"),
        "eve_7777_88888_x\\Bob B_4242_assignsubmission_file_\\Initialization.ipynb": ("Canvas", "7777"),
    }
    for path, (platform, lms_user_id) in cases.items():
        name = read_download_name(path)
        assert (name.platform, name.lms_user_id, name.student, name.timestamp) == (
            platform,
            lms_user_id,
            None,
            None,
        ), path
    for late in ("", "x\\"):
        assert read_download_name(
            f"eve_late_7777_88888_{late}bob_attempt_2026-12-01T090000_Initialization.ipynb"
        ).late


@pytest.mark.parametrize(
    "written, problem",
    [
        ("2026-12-05 12:00:00.123456 UTC", None),  # as nbgrader's exchange writes it
        ("2026-12-05 12:00:00+00:00", None),  # as zip_collect writes it
        ("2026-12-05 07:00:00 America/New_York", None),
        ("2026-12-05 07:00:00 -0500", "numeric time zone nbgrader misreads"),  # read as 8 min 20 s
        ("2026-12-05 07:00:00 -05:00", "numeric time zone nbgrader misreads"),  # read as UTC
        ("2026-12-05 07:00:00 Mars/Olympus", "no time zone is called 'Mars/Olympus'"),
        ("Dec 5, 2026 7:00pm America/New_York", "which is no time nbgrader can read"),
    ],
)
def test_a_timestamp_nbgrader_would_misread_is_named(tmp_path, written, problem):
    """The instructor writes timestamp.txt for LMS downloads: a time nbgrader
    would read wrong (a late penalty silently lost) stops that student's
    grading with the reason, and the earlier grade stands."""
    (tmp_path / "timestamp.txt").write_text(written)
    found = timestamp_problem(tmp_path)
    assert found is None if problem is None else problem in found


def test_a_file_name_that_is_not_utf8_costs_only_that_file(course, tmp_path):
    """Linux allows any bytes in a file name: one that is not UTF-8 is
    refused with its bytes escaped, and the others are collected; the
    refusal can be written to a summary."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    honest = notebook_text(course, example_class.CORRECT)
    (downloads / f"alice_{RELEASE_NAME}").write_text(honest)
    (downloads / os.fsdecode(b"dave_\xff_" + RELEASE_NAME.encode())).write_text(honest)

    collected = collect(Course(course), ASSIGNMENT, downloads)

    assert collected.students == ["alice"]
    assert refused(collected) == {"downloads": f"dave_\\xff_{RELEASE_NAME}: its name is not UTF-8 text"}
    write_json(tmp_path / "summary.json", [str(refusal) for refusal in collected.refusals])


def test_a_zip_whose_names_are_not_utf8_is_named_not_a_traceback(course, tmp_path):
    """A zip that flags a member's name as UTF-8 when it is not cannot be
    read by Python's zipfile at all: the command says so."""
    path = make_zip(course, tmp_path / "d.zip", {f"alicé_{RELEASE_NAME}": example_class.CORRECT})
    data = path.read_bytes().replace("alicé_".encode(), b"alic\xff\xfe_")  # still flagged UTF-8
    path.write_bytes(data)
    with pytest.raises(GradingError, match="cannot be read as a zip file"):
        collect(Course(course), ASSIGNMENT, path)
