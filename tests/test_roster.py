"""The roster made from Canvas's gradebook export (grading/roster.py), imported by nbgrader."""

import csv
import io
import subprocess
import sys

import pytest

from conftest import REPO
from examples.nbgrader_runs import run_nbgrader
from grading.gradebook import open_gradebook
from grading.roster import ROSTER_COLUMNS, RosterError, from_canvas, read_moodle_worksheet, read_roster

# Canvas's "Export Entire Gradebook", as it comes: a byte-order mark, the
# Manual Posting and Points Possible rows, a student whose name has a comma,
# one with no SIS id, and Canvas's test student.
CANVAS_EXPORT = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Initialization (4012),Current Score\n"
    "    Manual Posting,,,,,,\n"
    "    Points Possible,,,,,10.00,(read only)\n"
    '"Smith, Jr., Bo",5552,bo,bo@school.edu,Section 1,8.00,80.00\n'
    '"Young, Cy",5551,,cyoung,Section 1,,\n'
    '"Nakamura, Ren",5553,,,Section 2,,\n'
    '"Student, Test",9999,,,Section 1,,\n'
)


def test_a_canvas_export_becomes_a_roster():
    rows = [[row[column] for column in ROSTER_COLUMNS] for row in from_canvas(io.StringIO(CANVAS_EXPORT))]
    assert rows == [
        ["bo", "Bo", "Smith, Jr.", "bo@school.edu", "5552"],
        ["cyoung", "Cy", "Young", "", "5551"],
        ["canvas-5553", "Ren", "Nakamura", "", "5553"],
    ]


def test_a_name_a_student_chose_brings_no_tag_into_formgrader():
    """Formgrader writes a submission's names into its page unescaped: a
    display name chosen in the LMS keeps its text, not its tags."""
    export = CANVAS_EXPORT + '"<img src=x onerror=alert(1)>, <b>Eve</b>",5554,eve,,Section 1,,\n'
    eve = [row for row in read_roster(io.StringIO(export)) if row["id"] == "eve"][0]
    assert (eve["last_name"], eve["first_name"]) == ("img src=x onerror=alert(1)", "bEve/b")
    worksheet = MOODLE_WORKSHEET + "Participant 6664,<script>x</script> Lee,lee@school.edu,,,10.00,Yes,-,-,\n"
    lee = [row for row in read_roster(io.StringIO(worksheet)) if row["id"] == "lee"][0]
    assert "<" not in lee["first_name"] + lee["last_name"]


# Moodle's grading worksheet of one assignment (Download grading worksheet),
# as it comes: two students whose emails share the part before the @, one
# with an underscore in it, and a name of three words.
MOODLE_WORKSHEET = (
    "\ufeffIdentifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\n"
    'Participant 6661,John Doe,jdoe@school.edu,"Submitted for grading",,10.00,Yes,'
    '"Friday, 4 December 2026, 9:12 AM",-,\n'
    "Participant 6662,Jane Doe,jdoe@other.edu,No submission,,10.00,Yes,-,-,\n"
    "Participant 6663,Mary Ann Lee,mary_lee@school.edu,No submission,,10.00,Yes,-,-,\n"
)


def test_a_moodle_worksheet_becomes_a_roster_without_its_participant_numbers():
    rows = [[row[column] for column in ROSTER_COLUMNS] for row in read_roster(io.StringIO(MOODLE_WORKSHEET))]
    assert rows == [
        ["jdoe@school.edu", "John", "Doe", "jdoe@school.edu", ""],
        ["jdoe@other.edu", "Jane", "Doe", "jdoe@other.edu", ""],
        ["mary-lee", "Mary Ann", "Lee", "mary_lee@school.edu", ""],
    ]
    numbers = [(p.number, p.email) for p in read_moodle_worksheet(io.StringIO(MOODLE_WORKSHEET))]
    assert numbers == [
        ("6661", "jdoe@school.edu"),
        ("6662", "jdoe@other.edu"),
        ("6663", "mary_lee@school.edu"),
    ]


def test_a_worksheet_in_another_language_is_refused_with_the_columns_it_needs():
    with pytest.raises(RosterError, match="no column Identifier, Full name, Email address"):
        read_moodle_worksheet(io.StringIO("Identifiant,Nom complet,Adresse de courriel\n"))


def test_a_file_that_is_not_canvass_export_is_refused():
    with pytest.raises(RosterError, match="no column ID, SIS User ID, SIS Login ID"):
        from_canvas(io.StringIO("Student,Email\nBo,bo@school.edu\n"))


@pytest.mark.slow
def test_nbgrader_imports_the_roster(tmp_path):
    """The command's output, imported by nbgrader into a real gradebook."""
    export = tmp_path / "canvas.csv"
    export.write_text(CANVAS_EXPORT, encoding="utf-8")
    command = [sys.executable, "-m", "grading.roster", str(export)]
    made = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    (tmp_path / "roster.csv").write_text(made.stdout)
    config = "c = get_config()\nc.CourseDirectory.course_id = 'roster-test'\n"
    (tmp_path / "nbgrader_config.py").write_text(config)

    run_nbgrader(tmp_path, "db", "student", "import", "roster.csv")
    with open_gradebook(tmp_path) as gradebook:
        students = {s.id: (s.last_name, s.first_name, s.email, s.lms_user_id) for s in gradebook.students}
    assert students == {
        "bo": ("Smith, Jr.", "Bo", "bo@school.edu", "5552"),
        "cyoung": ("Young", "Cy", None, "5551"),
        "canvas-5553": ("Nakamura", "Ren", None, "5553"),
    }
    assert list(csv.DictReader(io.StringIO(made.stdout)))[0]["id"] == "bo"
