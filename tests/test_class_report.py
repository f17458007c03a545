"""The class report (grading/report/): the mistakes a class made, counted by
the ids the visible checks give their diagnoses, who needs attention,
identical answers, the figures, the page in a real browser, both editions
together, and what grading again changed and why.

The fast tests work on the checks, the verdicts and the report's parts. The
slow ones grade a small class once (a part of examples/example_class.py, a
planted copy, a hostile folder name and a student on the roster who handed
in nothing), a few students of the Chinese edition, then grade again after
a hand grade, an extension and a resubmission. (The whole example classes'
reports are checked where they are graded, in tests/test_grading.py.)
"""

import ast
import csv
import datetime
import hashlib
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import CHECKS, REPO, copy_generated, known_mistakes, run_grading_command
from examples import example_class
from examples.grade_examples import write_example_class
from examples.students import write_submission
from grading.command.results import StudentResult
from grading.gradebook import open_gradebook
from grading.plugins import verdicts
from grading.plugins.verdicts import judge, parse_record
from grading.reasons import Reason, Why
from grading.report import records
from grading.report.changes import causes, changes_block, class_changes, student_change
from grading.report.counts import class_counts, headline
from grading.report.figures import write_figures
from grading.report.mistakes import TITLES, exercise_sections
from grading.report.outcomes import outcome, zero_causes
from grading.report.page import render
from grading.report.similarity import identical_groups, identical_submissions, normalised
from grading.report.times import shown, shown_in
from utils import answers
from utils.deep_checks import check_activation_stds, check_xavier_initializer
from utils.init_checks import check_he_initializer, check_random_initializer

# ------------------------------------------------------------ mistake ids


def initializer(scale, reseed_each_layer=False, draw=np.random.randn):
    """A student's seeded initializer: draws times scale(n_in, n_out) per layer."""

    def initialize(layers_dims):
        np.random.seed(3)
        parameters = {}
        for l in range(1, len(layers_dims)):
            if reseed_each_layer:
                np.random.seed(3)
            n_in, n_out = layers_dims[l - 1], layers_dims[l]
            parameters[f"W{l}"] = draw(n_out, n_in) * scale(n_in, n_out)
            parameters[f"b{l}"] = np.zeros((n_out, 1))
        return parameters

    return initialize


def mistake_of(check, function):
    with pytest.raises(AssertionError) as error:
        check(function)
    return getattr(error.value, "mistake", None)


def test_each_classic_mistake_has_its_own_id():
    he_for_xavier = initializer(lambda n_in, n_out: np.sqrt(2 / n_in))
    assert mistake_of(check_xavier_initializer, he_for_xavier) == "he-scale-for-xavier"
    assert mistake_of(check_he_initializer, initializer(lambda n_in, n_out: np.sqrt(1 / n_in))) == (
        "xavier-scale-for-he"
    )
    assert mistake_of(check_he_initializer, initializer(lambda n_in, n_out: np.sqrt(2 / n_out))) == "fan-out"
    assert mistake_of(check_he_initializer, initializer(lambda n_in, n_out: 2 / n_in)) == "variance-as-scale"
    ten = initializer(lambda n_in, n_out: 10)
    assert mistake_of(check_random_initializer, initializer(lambda n_in, n_out: 10, True)) == "seed-in-loop"
    uniform = initializer(lambda n_in, n_out: 10, draw=np.random.rand)
    assert mistake_of(check_random_initializer, uniform) == "uniform-draws"
    check_random_initializer(ten)  # and the right answer passes

    def spreads(transform):
        def activation_stds(X, parameters, activation):
            A, values = X, []
            for l in range(1, len(parameters) // 2):
                Z = parameters[f"W{l}"] @ A + parameters[f"b{l}"]
                A = np.tanh(Z) if activation == "tanh" else np.maximum(0, Z)
                values.append(transform(A, Z))
            return values

        return activation_stds

    assert mistake_of(check_activation_stds, spreads(lambda A, Z: np.var(A))) == "variance-for-std"
    assert mistake_of(check_activation_stds, spreads(lambda A, Z: np.std(Z))) == "z-instead-of-a"


def mistake_ids_in_the_checks():
    """Every mistake id written in utils/: the second argument of _wrong(),
    a scale rule's mistake=, a class's mistake attribute."""
    ids = set()
    for path in (REPO / "utils").glob("*_checks.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "_wrong"
                and len(node.args) == 2
            ):
                if isinstance(node.args[1], ast.Constant):
                    ids.add(node.args[1].value)
            if (
                isinstance(node, ast.keyword)
                and node.arg == "mistake"
                and isinstance(node.value, ast.Constant)
            ):
                ids.add(node.value.value)
            if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["mistake"]:
                ids.add(node.value.value)
    return ids


def test_the_report_names_every_mistake_id():
    ids = (
        mistake_ids_in_the_checks()
        | set(verdicts.VERDICT_MISTAKES.values())
        | {verdicts.HIDDEN_TESTS_MISTAKE}
    )
    assert {"fan-out", "seed-in-loop", "variance-for-std", "z-instead-of-a", "not-answered"} <= ids
    assert ids <= set(TITLES), sorted(ids - set(TITLES))


def record_of(check, function, hidden_calls=(([4, 3, 1],),)):
    return parse_record(json.loads(json.dumps(answers.answer_record(check, function, list(hidden_calls)))))


def test_the_verdict_carries_the_checks_id_and_a_student_cannot_forge_one():
    he = initializer(lambda n_in, n_out: np.sqrt(2 / n_in))
    reference = record_of(check_he_initializer, he)
    fan_out = initializer(lambda n_in, n_out: np.sqrt(2 / n_out))
    assert judge(record_of(check_he_initializer, fan_out), reference, checks=CHECKS).mistake == "fan-out"
    assert judge(record_of(check_he_initializer, he), reference, checks=CHECKS).mistake == ""

    def forger(layers_dims):
        error = AssertionError("Fan-in error")
        error.mistake = "fan-out"  # never leaves the kernel: the record holds the type and message only
        raise error

    # The student's own AssertionError is their error, not a check's diagnosis.
    verdict = judge(record_of(check_he_initializer, forger), reference, checks=CHECKS)
    assert not verdict.passed and verdict.mistake == "raises-error"


def test_each_exercise_is_taught_in_its_numbered_section():
    sections = exercise_sections(REPO / "source" / "initialization" / "Initialization.ipynb")
    assert sections["test_initialize_parameters_he"] == "§5 He initialization"
    assert sections["test_initialize_parameters_random"] == "§4 Random initialization"
    deep = exercise_sections(REPO / "source" / "initialization_deep" / "InitializationDeep.ipynb")
    assert deep["test_activation_stds"] == "§4 Measuring the signal"
    chinese = exercise_sections(REPO / "source" / "initialization_zh" / "Initialization.ipynb")
    assert chinese["test_initialize_parameters_he"] == "§5 He 初始化"


# ------------------------------------------------------ identical answers

FAN_OUT = """
def initialize_parameters_he(layers_dims):
    \"\"\"He initialization.\"\"\"
    np.random.seed(3)
    parameters = {}
    for l in range(1, len(layers_dims)):
        fan = layers_dims[l]  # the fan-in
        parameters[f"W{l}"] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * (2 / fan) ** 0.5
        parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
    return parameters
"""


def test_a_submission_is_hashed_in_chunks_to_the_hash_earlier_runs_stored(tmp_path, monkeypatch):
    """Read a chunk at a time (a huge refused file is never held whole), and
    the same hash as a whole read gives: a report's earlier records still
    match, and no student shows as handed in again."""
    notebook = b'{"cells": []}' * 1000
    (tmp_path / "Initialization.ipynb").write_bytes(notebook)
    (tmp_path / "notes.txt").write_text("not a notebook")
    monkeypatch.setattr(records, "HASH_CHUNK", 100)
    whole = hashlib.sha256(b"Initialization.ipynb\0" + notebook).hexdigest()[:16]
    assert records.submission_hash(tmp_path) == whole
    assert records.submission_hash(tmp_path / "missing") is None


def test_normalised_code_ignores_comments_docstrings_layout_and_own_names():
    disguised = (
        FAN_OUT.replace("fan", "units_here")
        .replace('"""He initialization."""', '"""My own work."""')
        .replace("# the fan-in", "# computed myself")
        .replace("parameters = {}", "parameters = {   }\n\n")
    )
    assert normalised(disguised) == normalised(FAN_OUT)
    assert normalised(FAN_OUT.replace("(2 / fan)", "(1 / fan)")) != normalised(FAN_OUT)
    assert "the fan-in" not in normalised(FAN_OUT) and "He initialization" not in normalised(FAN_OUT)
    assert normalised("def f(:\n  pass") == "def f(:\npass"  # unparsable: its stripped lines


def test_identical_groups_leave_out_what_the_exercise_forces():
    textbook, stub = (
        normalised(FAN_OUT.replace("/ fan)", "/ layers_dims[l - 1])")),
        "raise NotImplementedError()",
    )
    function = "initialize_parameters_he"
    code = {f"honest-{n}": {function: textbook} for n in range(6)}  # the common form
    code.update(
        {"a": {function: normalised(FAN_OUT)}, "b": {function: normalised(FAN_OUT.replace("fan", "x"))}}
    )
    code.update({"lazy-1": {function: stub}, "lazy-2": {function: stub}, "alone": {function: "x = 1"}})
    scores = {student: {function: (3.0, 3.0)} for student in code}
    scores.update({student: {function: (0.0, 3.0)} for student in ("a", "b", "lazy-1", "lazy-2", "alone")})
    groups, left_out = identical_groups(code, scores, {function: [stub]})
    assert [(group["function"], group["students"], group["points"]) for group in groups] == [
        (function, ["a", "b"], [0.0, 0.0])
    ]
    assert left_out == {function: {"forced": 2, "common": 6}}


def test_a_shared_wrong_answer_is_never_left_out_and_a_small_class_keeps_its_groups():
    function, right, wrong = "f", "return 1", "return 2"
    # A class of 11: 3 share a right answer, 3 a wrong one, 5 answer alone.
    code = {f"right-{n}": {function: right} for n in range(3)}
    code.update({f"wrong-{n}": {function: wrong} for n in range(3)})
    code.update({f"alone-{n}": {function: f"return {n + 10}"} for n in range(5)})
    scores = {student: {function: (3.0 if student.startswith("right") else 0.0, 3.0)} for student in code}
    groups, left_out = identical_groups(code, scores, {})
    assert [group["students"] for group in groups] == [["wrong-0", "wrong-1", "wrong-2"]]
    assert left_out == {function: {"forced": 0, "common": 3}}
    # Half the class with the same wrong answer: still shown, with its score.
    code.update({f"alone-{n}": {function: wrong} for n in range(5)})
    groups, _ = identical_groups(code, scores, {})
    assert [(len(group["students"]), group["points"], group["max"]) for group in groups] == [
        (8, [0.0, 0.0], 3.0)
    ]
    # Two who share a right answer: too few to be the textbook's.
    groups, _ = identical_groups(
        {"a": {function: right}, "b": {function: right}},
        scores | {"a": {function: (3.0, 3.0)}, "b": {function: (3.0, 3.0)}},
        {},
    )
    assert [(group["students"], group["points"]) for group in groups] == [(["a", "b"], [3.0, 3.0])]


def test_identical_notebooks_are_grouped_but_not_the_release_handed_in_as_it_was():
    hashes = {"a": "1", "b": "1", "c": "2", "d": "3", "e": "3", "f": "3", "g": None, "h": None}
    assert identical_submissions(hashes, answered_nothing={"d", "e"}) == [["a", "b"]]
    assert identical_submissions(hashes, answered_nothing=set()) == [["d", "e", "f"], ["a", "b"]]


# ------------------------------------------------------------ regrades


def record(he=0.0, **fields):
    """A student's record (grading/report/records.py): he's points, the other fields given."""
    result = StudentResult(
        "ada",
        points={
            "test_initialize_parameters_zeros": (2.0, 2.0),
            "test_initialize_parameters_random": (3.0, 3.0),
            "test_initialize_parameters_he": (he, 3.0),
        },
        written=(0.0, 2.0),
        pending=2.0,
        mistakes={"he": "fan-out"},
    )
    return {
        "student": "ada",
        "graded_at": "2026-12-05 10:00:00 UTC",
        "result": result.to_json(),
        "timestamp": "2026-12-04 10:00:00 UTC",
        "duedate": "2026-12-04 23:59:00 UTC",
        "extension": None,
        "hand_grades": {"observations_he": None},
        "submission": "abc",
        "course": {"source/initialization/Initialization.ipynb": "1"},
        **fields,
    }


def test_a_regrade_of_a_fixed_hidden_test_says_so():
    before = record()
    after = record(he=3.0, course={"source/initialization/Initialization.ipynb": "2"})
    after["result"]["mistakes"] = {}
    change = student_change(before, after)
    assert change["changes"][0] == "he: 0 -> 3 of 3 (was: Fan-out instead of fan-in; now: correct)"
    notebook = "source/initialization/Initialization.ipynb"
    assert change["why"] == [f"the course changed since: {notebook} (a hidden test or a check fixed)"]
    assert student_change(before, record()) is None  # the same grade: nothing to say
    unexplained = student_change(before, record(he=3.0))
    assert "grading itself gave another result" in unexplained["why"][0]


def test_the_causes_of_a_change():
    before = record()
    assert causes(before, record(submission="def", timestamp="2026-12-06 09:00:00 UTC")) == [
        "a new submission (handed in 2026-12-06 09:00 UTC; the one graded before: 2026-12-04 10:00 UTC)"
    ]
    assert causes(before, record(duedate="2026-12-06 23:59:00 UTC", extension=172800.0)) == [
        "the due date changed: 2026-12-04 23:59 UTC -> 2026-12-06 23:59 UTC (extension: none -> 2 days)"
    ]
    assert causes(before, record(hand_grades={"observations_he": 1.5})) == [
        "hand grade of observations_he: waiting -> 1.5"
    ]
    store = {"updated": "2026-12-05 10:00:00 UTC", "students": {"ada": before}}
    changes = class_changes(store, {"ada": record(), "bob": record(student="bob")})
    assert changes["changed"] == [] and changes["unchanged"] == 1 and changes["new"] == ["bob"]
    assert (
        changes_block(changes)
        == "Changes since the last grading: none (1 graded again, every grade as it was)."
    )
    assert changes_block(class_changes({"updated": None, "students": {}}, {"ada": before})) == ""


def test_a_course_file_kept_under_another_name_is_no_change():
    notebook = "source/initialization/Initialization.ipynb"
    before = record(he=3.0, course={notebook: "1", "init_checks.py": "c1"})
    renamed = record(he=0.0, course={notebook: "1", "utils/init_checks.py": "c1"})
    assert not any("the course changed" in line for line in causes(before, renamed))
    assert "grading itself gave another result" in student_change(before, renamed)["why"][0]
    fixed = record(course={notebook: "1", "utils/init_checks.py": "c2"})
    assert causes(before, fixed) == [
        "the course changed since: utils/init_checks.py (a hidden test or a check fixed)"
    ]
    both = record(course={notebook: "2", "utils/init_checks.py": "c1"})
    assert causes(before, both) == [f"the course changed since: {notebook} (a hidden test or a check fixed)"]
    gone = record(course={notebook: "1"})
    assert causes(before, gone) == [
        "the course changed since: init_checks.py (a hidden test or a check fixed)"
    ]


# ------------------------------------------------------------- the page


def test_every_time_is_shown_in_one_format():
    for stored in ("2026-12-05 10:30:00 UTC", "2026-12-05T10:30:59+00:00", "2026-12-05T11:30:00+01:00"):
        assert shown(stored) == "2026-12-05 10:30 UTC"
    assert shown(None) == "never" and shown(None, "at an unknown time") == "at an unknown time"
    old = "the due date changed: 2026-12-04 23:59:00 UTC -> 2026-12-06T23:59:00+00:00 (extension: 2 days)"
    assert (
        shown_in(old)
        == "the due date changed: 2026-12-04 23:59 UTC -> 2026-12-06 23:59 UTC (extension: 2 days)"
    )
    # An earlier run's change, its times in the record's older form, on the page.
    change = student_change(record(), record(he=3.0, timestamp="2026-12-06T09:00:00+00:00", submission="d"))
    change["since"] = "2026-12-05T23:46:31+00:00"
    changes = {"since": "2026-12-05T23:46:32+00:00", "changed": [change], "unchanged": 0, "new": []}
    assert "(graded before at 2026-12-05 23:46 UTC):" in changes_block(changes)
    assert (
        "a new submission (handed in 2026-12-06 09:00 UTC; the one graded before: 2026-12-04 10:00 UTC)"
        in change["why"]
    )
    data = {
        "title": "initialization",
        "editions": ["initialization"],
        "generated": "2026-12-06 00:15:16 UTC",
        "graded_at": "2026-12-05T23:48:01+00:00",
        "students": 0,
        "headline": "0 graded",
        "exercises": [],
        "mistakes": [],
        "attention": {key: [] for key in ATTENTION_KEYS},
        "identical": {
            "groups": [],
            "submissions": [],
            "left_out": {},
            "common_share": 0.25,
            "common_minimum": 3,
        },
        "table": [],
        "changes": changes,
    }
    page = render(data, {})
    times = re.findall(r"\d{4}-\d\d-\d\d[ T][\d:]+(?: UTC|[+-]\d\d:\d\d)?", page)
    assert times and set(re.sub(r"\d", "0", time) for time in times) == {"0000-00-00 00:00 UTC"}, times


def test_each_zero_has_one_cause():
    he = {"cell": "test_initialize_parameters_he", "name": "he", "max": 3.0}

    def result(points, graded=True, mistake=None, *reasons):
        mistakes = {"he": mistake} if mistake else {}
        points = {he["cell"]: (points, 3.0)}
        return StudentResult("s", points=points, graded=graded, mistakes=mistakes, reasons=list(reasons))

    stopped = Reason(Why.TIMED_OUT, "timed out (the cell ran over its budget of 5 s)", "he")
    results = [
        result(0.0, True, "fan-out"),
        result(0.0, True, "hidden-tests"),
        result(0.0, True, "raises-error", Reason(Why.ERROR, "KeyError: 'W1'", "he")),
        result(0.0, True, None, stopped),
        result(0.0, True, "not-answered", Reason(Why.NOT_ANSWERED, "not answered", "he")),
        result(0.0, False, None, Reason(Why.UNREADABLE, "unreadable Initialization.ipynb (NotJSONError)")),
        result(0.0),
        result(3.0),
        result(1.5, True, "wrong-values"),
    ]
    assert zero_causes(results, he) == {
        "mistake": 2,
        "error": 2,
        "not_answered": 1,
        "not_graded": 1,
        "other": 1,
    }
    assert [outcome(r, he)["why"] for r in results] == [
        "Fan-out instead of fan-in",
        "Passes the visible checks, fails the hidden tests",
        "KeyError: 'W1'",
        "timed out (the cell ran over its budget of 5 s)",
        "not answered",
        "unreadable Initialization.ipynb (NotJSONError)",
        "lost points, no reason recorded",
        "correct",
        "Other values (no known cause)",
    ]


def test_the_headline_counts_who_was_graded_and_how_the_charts_count_the_rest():
    def student(name, graded, *reasons):
        return (name, "initialization", {}, StudentResult(name, graded=graded, reasons=list(reasons)))

    earlier = Reason(Why.EARLIER_GRADE, "the gradebook keeps the grade of an earlier run")
    students = [student(f"s{n}", True) for n in range(36)] + [student("corrupt", False)]
    counts = class_counts(students, [{"refusals": []}])
    assert headline(counts) == "36 graded, 1 refused or not graded (counted as 0 in the charts)"
    students.append(student("crashed", False, earlier))
    assert headline(class_counts(students, [{"refusals": [{"student_or_file": "x", "reason": "y"}]}])) == (
        "36 graded, 2 refused or not graded (1 counted as 0 in the charts; 1 counted with the grade an "
        "earlier run gave, which the gradebook keeps); 1 more file or folder refused at intake, naming no "
        "student (in no chart)"
    )


def test_the_page_escapes_what_students_control():
    hostile = "<img src=x onerror=alert(1)>"
    data = {
        "title": "initialization",
        "editions": ["initialization"],
        "generated": "now",
        "graded_at": "now",
        "students": 1,
        "headline": "1 graded",
        "exercises": [],
        "totals": {"max": 0, "values": [], "mean": None, "median": None},
        "mistakes": [
            {
                "id": "fan-out",
                "title": "Fan-out instead of fan-in",
                "exercise": "he",
                "section": "§5",
                "count": 1,
                "students": [hostile],
                "by_edition": {"initialization": 1},
            }
        ],
        "attention": {
            "refused": [{"student": hostile, "exercise": None, "reason": f"{hostile} is not a valid id"}],
            **{key: [] for key in ("not_graded", "timed_out", "stopped", "notebook_changed", "not_answered")},
            **{key: [] for key in ("no_submission", "other_edition", "nothing_answered", "waiting", "late")},
        },
        "identical": {
            "groups": [
                {
                    "exercise": "f",
                    "function": "f",
                    "students": [hostile, "b"],
                    "code": "x = '</pre><script>alert(1)</script>'",
                    "lines": 1,
                    "points": [0.0, 0.0],
                    "max": 3.0,
                }
            ],
            "submissions": [{"students": [hostile, "b"], "totals": [0.0, 0.0], "max": 10.0}],
            "left_out": {},
            "common_share": 0.25,
            "common_minimum": 3,
        },
        "table": [
            {
                "student": hostile,
                "edition": "initialization",
                "exercises": {},
                **{"written": 0.0, "written_max": 2.0, "waiting": 2.0, "late_penalty": 0.0},
                **{"total": 0.0, "max": 10.0},
            }
        ],
        "changes": None,
    }
    page = render(data, {})
    # The mistake's students, the refused id and its reason, two groups, a row.
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") == 6
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


ATTENTION_KEYS = (
    *("refused", "not_graded", "timed_out", "stopped", "notebook_changed", "not_answered"),
    *("no_submission", "other_edition", "nothing_answered", "waiting", "late"),
)

# ------------------------------------------------- a class graded for real

# From examples/example_class.py: honest answers, the classic mistakes (one
# of them twice), nothing answered, an unreadable file, a late one and a
# cell that runs out of time.
STUDENTS = [
    "correct-variants",
    "correct-textbook",
    "he-uses-fan-out",
    "he-xavier-scale",
    "patches-print",
    "random-reseeds-every-layer",
    "random-uniform-draws",
    "unchanged-release",
    "corrupt-file",
    "late-by-30-hours",
    "infinite-loop",
]
# A planted copy: the same He answer, with a line a page must escape,
# written apart (names, comments, layout).
COPY = (
    'fan_in = layers_dims[l - 1]\nlabel = "</pre><script>alert(1)</script>"\n'
    'parameters[f"W{l}"] = np.random.standard_normal((layers_dims[l], fan_in)) * (2 / fan_in) ** 0.5\n'
    'parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))\n'
)
COPIED_TOO = (
    "# my own answer\nn_prev = layers_dims[l - 1]  # inputs of each unit\n"
    'label = "</pre><script>alert(1)</script>"\n'
    'parameters[f"W{l}"] = np.random.standard_normal((layers_dims[l], n_prev)) * (2 / n_prev) ** 0.5\n\n'
    'parameters[f"b{l}"] = np.zeros((layers_dims[l],   1))\n'
)
PLANTED = {"copy-a": COPY, "copy-b": COPIED_TOO}
HOSTILE_FOLDER = "<img src=x onerror=alert(1)>"
ABSENT = "absent-student"  # on the roster, never handed in


@pytest.fixture(scope="module")
def graded(generated_course, tmp_path_factory):
    """The small class graded once; (course, the run, a copy of its report folder as written then)."""
    course = copy_generated(generated_course, tmp_path_factory.mktemp("course"))
    # infinite-loop is stopped at a 2 s budget, not the course's 5 s floor:
    # the report needs one student stopped for time, not those 3 s of a core.
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\nc.SandboxedExecute.budget_floor = 2\n")
    write_example_class(course, example_class, STUDENTS)
    for student, answer in PLANTED.items():
        answers = {**example_class.CORRECT, "initialize_parameters_he": answer}
        write_submission(course, student, example_class.ASSIGNMENT, "Initialization.ipynb", answers)
    hostile = course / "submitted" / HOSTILE_FOLDER / example_class.ASSIGNMENT
    hostile.mkdir(parents=True)
    (hostile / "Initialization.ipynb").write_text("{}")
    with open_gradebook(course) as gradebook:
        gradebook.update_or_create_student(ABSENT)
    run = run_grading_command(course, example_class.ASSIGNMENT, status=2)
    snapshot = tmp_path_factory.mktemp("first-report") / "initialization"
    shutil.copytree(course / "reports" / "initialization", snapshot)
    return course, run, snapshot


def report_of(folder):
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_report_names_the_known_mistakes_with_counts_and_students(graded):
    course, run, folder = graded
    report = report_of(folder)
    named = {(row["id"], row["exercise"]): row["students"] for row in report["mistakes"]}
    assert named == known_mistakes(example_class, STUDENTS)
    assert named[("xavier-scale-for-he", "he")] == ["he-xavier-scale", "patches-print"]
    assert report["mistakes"][0]["id"] == "xavier-scale-for-he" and report["mistakes"][0]["count"] == 2
    rows = {row["id"]: row for row in report["mistakes"]}
    assert rows["fan-out"]["title"] == "Fan-out instead of fan-in"
    assert rows["fan-out"]["section"] == "§5 He initialization"
    assert rows["seed-in-loop"]["section"] == "§4 Random initialization"
    with open(folder / "mistakes.csv", newline="", encoding="utf-8") as file:
        table = {(row["mistake"], row["exercise"]): row for row in csv.DictReader(file)}
    assert {key: row["who"].split("; ") for key, row in table.items()} == named
    assert {key: int(row["students"]) for key, row in table.items()} == {k: len(v) for k, v in named.items()}
    assert (
        run.printed.rstrip().splitlines()[-1]
        == f"Class report: {course / 'reports' / 'initialization' / 'index.html'}"
    )


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_report_says_who_needs_attention(graded):
    _, _, folder = graded
    report = report_of(folder)
    assert report["headline"] == (
        f"{len(STUDENTS) + len(PLANTED) - 1} graded, 1 refused or not graded (counted as 0 in the charts); "
        "1 more file or folder refused at intake, naming no student (in no chart)"
    )  # corrupt-file, and the hostile folder
    attention = report["attention"]
    assert attention["no_submission"] == [ABSENT]
    assert attention["nothing_answered"] == ["unchanged-release"]
    refused = {item["student"]: item["reason"] for item in attention["refused"]}
    assert sorted(refused) == sorted(["corrupt-file", HOSTILE_FOLDER])
    assert refused["corrupt-file"] == "unreadable Initialization.ipynb (NotJSONError)"
    assert "not a valid student id" in refused[HOSTILE_FOLDER]
    assert [(item["student"], item["exercise"]) for item in attention["timed_out"]] == [
        ("infinite-loop", "he")
    ]
    waiting = {item["student"] for item in attention["waiting"]}
    assert waiting == set(STUDENTS + list(PLANTED)) - {"unchanged-release", "corrupt-file"}
    points = sum(item["points"] for item in attention["waiting"])
    assert report["totals"]["waiting"] == {"points": points, "students": len(waiting)}
    page = (folder / "index.html").read_text(encoding="utf-8")
    note = f"{points:g} points of written answers,\n{len(waiting)} students, still wait for hand grading"
    assert page.index(note) < page.index('<img src="totals.png"')  # said above the totals
    assert [(item["student"], item["penalty"]) for item in attention["late"]] == [("late-by-30-hours", 1.6)]


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_planted_copy_stands_out_as_a_hint(graded):
    _, _, folder = graded
    identical = report_of(folder)["identical"]
    he_groups = [
        group["students"] for group in identical["groups"] if group["function"] == "initialize_parameters_he"
    ]
    assert ["copy-a", "copy-b"] in he_groups
    copy = next(group for group in identical["groups"] if group["students"] == ["copy-a", "copy-b"])
    assert (copy["points"], copy["max"]) == ([3.0, 3.0], 3.0)  # a right answer, but two alone share it
    # Handed in byte for byte the same notebook (the example class's right answers).
    assert {"correct-variants", "late-by-30-hours"} <= set(identical["submissions"][0]["students"])
    assert "unchanged-release" not in str(identical["submissions"])
    assert {group["exercise"] for group in identical["groups"]} <= {"zeros", "random", "he"}
    assert all(set(group) & {"copy-a", "copy-b"} in (set(), {"copy-a", "copy-b"}) for group in he_groups)
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "A hint for a human, not a verdict." in page
    assert "<th>this answer scored</th>" in page and "2 students: copy-a, copy-b" in page
    assert re.search(r"</code>: \d+ students left out\n\(\d+ the stub or the reference, \d+ a common", page)
    assert "&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the copied code, escaped
    assert "<script" not in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_zeros_say_how_many_are_mistakes(graded):
    _, _, folder = graded
    report = report_of(folder)
    he = next(exercise for exercise in report["exercises"] if exercise["name"] == "he")
    # fan-out, Xavier's scale twice; infinite-loop; unchanged-release; corrupt-file
    assert he["zero_causes"] == {"mistake": 3, "error": 1, "not_answered": 1, "not_graded": 1, "other": 0}
    assert all(sum(exercise["zero_causes"].values()) == exercise["zero"] for exercise in report["exercises"])
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "<th>diagnosed mistake</th><th>error or stopped</th><th>not answered</th>" in page
    assert "zeros.png" in page


@pytest.mark.slow
@pytest.mark.sandbox
def test_each_student_has_a_row_with_what_decided_each_exercise(graded):
    _, _, folder = graded
    with open(folder / "students.csv", newline="", encoding="utf-8") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert sorted(rows) == sorted(STUDENTS + list(PLANTED))
    assert list(next(iter(rows.values())))[:3] == ["student", "zeros points", "zeros why"]
    fan_out = rows["he-uses-fan-out"]
    assert (fan_out["he points"], fan_out["he why"]) == ("0", "Fan-out instead of fan-in")
    assert (fan_out["zeros points"], fan_out["zeros why"]) == ("2", "correct")
    assert (fan_out["written given"], fan_out["written waiting"], fan_out["total"]) == ("0", "2", "5")
    assert rows["corrupt-file"]["he why"] == "unreadable Initialization.ipynb (NotJSONError)"
    assert rows["infinite-loop"]["he why"].startswith("timed out")
    assert (rows["late-by-30-hours"]["late penalty"], rows["late-by-30-hours"]["total"]) == ("1.6", "6.4")
    assert rows["unchanged-release"]["random why"] == "not answered"
    report = report_of(folder)
    assert [row["student"] for row in report["table"]] == sorted(rows)
    page = (folder / "index.html").read_text(encoding="utf-8")
    start = page.index('<h2 id="students">')
    section = page[start : page.index("</table>", start)]
    assert section.count("<tr>") == len(rows) + 1 and "<small>Fan-out instead of fan-in</small>" in section


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_page_names_each_exercise_by_its_short_name(graded):
    _, _, folder = graded
    report = report_of(folder)
    short = {exercise["name"]: exercise["cell"] for exercise in report["exercises"]}
    assert short == {f"{name}": f"test_initialize_parameters_{name}" for name in ("zeros", "random", "he")}
    page = (folder / "index.html").read_text(encoding="utf-8")
    named = re.findall(r'<code title="grade id: ([^"]+)">([^<]+)</code>', page)
    assert {name for _, name in named} == set(short)  # the tables, the lists
    assert all(short[name] == cell for cell, name in named)
    # The full names only in the line that gives each short name's grade id and function.
    assert page.count("<code>initialize_parameters_") == len(short)
    assert "<code>he</code> is the test cell <code>test_initialize_parameters_he</code>" in page


@pytest.mark.slow
@pytest.mark.sandbox
def test_no_figure_names_a_student(graded, tmp_path):
    _, _, folder = graded
    report = report_of(folder)
    assert set(report["figures"]) == {"scores", "zeros", "totals", "mistakes"}
    figures = write_figures(report, tmp_path)  # drawn again from the same data, to read their texts
    students = set(STUDENTS) | set(PLANTED) | {HOSTILE_FOLDER, ABSENT}
    for name, figure in figures.items():
        texts = " ".join(figure["texts"])
        assert "Fan-out instead of fan-in" in texts or name != "mistakes"
        assert not [student for student in students if student in texts], name
        assert not [student for student in students if student in figure["alt"]], name
        png = (folder / figure["file"]).read_bytes()
        assert png.startswith(b"\x89PNG") and not [s for s in students if s.encode() in png], name


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.browser
def test_the_report_opens_in_a_browser(graded, page, screenshots):
    _, _, folder = graded
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto((folder / "index.html").as_uri())
    screenshots.take(page, "class-report")
    assert page.locator("h1").inner_text() == "Class report: initialization"
    headings = page.locator("h2").all_inner_texts()
    assert headings[:4] == [
        "Scores per exercise",
        "Mistakes the class made",
        "Who needs attention",
        "Identical answers",
    ]
    images = page.locator("img")
    assert images.count() == 4
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), image.get_attribute("src")
    mistakes = page.locator("#mistakes ~ table").first
    assert "Fan-out instead of fan-in" in mistakes.inner_text()
    page.locator("#identical ~ table details summary").first.click()
    screenshots.take(page, "identical-answers")
    assert "alert(1)" in page.locator("#identical ~ table pre").first.inner_text()
    assert dialogs == []


# ------------------------------------------------- both editions, and regrades


@pytest.fixture(scope="module")
def editions(graded):
    """A few students of the Chinese edition graded too, and the report of both editions together."""
    course, _, _ = graded
    chinese = "initialization_zh"
    for student in ("zh-fan-out", "zh-correct"):
        case = "he-uses-fan-out" if student == "zh-fan-out" else "correct-variants"
        write_submission(
            course, student, chinese, "Initialization.ipynb", example_class.STUDENTS[case]["answers"]
        )
    run_grading_command(course, chinese, "--student", "zh-fan-out", "--student", "zh-correct")
    process = subprocess.run(
        [sys.executable, "-m", "grading.report", "initialization", chinese],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert process.returncode == 0, process.stderr
    combined = course / "reports" / f"initialization+{chinese}"
    assert process.stdout.strip() == f"Class report: {combined / 'index.html'}"
    return course, combined


@pytest.mark.slow
@pytest.mark.sandbox
def test_both_editions_together_and_apart(editions):
    course, combined = editions
    together = report_of(combined)
    rows = {(row["id"], row["exercise"]): row for row in together["mistakes"]}
    fan_out = rows[("fan-out", "he")]
    assert fan_out["students"] == ["he-uses-fan-out", "zh-fan-out (initialization_zh)"]
    assert fan_out["by_edition"] == {"initialization": 1, "initialization_zh": 1}
    assert fan_out["section"] == "§5 He initialization / §5 He 初始化"
    apart = report_of(course / "reports" / "initialization_zh")
    assert [(row["id"], row["students"]) for row in apart["mistakes"]] == [("fan-out", ["zh-fan-out"])]
    assert together["students"] == report_of(course / "reports" / "initialization")["students"] + 2
    assert (combined / "mistakes.png").is_file()
    with open(combined / "students.csv", newline="", encoding="utf-8") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    zh = rows["zh-fan-out (initialization_zh)"]
    assert (zh["edition"], zh["he why"]) == ("initialization_zh", "Fan-out instead of fan-in")


@pytest.fixture(scope="module")
def regraded(editions):
    """The class graded again after a hand grade, an extension and a resubmission."""
    course, combined = editions
    with open_gradebook(course) as gradebook:
        grade = gradebook.find_grade("observations_he", "Initialization", "initialization", "he-uses-fan-out")
        grade.manual_score, grade.needs_manual_grade = 1.0, False
        gradebook.db.commit()
    extension = subprocess.run(
        [sys.executable, "-m", "grading.extension", "initialization", "late-by-30-hours", "--days", "2"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert extension.returncode == 0, extension.stderr
    handed_in = datetime.datetime(2026, 1, 2, 3, 4, 5)  # before the due date
    write_submission(
        course,
        "random-uniform-draws",
        "initialization",
        "Initialization.ipynb",
        example_class.CORRECT,
        handed_in,
    )
    before = report_of(combined)["generated"]
    students = ["he-uses-fan-out", "late-by-30-hours", "random-uniform-draws", "correct-variants"]
    # The hostile folder is refused again: exit status 2.
    run = run_grading_command(course, "initialization", *[f"--student={s}" for s in students], status=2)
    return course, combined, run, before


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_regrade_says_what_changed_for_whom_and_why(regraded):
    course, _, run, _ = regraded
    changes = {change["student"]: change for change in run.summary["changes"]["changed"]}
    assert sorted(changes) == ["he-uses-fan-out", "late-by-30-hours", "random-uniform-draws"]
    assert run.summary["changes"]["unchanged"] == 1  # correct-variants: graded again, the same grade
    assert "hand grade of observations_he: waiting -> 1" in changes["he-uses-fan-out"]["why"]
    assert "total: 5 -> 6 of 10" in changes["he-uses-fan-out"]["changes"]
    late = changes["late-by-30-hours"]
    assert "late penalty: -1.6 -> 0" in late["changes"] and "total: 6.4 -> 8 of 10" in late["changes"]
    assert (
        late["why"][0].startswith("the due date changed:") and "(extension: none -> 2 days)" in late["why"][0]
    )
    resubmitted = changes["random-uniform-draws"]
    assert resubmitted["changes"][0] == (
        "random: 0 -> 3 of 3 (was: Uniform draws (np.random.rand) instead of normal ones; now: correct)"
    )
    assert resubmitted["why"] == [
        "a new submission (handed in 2026-01-02 03:04 UTC; the one graded before: at an unknown time)"
    ]
    printed = run.printed[run.printed.index("Changes since the last grading") :]
    assert printed.startswith(
        "Changes since the last grading: 3 of the 4 students graded again got a different result:"
    )
    assert "correct-variants" not in printed
    saved = json.loads((course / "reports" / "initialization" / "changes.json").read_text(encoding="utf-8"))
    assert [change["student"] for change in saved["changed"]] == sorted(changes)
    page = (course / "reports" / "initialization" / "index.html").read_text(encoding="utf-8")
    assert "hand grade of observations_he: waiting -&gt; 1" in page
    times = re.findall(r"\d{4}-\d\d-\d\d[ T][\d:]+(?: UTC|[+-]\d\d:\d\d)?", page)
    assert times and set(re.sub(r"\d", "0", time) for time in times) == {"0000-00-00 00:00 UTC"}, times
    assert re.search(r"\(graded before at \d{4}-\d\d-\d\d \d\d:\d\d UTC\):", printed)


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_regrade_keeps_the_whole_class_in_the_report(regraded):
    course, combined, _, before = regraded
    report = report_of(course / "reports" / "initialization")
    assert report["students"] == len(STUDENTS) + len(PLANTED)  # corrupt-file too, with 0 points
    named = {(row["id"], row["exercise"]): row["students"] for row in report["mistakes"]}
    assert ("uniform-draws", "random") not in named  # handed in again, right
    assert named[("fan-out", "he")] == ["he-uses-fan-out"]
    assert report_of(combined)["generated"] != before  # the combined report is written again too


def test_code_too_deep_for_pythons_parser_is_compared_as_typed():
    """`a+a+...` a few thousand times makes ast raise RecursionError: one
    student's answer is then compared by its lines, never a stop of the
    report for the class."""
    from grading.report.similarity import normalised

    deep = "def f(a):\n    return " + "+".join(["a"] * 5000) + "\n"
    assert normalised(deep) == deep.strip().replace("\n    ", "\n")
    assert normalised("def f(x):\n    return x  # mine\n") == normalised("def f(y):\n    return y\n")
