"""nbgrader's exchange, round trip: the instructor releases, two students fetch
and submit (one of them twice), the instructor collects, grades with the
course's command and releases feedback, and each student fetches their own.

Every step is the real nbgrader command over a temporary exchange root.
nbgrader names a student by their operating-system user, so each student's
commands run in a user namespace (bubblewrap) whose /etc/passwd gives its
uid the student's name: `nbgrader submit` run as "ada" files the work as
ada's. (Real accounts would need the course's Python to be readable by
every user; on a machine where it lives in root's home, it is not.)
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import copy_course, leaked_hidden_tests, page_text, run_grading_command
from examples import example_class
from examples.students import fill_in
from grading.course import Course, open_gradebook, run_nbgrader

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

ASSIGNMENT, NOTEBOOK = example_class.ASSIGNMENT, example_class.NOTEBOOK + ".ipynb"
FIRST_TRY = example_class.STUDENTS["he-xavier-scale"]  # ada's first submission, He wrong
TYPICAL_MISTAKE = example_class.STUDENTS["zeros-transposed-weights"]  # bo's only one
UIDS = {"ada": 2001, "bo": 2002}


class Student:
    """A student with a home folder, whose nbgrader commands run under their own user name."""

    def __init__(self, name, home, exchange, course_id, accounts):
        self.name, self.home, self.exchange, self.course_id = name, home, exchange, course_id
        self.accounts = accounts  # passwd and group files naming every student
        home.mkdir()

    def nbgrader(self, *args):
        """Run `nbgrader <args> --course <id>` in the home folder, as this student; return its output."""
        uid = str(UIDS[self.name])
        command = [
            "bwrap", "--unshare-user", "--uid", uid, "--gid", uid, "--clearenv",
            "--setenv", "PATH", os.environ["PATH"], "--setenv", "LANG", "C.UTF-8",
            "--bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--ro-bind", str(self.accounts / "passwd"), "/etc/passwd",
            "--ro-bind", str(self.accounts / "group"), "/etc/group",
            "--chdir", str(self.home), "--setenv", "HOME", str(self.home),
            "--",
            sys.executable, "-m", "nbgrader", *args,
            f"--course={self.course_id}", f"--Exchange.root={self.exchange}",
        ]  # fmt: skip
        process = subprocess.run(command, capture_output=True, text=True, timeout=300)
        assert process.returncode == 0, f"{self.name}: nbgrader {' '.join(args)}\n{process.stderr[-2000:]}"
        return process.stdout + process.stderr

    def answer(self, answers):
        """Type answers into the fetched notebook, as the student does in JupyterLab."""
        path = self.home / ASSIGNMENT / NOTEBOOK
        nbformat.write(fill_in(nbformat.read(path, as_version=4), answers), path)

    def feedback(self):
        """The feedback files fetched so far, by the submission time they belong to."""
        folder = self.home / ASSIGNMENT / "feedback"
        return {path.parent.name: path for path in sorted(folder.glob(f"*/{example_class.NOTEBOOK}.html"))}


def accounts_naming(folder, names):
    """passwd and group files: the machine's (less any account with a
    student's name or id), and one account per student."""
    folder.mkdir()
    taken = set(names) | {str(UIDS[name]) for name in names}

    def others(path):
        lines = Path(path).read_text().rstrip("\n").split("\n")
        return [line for line in lines if not taken & set(line.split(":")[:3:2])]

    passwd, group = others("/etc/passwd"), others("/etc/group")
    for name in names:
        uid = UIDS[name]
        passwd.append(f"{name}:x:{uid}:{uid}:{name}:/nonexistent:/usr/sbin/nologin")
        group.append(f"{name}:x:{uid}:")
    (folder / "passwd").write_text("\n".join(passwd) + "\n")
    (folder / "group").write_text("\n".join(group) + "\n")
    return folder


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    """Run the whole round trip once; the tests check what each side ends with."""
    if not shutil.which("bwrap"):
        pytest.fail("bubblewrap is missing: run scripts/setup.sh")
    work = tmp_path_factory.mktemp("exchange-round-trip")
    (work / "course").mkdir()
    course = copy_course(work / "course")
    exchange = work / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)  # as nbgrader's documentation sets up an exchange
    course_id = Course(course).coursedir.course_id
    accounts = accounts_naming(work / "accounts", UIDS)
    ada, bo = (Student(name, work / name, exchange, course_id, accounts) for name in UIDS)
    instructor = f"--Exchange.root={exchange}"

    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    run_nbgrader(course, "release_assignment", ASSIGNMENT, instructor)
    for student in (ada, bo):
        student.nbgrader("fetch_assignment", ASSIGNMENT)
    ada.answer(FIRST_TRY["answers"])
    ada.nbgrader("submit", ASSIGNMENT)
    bo.answer(TYPICAL_MISTAKE["answers"])
    bo.nbgrader("submit", ASSIGNMENT)
    ada.answer(example_class.CORRECT)  # she fixes He and hands it in again
    ada.nbgrader("submit", ASSIGNMENT)
    listing = run_nbgrader(course, "list", "--inbound", ASSIGNMENT, instructor)
    inbound = listing.stdout + listing.stderr

    # Every file in the exchange belongs to this machine's one real user, so
    # nbgrader's check that a submission's owner is its student cannot hold.
    run_nbgrader(course, "collect", ASSIGNMENT, instructor, "--CollectApp.check_owner=False")
    grading_output = run_grading_command(course, ASSIGNMENT)
    run_nbgrader(course, "release_feedback", ASSIGNMENT, instructor)
    for student in (ada, bo):
        student.nbgrader("fetch_feedback", ASSIGNMENT)
    return {
        "course": course,
        "ada": ada,
        "bo": bo,
        "inbound": inbound,
        "grading_output": grading_output,
    }


def graded(course, student):
    """(total, timestamp) of the student's graded submission, from the gradebook."""
    with open_gradebook(course) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        return submission.score, submission.timestamp


def test_both_students_are_collected_and_graded(round_trip):
    course = round_trip["course"]
    assert sorted(path.name for path in (course / "submitted").iterdir()) == ["ada", "bo"]
    assert graded(course, "ada")[0] == sum(example_class.FULL.values())
    assert graded(course, "bo")[0] == sum(TYPICAL_MISTAKE["expected"].values())


def test_the_later_of_two_submissions_is_graded(round_trip):
    """ada handed in twice; the grade and timestamp are her second submission's."""
    course = round_trip["course"]
    inbound = round_trip["inbound"]  # what the instructor's `nbgrader list --inbound` shows
    assert inbound.count(f"ada {ASSIGNMENT}") == 2, inbound  # both reached the exchange
    assert inbound.count(f"bo {ASSIGNMENT}") == 1, inbound
    submitted = nbformat.read(course / "submitted" / "ada" / ASSIGNMENT / NOTEBOOK, as_version=4)
    answer = next(
        c
        for c in submitted.cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "initialize_parameters_he"
    )
    assert "(2 / fan_in)" in answer.source
    score, timestamp = graded(course, "ada")
    assert score == sum(example_class.FULL.values())
    assert (
        (course / "submitted" / "ada" / ASSIGNMENT / "timestamp.txt")
        .read_text()
        .startswith(timestamp.strftime("%Y-%m-%d %H:%M:%S"))
    )


@pytest.mark.parametrize("name", list(UIDS))
def test_each_student_fetches_their_own_feedback(round_trip, name):
    course, student = round_trip["course"], round_trip[name]
    fetched = student.feedback()
    # One feedback file: that of the graded submission (ada's first has none).
    assert len(fetched) == 1, fetched
    (path,) = fetched.values()
    score, _ = graded(course, name)
    text = path.read_text()
    assert f"Score: {score:.1f} / 10.0" in text
    released = course / "feedback" / name / ASSIGNMENT / path.name
    assert text == released.read_text()  # the very file the grading command wrote for them
    leaked = leaked_hidden_tests(ASSIGNMENT, page_text(text))
    assert not leaked, f"{name}'s feedback shows hidden tests: {leaked[:2]}"
