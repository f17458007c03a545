"""The grade files of grading/plugins/lms.py, read back from a real nbgrader gradebook."""

import csv
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import ExportApp
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import AssignLatePenalties
from traitlets.config import Config

from examples.nbgrader_runs import run_nbgrader
from grading import extension, grade
from grading.command.course import Course
from grading.command.results import ClassGrading, StudentResult
from grading.configuration import course_config as course_config_of
from grading.grade import export_grades
from grading.plugins.late import GiveRecordedExtension, PenaltyPerDayLate
from grading.plugins.lms import CanvasExport, ExportRefused, GradesCsvExport, MoodleExport
from grading.submissions import layout_students

# nbgrader's own add_submission makes SQLAlchemy warn about its session; not ours.
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning:nbgrader.api")

REPO = Path(__file__).resolve().parents[1]
COURSE_ID = "lms-test"
# {grade cell: (cell type, max score)} of each assignment's one notebook.
CELLS = {
    "initialization": {"he": ("code", 4.0), "zeros": ("code", 4.0), "observations": ("markdown", 2.0)},
    "initialization_deep": {"deep": ("code", 12.0)},
}
CELLS["initialization_zh"] = CELLS["initialization"]
ON_TIME, LATE = datetime(2026, 12, 4, 12, 0), datetime(2026, 12, 5, 12, 0)
STUDENTS = {
    "alice": dict(first_name="Alice", last_name="Archer", email="alice@example.org", lms_user_id="1001"),
    "bob": dict(first_name="Bob", last_name="Smith, Jr.", email="bob@example.org", lms_user_id="1002"),
    "carol": dict(first_name='Carol "CJ"', last_name="Chen", email=None, lms_user_id=None),
    "dave": dict(),
}
# {(student, assignment): {grade cell: score}}; observations graded by hand
# where it has a score, waiting for hand grading where it has none.
SUBMISSIONS = {
    ("alice", "initialization"): {"he": 4.0, "zeros": 3.0, "observations": 1.0},
    ("alice", "initialization_deep"): {"deep": 9.0},  # a day late: 10%, 0.9
    ("bob", "initialization_zh"): {"he": 4.0, "zeros": 1.0, "observations": 2.0},
    ("carol", "initialization"): {"he": 2.0, "zeros": 0.0},
    ("carol", "initialization_zh"): {"he": 4.0, "zeros": 4.0, "observations": 0.5},
}


@pytest.fixture(scope="module")
def class_gradebook(empty_gradebook, tmp_path_factory):
    """A gradebook file holding the class above, filled once for the module:
    the tests take copies (gradebook)."""
    path = tmp_path_factory.mktemp("lms-class") / "gradebook.db"
    shutil.copyfile(empty_gradebook, path)
    with Gradebook(f"sqlite:///{path}", course_id=COURSE_ID) as gb:
        for assignment, cells in CELLS.items():
            gb.add_assignment(assignment, duedate=datetime(2026, 12, 4, 23, 59))
            gb.add_notebook("Notebook", assignment)
            for cell, (cell_type, points) in cells.items():
                gb.add_grade_cell(cell, "Notebook", assignment, max_score=points, cell_type=cell_type)
        for student, fields in STUDENTS.items():
            gb.add_student(student, **fields)
        for (student, assignment), scores in SUBMISSIONS.items():
            handed_in = LATE if (student, assignment) == ("alice", "initialization_deep") else ON_TIME
            gb.add_submission(assignment, student, timestamp=handed_in)
            for cell, (cell_type, _) in CELLS[assignment].items():
                grade = gb.find_grade(cell, "Notebook", assignment, student)
                if cell_type == "code":
                    grade.auto_score, grade.needs_manual_grade = scores[cell], False
                elif cell in scores:
                    grade.manual_score, grade.needs_manual_grade = scores[cell], False
                else:
                    grade.needs_manual_grade = True
        # What nbgrader leaves when a hand grade came after autograding: a
        # penalty of the score at that time. The exports settle it again.
        gb.find_submission_notebook("Notebook", "initialization_deep", "alice").late_submission_penalty = 1.5
        gb.db.commit()
    return path


@pytest.fixture
def gradebook(class_gradebook, tmp_path):
    """(db_url, open Gradebook) of a copy of the class's gradebook, tmp_path/gradebook.db."""
    shutil.copyfile(class_gradebook, tmp_path / "gradebook.db")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, course_id=COURSE_ID) as gb:
        yield url, gb


def course_config():
    """The course's late policy, as nbgrader_config.py sets it."""
    config = Config()
    config.AssignLatePenalties.plugin_class = PenaltyPerDayLate
    config.PenaltyPerDayLate.percent_per_day = 10
    return config


def export_app(root):
    """nbgrader's export command, in the course root root."""
    app = ExportApp(config=course_config())
    app.coursedir = CourseDirectory(config=course_config(), root=str(root))
    return app


def exported(plugin_class, gb, path, **traits):
    plugin_class(config=course_config(), to=str(path), **traits).export(gb)
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


# SIS User ID is blank: the gradebook has no SIS id (the nbgrader id is not one).
# dave, who handed nothing in, has no row: Canvas would count his blank cell
# as a change and clear a grade entered in Canvas by hand.
CANVAS = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "initialization"],
    ["Points Possible", "", "", "", "", "10.0"],
    ["Archer, Alice", "1001", "", "alice@example.org", "", "8.0"],
    ['Chen, Carol "CJ"', "", "", "", "", "8.5"],
    ["Smith, Jr., Bob", "1002", "", "bob@example.org", "", "7.0"],
]


def test_canvas_file(gradebook, tmp_path):
    _, gb = gradebook
    assert exported(CanvasExport, gb, tmp_path / "canvas.csv", assignment=["initialization"]) == CANVAS


def test_the_exports_write_the_final_score_as_the_summary_rounds_it(gradebook, tmp_path):
    """3 points handed in 7 started days late: 3 less 2.1 is 0.9 in every
    file (grading/plugins/late.py's after_penalty), as in the command's
    summary, not Python's 0.8999999999999999."""
    _, gb = gradebook
    gb.find_submission("initialization_deep", "alice").timestamp = datetime(2026, 12, 11, 12, 0)
    gb.find_grade("deep", "Notebook", "initialization_deep", "alice").auto_score = 3.0
    gb.db.commit()
    canvas = exported(CanvasExport, gb, tmp_path / "canvas.csv", assignment=["initialization_deep"])
    assert canvas[2][0] == "Archer, Alice" and canvas[2][-1] == "0.9"
    rows = exported(GradesCsvExport, gb, tmp_path / "grades.csv", assignment=["initialization_deep"])
    header, alice = rows[0], next(row for row in rows if "alice" in row)
    assert alice[header.index("late_submission_penalty")] == "2.1"
    assert alice[header.index("score")] == "0.9"


@pytest.mark.parametrize("handed_in", ["folder", "link"])
def test_an_lms_file_gives_0_to_a_refused_hand_in(gradebook, tmp_path, capfd, handed_in):
    """dave's hand-in was refused (a folder in submitted/, or a link the command
    refuses to follow, and no submission in the gradebook): the grading command
    gave him 0, and so does the LMS file, with a warning that names him."""
    _, gb = gradebook
    student = tmp_path / "submitted" / "dave"
    if handed_in == "folder":
        (student / "initialization").mkdir(parents=True)
    else:
        student.mkdir(parents=True)
        (student / "initialization").symlink_to(tmp_path / "nowhere")
    assert layout_students(tmp_path / "submitted", "initialization") == ["dave"]  # the command grades him
    path = tmp_path / "canvas.csv"
    rows = exported(CanvasExport, gb, path, assignment=["initialization"], parent=export_app(tmp_path))
    assert rows[2] == ["dave", "", "", "", "", "0.0"]
    assert rows[:2] + rows[3:] == CANVAS
    assert "dave: handed in initialization, not in the gradebook" in capfd.readouterr().err


def test_canvas_columns_carry_the_canvas_title_and_id(gradebook, tmp_path):
    """Canvas matches a column to an assignment by "Title (id)"; otherwise its
    importer plans a new assignment."""
    _, gb = gradebook
    titles = {"initialization": "Initialization (4012)"}
    rows = exported(
        CanvasExport, gb, tmp_path / "canvas.csv", canvas_columns=titles, assignment=["initialization"]
    )
    assert rows[0][5:] == ["Initialization (4012)"]


def test_canvas_export_warns_of_rows_and_columns_canvas_cannot_match(gradebook, tmp_path, capfd):
    """Canvas matches a row by its user id or login (email), and a column by
    "Title (id)": the export names the students with neither and the
    assignments with no title, as the Moodle export names those without an email."""
    _, gb = gradebook
    app = export_app(tmp_path)  # nbgrader's command, whose log the warnings go to
    exported(CanvasExport, gb, tmp_path / "canvas.csv", assignment=["initialization"], parent=app)
    printed = capfd.readouterr().err
    assert "No Canvas user id or email in the roster for carol:" in printed  # dave has no row
    assert "No Canvas title for initialization" in printed
    titles = {"initialization": "Initialization (4012)"}
    exported(
        CanvasExport,
        gb,
        tmp_path / "canvas.csv",
        canvas_columns=titles,
        assignment=["initialization"],
        parent=app,
    )
    assert "No Canvas title" not in capfd.readouterr().err


@pytest.mark.slow
def test_canvas_file_by_the_nbgrader_command(gradebook, tmp_path, monkeypatch):
    url, _ = gradebook
    course = tmp_path / "course"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.CourseDirectory.db_url = {url!r}\n"
        "c.AssignLatePenalties.plugin_class = 'grading.plugins.late.PenaltyPerDayLate'\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # where nbgrader imports grading.plugins.lms from
    command = ["export", "--exporter=grading.plugins.lms.CanvasExport", "--to=out.csv"]
    run_nbgrader(course, *command, "--assignment=initialization")
    with open(course / "out.csv", newline="", encoding="utf-8") as file:
        assert list(csv.reader(file)) == CANVAS


def test_moodle_file_writes_no_blank_cell(gradebook, tmp_path):
    """Moodle writes a blank cell as "no grade", clearing a grade entered by
    hand there: a student with no score (dave) has no row."""
    _, gb = gradebook
    path = tmp_path / "moodle.csv"
    assert exported(MoodleExport, gb, path, assignment=["initialization"]) == [
        ["Email address", "ID number", "First name", "Last name", "initialization"],
        ["alice@example.org", "alice", "Alice", "Archer", "8.0"],
        ["", "carol", 'Carol "CJ"', "Chen", "8.5"],
        ["bob@example.org", "bob", "Bob", "Smith, Jr.", "7.0"],
    ]
    assert exported(MoodleExport, gb, path, assignment=["initialization_deep"])[1:] == [
        ["alice@example.org", "alice", "Alice", "Archer", "8.1"]
    ]


@pytest.mark.parametrize("exporter", [CanvasExport, MoodleExport])
def test_an_lms_file_refuses_a_row_with_a_blank_cell(gradebook, tmp_path, exporter):
    """Both columns at once: carol (the first in the gradebook's order) has no
    initialization_deep, so her row would clear it in the LMS; nothing is written."""
    _, gb = gradebook
    path = tmp_path / "out.csv"
    with pytest.raises(
        ExportRefused, match=f"carol has no score for initialization_deep, and {exporter.lms}"
    ):
        exporter(config=course_config(), to=str(path)).export(gb)
    assert not path.exists()


def hand_in_with_a_written_answer_to_grade(gb, student="dave"):
    gb.add_submission("initialization", student, timestamp=ON_TIME)
    for cell, (cell_type, _) in CELLS["initialization"].items():
        grade = gb.find_grade(cell, "Notebook", "initialization", student)
        grade.auto_score = 3.0 if cell_type == "code" else None
        grade.needs_manual_grade = cell_type != "code"
    gb.db.commit()


@pytest.mark.parametrize("exporter", [CanvasExport, MoodleExport])
def test_an_export_refuses_scores_that_wait_for_hand_grading(gradebook, tmp_path, exporter):
    _, gb = gradebook
    hand_in_with_a_written_answer_to_grade(gb)
    path = tmp_path / "out.csv"
    with pytest.raises(ExportRefused, match=r"wait for hand grading: dave \(initialization\)"):
        exporter(config=course_config(), to=str(path), assignment=["initialization"]).export(gb)
    assert not path.exists()


def test_the_command_says_why_the_course_exporter_wrote_nothing(gradebook, tmp_path, monkeypatch, capsys):
    """An LMS exporter configured as the course's (c.ExportApp.plugin_class)
    refuses while a written answer waits: the command's export step returns
    why (its summary prints it, its exit status is 2), not a silent success."""
    url, gb = gradebook
    hand_in_with_a_written_answer_to_grade(gb)
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.CourseDirectory.db_url = {url!r}\n"
        "c.AssignLatePenalties.plugin_class = 'grading.plugins.late.PenaltyPerDayLate'\n"
        "c.ExportApp.plugin_class = 'grading.plugins.lms.CanvasExport'\n"
    )
    course = Course(tmp_path)
    problem = export_grades(course, "canvas.csv")
    assert problem.startswith("canvas.csv was not written: written answers still wait")
    assert "wait for hand grading: dave (initialization)" in problem
    assert not (tmp_path / "canvas.csv").exists()
    # While the class is graded, the summary still says the run is unfinished,
    # and the refusal is printed once, not at every checkpoint.
    monkeypatch.setattr(grade, "CHECKPOINT_SECONDS", 0)
    run = ClassGrading(assignment="initialization")
    checkpoint = grade.Checkpoint(course, "initialization", run, "canvas.csv", tmp_path / "run.json")
    checkpoint.add(StudentResult("dave"))
    checkpoint.add(StudentResult("erin"))
    assert json.loads((tmp_path / "run.json").read_text())["unfinished"] is True
    assert capsys.readouterr().err.count("The grades so far: canvas.csv was not written") == 1


def test_an_export_leaves_out_or_includes_waiting_scores_when_told(gradebook, tmp_path):
    _, gb = gradebook
    hand_in_with_a_written_answer_to_grade(gb)
    path = tmp_path / "out.csv"
    left_out = exported(MoodleExport, gb, path, assignment=["initialization"], pending="leave-out")
    assert "dave" not in [row[1] for row in left_out]
    included = exported(MoodleExport, gb, path, assignment=["initialization"], pending="include")
    assert ["", "dave", "", "", "6.0"] in included
    canvas = exported(CanvasExport, gb, path, assignment=["initialization"], pending="leave-out")
    assert "dave" not in [row[0] for row in canvas]


def test_filters_and_default_file_name(gradebook, tmp_path, monkeypatch):
    _, gb = gradebook
    monkeypatch.chdir(tmp_path)
    MoodleExport(config=course_config(), assignment=["initialization"], student=["bob", "carol"]).export(gb)
    with open(tmp_path / "moodle.csv", newline="", encoding="utf-8") as file:
        assert list(csv.reader(file)) == [
            ["Email address", "ID number", "First name", "Last name", "initialization"],
            ["", "carol", 'Carol "CJ"', "Chen", "8.5"],
            ["bob@example.org", "bob", "Bob", "Smith, Jr.", "7.0"],
        ]


def test_grades_file(gradebook, tmp_path):
    _, gb = gradebook
    path = tmp_path / "grades.csv"
    # erin handed in a file the grading command refused: a folder in
    # submitted/, not in the gradebook; alice's folder has her graded work.
    for student in ("erin", "alice"):
        (tmp_path / "submitted" / student / "initialization").mkdir(parents=True)
    exported(GradesCsvExport, gb, path, parent=export_app(tmp_path))
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    due, handed = "2026-12-04 23:59:00", "2026-12-04 12:00:00"
    assert [tuple(row.values()) for row in rows] == [
        ("initialization", due, handed, "alice", "Archer", "Alice", "alice@example.org")
        + ("8.0", "0.0", "8.0", "10.0", "False"),
        ("initialization", due, handed, "carol", "Chen", 'Carol "CJ"', "")
        + ("2.0", "0.0", "2.0", "10.0", "True"),
        ("initialization", due, "", "erin", "", "", "") + ("0.0", "0.0", "0.0", "10.0", "False"),
        ("initialization_deep", due, "2026-12-05 12:00:00", "alice", "Archer", "Alice", "alice@example.org")
        + ("9.0", "0.9", "8.1", "12.0", "False"),
        ("initialization_zh", due, handed, "bob", "Smith, Jr.", "Bob", "bob@example.org")
        + ("7.0", "0.0", "7.0", "10.0", "False"),
        ("initialization_zh", due, handed, "carol", "Chen", 'Carol "CJ"', "")
        + ("8.5", "0.0", "8.5", "10.0", "False"),
    ]


def test_an_extension_moves_the_students_due_date_for_every_penalty(gradebook, tmp_path):
    """alice's initialization_deep came a day late (10%): two more days for
    her, granted with the course's command, and no export charges her."""
    url, gb = gradebook
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.CourseDirectory.db_url = {url!r}\n"
    )
    before = exported(GradesCsvExport, gb, tmp_path / "before.csv", assignment=["initialization_deep"])
    assert [row[8] for row in before[1:]] == ["0.9"]  # late_submission_penalty
    assert extension.main(["initialization_deep", "alice", "--days", "2", "--root", str(tmp_path)]) == 0
    gb.db.expire_all()  # the command changed the gradebook from another session
    after = exported(GradesCsvExport, gb, tmp_path / "after.csv", assignment=["initialization_deep"])
    assert [row[8:10] for row in after[1:]] == [["0.0", "9.0"]]
    # dave has handed nothing in: his extension waits in extensions.csv for his grading.
    assert extension.main(["initialization_deep", "dave", "--days", "2", "--root", str(tmp_path)]) == 0
    assert extension.read_extensions(tmp_path) == {
        ("initialization_deep", "alice"): (2.0, 0.0),
        ("initialization_deep", "dave"): (2.0, 0.0),
    }
    assert extension.main(["initialization_deep", "dave", "--days", "0", "--root", str(tmp_path)]) == 0
    assert ("initialization_deep", "dave") not in extension.read_extensions(tmp_path)
    assert extension.main(["no-such-assignment", "dave", "--days", "2", "--root", str(tmp_path)]) == 1
    assert extension.main(["initialization", "davve", "--days", "2", "--root", str(tmp_path)]) == 1  # a typo
    # bob handed in the Chinese edition: an extension of initialization is one of it too.
    assert extension.main(["initialization", "bob", "--days", "1", "--root", str(tmp_path)]) == 0
    gb.db.expire_all()
    assert gb.find_submission("initialization_zh", "bob").extension == timedelta(days=1)
    assert extension.read_extensions(tmp_path)[("initialization", "bob")] == (1.0, 0.0)


def test_autograding_gives_the_extension_granted_before_the_work_came(gradebook, tmp_path):
    """dave's two days, granted before he handed in, wait in extensions.csv.
    Autograding (plain `nbgrader autograde` as much as the grading command)
    gives them to his submission just before nbgrader's AssignLatePenalties
    works out the penalty, so his day late costs nothing anywhere after."""
    url, gb = gradebook
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.course_id = {COURSE_ID!r}\nc.CourseDirectory.db_url = {url!r}\n"
    )
    assert extension.main(["initialization", "dave", "--days", "2", "--root", str(tmp_path)]) == 0
    gb.add_submission("initialization", "dave", timestamp=LATE)
    gb.db.commit()
    steps = course_config_of(REPO).Autograde.autograde_preprocessors
    assert steps[steps.index(AssignLatePenalties) - 1] is GiveRecordedExtension
    config = Config()
    config.CourseDirectory.root, config.CourseDirectory.course_id = str(tmp_path), COURSE_ID
    resources = {"nbgrader": {"db_url": url, "assignment": "initialization", "student": "dave"}}
    GiveRecordedExtension(config=config).preprocess(nbformat.v4.new_notebook(), resources)
    gb.db.expire_all()  # given in another session
    submission = gb.find_submission("initialization", "dave")
    assert submission.extension == timedelta(days=2) and submission.total_seconds_late == 0


def test_a_broken_extensions_file_costs_no_autograding(tmp_path, caplog):
    """An extensions.csv that cannot be read (the grading command refuses to
    start on it) is named as an error; the student is graded all the same."""
    written = "assignment,student,days,hours\ninitialization,ada,two,\n"
    (tmp_path / extension.EXTENSIONS_FILE).write_text(written)
    config = Config()
    config.CourseDirectory.root = str(tmp_path)
    graded = {"db_url": "sqlite:///unused.db", "assignment": "initialization", "student": "ada"}
    resources = {"nbgrader": graded}
    notebook = nbformat.v4.new_notebook()
    assert GiveRecordedExtension(config=config).preprocess(notebook, resources) == (notebook, resources)
    assert "line 2: days and hours must be numbers" in caplog.text


def test_a_mistake_in_extensions_csv_is_named_with_its_line(tmp_path):
    written = tmp_path / extension.EXTENSIONS_FILE
    written.write_text("assignment,student,days,hours\ninitialization,ada,two,\n")
    with pytest.raises(extension.ExtensionsError, match="csv, line 2: days and hours must be numbers"):
        extension.read_extensions(tmp_path)
    written.write_text("student,days\nada,2\n")
    with pytest.raises(extension.ExtensionsError, match="the columns must be assignment,student,days,hours"):
        extension.read_extensions(tmp_path)


def test_an_export_only_reads_the_gradebook(gradebook, tmp_path):
    """The penalty exported is that of the score now (0.9 of alice's 9), and
    the gradebook keeps what it held (nbgrader's stale 1.5): exporting never
    writes to it."""
    url, gb = gradebook
    database = Path(url.removeprefix("sqlite:///"))
    before = database.read_bytes()
    rows = exported(GradesCsvExport, gb, tmp_path / "grades.csv", assignment=["initialization_deep"])
    assert [row[8] for row in rows[1:]] == ["0.9"]  # late_submission_penalty
    assert database.read_bytes() == before
    notebook = gb.find_submission_notebook("Notebook", "initialization_deep", "alice")
    assert notebook.late_submission_penalty == 1.5


def test_names_that_a_spreadsheet_would_run_are_written_as_text(gradebook, tmp_path):
    """A display name a student chose can start as a formula: the exports
    write it with a leading apostrophe, which spreadsheets show as text. A
    folder in submitted/ named as no valid student gets no row."""
    _, gb = gradebook
    alice = gb.find_student("alice")
    alice.first_name, alice.last_name = '=HYPERLINK("http://x.example")', "@SUM(1)"
    gb.db.commit()
    canvas = exported(CanvasExport, gb, tmp_path / "canvas.csv", assignment=["initialization"])
    assert canvas[2][:2] == ['\'@SUM(1), =HYPERLINK("http://x.example")', "1001"]
    moodle = exported(MoodleExport, gb, tmp_path / "moodle.csv", assignment=["initialization"])
    assert moodle[1][:4] == ["alice@example.org", "alice", '\'=HYPERLINK("http://x.example")', "'@SUM(1)"]
    for folder in ("-rf", "=cmd"):
        (tmp_path / "submitted" / folder / "initialization").mkdir(parents=True)
    grades = exported(GradesCsvExport, gb, tmp_path / "grades.csv", parent=export_app(tmp_path))
    assert grades[1][3:6] == ["alice", "'@SUM(1)", '\'=HYPERLINK("http://x.example")']
    assert [row[3] for row in grades[1:]] == ["alice", "carol", "alice", "bob", "carol"]
