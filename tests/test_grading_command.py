"""The grading command's errors: a library function raises GradingError, the
command line prints it and exits with status 1 (no kernel is started)."""

import subprocess
import sys

import pytest

from conftest import REPO
from grading.command.course import Course
from grading.command.intake import Refusal
from grading.command.reporting import notes_block, refusals_block
from grading.errors import GradingError
from grading.grade import grade_class, main


def test_a_folder_without_configuration_is_refused_by_the_library(tmp_path):
    with pytest.raises(GradingError, match="has no nbgrader_config.py"):
        Course(tmp_path)
    with pytest.raises(GradingError, match="has no nbgrader_config.py"):
        grade_class(tmp_path, "initialization")


def test_the_command_line_turns_the_error_into_an_exit_status(tmp_path, capsys):
    assert main(["initialization", "--root", str(tmp_path)]) == 1
    assert "error: " in capsys.readouterr().err
    process = subprocess.run(
        [sys.executable, "-m", "grading.grade", "initialization", "--root", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert process.returncode == 1
    assert process.stderr.startswith("error: ") and "Traceback" not in process.stderr


def test_folders_are_where_the_configuration_puts_them(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.submitted_directory = 'handed_in'\n"
        "c.CourseDirectory.autograded_directory = 'marked'\n"
        "c.ZipCollectApp.downloaded_directory = 'from_lms'\n"
        "c.ZipCollectApp.archive_directory = 'zips'\n"
    )
    course = Course(tmp_path)
    assert course.folder("submitted", "ada", "a1") == tmp_path / "handed_in" / "ada" / "a1"
    assert course.folder("autograded", "ada", "a1") == tmp_path / "marked" / "ada" / "a1"
    assert course.archive_folder("a1") == tmp_path / "from_lms" / "a1" / "zips"
    (tmp_path / "handed_in" / "ada" / "a1").mkdir(parents=True)
    assert course.submitted("a1") == ["ada"]


def test_a_rerun_that_fails_still_says_it_was_a_rerun(monkeypatch, tmp_path):
    """A task Dask runs again after its worker died, whose grading then
    raises: the student is reported not graded, and as retried."""
    import grading.command.parallel as parallel
    from grading.reasons import Why

    def broken(course, assignment, student, releases):
        raise OSError("disk full")

    monkeypatch.setattr(parallel, "worker_course", lambda root, full, sandbox=True: Course(REPO))
    monkeypatch.setattr(parallel, "grade_and_give_feedback", broken)
    (tmp_path / "ada").touch()  # the first attempt's mark
    result = parallel.grade_on_worker(str(REPO), "initialization", "ada", attempts=str(tmp_path))
    assert result.retried
    assert [reason.why for reason in result.reasons] == [Why.GRADER_FAILED]
    assert str(result.reasons[0]) == "not graded: OSError: disk full"


# How nbgrader 0.9.6 logs a gradebook that another process kept locked.
LOCKED_LOG = (
    "[AutogradeApp | ERROR] There was an error processing assignment: ...\n"
    "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked\n"
)


def test_a_submission_that_met_a_locked_gradebook_is_graded_again(monkeypatch):
    """SQLite's "database is locked" (another worker held the write lock past
    the timeout) costs a second try, not the student's grade."""
    import grading.command.parallel as parallel
    from grading.command.pipeline import nbgrader_failure
    from grading.command.results import StudentResult
    from grading.reasons import Why

    locked = nbgrader_failure({"success": False, "error": "", "log": LOCKED_LOG})
    assert locked.why is Why.DATABASE_LOCKED
    outcomes = [
        StudentResult("ada", reasons=[locked]),
        StudentResult("ada", points={"test_he": (3.0, 3.0)}),
    ]
    calls = []
    monkeypatch.setattr(parallel, "worker_course", lambda root, full, sandbox=True: Course(REPO))
    monkeypatch.setattr(
        parallel,
        "grade_and_give_feedback",
        lambda course, assignment, student, releases: calls.append(student) or outcomes[len(calls) - 1],
    )
    result = parallel.grade_on_worker(str(REPO), "initialization", "ada")
    assert calls == ["ada", "ada"]
    assert result.points == {"test_he": (3.0, 3.0)} and not result.reasons


def test_what_a_download_names_cannot_take_over_the_terminal():
    hostile = "x\x1b[2J\x1b[31m_Initialization.ipynb\r"
    printed = refusals_block([Refusal("d.zip", f"{hostile} is not named as a student's notebook")])
    printed += notes_block([f"ada: {hostile} is marked late"])
    assert "\x1b" not in printed and "\r" not in printed
    assert "\\x1b[2J" in printed
