"""Attacks on the one boundary: the submission runs inside the box, one
capped file comes out, and the grader judges only that file.

Each attacker below is a student with correct answers (so every point it
loses is the attack's doing, or the grader's fault; one exits in its He
function, and loses that exercise) whose added cells try
what worked against a grader that read the kernel's messages itself:
display updates that replace an output after it was capped and filtered,
widget state, output floods under one display id, a megabyte of metadata,
script in an image's metadata, an update aimed at a judged test cell, the
grader's own error names and marks, grading metadata that names no cell,
sys.exit inside hand_in, the hidden tests kept and printed in an encoding,
and notebooks too large to render. They are graded by the course's command
with two workers, beside honest students.

Each attack is armed: the negative controls run the same cells through
plain nbclient, as a grader that reads the kernel's messages would, and
find the payload in the notebook it keeps.
"""

import base64
import csv
import json
import signal
import struct
import subprocess
import sys
import zlib

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell

from conftest import copy_generated, failed_nbgrader_step, page_text, run_grading_command
from examples import example_class
from examples.nbgrader_runs import scores
from examples.students import write_submission
from grading.command.pipeline import nbgrader_failure
from grading.errors import CourseFault
from grading.plugins import execute
from grading.reasons import Why

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]

ASSIGNMENT, NOTEBOOK = example_class.ASSIGNMENT, example_class.NOTEBOOK
FULL = example_class.FULL
MiB = 2**20


def tiny_png() -> str:
    """A valid 1x1 PNG, base64."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    raw += chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    return base64.b64encode(raw).decode()


SCRIPT = "1 onerror=eval(atob('YWxlcnQoMSk='))"

# The attacks, as the code of cells added after the imports cell (or at the
# end: "last"). Each payload is put together when the code runs, so that
# only what the kernel sent can show it (the code itself is in the notebook
# and its feedback, as any student's code is).
ATTACKS = {
    "updates-a-display": {
        "first": (
            "from IPython.display import display, update_display\n"
            "display({'text/plain': 'small'}, raw=True, display_id='d')\n"
            "update_display({'text/html': '<a href=\"http://ev' + 'il.example\">evil</a>' + 'x' * 3_000_000,"
            " 'application/javascript': 'alert(1)', 'image/svg+xml': '<svg onload=alert(1)/>'},"
            " raw=True, display_id='d')\n"
        ),
        "payload": "evil.example",
    },
    "updates-a-judged-cell": {
        # Every display gets one display id, hand_in's record included; the
        # last cell then replaces all of them with one large HTML output.
        "first": (
            "import IPython.display as _shown\n"
            "_display = _shown.display\n"
            "_shown.display = lambda *a, **k: _display(*a, **{**k, 'display_id': 'all'})\n"
            "_shown.display({'text/plain': 'shown under the display id'}, raw=True)\n"
        ),
        "last": (
            "from IPython.display import update_display\n"
            "_evil = {'text/html': '<b>evil-' + 'update</b>' + 'y' * 3_000_000}\n"
            "update_display(_evil, raw=True, display_id='all')\n"
        ),
        "payload": "evil-update",
    },
    "keeps-widget-state": {
        "first": (
            "from comm import create_comm\n"
            "_comm = create_comm(target_name='jupyter.widget', data={'state': {'_model_module': 'm',"
            " '_model_name': 'evil-' + 'widget',"
            " 'value': 'z' * 3_000_000}, 'buffer_paths': []}, metadata={'version': '2.1.0'})\n"
        ),
        "payload": "evil-widget",
    },
    "floods-one-display-id": {
        "first": (
            "from IPython.display import display, update_display\n"
            "for _ in range(40):\n"
            "    display({'text/plain': 'a'}, raw=True, display_id='flood')\n"
            "_evil = {'text/plain': 'evil-' + 'flood' + 'f' * 1_000_000}\n"
            "update_display(_evil, raw=True, display_id='flood')\n"
        ),
        "payload": "evil-flood",
        "size": 40 * MiB,
    },
    "floods-metadata": {
        "first": (
            "from IPython.display import display\n"
            "for _ in range(8):\n"
            "    display({'text/plain': 'm'}, metadata={'evil-' + 'metadata': 'm' * 1_000_000}, raw=True)\n"
        ),
        "payload": "evil-metadata",
        "size": 8 * MiB,
    },
    "scripts-an-image": {
        "first": (
            "from IPython.display import display\n"
            f"_size = {{'image/png': {{'width': '1 on' + {SCRIPT[4:]!r}}}}}\n"
            f"display({{'image/png': {tiny_png()!r}}}, metadata=_size, raw=True)\n"
            "display({'image/png': 'PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=='}, raw=True)\n"
        ),
        "payload": "onerror",
    },
    "keeps-the-hidden-tests": {
        "first": (
            "_kept = []\n"
            "get_ipython().events.register('pre_run_cell', lambda info: _kept.append(info.raw_cell))\n"
        ),
        "last": (
            "import base64, zlib\n"
            "_packed = base64.b64encode(zlib.compress('\\n'.join(_kept).encode())).decode()\n"
            "print('encoded-' + 'tests:' + _packed)\n"
        ),
        "payload": "encoded-tests:",
        "kept_for_the_instructor": True,  # formgrader shows what the kernel printed
    },
    # Not a cell: the handed-in file's own metadata, which pages made from it
    # would render (nbconvert loads a widget manager for a notebook's widget state).
    "carries-widget-metadata": {
        "file_metadata": {
            "widgets": {
                "application/vnd.jupyter.widget-state+json": {
                    "version_major": 2,
                    "version_minor": 0,
                    "state": {
                        "x": {"model_name": "HTMLModel", "state": {"value": "<img src=x onerror=evil-file>"}}
                    },
                }
            }
        },
        "payload": "evil-file",
    },
    "exits-in-hand-in": {
        "answers": example_class.correct_but(
            he=example_class.he_with("import sys\nif len(layers_dims) > 4:\n    sys.exit(0)")
        ),
        "expected": example_class.NO_HE,
    },
    # Not an attack: stuck in the first exercise, whose cell the grader
    # stops; the exercises after it still count. It sleeps: a cell's time
    # counts all the same, and the core stays free for the tests beside it.
    "stuck-in-zeros": {
        "answers": example_class.correct_but(zeros="import time\nwhile True:\n    time.sleep(1)"),
        "expected": example_class.NO_ZEROS,
    },
    "impersonates-the-grader": {
        "first": "class NoReference(Exception):\n    pass\nraise NoReference('the course is at fault')\n",
    },
    # Rewrites the runner's results where it can find them: its "ready" line
    # made invalid would have the grader blame the course and keep an earlier
    # grade (and a line rewritten after the hidden tests ran could show them).
    "rewrites-the-results": {
        "first": (
            "import glob, os\n"
            "_mine = os.path.dirname(os.environ['IPYTHONDIR'])\n"
            "_found = []\n"
            "for _path in glob.glob(_mine + '/*') + glob.glob('/proc/[0-9]*/fd/*'):\n"
            "    try:\n"
            "        if os.path.isfile(_path):\n"
            "            with open(_path, 'r+b') as _file:\n"
            "                if _file.read(16).startswith(b'{\"ready\"'):\n"
            "                    _file.seek(0)\n"
            "                    _file.write(b'{\"ready\": 1   }')\n"
            "                    _found.append(_path)\n"
            "    except OSError:\n"
            "        pass\n"
        ),
    },
}
HONEST = ["aa-honest", "zz-honest"]


def hand_in_attack(course, student, attack):
    answers = attack.get("answers", example_class.CORRECT)
    path = write_submission(course, student, ASSIGNMENT, f"{NOTEBOOK}.ipynb", answers)
    notebook = nbformat.read(path, as_version=4)
    ids = [cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells]
    if "last" in attack:
        notebook.cells.append(new_code_cell(attack["last"]))
    if "first" in attack:
        notebook.cells.insert(ids.index("imports") + 1, new_code_cell(attack["first"]))
    notebook.metadata.update(attack.get("file_metadata", {}))
    if student == "impersonates-the-grader":
        # The grader's mark on a test cell, and a made-up graded cell worth 100.
        test_cell = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("grade"))
        test_cell.metadata["grading"] = {"outcome": "judged", "verdict": "passed"}
        # A solution cell marked as graded (nbgrader restores no flags: it
        # would look for a grade cell the gradebook does not have).
        solution = next(cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution"))
        solution.metadata["nbgrader"]["grade"] = True
        solution.metadata["nbgrader"]["points"] = 50
        made_up = new_code_cell("print('free points')")
        made_up.metadata["nbgrader"] = {
            "grade": True,
            "solution": False,
            "locked": False,
            "points": 100,
            "grade_id": "test_made_up",
            "schema_version": 3,
        }
        notebook.cells.append(made_up)
    nbformat.write(notebook, path)


def too_large_notebooks(course):
    """Two notebooks intake refuses: thousands of markdown cells, and one
    long markdown cell that renders in time growing with its square."""
    many = write_submission(course, "many-cells", ASSIGNMENT, f"{NOTEBOOK}.ipynb", example_class.CORRECT)
    notebook = nbformat.read(many, as_version=4)
    notebook.cells += [new_markdown_cell(f"note {number}") for number in range(1500)]
    nbformat.write(notebook, many)
    slow = write_submission(course, "slow-markdown", ASSIGNMENT, f"{NOTEBOOK}.ipynb", example_class.CORRECT)
    notebook = nbformat.read(slow, as_version=4)
    notebook.cells.append(new_markdown_cell("[a](" * 18_000))
    nbformat.write(notebook, slow)


@pytest.fixture(scope="module")
def boundary(course):
    for student, attack in ATTACKS.items():
        hand_in_attack(course, student, attack)
    for student in HONEST:
        write_submission(course, student, ASSIGNMENT, f"{NOTEBOOK}.ipynb", example_class.CORRECT)
    too_large_notebooks(course)
    run = run_grading_command(course, ASSIGNMENT, "--workers", "2", status=2)
    autograded = {
        path.parts[-3]: path for path in (course / "autograded").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}.ipynb")
    }
    feedback = {
        path.parts[-3]: path.read_text() for path in (course / "feedback").glob(f"*/{ASSIGNMENT}/*.html")
    }
    return {
        "run": run,
        "scores": scores(course, ASSIGNMENT, NOTEBOOK),
        "autograded": autograded,
        "feedback": feedback,
    }


def points(boundary, student):
    return {cell: score for cell, (score, _) in boundary["scores"][student].items()}


@pytest.mark.parametrize("student", [*HONEST, *ATTACKS])
def test_every_attacker_keeps_exactly_what_its_answers_earn(boundary, student):
    assert points(boundary, student) == ATTACKS.get(student, {}).get("expected", FULL)
    result = boundary["run"].result(student)
    assert result.graded and not result.has(Why.COURSE_FAULT), result.reasons


@pytest.mark.parametrize("student", [name for name, attack in ATTACKS.items() if "payload" in attack])
def test_no_payload_leaves_the_box(boundary, student):
    """Neither the autograded notebook (formgrader's) nor the feedback holds
    the attack's payload, and both stay small."""
    payload = ATTACKS[student]["payload"]
    path = boundary["autograded"][student]
    text = path.read_text()
    assert path.stat().st_size < 2 * MiB
    assert payload not in text or ATTACKS[student].get("kept_for_the_instructor")
    notebook = json.loads(text)
    assert "widgets" not in notebook["metadata"]
    kinds = {
        kind
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        for kind in output.get("data", {})
    }
    assert kinds <= {"text/plain", "image/png", "image/jpeg"}, kinds
    assert payload not in boundary["feedback"][student]
    assert len(boundary["feedback"][student]) < 2 * MiB


def test_an_image_keeps_only_its_bytes_and_integer_sizes(boundary):
    notebook = nbformat.read(boundary["autograded"]["scripts-an-image"], as_version=4)
    pictures = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]
    assert len(pictures) == 1, "the fake PNG was kept"
    assert pictures[0].metadata == {}
    assert "<img" in boundary["feedback"]["scripts-an-image"]


def test_hidden_tests_kept_by_the_kernel_never_reach_the_feedback(boundary):
    feedback = page_text(boundary["feedback"]["keeps-the-hidden-tests"])
    assert "encoded-tests:" not in feedback
    assert "output not shown in feedback" in feedback
    # The instructor's copy keeps what the kernel printed: the attack ran.
    assert "encoded-tests:" in boundary["autograded"]["keeps-the-hidden-tests"].read_text()


def test_the_graders_names_and_marks_are_not_the_students_to_use(boundary):
    result = boundary["run"].result("impersonates-the-grader")
    kinds = {reason.why for reason in result.reasons}
    assert Why.COURSE_FAULT not in kinds
    assert Why.IGNORED_CELL in kinds, result.reasons
    assert "test_made_up" not in boundary["scores"]["impersonates-the-grader"]
    notebook = nbformat.read(boundary["autograded"]["impersonates-the-grader"], as_version=4)
    errors = [
        output.ename
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert "NoReference" in errors  # the student's own error, kept as theirs


def test_notebooks_too_large_to_render_are_refused_with_their_reason(boundary):
    for student, words in (("many-cells", "cells"), ("slow-markdown", "characters of text")):
        result = boundary["run"].result(student)
        (refused,) = [reason for reason in result.reasons if reason.why is Why.REFUSED]
        assert "too large" in refused.text and words in refused.text, refused


# ------------------------------------------------------ the negative controls


@pytest.fixture(scope="module")
def read_by_plain_nbclient(tmp_path_factory):
    """Each attack's cells run through plain nbclient, as by a grader that
    reads the kernel's messages itself: {student: the notebook it keeps, as
    JSON text}."""
    kept = {}
    for student, attack in ATTACKS.items():
        if "file_metadata" in attack:
            continue  # not run: see test_a_page_of_the_handed_in_file_loads_its_widgets
        cells = [new_code_cell(attack[part]) for part in ("first", "last") if part in attack]
        notebook = nbformat.v4.new_notebook(cells=cells)
        folder = tmp_path_factory.mktemp("plain-nbclient")
        # Every output, however loaded the machine (nbclient's default stops
        # reading 4 s after the cell's reply).
        client = NotebookClient(
            notebook,
            kernel_name="python3",
            allow_errors=True,
            iopub_timeout=600,
            raise_on_iopub_timeout=True,
            resources={"metadata": {"path": str(folder)}},
        )
        client.execute()
        kept[student] = json.dumps(notebook)
    return kept


@pytest.mark.parametrize(
    "student", [name for name, attack in ATTACKS.items() if "payload" in attack and "first" in attack]
)
def test_each_payload_reaches_a_grader_that_reads_the_kernel(read_by_plain_nbclient, student):
    kept = read_by_plain_nbclient[student]
    assert ATTACKS[student]["payload"] in kept
    assert len(kept) > ATTACKS[student].get("size", 0) * 0.9


def test_a_grader_that_reads_the_kernel_keeps_widgets_and_script(read_by_plain_nbclient):
    assert '"widgets"' in read_by_plain_nbclient["keeps-widget-state"]
    assert SCRIPT in read_by_plain_nbclient["scripts-an-image"]
    assert "text/html" in read_by_plain_nbclient["updates-a-display"]


# ------------------------------------------- the course's faults, and a kill


def test_checks_that_cannot_be_replayed_stop_grading_before_any_zero(boundary, course, tmp_path):
    """A bug of the course's own checks (here: a check module that cannot be
    imported) is found on the reference's own answers, before any student
    is judged: the command stops, and every grade stays as it was."""
    broken = copy_generated(course, tmp_path / "course")
    with open(broken / "nbgrader_config.py", "a") as config:
        config.write("\nc.SandboxedExecute.check_modules = {'initialization': ['utils.no_such_checks']}\n")
    done = subprocess.run(
        [sys.executable, "-m", "grading.grade", ASSIGNMENT, "--student", "aa-honest", "--workers", "1"],
        cwd=broken,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1 and "reference solution" in done.stderr, done.stderr[-2000:]
    assert scores(broken, ASSIGNMENT, NOTEBOOK)["aa-honest"] == boundary["scores"]["aa-honest"]


def test_a_judge_that_fails_on_one_student_is_the_courses_fault(monkeypatch, gradebook_url, tmp_path):
    """Should the judge itself raise on a student's answers (a bug of the
    grader), that student's grading stops as the course's fault, so that
    the gradebook keeps the grade, and the summary says so."""

    def broken_judge(*args, **kwargs):
        raise ZeroDivisionError("a bug of the grader")

    monkeypatch.setattr(execute, "judge", broken_judge)
    runner = execute.SandboxedExecute()
    runner.reference = execute.Reference(answers={"test_f": "a record"})
    runner.graded_ids = {"test_f"}
    cell = new_code_cell(
        "check(f)", metadata={"nbgrader": {"grade": True, "grade_id": "test_f", "points": 1}}
    )
    with pytest.raises(CourseFault) as fault:
        runner.settle_test_cell(cell, stopped=False)
    # How the grading command names it, from the log a real nbgrader step keeps.
    reason = nbgrader_failure(failed_nbgrader_step(gradebook_url, tmp_path, fault.value))
    assert reason.why is Why.COURSE_FAULT and "a bug of the grader" in reason.text


def test_a_killed_command_loses_no_grade_it_gave(generated_course, tmp_path):
    """grades.csv and the summary are written as students finish: killed
    while it grades, the command leaves the grades it gave."""
    course = copy_generated(generated_course, tmp_path / "course")
    students = [f"student-{number}" for number in range(5)]
    for student in students:
        write_submission(course, student, ASSIGNMENT, f"{NOTEBOOK}.ipynb", example_class.CORRECT)
    summary = tmp_path / "summary.json"
    command = [sys.executable, "-m", "grading.grade", ASSIGNMENT, "--workers", "1", "--json", str(summary)]
    process = subprocess.Popen(command, cwd=course, stdout=subprocess.PIPE, text=True)
    try:
        finished = 0
        for line in process.stdout:
            finished += line.startswith("[") and "/5]" in line
            if finished and summary.exists():
                break
        assert finished < len(students), "the class was graded before the first checkpoint"
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    kept = json.loads(summary.read_text())
    assert kept["unfinished"] and not kept["everything_graded"]
    graded = [row["student"] for row in kept["students"]]
    assert graded and set(graded) < set(students)
    with open(course / "grades.csv", newline="") as file:
        rows = {row["student_id"] for row in csv.DictReader(file)}
    assert set(graded) <= rows


def test_a_page_of_the_handed_in_file_loads_its_widgets():
    """The negative control of carries-widget-metadata: nbconvert's page of
    the file as handed in loads a widget manager and embeds the state."""
    notebook = nbformat.v4.new_notebook(metadata=ATTACKS["carries-widget-metadata"]["file_metadata"])
    page, _ = HTMLExporter().from_notebook_node(notebook)
    assert "html-manager" in page and "evil-file" in page
