"""How autograding runs a submission (grading/plugins/execute.py): the experiments it
leaves out, the budget of each cell, and where a stuck notebook stops. The
rules on small notebooks first, then real sandboxed kernels on a tiny
course."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

from conftest import COURSE_CONFIG, REPO, descendants
from grading.errors import KERNEL_STOPPED, NOT_RUN, TIMED_OUT, CourseFault, marked
from grading.plugins import box_runner
from grading.plugins.budgets import CellBudgets
from grading.plugins.execute import SandboxedExecute
from grading.plugins.experiments import (
    SKIP_TAG,
    cells_to_skip,
    names_defined,
    not_rerun_text,
    tagged_cells,
    undefined_names,
)
from grading.plugins.references import REFERENCE_RUNS, ReferenceRuns
from grading.reasons import Reason, Why, lost_point_reasons
from utils import answers


def cell(source, cell_id, tags=(), nbgrader=None):
    metadata = {"tags": list(tags)} if tags else {}
    if nbgrader:
        metadata["nbgrader"] = nbgrader
    return new_code_cell(source, id=cell_id, metadata=metadata)


SOURCE = new_notebook(
    cells=[
        cell("x = 1", "setup"),
        cell("history = train()\nplot(history)", "training", [SKIP_TAG]),
        cell("assert f(2) == 4", "test", nbgrader={"grade": True, "grade_id": "test", "points": 1}),
    ]
)


# -------------------------------------------------------------------- rules


def test_nbgrader_uses_the_sandbox_when_autograding():
    assert SandboxedExecute in COURSE_CONFIG.Autograde.autograde_preprocessors


def test_only_the_sources_tags_count():
    assert tagged_cells(SOURCE) == {"training": "history = train()\nplot(history)"}
    student = nbformat.from_dict(SOURCE)
    student.cells[0].metadata["tags"] = [SKIP_TAG]  # a tag the student added: ignored
    assert cells_to_skip(student, tagged_cells(SOURCE)) == {1}


def test_an_experiment_the_student_changed_runs_as_written():
    student = nbformat.from_dict(SOURCE)
    student.cells[1].source = "history = train(steps=10)"
    assert cells_to_skip(student, tagged_cells(SOURCE)) == set()


def test_a_graded_cell_is_never_left_out():
    """Not even one that took an experiment's id and source."""
    student = nbformat.from_dict(SOURCE)
    student.cells[2].id = "training"
    student.cells[2].source = SOURCE.cells[1].source
    assert cells_to_skip(student, tagged_cells(SOURCE)) == {1}


def test_names_an_experiment_defines():
    source = (
        "%matplotlib inline\nimport numpy as np\nfrom os import path as p\nfor i in range(3):\n    y = i\n"
    )
    source += "def g():\n    local = 1\nclass C: pass\n(a, b) = 1, 2\n"
    assert {"np", "p", "i", "y", "g", "C", "a", "b"} <= names_defined([source])
    assert names_defined(["this is not python"]) == set()


def test_undefined_names_come_from_name_errors():
    notebook = new_notebook(cells=[cell("print(history)", "c")])
    notebook.cells[0].outputs = [
        nbformat.v4.new_output(
            "error", ename="NameError", evalue="name 'history' is not defined", traceback=[]
        )
    ]
    assert undefined_names(notebook) == {"history"}


def test_a_cells_budget():
    budgets = CellBudgets(fallback=30, factor=10, floor=5, reference={"fast": 0.01, "slow": 2.0})
    assert budgets.seconds({"id": "fast"}) == 5  # the floor
    assert budgets.seconds({"id": "slow"}) == 20  # ten times the reference
    assert budgets.seconds({"id": "added-by-the-student"}) == 30  # no reference: the fallback
    assert CellBudgets(fallback=30, scale=0.5, reference={"slow": 2.0}).seconds({"id": "slow"}) == 10


@pytest.mark.parametrize("timeout, fallback", [(30, 30), (0, 0), (-1, -1), (None, float("inf"))])
def test_the_fallback_budget_is_nbclients_timeout(timeout, fallback):
    # 0, -1 and None mean "no limit" to nbclient; the budget of such a cell
    # (a fallback of 0 or less) is unlimited too, never a made-up 600 s.
    runner = SandboxedExecute(config=Config({"Execute": {"timeout": timeout}}))
    assert runner.cell_budgets().fallback == fallback


# ------------------------------------------------------ real sandboxed kernels

# A tiny course: its source notebook is the reference; a student's copy runs.
COURSE_SOURCE = new_notebook(
    cells=[
        cell("import time\nx = 1", "setup"),
        cell("time.sleep(2)\nhistory = [1, 2, 3]", "training", [SKIP_TAG]),
        cell("def f(n):\n    return n * 2", "solution", nbgrader={"solution": True, "grade_id": "f"}),
        cell("assert f(2) == 4", "test", nbgrader={"grade": True, "grade_id": "test", "points": 1}),
    ],
    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
)


@pytest.fixture
def tiny_course(tmp_path):
    (tmp_path / "source" / "a").mkdir(parents=True)
    nbformat.write(COURSE_SOURCE, tmp_path / "source" / "a" / "nb.ipynb")
    (tmp_path / "autograded" / "s" / "a").mkdir(parents=True)
    return tmp_path


def run_submission(course, solution, added=(), renamed_test=False, folder=None, **settings):
    """Autograde's execute step on a copy of the source whose solution cell
    holds `solution`, with the `added` cells at the end, in folder (by
    default nbgrader's autograded/s/a); returns (notebook, seconds)."""
    config = Config()
    config.CourseDirectory.root = str(course)
    config.SandboxedExecute.timeout = 30
    # The tiny course's test cell hands in no answers (utils/answers.py):
    # these tests are about time, so nbgrader's own rule scores it.
    config.SandboxedExecute.judge_answers = False
    for name, value in settings.items():
        setattr(config.SandboxedExecute, name, value)
    notebook = nbformat.from_dict(COURSE_SOURCE)
    notebook.cells[2].source = solution
    notebook.cells += [cell(source, f"added-{number}") for number, source in enumerate(added)]
    if renamed_test:
        notebook.cells[3].id = "renamed-by-the-student"
    resources = {
        "metadata": {"path": str(folder or course / "autograded" / "s" / "a")},
        "nbgrader": {"assignment": "a", "notebook": "nb", "student": "s"},
    }
    start = time.monotonic()
    notebook, _ = SandboxedExecute(config=config).preprocess(notebook, resources)
    return notebook, time.monotonic() - start


def errors(notebook):
    return {
        cell.id: output.ename
        for cell in notebook.cells
        for output in cell.outputs
        if output.output_type == "error"
    }


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_experiment_is_left_out_with_a_note(tiny_course):
    notebook, _ = run_submission(tiny_course, "def f(n):\n    return n * 2")
    assert [output.get("text") for output in notebook.cells[1].outputs] == [not_rerun_text()]
    assert errors(notebook) == {}


@pytest.mark.slow
@pytest.mark.sandbox
def test_code_that_needs_the_experiment_is_graded_in_full(tiny_course):
    notebook, _ = run_submission(tiny_course, "def f(n):\n    return n * len(history) - n")
    assert errors(notebook) == {}  # as in a full run: history was defined
    assert notebook.cells[1].outputs == []  # the training ran (it prints nothing)


@pytest.mark.slow
@pytest.mark.sandbox
def test_only_the_autograded_folder_is_emptied_for_a_full_run(tiny_course):
    """A full run deletes and restores the submission's folder: given any
    other folder, grading stops as the course's fault and deletes nothing."""
    elsewhere = tiny_course / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("kept")
    with pytest.raises(CourseFault, match="is not nbgrader's autograded folder"):
        run_submission(tiny_course, "def f(n):\n    return n * len(history) - n", folder=elsewhere)
    assert (elsewhere / "keep.txt").read_text() == "kept"


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_next_command_reads_the_reference_run_back_from_disk(tiny_course):
    """Two commands (two stores) with the course's folder of reference runs:
    the second reads the first's run, to the digit, instead of running the
    source again; a changed source is run again."""
    folder = tiny_course / REFERENCE_RUNS
    first, second, after_a_change = (ReferenceRuns(folder=folder) for _ in range(3))
    run_submission(tiny_course, "def f(n):\n    return n * 2", reference_runs=first)
    run_submission(tiny_course, "def f(n):\n    return n * 2", reference_runs=second)
    (measured,), (read_back,) = first.measured.values(), second.measured.values()
    assert measured.seconds and read_back.seconds == measured.seconds
    assert len(list(folder.rglob("*.json"))) == 1
    (tiny_course / "source" / "a" / "data.txt").write_text("a file of the assignment, added")
    run_submission(tiny_course, "def f(n):\n    return n * 2", reference_runs=after_a_change)
    (measured_again,) = after_a_change.measured.values()
    assert measured_again.seconds != measured.seconds
    assert len(list(folder.rglob("*.json"))) == 1  # the older run's file is replaced


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_reference_whose_kernel_did_not_start_is_run_once_more(tiny_course, monkeypatch):
    """As a student's would be: no code ran, so one failed start of the sandbox
    (another kernel holding the processes it needs, say) stops no class."""
    from grading.plugins import execute
    from grading.plugins.outbox import BoxReport

    boxes, run_in_box = [], execute.run_in_box

    def first_box_never_starts(*arguments):
        boxes.append(arguments)
        return BoxReport() if len(boxes) == 1 else run_in_box(*arguments)

    monkeypatch.setattr(execute, "run_in_box", first_box_never_starts)
    store = ReferenceRuns()
    run_submission(tiny_course, "def f(n):\n    return n * 2", reference_runs=store)
    (reference,) = store.measured.values()
    assert reference.complete and reference.seconds
    assert len(boxes) == 3  # the reference's first box, its second, the student's


@pytest.mark.slow
@pytest.mark.sandbox
@pytest.mark.parametrize(
    "cell, source",
    [
        # Its setup cell runs out of `timeout`, its limit, set too low.
        (0, "import time\ntime.sleep(3)\nx = 1"),
        # Its graded code needs the experiment, which runs out of time when
        # the reference is run again in full.
        (2, "def f(n):\n    return n * len(history) - n"),
    ],
    ids=["a cell out of time", "out of time when run again in full"],
)
def test_a_reference_run_that_fell_short_is_not_kept(tiny_course, cell, source):
    """Such a reference serves its command, and is never read back by the next."""
    notebook = nbformat.from_dict(COURSE_SOURCE)
    notebook.cells[cell].source = source
    nbformat.write(notebook, tiny_course / "source" / "a" / "nb.ipynb")
    store = ReferenceRuns(folder=tiny_course / REFERENCE_RUNS)
    run_submission(tiny_course, "def f(n):\n    return n * 2", reference_runs=store, timeout=1)
    (reference,) = store.measured.values()
    assert not reference.complete
    assert not list((tiny_course / REFERENCE_RUNS).rglob("*.json"))


# A cell that never ends. A cell's time counts whether the kernel computes
# or sleeps (the box subtracts only the time it waited for a CPU), so these
# tests sleep and leave the core to the tests beside them; the example
# class's infinite-loop student spins (tests/test_grading.py).
STUCK = "import time\nwhile True:\n    time.sleep(1)"
STUCK_FUNCTION = "def f(n):\n    import time\n    while True:\n        time.sleep(1)"


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_stuck_cell_costs_its_budget_and_later_cells_still_run(tiny_course):
    notebook, _ = run_submission(tiny_course, STUCK, budget_floor=2.0)
    assert errors(notebook) == {"solution": "CellTimeoutError", "test": "NameError"}
    reasons = lost_point_reasons(notebook, ["test"])
    assert reasons == [("test", Reason(Why.TIMED_OUT, "timed out (the cell ran over its budget of 2 s)"))]


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_notebook_stops_after_its_stuck_allowance(tiny_course):
    """Two cells out of time, for the allowance in all: the rest is not run.
    (A cell the student added has no reference time: it gets `timeout`.)"""
    notebook, _ = run_submission(
        tiny_course,
        STUCK,
        added=[STUCK, "print('after')"],
        budget_floor=2.0,
        timeout=2,
        stuck_allowance=3.0,
    )
    assert errors(notebook) == {
        "solution": "CellTimeoutError",
        "test": "NameError",
        "added-0": "CellTimeoutError",
        "added-1": "NotRun",
    }
    assert lost_point_reasons(notebook, ["test"]) == [
        ("test", Reason(Why.TIMED_OUT, "timed out (the cell ran over its budget of 2 s)"))
    ]


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_chinese_notebook_gets_the_graders_notes_in_chinese(tiny_course):
    """Timeouts, a cut output and cells not run are noted in the language of
    the instructor's source; the instructor's summary quotes them in English."""
    source = tiny_course / "source" / "a" / "nb.ipynb"
    chinese = nbformat.read(source, as_version=4)
    chinese.metadata["course"] = {"language": "zh_CN"}
    nbformat.write(chinese, source)
    notebook, _ = run_submission(
        tiny_course,
        STUCK,
        added=["for _ in range(40):\n    print('x' * 100_000)", STUCK, "print('after')"],
        budget_floor=2.0,
        timeout=2,
        stuck_allowance=3.0,
        max_output_bytes=1_000_000,
    )
    shown = {
        cell.id: [line for output in cell.outputs for line in output.get("traceback", [])]
        for cell in notebook.cells
    }
    # the kernel's own traceback (KeyboardInterrupt) first, then the grader's note
    assert shown["solution"][-1] == "运行超时：本单元格超过了 2 秒的时限，已被终止。"
    printed = "".join(output.get("text", "") for output in notebook.cells[-3].outputs)
    assert printed.endswith("[输出已截断：这个单元格打印的内容超过了 1000000 字节]\n")
    assert shown["added-2"][0].startswith("未运行：")
    assert errors(notebook)["added-2"] == "NotRun"  # the names the grader reads stay
    assert lost_point_reasons(notebook, ["test"]) == [
        ("test", Reason(Why.TIMED_OUT, "timed out (the cell ran over its budget of 2 s)"))
    ]


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_test_cell_is_budgeted_by_its_grade_id(tiny_course):
    """The student's file decides a cell's id, not its grade id: a test cell
    whose id was changed keeps the reference's budget (the floor here), not `timeout`."""
    notebook, _ = run_submission(
        tiny_course, STUCK_FUNCTION, budget_floor=2.0, timeout=300, renamed_test=True
    )
    assert errors(notebook) == {"renamed-by-the-student": "CellTimeoutError"}
    # The grader's note names the budget the cell was cut at (no wall clock:
    # a loaded machine takes longer to start the boxes, not to cut the cell).
    note = notebook.cells[3].outputs[-1]  # after the kernel's KeyboardInterrupt
    assert note.traceback[-1].endswith("budget of 2 s"), note.traceback[-1]


@pytest.mark.slow
@pytest.mark.sandbox
def test_added_cells_cannot_stretch_the_notebooks_budget(tiny_course):
    """The notebook may take what its reference cells may take in all; cells
    a student added share that, however many there are."""
    notebook, _ = run_submission(
        tiny_course, "def f(n):\n    return n * 2", added=["time.sleep(2.5)"] * 6, budget_floor=2.0
    )
    stopped = [
        output.evalue
        for cell in notebook.cells
        for output in cell.outputs
        if output.output_type == "error" and output.ename == "NotRun"
    ]
    assert stopped, "every added cell ran: the notebook's budget was stretched"
    assert "used up its time budget of 6 s" in stopped[0]
    assert errors(notebook).get("test") is None  # the graded cell ran before


@pytest.mark.slow
@pytest.mark.sandbox
def test_what_a_cell_prints_is_capped(tiny_course):
    notebook, _ = run_submission(
        tiny_course,
        "def f(n):\n    return n * 2",
        added=["for _ in range(40):\n    print('x' * 100_000)"],
        max_output_bytes=1_000_000,
    )
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    assert len(printed) <= 1_100_000
    assert printed.endswith("[output cut: the cell printed more than 1000000 bytes]\n")


@pytest.mark.slow
@pytest.mark.sandbox
def test_outputs_are_kept_as_jupyterlab_shows_them(tiny_course):
    """The box's runner speaks the Jupyter protocol itself: clear_output clears
    (at once, or before the next output with wait=True) and a display is
    updated in place, as in JupyterLab. Only what is kept counts against the
    cap: 2 MB of HTML, which the box never keeps, cuts nothing after it."""
    notebook, _ = run_submission(
        tiny_course,
        "def f(n):\n    return n * 2",
        added=[
            "from IPython.display import HTML, clear_output, display, update_display\n"
            "print('first')\nclear_output()\nprint('second')\n"
            "clear_output(wait=True)\nprint('third')\n"
            "display('shown', display_id='d')\nupdate_display('changed', display_id='d')\n"
            "display(HTML('<b>x</b>' * 250_000))\nprint('after')\n"
            "6 * 7"
        ],
        max_output_bytes=1_000_000,
    )
    shown = [output.get("text") or output.data["text/plain"] for output in notebook.cells[-1].outputs]
    assert shown == ["third\n", "'changed'", "<IPython.core.display.HTML object>", "after\n", "42"]
    assert notebook.cells[-1].outputs[-1].output_type == "execute_result"


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_cell_that_prints_a_hundred_megabytes_at_once_is_cut_and_the_rest_runs(tiny_course):
    """An honest mistake, not an attack: its output is cut at the cap, with the
    runner's note, and the next cell runs as usual."""
    notebook, _ = run_submission(
        tiny_course,
        "def f(n):\n    return n * 2",
        added=["print(list(range(10**7)))", "print('next')"],
    )
    printed = "".join(output.get("text", "") for output in notebook.cells[-2].outputs)
    assert printed.endswith("[output cut: the cell printed more than 1000000 bytes]\n")
    assert len(printed) <= 1_100_000
    assert [output.get("text") for output in notebook.cells[-1].outputs] == ["next\n"]
    stopped = {TIMED_OUT, NOT_RUN, KERNEL_STOPPED}
    assert not [cell for cell in notebook.cells if marked(cell).get("outcome") in stopped]


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_message_the_runner_cannot_read_is_skipped(tiny_course):
    """A kernel may send any message, signed with its own key: one whose
    header jupyter_client cannot adapt (it raised AttributeError) is no output."""
    notebook, _ = run_submission(
        tiny_course,
        "def f(n):\n    return n * 2",
        added=[
            "kernel = get_ipython().kernel\n"
            "kernel.session.send(kernel.iopub_socket, 'stream', {'name': 'stdout', 'text': 'forged'},\n"
            "                    parent=kernel.get_parent(),\n"
            "                    header={'msg_id': 'x', 'msg_type': 'stream', 'version': 5})\n"
            "print('after')",
            "print('next')",
        ],
    )
    assert [output.get("text") for output in notebook.cells[-2].outputs] == ["after\n"]
    assert [output.get("text") for output in notebook.cells[-1].outputs] == ["next\n"]


@pytest.mark.slow
@pytest.mark.sandbox
def test_a_kernel_that_never_starts_is_the_courses_fault(tiny_course):
    """No student code runs before the kernel has started, so a kernel that
    never starts is not the student's zero: that student's grading stops
    with CourseFault and the gradebook keeps what it had. Here the kernel
    is given no time to start."""
    with pytest.raises(CourseFault, match="the kernel did not start in the sandbox"):
        run_submission(tiny_course, "def f(n):\n    return n * 2", startup_timeout=0)


def test_another_kernel_than_the_grading_environments_is_refused_by_name(tiny_course):
    """The box runs ipykernel of the grading environment only: a course configured
    for another kernel is told which setting to change, and no box starts."""
    with pytest.raises(CourseFault, match="not 'no-such-kernel': leave c.SandboxedExecute.kernel_name unset"):
        run_submission(tiny_course, "def f(n):\n    return n * 2", kernel_name="no-such-kernel")


@pytest.mark.slow
@pytest.mark.sandbox
def test_files_of_the_submission_cannot_stop_the_kernel_from_starting(tiny_course):
    """The kernel starts from its own installation, the submission's folder
    not yet on its path: a file named as a module it starts from is never
    imported. (Were it, a student could stop every grading of their work
    before it began, and keep an earlier grade.)"""
    folder = tiny_course / "autograded" / "s" / "a"
    for name in (
        "ctypes",  # the launcher's first import
        "ipykernel_launcher",
        "ipykernel",
        "IPython",
        "jupyter_client",
        "traitlets",
        "zmq",
        "tornado",
    ):
        (folder / f"{name}.py").write_text("raise SystemExit('shadowed')\n")
    notebook, _ = run_submission(tiny_course, "def f(n):\n    return n * 2")
    assert errors(notebook) == {}


def test_the_box_and_the_hand_in_helper_name_answers_alike():
    assert box_runner.ANSWER_TYPE == answers.MIME_TYPE


def test_a_students_markup_loses_its_html_tags():
    """Formgrader shows a submission's markdown unsanitized: no tag survives grading."""
    answer = nbformat.v4.new_markdown_cell(
        "Fine <script>alert(1)</script> and <img src=x onerror=f()>, $a<b$"
    )
    raw = nbformat.v4.new_raw_cell("<script>alert(2)</script>", metadata={"raw_mimetype": "text/html"})
    SandboxedExecute().run(nbformat.v4.new_notebook(cells=[answer, raw]), {}, skipped=set())
    assert answer.source == "Fine &lt;script>alert(1)&lt;/script> and &lt;img src=x onerror=f()>, $a&lt;b$"
    assert "<" not in raw.source


FLOOD = (
    "from IPython.display import display\n"
    "_blob = 'x' * 20_000_000\n"
    "for _ in range(10):\n"
    "    display({'text/plain': _blob}, raw=True)\n"
)

# Run in a fresh process: the peak memory (MiB) of grading one notebook,
# its code cells given on the command line, by SandboxedExecute or (with
# "plain") by plain nbclient, as a grader that reads the kernel would.
# Linux's peak (VmHWM) is first reset to the memory in use, so that a peak
# of the imports (as in a fresh clone's first run) cannot hide the one measured.
PEAK_MEMORY = """
import sys, tempfile, pathlib
sys.path[:0] = ["tests", "."]
import nbformat
from nbclient import NotebookClient
from test_execute import COURSE_SOURCE, run_submission
course = pathlib.Path(tempfile.mkdtemp())
(course / "source" / "a").mkdir(parents=True)
nbformat.write(COURSE_SOURCE, course / "source" / "a" / "nb.ipynb")
(course / "autograded" / "s" / "a").mkdir(parents=True)
def status_kib(field):
    [line] = [line for line in open("/proc/self/status") if line.startswith(field + ":")]
    return int(line.split()[1])
pathlib.Path("/proc/self/clear_refs").write_text("5")  # the peak is now the memory in use
before = status_kib("VmHWM")
if sys.argv[1] == "plain":
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(sys.argv[2])])
    # Wait for every output, however loaded the machine: by default nbclient
    # stops reading 4 s after the cell's reply and would keep only part.
    NotebookClient(
        notebook, kernel_name="python3", allow_errors=True, iopub_timeout=600, raise_on_iopub_timeout=True
    ).execute()
else:
    run_submission(course, "def f(n):\\n    return n * 2", added=[sys.argv[2]])
print((status_kib("VmHWM") - before) // 1024)
"""


def peak_memory_mb(mode, cell_source):
    done = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY, mode, cell_source],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_graders_memory_does_not_depend_on_what_a_kernel_sends():
    """200 MB of outputs cost the grader what a quiet notebook costs: they
    stay in the box. The negative control: plain nbclient, reading the
    kernel itself, holds them all."""
    quiet = peak_memory_mb("boxed", "x = 1")
    flooded = peak_memory_mb("boxed", FLOOD)
    assert flooded < quiet + 50, (quiet, flooded)
    assert peak_memory_mb("plain", FLOOD) > flooded + 150


@pytest.mark.slow
def test_a_kernel_that_dies_as_it_starts_ends_its_box_at_once(tmp_path, monkeypatch):
    """The runner watches the kernel's process while it waits for its welcome: a kernel that
    ends first (here an ipykernel that exits on import) ends the box within seconds, not at
    the start-up timeout, and the report says the kernel never started. (Without the sandbox,
    where the runner and its kernel have the grader's environment.)"""
    import logging

    from grading.plugins.box import run_in_box

    fake = tmp_path / "fake" / "ipykernel"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "kernelapp.py").write_text("raise SystemExit(3)\n")
    monkeypatch.setenv("PYTHONPATH", str(fake.parent))
    job = {
        "sources": {"0": "print('never')"}, "run": [0], "budgets": {"0": 10},
        "notebook_seconds": None, "stuck_allowance": 20, "max_slowdown": 5, "interrupt_grace": 1,
        "max_output_bytes": 10000, "max_report_bytes": 100000,
        "startup_timeout": 60, "notes": {"cell_cut": "{limit}", "notebook_cut": ""},
    }  # fmt: skip
    workdir = tmp_path / "work"
    workdir.mkdir()
    start = time.monotonic()
    report = run_in_box(job, str(workdir), None, 300, 100000, logging.getLogger())
    assert not report.started and not report.cells
    assert time.monotonic() - start < 30
    assert list(workdir.iterdir()) == []


# Run in a fresh process: the unboxed runner (no sandbox: trusted notebooks)
# started on one cell that sleeps; the test kills this process mid-cell.
UNBOXED_SLEEPER = """
import json, logging, sys
from grading.plugins.box import run_in_box
job = {
    "sources": {"0": "import pathlib, time\\npathlib.Path('in-cell').touch()\\ntime.sleep(120)"},
    "run": [0], "budgets": {"0": 300},
    "notebook_seconds": None, "stuck_allowance": 300, "max_slowdown": 5, "interrupt_grace": 1,
    "max_output_bytes": 10000, "max_report_bytes": 100000,
    "startup_timeout": 60, "notes": {"cell_cut": "{limit}", "notebook_cut": ""},
}
run_in_box(job, sys.argv[1], None, 300, 100000, logging.getLogger())
"""


def running(pid: str) -> bool:
    """Whether pid is a process that has not ended (a zombie has)."""
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


@pytest.mark.slow
def test_a_killed_grader_takes_its_unboxed_runner_and_kernel_with_it(tmp_path):
    """Without the sandbox nothing kills a box's processes but their parent:
    the runner and its kernel end when the grader that started them is
    killed mid-cell (as a worker process may be), not two minutes later."""
    grader = subprocess.Popen(
        [sys.executable, "-c", UNBOXED_SLEEPER, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )
    started = []
    try:
        deadline = time.monotonic() + 60
        while len(started := descendants(grader.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # the runner, then its kernel
        assert len(started) >= 2, "the runner did not start its kernel"
        while not (tmp_path / "in-cell").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # until the kernel is in the cell
        assert (tmp_path / "in-cell").exists(), "the kernel did not run the cell"
        grader.kill()
        grader.wait()
        deadline = time.monotonic() + 10
        while any(running(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in started if running(pid)], "left running after the grader was killed"
    finally:
        for pid in started:
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)
        grader.kill()
