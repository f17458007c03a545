"""One student's submission through the grading pipeline (grading/command/pipeline.py)."""

import fcntl
import shutil
import sqlite3
import threading
import time
from datetime import datetime

import nbformat
import pytest
import sqlalchemy.exc
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import grading.command.earlier_grade as earlier_grade
import grading.command.pipeline as pipeline
from conftest import failed_nbgrader_step
from grading.command.course import Course
from grading.command.earlier_grade import EarlierGrade
from grading.command.pipeline import (
    autograde_keeping_the_earlier_grade,
    keep_reviewed,
    nbgrader_error,
    nbgrader_failure,
    raised,
    reviewed_hand_grades,
)
from grading.command.results import StudentResult
from grading.errors import KERNEL_DID_NOT_START, CourseFault, GradingError
from grading.reasons import Reason, Why


def test_a_failed_nbgrader_step_is_reported_by_its_cause(gradebook_url, tmp_path):
    """nbgrader's exception does not name the cause: the reason names the
    exception in nbgrader's log instead (a real nbgrader step that met a
    locked gradebook)."""
    locked = sqlalchemy.exc.OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked"))
    outcome = failed_nbgrader_step(gradebook_url, tmp_path, locked)
    assert not outcome["success"]
    last_line = outcome["error"].splitlines()[-1]
    # nbgrader's own words blame an old database ("run `nbgrader db upgrade`").
    assert last_line.startswith("nbgrader.converters.base.NbGraderException: There was an error accessing")
    cause = "sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) database is locked"
    assert nbgrader_error(outcome) == cause
    assert nbgrader_failure(outcome).why is Why.DATABASE_LOCKED
    # Without the log, the traceback of nbgrader's exception names the cause too.
    assert nbgrader_error({**outcome, "log": ""}) == cause


def test_another_error_of_an_nbgrader_step_is_named_too(gradebook_url, tmp_path):
    outcome = failed_nbgrader_step(gradebook_url, tmp_path, ValueError("bad cell"))
    assert nbgrader_error(outcome) == "ValueError: bad cell"
    assert nbgrader_failure(outcome).why is Why.NBGRADER_FAILED


def test_a_kernel_that_did_not_start_is_the_one_course_fault_tried_again(gradebook_url, tmp_path):
    """Of the course's faults in a real nbgrader step, the sandboxed kernel that did not
    start is told apart: no student code ran, so the command grades that student once more."""
    did_not_start = CourseFault(f"{KERNEL_DID_NOT_START}: grade this student again")
    outcome = failed_nbgrader_step(gradebook_url, tmp_path / "start", did_not_start)
    assert nbgrader_failure(outcome).why is Why.KERNEL_NOT_STARTED
    assert "course's fault" in nbgrader_failure(outcome).text
    outcome = failed_nbgrader_step(gradebook_url, tmp_path / "judge", CourseFault("the judge failed"))
    assert nbgrader_failure(outcome).why is Why.COURSE_FAULT
    # The words quoted inside another error (a student's answer in a message, say) are not it.
    quoted = ValueError(f"CourseFault: {KERNEL_DID_NOT_START}")
    outcome = failed_nbgrader_step(gradebook_url, tmp_path / "quoted", quoted)
    assert nbgrader_failure(outcome).why is Why.NBGRADER_FAILED
    fault = f"grading.errors.CourseFault: {KERNEL_DID_NOT_START}"
    assert raised(fault, "CourseFault") == KERNEL_DID_NOT_START
    assert raised(f"ValueError: {fault}", "CourseFault") is None


# ------------------------------------------------- hand grades kept reviewed

ASSIGNMENT, NOTEBOOK = "a1", "Notebook"
# nbgrader's own add_submission makes SQLAlchemy warn about its session; not ours.
SESSION_WARNINGS = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning:nbgrader.api")
# The notebook's graded cells: written answers graded by hand and a test.
CELLS = {
    "why": ("markdown", 2.0),
    "how": ("markdown", 2.0),
    "what": ("markdown", 2.0),
    "test_f": ("code", 3.0),
}
ANSWERS = {"why": "Because the variance doubles.", "how": "Scale by sqrt(2/n).", "what": "He's."}


def write_autograded(course, answers):
    """alice's autograded notebook, with these answers in its written-answer cells."""
    cells = [
        new_markdown_cell(
            text, metadata={"nbgrader": {"grade_id": grade_id, "grade": True, "solution": True}}
        )
        for grade_id, text in answers.items()
    ]
    cells.append(new_code_cell("check(f)", metadata={"nbgrader": {"grade_id": "test_f", "grade": True}}))
    path = course.folder("autograded", "alice", ASSIGNMENT) / f"{NOTEBOOK}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(new_notebook(cells=cells), path)


@pytest.fixture
def hand_graded(gradebook_url, tmp_path):
    """A course whose gradebook holds alice's submission: why and how graded
    by hand and reviewed, what still waiting, the test autograded; her
    autograded notebook holds the answers graded. bob handed in nothing."""
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'pipeline-test'\n"
    )
    course = Course(tmp_path)
    with course.gradebook() as gradebook:
        gradebook.add_assignment(ASSIGNMENT)
        gradebook.add_notebook(NOTEBOOK, ASSIGNMENT)
        for cell, (cell_type, points) in CELLS.items():
            gradebook.add_grade_cell(cell, NOTEBOOK, ASSIGNMENT, max_score=points, cell_type=cell_type)
        for student in ("alice", "bob"):
            gradebook.add_student(student)
        gradebook.add_submission(ASSIGNMENT, "alice")
        for cell, score in {"why": 1.5, "how": 2.0, "test_f": 3.0}.items():
            grade = gradebook.find_grade(cell, NOTEBOOK, ASSIGNMENT, "alice")
            if cell == "test_f":
                grade.auto_score = score
            else:
                grade.manual_score = score
            grade.needs_manual_grade = False
        gradebook.find_grade("what", NOTEBOOK, ASSIGNMENT, "alice").needs_manual_grade = True
        gradebook.db.commit()
    write_autograded(course, ANSWERS)
    return course


def autograde_again(course, answers):
    """What nbgrader's autograde leaves of a rerun for the hand grades: the
    answers as handed in now, and every score given by hand kept but marked
    to be reviewed again (tests/test_term.py sees it on a real rerun)."""
    write_autograded(course, answers)
    with course.gradebook() as gradebook:
        for grade in gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "alice").grades:
            if grade.manual_score is not None:
                grade.needs_manual_grade = True
        gradebook.db.commit()


def waiting(course):
    """{grade id: (manual score, whether it waits for hand grading)} of alice's written answers."""
    with course.gradebook() as gradebook:
        notebook = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "alice")
        return {
            grade.name: (grade.manual_score, grade.needs_manual_grade)
            for grade in notebook.grades
            if grade.cell.cell_type == "markdown"
        }


@SESSION_WARNINGS
def test_a_rerun_keeps_reviewed_the_hand_grades_of_unchanged_answers(hand_graded):
    course = hand_graded
    reviewed = reviewed_hand_grades(course, ASSIGNMENT, "alice")
    assert reviewed == {(NOTEBOOK, "why"): ANSWERS["why"], (NOTEBOOK, "how"): ANSWERS["how"]}
    assert reviewed_hand_grades(course, ASSIGNMENT, "bob") == {}  # nothing handed in
    autograde_again(course, {**ANSWERS, "how": "Scale by sqrt(2/n), as He did."})  # a resubmission
    assert waiting(course) == {"why": (1.5, True), "how": (2.0, True), "what": (None, True)}
    keep_reviewed(course, ASSIGNMENT, "alice", reviewed)
    # why is the answer graded: reviewed still; how changed: the instructor looks again.
    assert waiting(course) == {"why": (1.5, False), "how": (2.0, True), "what": (None, True)}


@SESSION_WARNINGS
def test_a_hand_grade_whose_answer_was_never_read_waits_for_review(hand_graded):
    """Without the autograded notebook the instructor graded (deleted, say),
    there is no text to compare: the grade is reviewed again."""
    course = hand_graded
    (course.folder("autograded", "alice", ASSIGNMENT) / f"{NOTEBOOK}.ipynb").unlink()
    reviewed = reviewed_hand_grades(course, ASSIGNMENT, "alice")
    assert reviewed == {(NOTEBOOK, "why"): None, (NOTEBOOK, "how"): None}
    autograde_again(course, ANSWERS)
    keep_reviewed(course, ASSIGNMENT, "alice", reviewed)
    keep_reviewed(course, ASSIGNMENT, "alice", {})  # a first run: nothing to keep
    assert waiting(course) == {"why": (1.5, True), "how": (2.0, True), "what": (None, True)}


def hand_grade_of_test_f(course):
    """(manual score, whether it waits for hand grading) of alice's test cell."""
    with course.gradebook() as gradebook:
        grade = gradebook.find_grade("test_f", NOTEBOOK, ASSIGNMENT, "alice")
        return grade.manual_score, grade.needs_manual_grade


@SESSION_WARNINGS
@pytest.mark.parametrize("resubmitted", [False, True])
def test_a_hand_grade_of_a_test_cell_stays_reviewed_only_while_every_answer_is_unchanged(
    hand_graded, resubmitted
):
    """A test cell's locked source is the same in every submission: the
    instructor's score for it judged the answers, so a resubmission that
    changes any answer has it waiting for review again."""
    course = hand_graded
    with course.gradebook() as gradebook:
        grade = gradebook.find_grade("test_f", NOTEBOOK, ASSIGNMENT, "alice")
        grade.manual_score, grade.needs_manual_grade = 3.0, False
        gradebook.db.commit()
    reviewed = reviewed_hand_grades(course, ASSIGNMENT, "alice")
    assert (NOTEBOOK, "test_f") in reviewed
    autograde_again(course, {**ANSWERS, "what": "Xavier's."} if resubmitted else ANSWERS)
    keep_reviewed(course, ASSIGNMENT, "alice", reviewed)
    assert hand_grade_of_test_f(course) == (3.0, resubmitted)


ON_TIME, LATE = datetime(2026, 12, 4, 12, 0), datetime(2026, 12, 9, 12, 0)


def handed_in_on_time(course):
    with course.gradebook() as gradebook:
        gradebook.update_or_create_submission(ASSIGNMENT, "alice", timestamp=ON_TIME)


def graded_state(course):
    """(alice's submission time in the gradebook, her autograded answers, the
    names in her autograded/ folder)."""
    with course.gradebook() as gradebook:
        timestamp = gradebook.find_submission(ASSIGNMENT, "alice").timestamp
    folder = course.folder("autograded", "alice", ASSIGNMENT)
    path = folder / f"{NOTEBOOK}.ipynb"
    answers = {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in (nbformat.read(path, as_version=4).cells if path.is_file() else [])
        if cell.cell_type == "markdown"
    }
    return timestamp, answers, sorted(item.name for item in folder.parent.iterdir())


def failed_rerun(course, assignment, student):
    """What nbgrader's autograde leaves of a resubmission whose grading fails
    half-way: the new time in the gradebook, and the autograded folder
    deleted (its failed output removed)."""
    with course.gradebook() as gradebook:
        gradebook.update_or_create_submission(assignment, student, timestamp=LATE)
    shutil.rmtree(course.folder("autograded", student, assignment), ignore_errors=True)
    return Reason(Why.COURSE_FAULT, "not graded: the reference solution could not be run")


@SESSION_WARNINGS
def test_a_failed_rerun_leaves_the_earlier_grade_whole(hand_graded):
    """Its time (no late penalty it never earned) and its graded notebook."""
    course = hand_graded
    handed_in_on_time(course)
    failure = autograde_keeping_the_earlier_grade(course, ASSIGNMENT, "alice", run=failed_rerun)
    assert failure.why is Why.COURSE_FAULT
    assert graded_state(course) == (ON_TIME, ANSWERS, [ASSIGNMENT])

    def raises(*_):
        failed_rerun(course, ASSIGNMENT, "alice")
        raise RuntimeError("a bug of the grader")

    with pytest.raises(RuntimeError):
        autograde_keeping_the_earlier_grade(course, ASSIGNMENT, "alice", run=raises)
    assert graded_state(course) == (ON_TIME, ANSWERS, [ASSIGNMENT])


@SESSION_WARNINGS
def test_a_kernel_that_did_not_start_is_started_once_more(hand_graded):
    """The second run's outcome stands: here it grades the resubmission."""
    course = hand_graded
    handed_in_on_time(course)
    new_answers = {**ANSWERS, "why": "A resubmission."}
    runs = []

    def run(course, assignment, student):
        runs.append(student)
        failed_rerun(course, assignment, student)  # what a real failed run leaves, each time
        if len(runs) == 1:
            return Reason(Why.KERNEL_NOT_STARTED, f"not graded: {KERNEL_DID_NOT_START}")
        write_autograded(course, new_answers)
        return None

    assert autograde_keeping_the_earlier_grade(course, ASSIGNMENT, "alice", run=run) is None
    assert runs == ["alice", "alice"]
    assert graded_state(course) == (LATE, new_answers, [ASSIGNMENT])


@SESSION_WARNINGS
def test_a_kernel_that_does_not_start_twice_leaves_the_earlier_grade(hand_graded):
    """Two runs, no third; each leaves what a real failed run leaves, and the earlier grade is back."""
    course = hand_graded
    handed_in_on_time(course)
    runs = []

    def run(course, assignment, student):
        runs.append(student)
        failed_rerun(course, assignment, student)
        return Reason(Why.KERNEL_NOT_STARTED, f"not graded: {KERNEL_DID_NOT_START}")

    failure = autograde_keeping_the_earlier_grade(course, ASSIGNMENT, "alice", run=run)
    assert failure.why is Why.KERNEL_NOT_STARTED
    assert runs == ["alice", "alice"]
    assert graded_state(course) == (ON_TIME, ANSWERS, [ASSIGNMENT])


@SESSION_WARNINGS
def test_a_rerun_that_succeeds_keeps_only_its_own_grade(hand_graded):
    course = hand_graded
    handed_in_on_time(course)
    new_answers = {**ANSWERS, "why": "A resubmission."}

    def rerun(course, assignment, student):
        failed_rerun(course, assignment, student)
        write_autograded(course, new_answers)

    assert autograde_keeping_the_earlier_grade(course, ASSIGNMENT, "alice", run=rerun) is None
    assert graded_state(course) == (LATE, new_answers, [ASSIGNMENT])


@SESSION_WARNINGS
def test_the_earlier_grade_set_aside_by_a_killed_run_comes_back_before_the_next(hand_graded):
    """A run killed after nbgrader recorded the new time and began the new
    folder: the next grading of the student (or the command, reporting a
    student whose workers died) puts the earlier time and folder back first."""
    course = hand_graded
    handed_in_on_time(course)
    EarlierGrade(course, ASSIGNMENT, "alice").set_aside()
    failed_rerun(course, ASSIGNMENT, "alice")
    write_autograded(course, {"why": "half of a killed run's output"})
    # killed here

    EarlierGrade(course, ASSIGNMENT, "alice").put_back_if_interrupted()
    assert graded_state(course) == (ON_TIME, ANSWERS, [ASSIGNMENT])
    EarlierGrade(course, ASSIGNMENT, "alice").put_back_if_interrupted()  # nothing left to do
    assert graded_state(course) == (ON_TIME, ANSWERS, [ASSIGNMENT])


@SESSION_WARNINGS
def test_a_grade_kept_after_its_run_succeeded_is_never_put_back(hand_graded):
    """Killed after success but before the old folder was deleted: the old
    folder goes, the new grade stays."""
    course = hand_graded
    earlier = EarlierGrade(course, ASSIGNMENT, "alice")
    earlier.set_aside()
    write_autograded(course, {"why": "the new grade"})
    earlier.marker.unlink()  # killed right after the success's first step
    EarlierGrade(course, ASSIGNMENT, "alice").put_back_if_interrupted()
    assert graded_state(course)[1:] == ({"why": "the new grade"}, [ASSIGNMENT])


def test_a_second_run_of_a_student_waits_for_the_first(hand_graded):
    """A Dask task given to another worker while the first, written off,
    still grades the student: the second run starts once the first ends,
    so they never share the earlier grade's files."""
    course, order = hand_graded, []
    first_holds, release_first = threading.Event(), threading.Event()

    def first():
        with EarlierGrade(course, ASSIGNMENT, "alice").held():
            order.append("first starts")
            first_holds.set()
            release_first.wait(10)
            order.append("first ends")

    def second():
        first_holds.wait(10)
        with EarlierGrade(course, ASSIGNMENT, "alice").held():
            order.append("second starts")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_holds.wait(10)
    with EarlierGrade(course, ASSIGNMENT, "bob").held():  # another student is not held up
        order.append("bob")
    time.sleep(0.3)  # time enough for the second to start, were it not waiting
    assert order == ["first starts", "bob"]
    release_first.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first starts", "bob", "first ends", "second starts"]


def test_grading_and_feedback_hold_the_students_lock(hand_graded, monkeypatch):
    """grade_and_give_feedback holds alice's lock while it grades her and
    writes her feedback: another process could not take it meanwhile."""
    course, taken = hand_graded, []
    lock_file = EarlierGrade(course, ASSIGNMENT, "alice").lock

    def could_take_the_lock(step):
        with open(lock_file, "a") as other:  # another open file: as another process would
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                taken.append(step)
            except BlockingIOError:
                pass

    def grading(course, assignment, student, releases):
        could_take_the_lock("grading")
        return StudentResult(student, graded=True)

    def feedback(course, assignment, result):
        could_take_the_lock("feedback")

    monkeypatch.setattr(pipeline, "grade_student", grading)
    monkeypatch.setattr(pipeline, "write_feedback", feedback)
    pipeline.grade_and_give_feedback(course, ASSIGNMENT, "alice", {})
    assert taken == []
    could_take_the_lock("after")
    assert taken == ["after"]


def test_a_run_that_waits_too_long_for_the_lock_says_why(hand_graded):
    course = hand_graded
    with EarlierGrade(course, ASSIGNMENT, "alice").held():
        with pytest.raises(GradingError, match="alice is still being graded by another process"):
            with EarlierGrade(course, ASSIGNMENT, "alice").held(wait=0.3):
                pass


def test_a_student_another_run_still_grades_gets_a_reason_after_the_wait(hand_graded, monkeypatch):
    """The worker gives up after GRADING_WAIT_SECONDS with a reason, without
    waiting again to read the grade (the command reads it back later)."""
    course = hand_graded
    monkeypatch.setattr(earlier_grade, "GRADING_WAIT_SECONDS", 0.3)
    monkeypatch.setattr(pipeline, "keeping_the_gradebook", lambda *_: pytest.fail("waited again"))
    with EarlierGrade(course, ASSIGNMENT, "alice").held():
        result = pipeline.grade_and_give_feedback(course, ASSIGNMENT, "alice", {})
    assert not result.points
    assert [reason.why for reason in result.reasons] == [Why.GRADER_FAILED]
    assert "still being graded by another process" in result.reasons[0].text
