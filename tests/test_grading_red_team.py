"""Students who attack the grader itself, graded by the course's command.

The course lives under /srv, as on a shared grading server, and is graded as
root with two workers. Each attacker below is a small example student whose
answers or added cells try one attack a security review found to work
against plain nbgrader:

- forging a score: showing a number as a cell's result and raising (nbgrader
  takes the first result as the score), an IPython input transformer that
  turns the hidden tests into `pass`, answers whose comparisons are always
  true with the checks' names rebound, and a wrong answer that looks for the
  hidden tests' expected values in the kernel's memory;
- reading the hidden tests: a hook that keeps every cell's source and prints
  it at the end;
- harming the server through what the kernel leaves in its folder: links to
  host files (nbgrader chmods every file there as root, and copies them into
  the feedback), a FIFO named like a notebook (feedback blocks on it), a
  disk filled from the working folder;
- hurting a classmate: dozens of busy processes in their own sessions;
- handing in a link instead of a notebook.

Honest students are graded before, beside and after them. The grader must
give every forged exercise 0 and every honest student full marks, show no
line of a hidden test in any feedback, leave the planted host files as they
were, finish, and name each refused submission with its reason. The
negative control grades the forgers again with the grader's verdicts off
(`c.SandboxedExecute.judge_answers = False`: nbgrader's own rule, from the
kernel's outputs): then each forgery scores, so the test can fail.
"""

import os
import shutil
import stat
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import (
    ASSIGNMENTS,
    REPO,
    copy_generated,
    leaked_hidden_tests,
    page_text,
    run_grading_command,
    unwritable,
)
from examples import example_class
from examples.nbgrader_runs import run_nbgrader, scores
from examples.students import write_submission
from grading.plugins.feedback_release import EXCHANGE_FILES
from grading.reasons import Why

pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.skipif(bool(unwritable("/srv")), reason=str(unwritable("/srv"))),
]

ASSIGNMENT, NOTEBOOK = example_class.ASSIGNMENT, example_class.NOTEBOOK
FOLDER = Path("/srv") / f"grading-red-team-{uuid.uuid4().hex[:8]}"
SECRET = FOLDER / "host" / "secret.txt"  # a root-only file of the server
TOOL = FOLDER / "host" / "tool"  # a program of the server (0755)
FULL, NOTHING = example_class.FULL, example_class.NOTHING
correct_but, he_with = example_class.correct_but, example_class.he_with


def every_function(body):
    """The same lines as the answer to all three exercises."""
    return correct_but(zeros=body, random=body, he=body)


def added_cell(source, after="imports"):
    """A tamper: a code cell the student added after the cell with grade id `after`."""

    def tamper(path):
        notebook = nbformat.read(path, as_version=4)
        ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells]
        index = ids.index(after) + 1 if after else len(notebook.cells)
        notebook.cells.insert(index, new_code_cell(source))
        nbformat.write(notebook, path)

    return tamper


TRANSFORMER = """
def _skip_tests(lines):
    text = "".join(lines)
    return ["pass\\n"] if "hand_in" in text or "check_" in text else lines
get_ipython().input_transformers_cleanup.append(_skip_tests)
"""

FAKE_ARRAYS = """
class Fake:
    shape = property(lambda self: Fake())
    dtype = property(lambda self: Fake())
    name = "float64"
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __lt__(self, other): return True
    def __gt__(self, other): return True
    def __getitem__(self, key): return Fake()
    def __len__(self): return 1
    def __iter__(self): return iter([])
    def ravel(self): return Fake()
    def tolist(self): return []
    def all(self): return True
    def any(self): return False
def _passes(*args, **kwargs):
    print("All visible tests passed.")
check_zeros_initializer = check_random_initializer = check_he_initializer = _passes
"""

KEEPS_CELLS = """
_seen_cells = []
get_ipython().events.register("pre_run_cell", lambda info: _seen_cells.append(info.raw_cell))
"""

SEARCHES_MEMORY = """
import gc
_found = [obj for obj in gc.get_objects()
          if isinstance(obj, dict) and "W1" in obj and isinstance(obj.get("W1"), tuple)]
print("expected values found in memory:", len(_found))
"""

HARMS_SERVER = f"""
import os
for _name, _target in (("leak.html", {str(SECRET)!r}), ("tool", {str(TOOL)!r}),
                       ("utils/leak.html", {str(SECRET)!r}), ("Initialization.html", {str(SECRET)!r})):
    try:
        os.symlink(_target, _name)
    except OSError:
        pass
for _fifo in ("zzz.ipynb", "feedback.html"):
    try:
        os.mkfifo(_fifo)
    except OSError:
        pass
try:  # fill the disk from the working folder
    with open("filler.bin", "wb") as _file:
        for _ in range(4096):
            _file.write(b"0" * 2**20)
except OSError as _error:
    print("filling stopped:", type(_error).__name__)
"""

# More busy processes than the cores of the machines the suite runs on:
# without the box's CPU limit they would take the machine from the other
# students. More of them would only slow the attacker's own notebook further
# (with 50, its grading took 33 s).
STARTS_BUSY_PROCESSES = """
import subprocess, sys
_busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
         for _ in range(8)]
"""

ATTACKERS = {
    # Forged scores: every exercise they fake scores 0.
    "forges-displayhook": {
        "answers": every_function("import sys\nsys.displayhook(1.0)\nraise RuntimeError('no answer')"),
        "expected": NOTHING,
        "forgery": True,
    },
    "forges-transformer": {
        "answers": {},
        "tamper": added_cell(TRANSFORMER),
        "expected": NOTHING,
        "forgery": True,
    },
    "forges-fake-arrays": {
        "answers": every_function('parameters[f"W{l}"] = Fake()\nparameters[f"b{l}"] = Fake()'),
        "tamper": added_cell(FAKE_ARRAYS),
        "expected": NOTHING,
        "forgery": True,
    },
    "searches-memory-for-expected-values": {
        "answers": correct_but(he=example_class.XAVIER_SCALE),
        "tamper": added_cell(SEARCHES_MEMORY, after="initialize_parameters_he"),
        "expected": example_class.NO_HE,
    },
    # Reading the hidden tests: its scores are its answers' (all correct).
    "prints-every-cell": {
        "answers": example_class.CORRECT,
        "tamper": added_cell(KEEPS_CELLS),
        "then": added_cell("print('\\n'.join(_seen_cells))", after=None),
        "expected": FULL,
    },
    # Harming the server through its working folder, and its classmates.
    "harms-the-server": {
        "answers": example_class.CORRECT,
        "tamper": added_cell(HARMS_SERVER),
        "expected": FULL,
    },
    "starts-busy-processes": {
        "answers": example_class.CORRECT,
        "tamper": added_cell(STARTS_BUSY_PROCESSES),
    },
    # Refused at intake: its notebook is a link to the instructor's solution.
    "links-to-the-solution": {"answers": example_class.CORRECT, "link": True, "expected": NOTHING},
}
HONEST = ["aa-honest", "mm-honest", "zz-honest"]  # graded before, between and after them


def hand_in(course, student, case):
    path = write_submission(course, student, ASSIGNMENT, f"{NOTEBOOK}.ipynb", case["answers"])
    for tamper in (case.get("tamper"), case.get("then")):
        if tamper:
            tamper(path)
    if case.get("link"):
        path.unlink()
        path.symlink_to(course / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb")
    if student == "harms-the-server":  # an extra notebook, which must not be published
        shutil.copy(path, path.parent / "leak.ipynb")


@pytest.fixture(scope="module")
def red_team(generated_course):
    """Grade the attackers and honest students once; then the forgers again,
    with the grader's verdicts off. Yields what each run left behind."""
    course = FOLDER / "course"
    course.mkdir(parents=True)
    FOLDER.chmod(0o755)
    try:
        SECRET.parent.mkdir()
        SECRET.write_text("SECRET-of-the-server\n")
        SECRET.chmod(0o600)
        TOOL.write_text("#!/bin/sh\necho a tool of the server\n")
        TOOL.chmod(0o755)
        copy_generated(generated_course, course)
        for student, case in ATTACKERS.items():
            hand_in(course, student, case)
        for student in HONEST:
            hand_in(course, student, {"answers": example_class.CORRECT})
        # 2: links-to-the-solution's folder is refused, so not everything is graded.
        run = run_grading_command(course, ASSIGNMENT, "--workers", "2", status=2)
        graded = {"run": run, "scores": scores(course, ASSIGNMENT, NOTEBOOK)}
        feedback = {
            path.parts[-3]: page_text(path.read_text())
            for path in (course / "feedback").glob(f"*/{ASSIGNMENT}/*.html")
        }
        listing = sorted(
            str(path.relative_to(course)) for path in (course / "feedback").rglob("*") if path.is_file()
        )
        # The negative control: nbgrader's own rule decides the forgers' scores.
        with open(course / "nbgrader_config.py", "a") as config:
            config.write("c.SandboxedExecute.judge_answers = False\n")
        # One command for all of them: --student takes a glob, as nbgrader's own option does.
        assert {name for name, case in ATTACKERS.items() if case.get("forgery")} == {
            name for name in ATTACKERS if name.startswith("forges-")
        }
        run_nbgrader(course, "autograde", ASSIGNMENT, "--student", "forges-*", "--force")
        unjudged = scores(course, ASSIGNMENT, NOTEBOOK)
        yield {**graded, "feedback": feedback, "feedback files": listing, "unjudged": unjudged}
    finally:
        shutil.rmtree(FOLDER, ignore_errors=True)


def points(recorded_scores, student):
    return {cell: score for cell, (score, _) in recorded_scores[student].items()}


@pytest.mark.parametrize("student", [name for name, case in ATTACKERS.items() if "expected" in case])
def test_each_attacker_scores_only_what_its_answers_earn(red_team, student):
    expected = ATTACKERS[student]["expected"]
    if ATTACKERS[student].get("link"):
        (refused,) = red_team["run"].result(student).reasons
        assert refused.why is Why.REFUSED and "link" in refused.text, refused
        assert student not in red_team["scores"] or points(red_team["scores"], student) == expected
        return
    assert points(red_team["scores"], student) == expected


def test_honest_students_keep_full_marks(red_team):
    for student in HONEST:
        assert points(red_team["scores"], student) == FULL, student


def test_no_feedback_shows_a_hidden_test(red_team):
    assert set(red_team["feedback"]) >= set(HONEST) | {"prints-every-cell", "harms-the-server"}
    for student, text in red_team["feedback"].items():
        leaked = leaked_hidden_tests(ASSIGNMENT, text)
        assert not leaked, f"{student}'s feedback shows {leaked[:2]}"
    assert "output not shown in feedback" in red_team["feedback"]["prints-every-cell"]


def test_the_server_is_unharmed(red_team):
    assert stat.S_IMODE(SECRET.stat().st_mode) == 0o600
    assert stat.S_IMODE(TOOL.stat().st_mode) == 0o755
    assert stat.S_IMODE(os.stat(shutil.which("bwrap")).st_mode) & 0o111
    # Only the feedback pages are published (with the exchange's two small
    # files): no link, pipe, extra notebook or filler.
    published = [
        name
        for name in red_team["feedback files"]
        if not name.endswith(".html") and Path(name).name not in EXCHANGE_FILES
    ]
    assert not published, published
    assert not any("leak" in name or "zzz" in name for name in red_team["feedback files"])
    for text in red_team["feedback"].values():
        assert "SECRET-of-the-server" not in text


def test_the_forgeries_work_without_the_graders_verdicts(red_team):
    """The negative control: the same forgeries fool nbgrader's own rule."""
    for student, case in ATTACKERS.items():
        if case.get("forgery"):
            assert sum(points(red_team["unjudged"], student).values()) > 0, student


def test_the_assignments_hand_in_every_graded_cell():
    """Every autograded test cell of every assignment calls hand_in in its
    hidden part: a cell that did not would be graded from the kernel's own
    outputs, which a student controls."""
    for assignment, notebook_name in ASSIGNMENTS.items():
        notebook = nbformat.read(REPO / "source" / assignment / notebook_name, as_version=4)
        for cell in notebook.cells:
            info = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and info.get("grade"):
                hidden = cell.source.split("### BEGIN HIDDEN TESTS")[-1]
                assert "hand_in(" in hidden, f"{assignment}: {info['grade_id']} hands in nothing"
