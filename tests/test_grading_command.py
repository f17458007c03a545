"""The grading command's errors: a library function raises GradingError, the
command line prints it and exits with status 1 (no kernel is started). And,
slow, failures of one student's grading (a full disk, a locked gradebook):
a reason or a second try for that student, never the end of the run."""

import json
import runpy
import subprocess
import sys
import warnings

import pytest

from conftest import copy_generated, gradebook_locked
from examples import example_class
from examples.course_copy import copy_course
from examples.grade_examples import write_example_class
from grading.command.course import Course
from grading.command.intake import submitted_students
from grading.errors import GradingError
from grading.grade import grade_class, main, notes_about
from grading.gradebook import open_gradebook


def test_a_folder_without_configuration_is_refused_by_the_library(tmp_path):
    with pytest.raises(GradingError, match="has no nbgrader_config.py"):
        Course(tmp_path)
    with pytest.raises(GradingError, match="has no nbgrader_config.py"):
        grade_class(tmp_path, "initialization")


def test_the_command_line_turns_the_error_into_an_exit_status(tmp_path, capsys, monkeypatch):
    (tmp_path / "summary.json").write_text('{"everything_graded": true, "students": []}')  # an earlier run's
    assert main(["initialization", "--root", str(tmp_path), "--json", "summary.json"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary == {
        "assignment": "initialization",
        "everything_graded": False,
        "error": error.removeprefix("error: ").strip(),
    }
    # `python -m grading.grade ...`, run in this process: the module as __main__.
    monkeypatch.setattr(sys, "argv", ["grading.grade", "initialization", "--root", str(tmp_path)])
    with warnings.catch_warnings(), pytest.raises(SystemExit) as exited:
        warnings.simplefilter("ignore", RuntimeWarning)  # runpy's: grading.grade is imported already
        runpy.run_module("grading.grade", run_name="__main__", alter_sys=True)
    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "Traceback" not in error


def test_folders_are_where_the_configuration_puts_them(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.submitted_directory = 'handed_in'\n"
        "c.CourseDirectory.autograded_directory = 'marked'\n"
        "c.CourseDirectory.source_directory = 'instructor'\n"
        "c.ZipCollectApp.downloaded_directory = 'from_lms'\n"
        "c.ZipCollectApp.archive_directory = 'zips'\n"
    )
    course = Course(tmp_path)
    assert course.folder("submitted", "ada", "a1") == tmp_path / "handed_in" / "ada" / "a1"
    assert course.folder("autograded", "ada", "a1") == tmp_path / "marked" / "ada" / "a1"
    assert course.folder("source", ".", "a1") == tmp_path / "instructor" / "a1"
    assert course.archive_folder("a1") == tmp_path / "from_lms" / "a1" / "zips"
    (tmp_path / "handed_in" / "ada" / "a1").mkdir(parents=True)
    assert submitted_students(course, "a1") == (["ada"], [])


@pytest.mark.slow
def test_a_failure_of_grading_itself_costs_only_that_student(generated_course, tmp_path, monkeypatch):
    """Grading that raises (a full disk, say) is the student's reason, not
    the end of the run, in the command's process and in a worker's; the
    gradebook's grade stands."""
    import grading.command.parallel as parallel
    import grading.command.pipeline as pipeline
    from grading.reasons import Why

    course_root = copy_generated(generated_course, tmp_path / "course")

    def broken(course, assignment, student, releases):
        raise OSError("disk full")

    monkeypatch.setattr(pipeline, "grade_student", broken)
    course = Course(course_root)
    result = pipeline.grade_and_give_feedback(
        course, "initialization", "ada", course.release_notebooks("initialization")
    )
    assert [str(reason) for reason in result.reasons] == ["not graded: OSError: disk full"]
    assert result.reasons[0].why is Why.GRADER_FAILED and not result.graded
    assert result.points and result.total == 0  # the gradebook's (no) grade, every exercise listed
    on_worker = parallel.grade_on_worker(str(course_root), "initialization", "ada")
    assert on_worker.has(Why.GRADER_FAILED) and not on_worker.retried


# Holds SQLite's write lock on the database named by its argument (BEGIN
# IMMEDIATE: others may still read, none may write), as a worker in the middle
# of a write does, until its standard input is closed.
LOCK_HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_submission_that_met_a_locked_gradebook_is_graded_again(generated_course, tmp_path, monkeypatch):
    """Another process holds the gradebook's write lock past SQLite's timeout:
    nbgrader's autograde fails with "database is locked", which costs a
    second try, not the student's grade."""
    import grading.command.parallel as parallel
    import grading.command.pipeline as pipeline
    from grading.reasons import Why

    root = copy_generated(generated_course, tmp_path / "course")
    with open(root / "nbgrader_config.py", "a") as config:  # wait 1 s for a lock, not 120
        config.write(
            "\nc.CourseDirectory.db_url = c.CourseDirectory.db_url.replace('timeout=120', 'timeout=1')\n"
        )
    student = "correct-variants"
    write_example_class(root, example_class, [student])
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(root / "gradebook.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "locked\n"
    real_autograde, failures = pipeline.autograde, []

    def autograde_then_unlock(course, assignment, student):
        """nbgrader's autograde, as the pipeline runs it; the lock ends after the first."""
        failures.append(real_autograde(course, assignment, student))
        if holder.poll() is None:
            holder.stdin.close()
            assert holder.wait(timeout=10) == 0
        return failures[-1]

    monkeypatch.setattr(pipeline, "autograde", autograde_then_unlock)
    try:
        result = parallel.grade_on_worker(str(root), example_class.ASSIGNMENT, student)
    finally:
        holder.kill()
        holder.wait()
    locked, second = failures
    assert locked.why is Why.DATABASE_LOCKED and "database is locked" in locked.text, locked
    assert second is None
    assert result.graded and not result.reasons, result.reasons
    assert result.total == sum(example_class.STUDENTS[student]["expected"].values())


def test_a_student_run_shows_only_the_notes_about_that_student():
    notes = [
        "ddee: deedee_late_7777_99999_Initialization.ipynb is marked late by Canvas",
        "cyoung, kpatel: the same files as in the download collected before",
        "jdoe: something else",
    ]
    assert notes_about(notes, None) == notes
    assert notes_about(notes, ["kpatel"]) == [notes[1]]
    assert notes_about(notes, ["ddee", "jdoe"]) == [notes[0], notes[2]]


def test_a_gradebook_that_cannot_be_read_costs_one_student_not_the_class(course):
    """The serial path's error handler reads the gradebook again: when that
    read fails too (SQLite's write lock held by another process past the
    timeout), the student gets a reason and no scores, and the summary of
    the class is still printed."""
    from grading.command.pipeline import grade_and_give_feedback
    from grading.command.reporting import summary_table
    from grading.command.results import StudentResult
    from grading.reasons import Why

    grading_course = Course(course)
    releases = grading_course.release_notebooks("initialization")
    with gradebook_locked(grading_course):
        result = grade_and_give_feedback(grading_course, "initialization", "nobody", releases)
    assert result.points == {} and not result.graded
    assert result.has(Why.GRADER_FAILED), result.reasons
    assert "database is locked" in " ".join(map(str, result.reasons))
    graded = StudentResult("ada", points={"test_zeros": (2.0, 2.0)})
    table = summary_table([result, graded])
    assert "nobody" in table and "ada" in table


@pytest.mark.parametrize("name", ["..", "../..", ".hidden", "a/b", "-rf", "", "x" * 65])
def test_an_assignment_name_that_could_name_another_folder_is_refused_first(course, name):
    """The assignment's name names folders the command empties (submitted/<student>/<assignment>):
    one that is not a single plain folder name stops the command before anything is touched."""
    before = sorted(path.relative_to(course) for path in course.rglob("*"))
    with pytest.raises(GradingError, match="is not a valid assignment name"):
        grade_class(course, name)
    assert sorted(path.relative_to(course) for path in course.rglob("*")) == before


def test_a_misspelt_assignment_is_refused_naming_the_courses_assignments(course, tmp_path):
    """A name that is neither in source/ nor in the gradebook is a typo: the
    command says which assignments there are, before it files any download
    under that name."""
    download = tmp_path / "download"
    download.mkdir()
    (download / "smithjane_1234_5678_Initialization.ipynb").write_text("{}")
    before = sorted(path.relative_to(course) for path in course.rglob("*"))
    with pytest.raises(GradingError) as refused:
        grade_class(course, "initialisation", download)
    assert str(refused.value) == (
        "this course has no assignment 'initialisation': its source/ holds "
        "initialization, initialization_deep, initialization_deep_zh, initialization_zh"
    )
    assert sorted(path.relative_to(course) for path in course.rglob("*")) == before


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_download_with_nothing_to_file_says_so(generated_course, tmp_path, capsys):
    """A download whose only file names a Canvas user the roster lacks: the
    error is about the download, not about the submissions already filed."""
    root = copy_generated(generated_course, tmp_path / "course")
    download = tmp_path / "download"
    download.mkdir()
    (download / "turingalan_9999_88890_Initialization.ipynb").write_text("{}")
    with pytest.raises(GradingError) as refused:
        grade_class(root, "initialization", download)
    assert str(refused.value) == f"nothing in {download} was filed as a submission of initialization"
    assert "turingalan_9999_88890_Initialization.ipynb" in capsys.readouterr().err


@pytest.mark.slow
def test_a_command_that_grades_no_one_writes_no_assignment_to_the_gradebook(tmp_path):
    """Exit status 1 (nothing graded): the assignment is not generated into
    the gradebook, and no due date is written, for a command that found no
    one to grade (a typo in --root, say)."""
    root = copy_course(tmp_path)
    with pytest.raises(GradingError, match="no submissions of initialization to grade"):
        grade_class(root, "initialization")
    with open_gradebook(root) as gradebook:
        assert gradebook.assignments == []


def test_an_unwritable_grades_file_is_said_in_the_summary(course, monkeypatch, capsys):
    """Every grade is in the gradebook when the grades file is written: an
    error there becomes the summary's line about the grades, not a traceback."""
    from grading.command.results import ClassGrading, StudentResult
    from grading.grade import export_grades, print_summary

    grading_course = Course(course)

    def broken(csv_name):
        raise OSError("disk full")

    monkeypatch.setattr(grading_course, "export_grades", broken)
    problem = export_grades(grading_course, "grades.csv")
    assert problem.startswith("grades.csv could not be written (OSError: disk full).")
    assert "nbgrader export" in problem
    ada = StudentResult("ada", points={"test_zeros": (2.0, 2.0)})
    run = ClassGrading(results=[ada], export_problem=problem)
    print_summary(run, "initialization", "grades.csv", "no report")
    assert problem in capsys.readouterr().out
    assert run.to_json()["export_problem"] == problem
