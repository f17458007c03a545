"""The grading command on the example classes of both assignments: real
nbgrader, real sandboxed kernels, one real gradebook. Each class is graded
once, in one course; the tests read what the runs left behind."""

import csv
import html
import json
import re
import shutil
import subprocess
from types import SimpleNamespace

import nbformat
import pytest
from nbgrader import api as nbgrader_api

from conftest import (
    REPO,
    decided_by_visible_checks,
    exit_status,
    known_mistakes,
    leaked_hidden_tests,
    page_text,
    run_grading_command,
)
from examples import example_class, example_class_deep
from examples.grade_examples import write_example_class
from examples.nbgrader_runs import run_nbgrader, scores
from examples.students import fill_in
from grading.command.reporting import summary_table
from grading.command.results import exercise_names
from grading.gradebook import open_gradebook
from grading.plugins.experiments import not_rerun_text, tagged_cells
from grading.plugins.feedback_release import EXCHANGE_FILES
from grading.reasons import Why
from utils.i18n import notebook_language

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]


# What the sandbox does to a submission does not depend on the language it is
# written in; these slow students are graded in English only.
SANDBOX_REASONS = (
    "timed out",
    "ran out of memory",
    "kernel stopped",
    "called sys.exit()",
    "too many processes",
    "outside its folder",
    "use the network",
)


def in_chinese(example):
    """The same answers handed in to the Chinese edition of the assignment,
    by one student for each path through the grader: every score, penalty
    and reason must be the same as in English. Left out: the students whose
    grade the sandbox decides (it does not depend on the language); those
    whose work needs the experiments run, but the first (which cells are
    experiments, and their code, are the same in both editions:
    tests/test_translation.py; one student still runs the Chinese
    experiments, plots included, in the sandbox); and those whose points
    the visible checks alone decide when another such student loses the same
    exercises (tests/test_translation.py runs every one of those checks in
    Chinese) and the feedback test does not read them."""
    names = {name: getattr(example, name) for name in dir(example) if name.isupper()}
    students, losing_seen, experiments_seen = {}, set(), False
    for student, case in example.STUDENTS.items():
        if any(reason in case.get("reason", "") for reason in SANDBOX_REASONS):
            continue
        if case.get("needs_experiments"):
            if experiments_seen:
                continue
            experiments_seen = True
        losing = frozenset(cell for cell, points in case["expected"].items() if points < example.POINTS[cell])
        if decided_by_visible_checks(case):
            if losing in losing_seen and student not in example.FEEDBACK_SHOWS_ZH:
                continue
            losing_seen.add(losing)
        students[student] = case
    return SimpleNamespace(
        **{
            **names,
            "ASSIGNMENT": example.ASSIGNMENT + "_zh",
            "STUDENTS": students,
            "FEEDBACK_SHOWS": example.FEEDBACK_SHOWS_ZH,
        }
    )


CLASSES = [example_class, example_class_deep, in_chinese(example_class), in_chinese(example_class_deep)]


@pytest.fixture(scope="module", params=CLASSES, ids=lambda example: example.ASSIGNMENT)
def graded_class(request, course):
    example = request.param
    write_example_class(course, example)
    run = run_grading_command(course, example.ASSIGNMENT, status=exit_status(example))
    return course, example, run


def unreadable(example):
    """Students whose file cannot be read: never handed to nbgrader, so they
    have no submission in the gradebook (the grades file lists them with 0)."""
    return {student for student, case in example.STUDENTS.items() if case.get("unreadable")}


def expected_total(case):
    return sum(case["expected"].values()) - case.get("late_penalty", 0)


def test_every_student_gets_the_expected_score_per_exercise(graded_class):
    course, example, _ = graded_class
    recorded = scores(course, example.ASSIGNMENT, example.NOTEBOOK)
    assert set(recorded) == set(example.STUDENTS) - unreadable(example)
    with open_gradebook(course) as gradebook:
        assert unreadable(example) <= {student.id for student in gradebook.students}
    wrong = {}
    for student, case in example.STUDENTS.items():
        expected = {cell: (points, example.POINTS[cell]) for cell, points in case["expected"].items()}
        if student not in unreadable(example) and recorded[student] != expected:
            wrong[student] = recorded[student]
    assert not wrong


def test_the_command_writes_no_warning_or_traceback(graded_class):
    """What the instructor sees on stderr while a class is graded by worker
    processes: nothing of Python's own (a worker's warning, a traceback)."""
    _, _, run = graded_class
    assert not re.search(r"Warning|Traceback|Error:", run.stderr), run.stderr[-3000:]


def test_the_gradebook_holds_only_this_course(graded_class):
    course, _, _ = graded_class
    with open_gradebook(course) as gradebook:  # opened with the configured course id
        courses = [row.id for row in gradebook.db.query(nbgrader_api.Course)]
        assert courses == [gradebook.course_id], "the gradebook holds another course"


def test_every_student_has_the_expected_total_and_reason(graded_class):
    _, example, run = graded_class
    assert sorted(run.students) == sorted(example.STUDENTS)
    for student, case in example.STUDENTS.items():
        result = run.result(student)
        assert result.total == pytest.approx(expected_total(case)), student
        reasons = "; ".join(map(str, result.reasons))
        # The instructor's summary is in English, whatever the edition.
        assert not re.search(r"[\u4e00-\u9fff]", reasons), (student, reasons)
        if "reason" in case:
            assert case["reason"] in reasons, student
        elif not case.get("tamper"):
            # A wrong answer needs no reason: the feedback shows the test's message.
            assert not result.reasons, student


def test_the_printed_summary_shows_the_results(graded_class):
    """What the instructor reads is the table of the results the command
    returned, after a progress line per student."""
    _, example, run = graded_class
    results = [run.result(student) for student in run.students]
    assert summary_table(results) in run.printed
    assert run.summary["assignment"] == example.ASSIGNMENT
    count = len(example.STUDENTS)
    progress = re.findall(rf"^\[\s*(\d+)/{count}\] \[[#-]+\] (\S+)", run.printed, re.MULTILINE)
    assert [int(number) for number, _ in progress] == list(range(1, count + 1))
    assert sorted(student for _, student in progress) == sorted(example.STUDENTS)


def test_the_class_report_names_each_known_mistake_and_its_students(graded_class):
    """The grader records the mistake each replayed check diagnosed, and the
    class report counts them: the same names, counts and students as the
    example class declares."""
    course, example, run = graded_class
    short = dict(zip(example.POINTS, exercise_names(list(example.POINTS))))
    for student, case in example.STUDENTS.items():
        declared = {short[cell]: mistake for cell, mistake in case.get("mistakes", {}).items()}
        assert run.result(student).mistakes == declared, student
    folder = course / "reports" / example.ASSIGNMENT
    assert run.summary["report"] == str(folder / "index.html")
    assert run.printed.rstrip().endswith(f"Class report: {folder / 'index.html'}")
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    named = {(row["id"], row["exercise"]): row["students"] for row in report["mistakes"]}
    assert named == known_mistakes(example)
    assert [row["count"] for row in report["mistakes"]] == sorted(
        (len(students) for students in named.values()), reverse=True
    )


def test_late_penalties_follow_the_policy_in_the_config(graded_class):
    course, example, _ = graded_class
    with open_gradebook(course) as gradebook:
        for student, case in example.STUDENTS.items():
            if student in unreadable(example):
                continue
            notebook = gradebook.find_submission_notebook(example.NOTEBOOK, example.ASSIGNMENT, student)
            penalty = notebook.late_submission_penalty or 0.0
            assert penalty == pytest.approx(case.get("late_penalty", 0.0)), student


def test_grades_file_has_every_student_and_penalty(graded_class):
    course, example, _ = graded_class
    with open(course / "grades.csv", newline="") as file:
        rows = {
            row["student_id"]: row for row in csv.DictReader(file) if row["assignment"] == example.ASSIGNMENT
        }
    # One row per student who handed this assignment in (grading/plugins/lms.py):
    # the other class's students, who did not, have none.
    assert set(rows) == set(example.STUDENTS)
    for student, case in example.STUDENTS.items():
        raw = 0.0 if case.get("unreadable") else sum(case["expected"].values())
        penalty = case.get("late_penalty", 0.0)
        assert float(rows[student]["raw_score"]) == pytest.approx(raw), student
        assert float(rows[student]["late_submission_penalty"]) == pytest.approx(penalty)
        assert float(rows[student]["score"]) == pytest.approx(raw - penalty), student


def test_hostile_code_left_nothing_behind(graded_class):
    course, example, _ = graded_class
    # The write outside the submission's folder did not happen, and the
    # gradebook it tried to overwrite still holds every student's grades.
    assert not (course / "written-by-a-student.txt").exists()
    assert len(scores(course, example.ASSIGNMENT, example.NOTEBOOK)) == len(example.STUDENTS) - len(
        unreadable(example)
    )
    # No sandbox of this course's kernels outlived its grading; each took
    # every process it held (the fork loop's included) down with it.
    left = subprocess.run(["pgrep", "-f", f"bwrap.*{course}/autograded"], capture_output=True, text=True)
    assert left.stdout == ""


def feedback_text(course, example, student):
    path = course / "feedback" / student / example.ASSIGNMENT / (example.NOTEBOOK + ".html")
    return html.unescape(path.read_text())


def test_feedback_shows_failures_but_never_hidden_tests(graded_class):
    course, example, _ = graded_class
    files = sorted((course / "feedback").glob(f"*/{example.ASSIGNMENT}/*.html"))
    assert len(files) == len(example.STUDENTS) - len(unreadable(example))
    for path in files:
        leaked = leaked_hidden_tests(example.ASSIGNMENT, page_text(path.read_text()))
        assert not leaked, f"{path.name} of {path.parts[-3]} shows {leaked[:2]}"
    for student, message in example.FEEDBACK_SHOWS.items():
        assert message in feedback_text(course, example, student), student


def test_the_feedback_folder_holds_only_the_page_and_the_exchange_files(graded_class):
    """nbgrader's generate_feedback copies every other file of the autograded
    folder (the course's helpers, a student's own files) beside the page,
    and release_feedback would hand them to the student: each feedback
    folder holds the page, and only the timestamp and the secret by which
    release_feedback files it, as they were autograded."""
    course, example, run = graded_class
    feedback = course / "feedback"
    with_feedback = sorted(student for student in example.STUDENTS if run.result(student).feedback)
    assert with_feedback == sorted(set(example.STUDENTS) - unreadable(example))
    assert sorted(path.parent.name for path in feedback.glob(f"*/{example.ASSIGNMENT}")) == with_feedback
    left_out = set()
    for student in with_feedback:
        folder = feedback / student / example.ASSIGNMENT
        autograded = course / "autograded" / student / example.ASSIGNMENT
        exchange = {name for name in EXCHANGE_FILES if (autograded / name).is_file()}
        assert {str(path.relative_to(folder)) for path in folder.rglob("*")} == {
            example.NOTEBOOK + ".html",
            *exchange,
        }, student
        for name in exchange:
            assert (folder / name).read_bytes() == (autograded / name).read_bytes()
        if "hours_late" in example.STUDENTS[student]:
            assert "timestamp.txt" in exchange, student  # its time went with the page
        left_out |= {path.name for path in autograded.iterdir()} - exchange - {example.NOTEBOOK + ".ipynb"}
    assert "utils" in left_out  # the course's helpers were there to be copied, and were not


# The page's own words and the grader's notes, in English: none may show on a
# Chinese student's page (the notebook's code, outputs and ids aside).
ENGLISH_OF_THE_PAGE = (
    "Score:",
    "Test cell",
    "Written response",
    "Student's answer",
    "Comments:",
    "No response.",
    "(Top)",
    "Test cell:",
    "not run:",
    "output cut",
    "ran over its budget",
    "output not shown in feedback",
    "CellTimeoutError",
    "KernelDied",
)


def page_language_and_english(path):
    """(the lang of the page's html element, the English page words it shows)."""
    source = path.read_text()
    language = re.search(r'<html lang="([^"]+)">', source)
    shown = page_text(source)
    found = [words for words in ENGLISH_OF_THE_PAGE if words in shown]
    return (language.group(1) if language else None), found


def test_each_feedback_page_is_in_the_language_of_its_notebook(graded_class):
    course, example, _ = graded_class
    files = sorted((course / "feedback").glob(f"*/{example.ASSIGNMENT}/*.html"))
    assert files
    # Written answers wait for the instructor: their pages say so, not "0".
    waiting = "waiting for hand grading" if english(example) else "待批改"
    assert any(waiting in page_text(path.read_text()) for path in files)
    for path in files:
        language, english_words = page_language_and_english(path)
        if english(example):
            assert language == "en" and "Score:" in english_words, path
        else:
            assert (language, english_words) == ("zh-CN", []), path.parts[-3]
            assert "得分：" in page_text(path.read_text())


def test_plain_nbgrader_generate_feedback_writes_the_same_page(graded_class, tmp_path):
    """The page comes from nbgrader's converter as the course configures it,
    so an instructor's own `nbgrader generate_feedback` writes it too."""
    course, example, _ = graded_class
    student = next(name for name, case in example.STUDENTS.items() if not case.get("unreadable"))
    copy = shutil.copytree(course, tmp_path / "course", symlinks=True)
    shutil.rmtree(copy / "feedback")
    # What nbgrader would copy next to the page: a student's extra file and
    # folder, and a link to the instructor's gradebook.
    autograded = copy / "autograded" / student / example.ASSIGNMENT
    (autograded / "notes.txt").write_text("mine")
    (autograded / "extra").mkdir()
    (autograded / "extra" / "helper.py").write_text("x = 1")
    (autograded / "gradebook_link").symlink_to(copy / "gradebook.db")
    run_nbgrader(copy, "generate_feedback", example.ASSIGNMENT, "--student", student, "--force")
    page = copy / "feedback" / student / example.ASSIGNMENT / (example.NOTEBOOK + ".html")
    # The feedback folder holds the page and what the exchange reads beside it, nothing else.
    left = {path.name for path in page.parent.iterdir()}
    assert page.name in left and left <= {page.name, "timestamp.txt", "submission_secret.txt"}, left
    expected = "en" if english(example) else "zh-CN"
    assert page_language_and_english(page)[0] == expected
    if not english(example):
        assert page_language_and_english(page)[1] == []


@pytest.mark.parametrize("example", CLASSES, ids=lambda example: example.ASSIGNMENT)
def test_fill_in_refuses_an_unknown_cell(example):
    release = nbformat.read(
        REPO / "release" / example.ASSIGNMENT / (example.NOTEBOOK + ".ipynb"), as_version=4
    )
    with pytest.raises(KeyError, match="no_such_cell"):
        fill_in(release, {"no_such_cell": "x = 1"})


# ------------------------------------------- left-out experiments and budgets


def english(example):
    return not example.ASSIGNMENT.endswith("_zh")


def graded_again(course, destination, example, config_line=None, *options, students=None):
    """A copy of the graded course, its config extended by config_line, the
    class (or the named students) graded again there; returns (copy, the run)."""
    copy = shutil.copytree(course, destination, symlinks=True)
    if config_line:
        with open(copy / "nbgrader_config.py", "a") as file:
            file.write(f"\n{config_line}\n")
    if students is not None:
        for folder in (copy / "submitted").iterdir():
            if folder.name not in students and (folder / example.ASSIGNMENT).is_dir():
                shutil.rmtree(folder / example.ASSIGNMENT)
    return copy, run_grading_command(
        copy, example.ASSIGNMENT, *options, status=exit_status(example, students)
    )


# Graded again in full (experiments re-run) and on a slower machine: a few
# students that stand for the class, since each such run costs minutes for
# the whole of it. In full: a student whose fast grading left the
# experiments out, with both correct answers (zeros, random) and a test cell
# tagged to be skipped (he, which loses its points); those whose work needs
# the experiments are graded in full either way. On a slower machine: honest
# answers written as the textbook and as its variants (other honest answers
# cost the same few milliseconds), and the slowest honest path (graded in
# full because it needs an experiment's result).
REPRESENTATIVE = {
    "initialization": {
        "full": ["tags-test-cell-to-skip"],
        "slow machine": ["correct-variants", "correct-textbook", "he-reads-earlier-predictions"],
    },
    "initialization_deep": {
        # Graded in full only through `initialization`: the path is the same,
        # and the deep notebook's experiments are the course's costliest (its
        # whole class graded in full: 150 s on 2 cores).
        "full": [],
        "slow machine": ["correct-variants", "correct-textbook"],
    },
}


@pytest.fixture(scope="module")
def graded_in_full(graded_class, tmp_path_factory):
    course, example, fast = graded_class
    if not english(example):
        pytest.skip("graded in full in English only")
    students = REPRESENTATIVE[example.ASSIGNMENT]["full"]
    if not students:
        pytest.skip("graded in full as initialization only (REPRESENTATIVE)")
    copy, full = graded_again(
        course, tmp_path_factory.mktemp("full") / "course", example, None, "--full", students=students
    )
    return course, copy, example, fast, full, students


def test_grading_in_full_gives_the_same_scores_and_reasons(graded_in_full):
    """Leaving out the experiments changes no score and no reason: the rows
    of the two summaries (points per exercise, penalty, total, reasons) are
    identical, and so are the gradebooks."""
    course, copy, example, fast, full, students = graded_in_full
    for student in students:
        in_full, fast_result = full.result(student), fast.result(student)
        assert (in_full.points, in_full.total, in_full.reasons) == (
            fast_result.points,
            fast_result.total,
            fast_result.reasons,
        ), student
    in_full = scores(copy, example.ASSIGNMENT, example.NOTEBOOK)
    assert {student: in_full[student] for student in students} == {
        student: grades
        for student, grades in scores(course, example.ASSIGNMENT, example.NOTEBOOK).items()
        if student in students
    }


def source_notebook(example):
    return nbformat.read(REPO / "source" / example.ASSIGNMENT / (example.NOTEBOOK + ".ipynb"), as_version=4)


def tagged_ids(example):
    return set(tagged_cells(source_notebook(example)))


def language_of(example):
    """The language the grader writes its notes in for this example's notebook."""
    return notebook_language(source_notebook(example))


def test_left_out_experiments_carry_a_note_and_every_graded_cell_stays(graded_class):
    """An unchanged submission's experiments are not re-run: each shows the
    one-line note, in the autograded notebook (which formgrader shows, every
    graded and hand-graded cell still in it) and in the feedback."""
    course, example, _ = graded_class
    tagged = tagged_ids(example)
    assert len(tagged) >= 4
    student = "correct-variants" if "correct-variants" in example.STUDENTS else next(iter(example.STUDENTS))
    autograded = nbformat.read(
        course / "autograded" / student / example.ASSIGNMENT / (example.NOTEBOOK + ".ipynb"), as_version=4
    )
    note = not_rerun_text(language_of(example))
    noted = {
        cell.id
        for cell in autograded.cells
        if [output.get("text") for output in cell.get("outputs", [])] == [note]
    }
    assert noted == tagged
    release = nbformat.read(
        REPO / "release" / example.ASSIGNMENT / (example.NOTEBOOK + ".ipynb"), as_version=4
    )
    graded_ids = [
        cell.metadata["nbgrader"]["grade_id"] for cell in release.cells if "nbgrader" in cell.metadata
    ]
    assert [
        cell.metadata["nbgrader"]["grade_id"] for cell in autograded.cells if "nbgrader" in cell.metadata
    ] == graded_ids
    assert feedback_text(course, example, student).count(note.strip()) == len(tagged)


@pytest.fixture(scope="module")
def graded_on_a_slow_machine(graded_class, tmp_path_factory):
    """Honest students of the class graded again with every budget a quarter
    of its size: what a machine four times slower than the reference would see."""
    course, example, _ = graded_class
    if not english(example):
        pytest.skip("English only: the budgets do not depend on the language")
    honest = REPRESENTATIVE[example.ASSIGNMENT]["slow machine"]
    assert not any(
        reason in example.STUDENTS[student].get("reason", "")
        for student in honest
        for reason in SANDBOX_REASONS
    )
    copy, run = graded_again(
        course,
        tmp_path_factory.mktemp("slow") / "course",
        example,
        "c.SandboxedExecute.budget_scale = 0.25",
        students=honest,
    )
    return example, honest, run


def test_no_honest_submission_times_out_on_a_slower_machine(graded_on_a_slow_machine):
    example, honest, run = graded_on_a_slow_machine
    for student in honest:
        result = run.result(student)
        assert not result.has(Why.TIMED_OUT) and not result.has(Why.NOT_RUN), result.reasons
        assert result.total == pytest.approx(expected_total(example.STUDENTS[student])), student


def test_a_restored_cell_has_an_id(graded_class):
    """nbgrader puts a deleted test cell back; with an id, as nbformat wants
    (without one it warns in the grading command's output)."""
    course, example, _ = graded_class
    deleted = [
        student for student, case in example.STUDENTS.items() if "deleted cell" in case.get("reason", "")
    ]
    if not deleted:
        # Only the deep class has no such student; the first must keep its own.
        assert example.ASSIGNMENT.startswith("initialization_deep"), "deleted-test-cell is gone"
        pytest.skip("no student of this class deleted a cell")
    for student in deleted:
        path = course / "autograded" / student / example.ASSIGNMENT / (example.NOTEBOOK + ".ipynb")
        notebook = nbformat.read(path, as_version=4)
        assert all(cell.get("id") for cell in notebook.cells), student
        ids = [cell.id for cell in notebook.cells]
        assert len(set(ids)) == len(ids), student


def test_plain_nbgrader_leaves_out_the_experiments_too(graded_class):
    """`nbgrader autograde` with the course's configuration, as an instructor
    may run it by hand, leaves out the same cells, and its feedback is the
    one the grading command wrote (which keeps one exporter per process)."""
    course, example, _ = graded_class
    if not english(example):
        pytest.skip("the same configuration grades both editions")
    student = "correct-variants"
    by_the_command = feedback_text(course, example, student)
    # Every honest student (nbgrader matches the pattern against the student
    # ids), with the reference run the grading command kept on disk for all
    # of them: plain nbgrader and the command measure the same run.
    autograded = run_nbgrader(course, "autograde", example.ASSIGNMENT, "--student", "correct-*", "--force")
    log = autograded.stdout + autograded.stderr
    assert log.count("read the reference run kept in") == 1, log[-3000:]
    assert "ran the reference" not in log
    honest = [name for name in example.STUDENTS if name.startswith("correct-")]
    assert log.count("Autograding ") == len(honest) > 1
    autograded = nbformat.read(
        course / "autograded" / student / example.ASSIGNMENT / (example.NOTEBOOK + ".ipynb"), as_version=4
    )
    noted = {
        cell.id
        for cell in autograded.cells
        if any(
            not_rerun_text(language_of(example)) == output.get("text") for output in cell.get("outputs", [])
        )
    }
    assert noted == tagged_ids(example)
    generated = run_nbgrader(course, "generate_feedback", example.ASSIGNMENT, "--student", student, "--force")
    assert "not recognized" not in generated.stderr  # no warning about HideHiddenTests' configuration
    assert feedback_text(course, example, student) == by_the_command
