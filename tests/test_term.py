"""A whole term, graded right whatever the order of the steps.

Every step is the real nbgrader command, or the course's grading command, in
a scratch course with a roster:

1. the instructor imports the roster (`nbgrader db student import`) and
   releases the assignment through nbgrader's exchange; ada and bo fetch and
   submit (ada twice); the instructor collects and grades;
2. a Canvas download arrives (a resubmission's "-1", a "late" mark, macOS's
   __MACOSX/ junk, someone on no roster, lee's notebook of the Chinese
   edition); the instructor writes ddee's time of submission, grades the
   same download as the Chinese assignment (lee) and as the English one
   again (ddee's time is kept); then a Moodle one (a folder per
   student, matched through the assignment's grading worksheet), then two
   late students' work named the nbgrader way (one a browser's "(1)" copy);
3. eve's written answers are graded by hand the way formgrader enters them,
   the whole class is graded again, then hana's are, and hana alone is
   graded again with --student;
4. feedback is generated and released, each exchange student fetches theirs,
   and the grades are exported for Canvas and Moodle and read back with csv.

eve and hana are both one started day late with full marks: both end at 9.0,
whichever came first, hand grading or the rerun.

nbgrader names a student by their operating-system user, so each student's
commands run in a user namespace (bubblewrap) whose /etc/passwd gives its
uid the student's name: `nbgrader submit` run as "ada" files the work as
ada's. (Real accounts would need the course's Python to be readable by
every user; on a machine where it lives in root's home, it is not.)
"""

import csv
import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest

from conftest import copy_course, leaked_hidden_tests, page_text, run_grading_command
from examples import example_class
from examples.nbgrader_runs import run_nbgrader
from examples.students import fill_in
from grading.command.course import Course
from grading.gradebook import open_gradebook
from grading.submissions import EDITION_SUFFIX

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

ASSIGNMENT, NOTEBOOK = example_class.ASSIGNMENT, example_class.NOTEBOOK + ".ipynb"
CHINESE = ASSIGNMENT + EDITION_SUFFIX  # the Chinese edition: one LMS assignment with the English
FIRST_TRY = example_class.STUDENTS["he-xavier-scale"]  # ada's first submission, He wrong
TYPICAL_MISTAKE = example_class.STUDENTS["zeros-transposed-weights"]  # bo's only one
UIDS = {"ada": 2001, "bo": 2002}
LATE_WORK = example_class.XAVIER_SCALE  # jdoe's He: the Xavier scale, 3 points lost

ROSTER = """id,first_name,last_name,email,lms_user_id
ada,Ada,Lovelace,ada@example.org,
bo,Bo,"Smith, Jr.",bo@example.org,
cyoung,Cy,Young,cy@example.org,5551
ddee,Dee,Dee,dee@example.org,7777
jdoe,John,Doe,john@example.org,
eve,Eve,Ng,eve@example.org,
hana,Hana,Sato,hana@example.org,
lee,Li,Lee,lee@example.org,5554
kim,Kim,Park,kim@example.org,
"""
# The term's due date: the end of tomorrow (UTC), whatever day the test runs,
# so that the exchange's submissions, made now, are on time.
DUE = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=23, minute=59, second=0, microsecond=0)


def handed_in_late(hours, written="%Y-%m-%dT%H%M%S"):
    """The time of a submission so many hours after the due date, as
    nbgrader's file names write it (or as written says)."""
    return (DUE + timedelta(hours=hours)).strftime(written)


# ddee's time as SpeedGrader shows it, written by the instructor into her timestamp.txt.
DDEE_TIME = handed_in_late(10, "%Y-%m-%d %H:%M:%S UTC")


CANVAS_ZIP = {
    f"youngcy_5551_88888_{example_class.NOTEBOOK}-1.ipynb": example_class.CORRECT,
    f"deedee_late_7777_99999_{NOTEBOOK}": example_class.CORRECT,
    f"__MACOSX/._youngcy_5551_88888_{example_class.NOTEBOOK}-1.ipynb": b"\x00\x05\x16\x07",
    f"outsider_9999_11111_{NOTEBOOK}": example_class.CORRECT,
    f"leeli_5554_88890_{NOTEBOOK}": (CHINESE, example_class.CORRECT),  # the Chinese edition
}
# Moodle numbers the participants of each assignment anew: jdoe's number in
# this assignment comes from its grading worksheet, matched by his email.
MOODLE_WORKSHEET = (
    "Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (submission),Last modified (grade),Feedback comments\n"
    'Participant 6661,John Doe,john@example.org,"Submitted for grading",,10.00,Yes,'
    '"Friday, 4 December 2026, 9:12 AM",-,\n'
    "Participant 6670,Cy Young,cy@example.org,No submission,,10.00,Yes,-,-,\n"
)
MOODLE_ZIP = {
    f"John Doe_6661_assignsubmission_file_/{NOTEBOOK}": example_class.correct_but(he=LATE_WORK),
    # A folder jdoe made in his own Moodle submission, holding a blank notebook
    # he named as cyoung's: it is jdoe's (an extra file), never cyoung's.
    f"John Doe_6661_assignsubmission_file_/drafts/cyoung_attempt_2026-12-01T090000_{NOTEBOOK}": {},
}
# Handed in 12 and 10 hours after the due date: one started day late, 10%.
LATE_FOLDER = {
    # eve's written answers carry links that would run script if rendered as typed.
    f"eve_attempt_{handed_in_late(12)}_{NOTEBOOK}": example_class.CORRECT | example_class.HOSTILE_MARKDOWN,
    f"hana_attempt_{handed_in_late(10)}_{example_class.NOTEBOOK} (1).ipynb": example_class.CORRECT,
    # 12 hours after the due date, with a day's extension granted before she handed in.
    f"kim_attempt_{handed_in_late(12)}_{NOTEBOOK}": example_class.CORRECT,
}
# The final score of each student, as every export must give it.
FINAL = {
    "ada": 8.0,  # written answers not graded yet
    "bo": sum(TYPICAL_MISTAKE["expected"].values()),
    "cyoung": 8.0,
    "ddee": 7.2,  # 8 less 10%: the time the instructor wrote, 10 hours late
    "jdoe": 7.0,  # 5, and the hand grades of answers he changed since: kept, to be reviewed again
    "eve": 9.0,  # 10 less 10%: hand-graded before the rerun
    "hana": 9.0,  # 10 less 10%: hand-graded after it
    "lee": 8.0,  # graded as the Chinese assignment, the same LMS column
    "kim": 8.0,  # on time, with her extension; written answers not graded yet
}


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


def zip_of(path, files, course):
    """A zip of {name: answers typed into the release, (assignment, answers)
    for another assignment's release, or bytes}, as an LMS gives it."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            if not isinstance(content, bytes):
                assignment, answers = content if isinstance(content, tuple) else (ASSIGNMENT, content)
                release = nbformat.read(course / "release" / assignment / NOTEBOOK, as_version=4)
                content = nbformat.writes(fill_in(release, answers))
            archive.writestr(name, content)
    return path


def grade_by_hand(course, student, fraction=1.0):
    """Grade the student's written answers as formgrader's grade API does
    (nbgrader's GradeHandler.put): a manual score, reviewed."""
    with open_gradebook(course) as gradebook:
        submission = gradebook.find_submission_notebook(example_class.NOTEBOOK, ASSIGNMENT, student)
        for grade in submission.grades:
            if grade.cell.cell_type == "markdown":
                grade.manual_score = fraction * grade.max_score
                grade.extra_credit = None
                grade.needs_manual_grade = False
        gradebook.db.commit()


def change_written_answer(course, student):
    """A new text for one written answer of the student's submission, as a resubmission brings."""
    path = course / "submitted" / student / ASSIGNMENT / NOTEBOOK
    notebook = nbformat.read(path, as_version=4)
    answer = next(
        c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "observations_he"
    )
    answer.source = "On second thought: the spread stays steady because of the fan-in."
    nbformat.write(notebook, path)


def waiting_for_hand_grading(course):
    """{student: formgrader's "needs manual grade"} of every submission."""
    with open_gradebook(course) as gradebook:
        return {s.student.id: s.needs_manual_grade for s in gradebook.assignment_submissions(ASSIGNMENT)}


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """Run the whole term once; the tests check what each step left."""
    if not shutil.which("bwrap"):
        pytest.fail("bubblewrap is missing: run scripts/setup.sh")
    work = tmp_path_factory.mktemp("term")
    (work / "course").mkdir()
    course = copy_course(work / "course")
    with open(course / "nbgrader_config.py", "a") as config:
        due = DUE.strftime("%Y-%m-%d %H:%M:%S UTC")
        config.write(f"\nc.Grading.due_dates = {{**c.Grading.due_dates, {ASSIGNMENT!r}: {due!r}}}\n")
        config.write(f"c.LmsFileNames.moodle_worksheets = {{{ASSIGNMENT!r}: 'moodle-worksheet.csv'}}\n")
    (course / "roster.csv").write_text(ROSTER)
    run_nbgrader(course, "db", "student", "import", "roster.csv")
    (course / "moodle-worksheet.csv").write_text(MOODLE_WORKSHEET)
    exchange = work / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)  # as nbgrader's documentation sets up an exchange
    course_id = Course(course).coursedir.course_id
    accounts = accounts_naming(work / "accounts", UIDS)
    ada, bo = (Student(name, work / name, exchange, course_id, accounts) for name in UIDS)
    instructor = f"--Exchange.root={exchange}"
    runs = {}

    # 1. The exchange.
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
    one_worker = ("--workers", "1")
    runs["exchange"] = run_grading_command(course, ASSIGNMENT, *one_worker)

    # 2. The LMS downloads and late work.
    release = nbformat.read(course / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    canvas = zip_of(work / "submissions.zip", CANVAS_ZIP, course)
    runs["canvas"] = run_grading_command(course, ASSIGNMENT, str(canvas), *one_worker, status=2)
    (course / "submitted" / "ddee" / ASSIGNMENT / "timestamp.txt").write_text(DDEE_TIME)
    runs["canvas_zh"] = run_grading_command(course, CHINESE, str(canvas), *one_worker, status=2)
    runs["canvas_again"] = run_grading_command(course, ASSIGNMENT, str(canvas), *one_worker, status=2)
    moodle = zip_of(work / "moodle.zip", MOODLE_ZIP, course)
    runs["moodle"] = run_grading_command(course, ASSIGNMENT, str(moodle), *one_worker)
    late = work / "late-work"
    late.mkdir()
    for name, answers in LATE_FOLDER.items():
        (late / name).write_text(nbformat.writes(fill_in(release, answers)))
    extension = [sys.executable, "-m", "grading.extension", ASSIGNMENT, "kim", "--days", "1"]
    granted = subprocess.run(extension, cwd=course, capture_output=True, text=True, check=True).stdout
    runs["late"] = run_grading_command(course, ASSIGNMENT, str(late), *one_worker)

    # 3. Hand grading, before and after a rerun of the whole class; jdoe's
    # written answers are graded, then he hands in a changed one.
    grade_by_hand(course, "eve")
    grade_by_hand(course, "jdoe")
    change_written_answer(course, "jdoe")
    runs["rerun"] = run_grading_command(course, ASSIGNMENT)
    waiting_after_rerun = waiting_for_hand_grading(course)
    grade_by_hand(course, "hana")

    # 4. Feedback and the LMS.
    run_nbgrader(course, "generate_feedback", ASSIGNMENT, "--force")
    # The exchange can only give feedback to those who submitted through it:
    # the class's release skips the others, with a note for each.
    runs["release_feedback"] = run_nbgrader(course, "release_feedback", ASSIGNMENT, instructor)
    for student in (ada, bo):
        student.nbgrader("fetch_feedback", ASSIGNMENT)
    exports, refusals = {}, {}
    for name, exporter in [("canvas", "CanvasExport"), ("moodle", "MoodleExport")]:
        command = ["export", f"--exporter=grading.plugins.lms.{exporter}", f"--to={name}.csv"]
        # Written answers still wait: the export stops and names them; the
        # instructor then exports the scores as they are.
        refusals[name] = run_nbgrader(course, *command, check=False)
        run_nbgrader(course, *command, f"--{exporter}.pending=include")
        exports[name] = read_csv(course / f"{name}.csv")
    run_nbgrader(course, "export", "--to=nbgrader-export.csv")  # the course's exporter
    exports["nbgrader export"] = read_csv(course / "nbgrader-export.csv")
    # hana alone, graded again after all that.
    runs["hana"] = run_grading_command(course, ASSIGNMENT, "--student", "hana", *one_worker)
    exports["grades.csv"] = read_csv(course / "grades.csv")
    return {
        "course": course,
        "ada": ada,
        "bo": bo,
        "inbound": inbound,
        "runs": runs,
        "waiting_after_rerun": waiting_after_rerun,
        "exports": exports,
        "refusals": refusals,
        "extension granted": granted,
    }


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def hand_grading_columns(result):
    """The summary's written, waiting, late and total columns of a student's row."""
    return (result.written[0], result.pending, -result.late_penalty, result.total)


def graded(course, student):
    """(total, timestamp) of the student's graded submission, from the gradebook."""
    with open_gradebook(course) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        return submission.score, submission.timestamp


def test_both_students_are_collected_and_graded(term):
    course = term["course"]
    assert term["runs"]["exchange"].students == ["ada", "bo"]
    assert graded(course, "ada")[0] == sum(example_class.FULL.values())
    assert graded(course, "bo")[0] == sum(TYPICAL_MISTAKE["expected"].values())


def test_the_later_of_two_submissions_is_graded(term):
    """ada handed in twice; the grade and timestamp are her second submission's."""
    course = term["course"]
    inbound = term["inbound"]  # what the instructor's `nbgrader list --inbound` shows
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


def test_feedback_is_released_to_the_exchange_students_and_the_others_are_named(term):
    """nbgrader 0.9.6 stops at the first student with no exchange secret;
    the course's release skips each, and says where their page is."""
    released = term["runs"]["release_feedback"].stderr
    for student in ("ada", "bo"):
        assert f"Releasing feedback for student '{student}'" in released
    for student in set(FINAL) - {"ada", "bo", "lee"}:  # lee handed in the Chinese edition
        assert f"Skipping {student}: their submission did not come through the exchange" in released


@pytest.mark.parametrize("name", list(UIDS))
def test_each_student_fetches_their_own_feedback(term, name):
    course, student = term["course"], term[name]
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


def test_lms_downloads_are_filed_by_the_roster(term):
    course, runs = term["course"], term["runs"]
    # Each download graded the students it brought, named by the roster.
    assert runs["canvas"].students == ["cyoung", "ddee"]
    assert runs["moodle"].students == ["jdoe"]  # and cyoung's 8 (FINAL) stayed his
    assert runs["late"].students == ["eve", "hana", "kim"]
    assert sorted(path.name for path in (course / "submitted").iterdir()) == sorted(FINAL)
    # Not graded, named, and the exit status said so (run_grading_command checked 2).
    canvas = runs["canvas"].summary
    assert not canvas["everything_graded"]
    outsider, chinese = canvas["refusals"]
    assert (outsider["student_or_file"], chinese["student_or_file"]) == ("submissions.zip", "lee")
    assert f"is the notebook of the other edition, {CHINESE}" in chinese["reason"]
    assert outsider["reason"].startswith(
        "outsider_9999_11111_Initialization.ipynb: "
        "Canvas user 9999 (outsider) is on no student's row of the roster"
    )
    (late_note,) = canvas["notes"]
    assert late_note.startswith("ddee: deedee_late_7777_99999_Initialization.ipynb is marked late by Canvas")
    assert runs["moodle"].summary["everything_graded"] and runs["late"].summary["everything_graded"]
    # What the instructor reads says so.
    assert "Canvas user 9999 (outsider) is on no student's row of the roster" in runs["canvas"].printed
    assert "Something handed in was not graded" in runs["canvas"].printed


def test_a_new_download_keeps_the_time_the_instructor_wrote(term):
    """The same Canvas download, graded again after the instructor wrote
    ddee's time of submission: her folder is kept, her time with it, and
    she is graded late; no note says she was graded as on time."""
    course, again = term["course"], term["runs"]["canvas_again"]
    assert again.students == ["cyoung", "ddee"]
    assert (course / "submitted" / "ddee" / ASSIGNMENT / "timestamp.txt").read_text() == DDEE_TIME
    kept, *others = again.summary["notes"]
    assert kept.startswith("cyoung, ddee: the same files as in the download collected before")
    assert not [note for note in others if note.startswith("ddee")], others
    assert again.result("ddee").total == pytest.approx(FINAL["ddee"])
    with open_gradebook(course) as gradebook:
        assert gradebook.find_submission(ASSIGNMENT, "ddee").late_submission_penalty == pytest.approx(0.8)


def test_a_notebook_of_the_other_edition_is_graded_in_its_own_assignment(term):
    """lee's Chinese notebook came in the English assignment's download: the
    English run refused it and named the Chinese assignment; graded there
    from the same download, it counts fully, with none of the "edited locked
    cell" notes a wrong edition would bring; the English notebooks of that
    download are refused there in turn, and never filed under the Chinese
    assignment (where an empty folder would be a 0 in grades.csv)."""
    course, chinese = term["course"], term["runs"]["canvas_zh"]
    assert chinese.students == ["lee"]
    refused = {refusal["student_or_file"]: refusal["reason"] for refusal in chinese.summary["refusals"]}
    for student in ("cyoung", "ddee"):
        assert f"is the notebook of the other edition, {ASSIGNMENT}" in refused[student]
    assert sorted(path.parent.name for path in (course / "submitted").glob(f"*/{CHINESE}")) == ["lee"]
    assert not (course / "submitted" / "lee" / ASSIGNMENT).exists()
    lee = chinese.result("lee")
    assert lee.total == sum(example_class.FULL.values())
    assert not [reason for reason in lee.reasons if "restored" in reason.text], lee.reasons


# An address in a page that would run script: javascript:, vbscript:, or data: other than a PNG.
HARMFUL_ADDRESS = re.compile(
    r"""(?:href|src)\s*=\s*["']?\s*(?:javascript:|vbscript:|data:(?!image/png))""", re.IGNORECASE
)


def test_a_feedback_page_shows_hostile_links_as_typed(term):
    """eve's written answers carry javascript:, vbscript: and data: links and
    MathJax's \\href: her feedback page has no such address, and shows what
    she typed (formgrader's page: tests/test_browser_formgrader.py)."""
    page = (term["course"] / "feedback" / "eve" / ASSIGNMENT / f"{example_class.NOTEBOOK}.html").read_text()
    assert HARMFUL_ADDRESS.findall(page) == []
    shown = page_text(page)
    assert "[the proof](javascript:document.title='pwned')" in shown
    assert "\\href{javascript:alert(1)}" in shown


def test_an_extension_granted_before_the_work_comes_counts(term):
    """kim's extension was granted before she handed anything in: written to
    extensions.csv, it reached her submission when she was graded; her work,
    12 hours after the due date, is on time for every penalty."""
    assert "written to extensions.csv" in term["extension granted"]
    with open_gradebook(term["course"]) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, "kim")
        assert submission.extension == timedelta(days=1)
        assert submission.late_submission_penalty == 0
    assert term["runs"]["late"].result("kim").late_penalty == 0


def test_a_rerun_keeps_hand_grades_reviewed(term):
    waiting = term["waiting_after_rerun"]
    assert waiting["eve"] is False  # graded by hand before the rerun, and still graded
    assert waiting["jdoe"] is True  # graded by hand, then an answer changed: to be reviewed again
    assert waiting["hana"] is True and waiting["ada"] is True  # not graded by hand yet
    rerun = term["runs"]["rerun"]
    # student, 3 exercises, written, waiting, late, total
    assert hand_grading_columns(rerun.result("eve")) == (2, 0, -1, 9)
    assert hand_grading_columns(rerun.result("hana")) == pytest.approx((0, 2, -0.8, 7.2))
    # 2 points each for six students, 1 for jdoe's changed answer.
    assert "Hand grading: 13 points of written answers wait in formgrader (7 of 8 students)" in rerun.printed


def test_an_lms_export_stops_while_written_answers_wait(term):
    """An LMS would take the scores as final: the export names who waits and writes nothing."""
    waiting = set(FINAL) - {"eve", "hana"}
    for name, refused in term["refusals"].items():
        assert refused.returncode == 1, name
        assert "Traceback" not in refused.stderr, name  # a refusal, not a crash
        named = refused.stderr[refused.stderr.index("wait for hand grading:") :].splitlines()[0]
        assert {student for student in FINAL if f"{student} ({ASSIGNMENT})" in named} == waiting, name


def test_final_grades_agree_everywhere_whatever_the_order(term):
    course, exports = term["course"], term["exports"]
    with open_gradebook(course) as gradebook:
        for student in ("eve", "hana"):
            notebook = gradebook.find_submission_notebook(example_class.NOTEBOOK, ASSIGNMENT, student)
            assert (notebook.score, notebook.late_submission_penalty) == (10.0, 1.0), student
            page = (course / "feedback" / student / ASSIGNMENT / f"{example_class.NOTEBOOK}.html").read_text()
            assert "Score: 9.0 / 10.0" in page and "Late submission penalty (Score: -1.0)" in page
    # hana graded again alone, after everything: the same 9.
    assert hand_grading_columns(term["runs"]["hana"].result("hana")) == (2, 0, -1, 9)

    canvas = exports["canvas"]
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert canvas[1] == ["Points Possible", "", "", "", "", "10.0"]
    with open_gradebook(course) as gradebook:  # Canvas's rows name students, not nbgrader ids
        students = gradebook.students
        names = {", ".join(filter(None, (s.last_name, s.first_name))) or s.id: s.id for s in students}
    assert {names[row[0]]: float(row[5]) for row in canvas[2:]} == FINAL
    assert {names[row[0]]: row[1] for row in canvas[2:]}["cyoung"] == "5551"  # Canvas's own id
    assert ["Smith, Jr., Bo", "", "", "bo@example.org", ""] in [row[:5] for row in canvas]

    moodle = exports["moodle"]
    assert moodle[0] == ["Email address", "ID number", "First name", "Last name", ASSIGNMENT]
    assert ["john@example.org", "jdoe", "John", "Doe", "7.0"] in moodle  # Moodle matches the email
    by_id = {row[1]: float(row[4]) for row in moodle[1:]}
    assert by_id == FINAL

    for name in ("nbgrader export", "grades.csv"):
        header, *rows = exports[name]
        rows = [dict(zip(header, row)) for row in rows]
        assert {row["student_id"]: float(row["score"]) for row in rows} == FINAL, name
        pending = {row["student_id"] for row in rows if row["hand_grading_pending"] == "True"}
        assert pending == set(FINAL) - {"eve", "hana"}, name
