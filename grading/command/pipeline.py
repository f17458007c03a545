"""One student's submission, from the submitted notebook to scores, reasons and
feedback: what the grading command repeats for each student, here or on a worker."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import nbformat
from nbgrader.api import MissingEntry

from grading.command.course import Course
from grading.command.earlier_grade import EarlierGrade, StillBeingGraded
from grading.command.results import StudentResult, exercise_names
from grading.compat import commit_gradebook
from grading.errors import KERNEL_DID_NOT_START, CourseFault, GradingError
from grading.extension import give_recorded_extension
from grading.gradebook import code_cell_scores
from grading.plugins.due_dates import write_due_date
from grading.plugins.execute import SandboxedExecute
from grading.plugins.late import settle_late_penalties
from grading.reasons import Reason, Why, judged_mistakes, lost_point_reasons
from grading.submissions import extra_notebooks, folder_problem, inspect_submission

# ------------------------------------------------------ before the students


def set_due_date(course: Course, assignment: str) -> None:
    """Write the configured due date (c.Grading.due_dates) into the gradebook."""
    with course.gradebook() as gradebook:
        write_due_date(gradebook, course.settings, assignment)


def ensure_assignment_in_gradebook(course: Course, assignment: str) -> None:
    """Autograde needs the assignment's cells in the gradebook: generate it if missing."""
    if course.has_generated(assignment):
        return
    print(f"{assignment} is not in the gradebook yet: generating it from source/", flush=True)
    result = course.api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise GradingError(f"nbgrader generate_assignment {assignment} failed:\n" + result.get("error", ""))


def time_the_reference(course: Course, assignment: str, releases: dict) -> dict:
    """Run each source notebook of the assignment once, in the sandbox: the
    reference for the cells' time budgets (grading/plugins/execute.py). Returns the
    measurements, for the workers to use instead of measuring again."""
    runner = SandboxedExecute(config=course.config, log=course.log)
    for notebook in releases:
        resources = {"nbgrader": {"assignment": assignment, "notebook": notebook, "student": "reference"}}
        source = runner.source_path(resources)
        if (
            source is not None
            and (runner.budget_from_reference or runner.judge_answers)
            and runner.reference_run(source, resources) is None
        ):
            # Every student would fail the same way: stop before any is graded.
            raise GradingError(
                f"the reference solution {source} could not be run in the sandbox, "
                f"so no {notebook} can be graded: run it in JupyterLab to see whether it fails"
            )
    return dict(course.reference_runs.measured)


# ------------------------------------------------------------ one student


def grade_student(course: Course, assignment: str, student: str, releases: dict) -> StudentResult:
    """Autograde one submission and read back its scores and reasons."""
    start = time.monotonic()
    result = StudentResult(student)
    folder = course.folder("submitted", student, assignment)
    # nbgrader follows links when it reads a submission: checked right before it does.
    problem = folder_problem(folder)
    readable = problem is None
    if problem:
        result.reasons.append(problem)
    else:
        if extras := extra_notebooks(folder, releases, course.companion_notebooks(assignment)):
            text = f"ignored {', '.join(extras)} (not a notebook of the assignment)"
            result.reasons.append(Reason(Why.EXTRA_NOTEBOOK, text))
        for name, release in releases.items():
            notes, ok = inspect_submission(folder / f"{name}.ipynb", release)
            result.reasons += notes
            readable = readable and ok
    if readable:
        # A run of this student killed mid-grading left its earlier grade aside.
        EarlierGrade(course, assignment, student).put_back_if_interrupted()
        reviewed = reviewed_hand_grades(course, assignment, student)
        failure = autograde_keeping_the_earlier_grade(course, assignment, student)
        if failure is None:
            result.graded = True
            keep_reviewed(course, assignment, student, reviewed)
        else:
            result.reasons.append(failure)
    else:
        with course.gradebook() as gradebook:
            gradebook.update_or_create_student(student)
    read_scores(course, assignment, student, releases, result, graded=result.graded)
    result.seconds = time.monotonic() - start
    return result


def autograde(course: Course, assignment: str, student: str) -> Reason | None:
    """Run nbgrader's autograde on one submission: None, or the reason it failed."""
    outcome = course.api.autograde(assignment, student, force=True, create=True)
    return None if outcome["success"] else nbgrader_failure(outcome)


def autograde_keeping_the_earlier_grade(
    course: Course, assignment: str, student: str, run: Callable | None = None
) -> Reason | None:
    """Autograde (run, autograde() by default; again once if the kernel did not
    start), the earlier grade kept aside and put back on failure
    (earlier_grade.py): None when it succeeded, else the reason it failed."""
    earlier = EarlierGrade(course, assignment, student)
    earlier.set_aside()
    run = run or autograde
    succeeded = False
    try:
        failure = run(course, assignment, student)
        if failure is not None and failure.why is Why.KERNEL_NOT_STARTED:
            # Not the student's doing, so one more try: where cgroups cannot be used,
            # another kernel graded at the same time may hold the processes it needs (README).
            failure = run(course, assignment, student)
        succeeded = failure is None
        return failure
    finally:
        if succeeded:
            earlier.keep_new()
        else:
            try:
                earlier.put_back()
            except Exception:  # its marker stays: the next grading of the student puts it back
                course.log.exception("the earlier grade of %s could not be put back yet", student)


def reviewed_hand_grades(course: Course, assignment: str, student: str) -> dict:
    """{(notebook, grade id): the answer's text} of the student's reviewed hand
    grades, read before autograde runs again; {} for a first run."""
    with course.gradebook() as gradebook:
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return {}
        reviewed = [
            (notebook.name, grade.name)
            for notebook in submission.notebooks
            for grade in notebook.grades
            if grade.manual_score is not None and not grade.needs_manual_grade
        ]
    texts = {notebook: answer_texts(course, assignment, student, notebook) for notebook, _ in reviewed}
    return {(notebook, grade_id): texts[notebook].get(grade_id) for notebook, grade_id in reviewed}


def answer_texts(course: Course, assignment: str, student: str, notebook: str) -> dict:
    """{grade id: the answers a grade judged} of the student's autograded notebook ({} if there is
    none): an answer cell's own source; for a test cell, every answer cell's source, since its
    locked source is the same in every submission."""
    path = course.folder("autograded", student, assignment) / f"{notebook}.ipynb"
    if not path.is_file() or path.is_symlink():
        return {}
    cells = nbformat.read(path, as_version=4).cells
    graded = [cell for cell in cells if "grade_id" in cell.metadata.get("nbgrader", {})]
    answers = [cell.source for cell in graded if cell.metadata["nbgrader"].get("solution")]
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        if cell.metadata["nbgrader"].get("solution")
        else "\n\0".join(answers)
        for cell in graded
    }


def keep_reviewed(course: Course, assignment: str, student: str, reviewed: dict) -> None:
    """Mark the hand grades reviewed before a rerun as reviewed again where the
    answer they judged is unchanged (nbgrader's autograde asks for every one to
    be reviewed again). The text is compared, not the time of submission, which
    a student's files could repeat."""
    if not reviewed:
        return
    now = {notebook: answer_texts(course, assignment, student, notebook) for notebook, _ in reviewed}
    unchanged = [
        key for key, text in reviewed.items() if text is not None and now[key[0]].get(key[1]) == text
    ]
    with course.gradebook() as gradebook:
        for notebook, grade_id in unchanged:
            gradebook.find_grade(grade_id, notebook, assignment, student).needs_manual_grade = False
        commit_gradebook(gradebook)


def read_scores(
    course: Course, assignment: str, student: str, releases: dict, result: StudentResult, graded: bool
) -> None:
    """Fill result with the gradebook's scores (0 where there is none), the
    late penalty settled from the final score first."""
    written = [0.0, 0.0]
    result.gradebook_read = True
    with course.gradebook() as gradebook:
        # Autograding gave it already; again for a student it did not grade
        # this time (an unreadable resubmission keeps the earlier grade).
        give_recorded_extension(gradebook, course.root, assignment, student)
        settle_late_penalties(gradebook, course.config, assignment, student)
        for name in releases:
            cells = gradebook.find_notebook(name, assignment).grade_cells
            try:
                notebook = gradebook.find_submission_notebook(name, assignment, student)
            except MissingEntry:
                for cell in cells:
                    if cell.cell_type == "code":
                        result.points[cell.name] = (0.0, cell.max_score)
                    else:
                        written[1] += cell.max_score
                continue
            # A grading that ended half-way (its worker died) leaves a
            # submission with no score in it: no earlier grade to keep.
            if not graded and has_any_score(notebook):
                result.reasons.append(
                    Reason(Why.EARLIER_GRADE, "the gradebook keeps the grade of an earlier run")
                )
            scores = code_cell_scores(notebook)
            for grade in notebook.grades:
                if grade.cell.cell_type != "code":
                    written[0] += grade.score
                    written[1] += grade.max_score
                if grade.needs_manual_grade:
                    result.pending += grade.max_score
            result.points.update(scores)
            result.late_penalty += notebook.late_submission_penalty or 0.0
            autograded = course.folder("autograded", student, assignment) / f"{name}.ipynb"
            if graded and autograded.exists():
                lost = [cell for cell, (score, maximum) in scores.items() if score < maximum]
                short = dict(zip(scores, exercise_names(list(scores))))
                graded_notebook = nbformat.read(autograded, as_version=4)
                reasons = lost_point_reasons(graded_notebook, lost)
                result.reasons += [reason.for_exercise(short[cell]) for cell, reason in reasons]
                mistakes = judged_mistakes(graded_notebook).items()
                result.mistakes.update({short[cell]: mistake for cell, mistake in mistakes if cell in lost})
    result.written = tuple(written)


def write_feedback(course: Course, assignment: str, result: StudentResult) -> None:
    """Feedback for one graded student; otherwise result.no_feedback says why."""
    result.feedback, result.no_feedback = False, None
    if not course.folder("autograded", result.student, assignment).is_dir():
        result.no_feedback = "nothing of the submission was autograded"
        return
    outcome = course.feedback_writer.write(assignment, result.student)
    if outcome["success"]:
        result.feedback = True
    else:
        result.no_feedback = "nbgrader generate_feedback failed: " + nbgrader_error(outcome)


def grade_and_give_feedback(course: Course, assignment: str, student: str, releases: dict) -> StudentResult:
    """Everything one submission needs: autograde, scores, reasons, feedback, the
    student's lock held. A failure of grading itself is the student's reason and
    the gradebook's grade stands: one student never stops the class."""
    try:
        with EarlierGrade(course, assignment, student).held():
            result = grade_student(course, assignment, student, releases)
            try:
                write_feedback(course, assignment, result)
            except Exception as error:  # nbgrader reports its own failures; this is anything else
                result.feedback = False
                result.no_feedback = f"writing it failed: {type(error).__name__}: {error}"
            return result
    except StillBeingGraded as error:  # the command reads the grade back once the other run is over
        return StudentResult(student, reasons=[grading_failed(error)])
    except Exception as error:
        return keeping_the_gradebook(
            course, assignment, StudentResult(student, reasons=[grading_failed(error)])
        )


def graded_again_if_locked(course: Course, assignment: str, student: str, releases: dict) -> StudentResult:
    """grade_and_give_feedback, once more when another process held SQLite's write lock past the
    timeout (its reason is DATABASE_LOCKED): the lock is the other process's, not the student's."""
    result = grade_and_give_feedback(course, assignment, student, releases)
    if result.has(Why.DATABASE_LOCKED):
        result = grade_and_give_feedback(course, assignment, student, releases)
    return result


def grading_failed(error: Exception) -> Reason:
    """The reason for a submission whose grading raised error."""
    return Reason(Why.GRADER_FAILED, f"not graded: {type(error).__name__}: {error}")


def has_any_score(notebook) -> bool:
    """Whether a submitted notebook of the gradebook was ever graded, by autograde or by hand."""
    return any(grade.auto_score is not None or grade.manual_score is not None for grade in notebook.grades)


# How long the command waits to read the grade of a student whom another
# process still grades (a Dask worker written off but alive): not long.
KEEPING_WAIT_SECONDS = 30


def keeping_the_gradebook(course: Course, assignment: str, result: StudentResult) -> StudentResult:
    """result, not graded in this run, with the gradebook's scores (0 where none)
    and the student listed in it, so grades.csv names them. When the gradebook
    cannot be read, or another run still grades the student after
    KEEPING_WAIT_SECONDS, the result says so and has no scores."""
    try:
        earlier = EarlierGrade(course, assignment, result.student)
        with earlier.held(wait=KEEPING_WAIT_SECONDS):
            earlier.put_back_if_interrupted()
            with course.gradebook() as gradebook:
                gradebook.update_or_create_student(result.student)
            read_scores(
                course, assignment, result.student, course.release_notebooks(assignment), result, graded=False
            )
    except Exception as error:
        result.points.clear()
        result.reasons.append(
            Reason(Why.GRADER_FAILED, f"its grade could not be read: {type(error).__name__}: {error}")
        )
    return result


# ---------------------------------------------------------------- helpers


# A line of a traceback that names the exception ("ValueError: ..."), and
# the level nbgrader's log puts before a message ("[ERROR] ").
LOG_LEVEL = re.compile(r"^\[[A-Z]+\]\s*")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Timeout|Fault)\b(: .*)?$")


# What SQLite says when another process held its write lock past the timeout.
DATABASE_LOCKED = "database is locked"


def nbgrader_failure(outcome: dict) -> Reason:
    """The reason a failed nbgrader step gives. nbgrader's API reports a
    failure as text only: this is the one place that reads it."""
    error = nbgrader_error(outcome)
    fault = raised(error, CourseFault.__name__)  # grading/errors.py's, as nbgrader's log names it
    if fault is not None:
        # A kernel that did not start is tried once more (autograde_keeping_the_earlier_grade).
        why = Why.KERNEL_NOT_STARTED if fault.startswith(KERNEL_DID_NOT_START) else Why.COURSE_FAULT
        return Reason(why, "not graded, through the course's fault (the grade stands): " + error)
    why = Why.DATABASE_LOCKED if DATABASE_LOCKED in error else Why.NBGRADER_FAILED
    return Reason(why, "nbgrader could not grade it: " + error)


def raised(error: str, name: str) -> str | None:
    """The message of error (nbgrader_error's line, "module.Name: message") when it names an
    exception called name, else None: never a name quoted inside another error's message."""
    raised_name, _, message = error.partition(": ")
    return message if raised_name.rsplit(".", 1)[-1] == name else None


def nbgrader_error(outcome: dict) -> str:
    """What went wrong in a failed nbgrader step, in one line: nbgrader's own
    exception says only "see the above traceback", so its log is read first."""
    for text in (outcome.get("log", ""), outcome.get("error", "")):
        lines = (LOG_LEVEL.sub("", line.strip()) for line in text.splitlines())
        causes = [line for line in lines if EXCEPTION_LINE.match(line) and "NbGraderException" not in line]
        if causes:
            return causes[-1]
    return last_line(outcome.get("error", ""))


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"
