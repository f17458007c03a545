"""The grading command's errors: a library function raises GradingError, the
command line prints it and exits with status 1 (no kernel is started)."""

import subprocess
import sys

import pytest

from conftest import REPO
from grading.course import Course
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
    process = subprocess.run([sys.executable, "-m", "grading.grade", "initialization",
                              "--root", str(tmp_path)], cwd=REPO,
                             capture_output=True, text=True)
    assert process.returncode == 1
    assert process.stderr.startswith("error: ") and "Traceback" not in process.stderr


def test_folders_are_where_the_configuration_puts_them(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.submitted_directory = 'handed_in'\n"
        "c.CourseDirectory.autograded_directory = 'marked'\n"
        "c.ZipCollectApp.downloaded_directory = 'from_lms'\n"
        "c.ZipCollectApp.archive_directory = 'zips'\n")
    course = Course(tmp_path)
    assert course.folder("submitted", "ada", "a1") == tmp_path / "handed_in" / "ada" / "a1"
    assert course.folder("autograded", "ada", "a1") == tmp_path / "marked" / "ada" / "a1"
    assert course.archive_folder("a1") == tmp_path / "from_lms" / "a1" / "zips"
    (tmp_path / "handed_in" / "ada" / "a1").mkdir(parents=True)
    assert course.submitted("a1") == ["ada"]
