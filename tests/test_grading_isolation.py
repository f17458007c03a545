"""A student who attacks the grader gets nothing but their own folder.

The course lives where a shared grading server keeps courses: a world-readable
folder outside /tmp. Beside it, and in the course itself, the test plants a
secret word in every place a submission must not see: the instructor
notebooks, the release, another student's submission, autograded notebook and
feedback, the gradebook, the configuration, other courses and home folders
under /srv, /home, /root, /opt, /mnt and /var, and the grader's environment.

The spy is a correct submission with one more cell at its end, which reads
all of those places and prints what it finds. Graded by the course's command and by plain
`nbgrader autograde`, its outputs and feedback must hold none of the secrets,
and it and the honest student beside it must keep full marks. The negative
control grades the same spy with the sandbox switched off: then every secret
shows up, so the test can fail.
"""

import shutil
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from conftest import ASSIGNMENTS, copy_generated, run_grading_command, unwritable
from examples import example_class
from examples.nbgrader_runs import run_nbgrader, scores
from examples.students import write_submission

# Where the spy looks, and where its secrets are planted.
PLACES = {"srv": "/srv", "home": "/home", "root": "/root", "opt": "/opt", "mnt": "/mnt", "var": "/var"}
CANNOT_PLANT = unwritable(*PLACES.values())

pytestmark = [
    pytest.mark.slow,
    pytest.mark.sandbox,
    pytest.mark.skipif(bool(CANNOT_PLANT), reason=str(CANNOT_PLANT)),
]

ASSIGNMENT, NOTEBOOK = example_class.ASSIGNMENT, example_class.NOTEBOOK
TOKEN = uuid.uuid4().hex[:12]  # in every secret, and nowhere else
FOLDER = f"grading-spy-{uuid.uuid4().hex[:8]}"  # the course's folder, in /srv
SECRET_VARIABLE = "GRADING_SERVER_TOKEN"
STUDENTS = ["alice", "spy"]  # graded in this order: alice's files exist when the spy runs

SPY = """
if not globals().get("_spied"):
    globals()["_spied"] = True
    import os as _os
    def _peek(path):
        try:
            if _os.path.isdir(path):
                return f"listed {path}: {' '.join(sorted(_os.listdir(path))[:40])}"
            with open(path, "rb") as file:
                text = file.read().decode("utf-8", "replace")
        except Exception as error:
            return f"cannot read {path}: {type(error).__name__}"
        marks = ("SECR" + "ET-", "BEGIN HIDDEN" + " TESTS")  # not quoted whole in this code
        found = [line.strip()[:160] for line in text.splitlines()
                 if any(mark in line for mark in marks)]
        return f"read {path}: {len(text)} characters; " + " | ".join(found[:4])
    for _path in PLACES:
        print(_peek(_path))
    print("environment:", sorted(_os.environ.items()))
"""


def plant(path, place):
    """Write a secret word for place into path, readable by everyone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"SECRET-{place}-{TOKEN}\n")
    path.chmod(0o644)
    return f"SECRET-{place}-{TOKEN}"


def machine_places():
    """{place: secret file} in the folders where other courses and homes live."""
    return {place: Path(top) / f"{FOLDER}-{place}" / "notes.txt" for place, top in PLACES.items()}


def outputs_text(notebook_path):
    """Every output of an autograded notebook, as text."""
    notebook = nbformat.read(notebook_path, as_version=4)
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts += [
                output.get("text", ""),
                output.get("evalue", ""),
                str(output.get("data", {}).get("text/plain", "")),
            ]
    return "\n".join(texts)


def what_the_spy_got(course):
    """(its autograded outputs, its feedback page, scores of the class)."""
    autograded = course / "autograded" / "spy" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    feedback = course / "feedback" / "spy" / ASSIGNMENT / f"{NOTEBOOK}.html"
    return {
        "outputs": outputs_text(autograded),
        "feedback": feedback.read_text() if feedback.exists() else "",
        "scores": scores(course, ASSIGNMENT, NOTEBOOK),
    }


@pytest.fixture(scope="module")
def attacked(generated_course):
    """Grade the spy three ways; return what it got each time, and the secrets."""
    base = Path("/srv") / FOLDER
    course = base / "course"
    course.mkdir(parents=True)
    base.chmod(0o755)
    course.chmod(0o755)
    copy_generated(generated_course, course)
    secrets = {}
    elsewhere = machine_places()
    try:
        # Secrets the course itself holds; planted after the release is made.
        for assignment, notebook_name in ASSIGNMENTS.items():
            path = course / "source" / assignment / notebook_name
            notebook = nbformat.read(path, as_version=4)
            notebook.cells.append(new_markdown_cell(f"SECRET-source-{assignment}-{TOKEN}"))
            nbformat.write(notebook, path)
            secrets[f"source/{assignment}"] = f"SECRET-source-{assignment}-{TOKEN}"
        secrets["release"] = plant(course / "release" / "notes.txt", "release")
        with open(course / "nbgrader_config.py", "a") as config:
            config.write(f"# database password: SECRET-config-{TOKEN}\n")
        secrets["config"] = f"SECRET-config-{TOKEN}"
        for place, path in elsewhere.items():
            secrets[place] = plant(path, place)
        secrets["environment"] = f"SECRET-environment-{TOKEN}"

        # alice's solution carries a secret into submitted/, autograded/ and feedback/.
        secrets["alice"] = f"SECRET-alice-{TOKEN}"
        alice = dict(example_class.CORRECT)
        alice["initialize_parameters_zeros"] = (
            f"# {secrets['alice']}\n" + alice["initialize_parameters_zeros"]
        )
        write_submission(course, "alice", ASSIGNMENT, f"{NOTEBOOK}.ipynb", alice)
        places = [
            *(str(path) for path in elsewhere.values()),
            "/srv",
            "/home",
            "/root",
            "/opt",
            "/mnt",
            "/var",
            str(course),
            "../../..",
            f"{NOTEBOOK}.ipynb",
        ]  # its own notebook: nbgrader has put the hidden tests back
        for relative in [
            *(f"source/{assignment}/{notebook_name}" for assignment, notebook_name in ASSIGNMENTS.items()),
            "release/notes.txt",
            "nbgrader_config.py",
            "gradebook.db",
            f"submitted/alice/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
            f"autograded/alice/{ASSIGNMENT}/{NOTEBOOK}.ipynb",
            f"feedback/alice/{ASSIGNMENT}/{NOTEBOOK}.html",
        ]:
            places += [str(course / relative), f"../../../{relative}"]
        # The spy's code is a cell it added at the end: a graded cell shows
        # only the grader's verdict, whatever its code printed.
        spied = write_submission(course, "spy", ASSIGNMENT, f"{NOTEBOOK}.ipynb", example_class.CORRECT)
        notebook = nbformat.read(spied, as_version=4)
        notebook.cells.append(new_code_cell(f"PLACES = {places!r}\n" + SPY))
        nbformat.write(notebook, spied)

        got = {}
        with pytest.MonkeyPatch.context() as environment:
            environment.setenv(SECRET_VARIABLE, secrets["environment"])
            run_grading_command(course, ASSIGNMENT, "--workers", "1")
            got["grading command"] = what_the_spy_got(course)
            run_nbgrader(course, "autograde", ASSIGNMENT, "--student", "spy", "--force")
            got["plain nbgrader"] = what_the_spy_got(course)
            # The negative control: the same spy, graded with the sandbox off.
            with open(course / "nbgrader_config.py", "a") as config:
                config.write("c.SandboxKernelManager.enabled = False\n")
            run_grading_command(course, ASSIGNMENT, "--workers", "1")
            got["no sandbox"] = what_the_spy_got(course)
        yield got, secrets
    finally:
        shutil.rmtree(base, ignore_errors=True)
        for path in elsewhere.values():
            shutil.rmtree(path.parent, ignore_errors=True)


SANDBOXED = ["grading command", "plain nbgrader"]


@pytest.mark.parametrize("way", SANDBOXED)
def test_the_spy_finds_no_secret(attacked, way):
    got, secrets = attacked
    for where in ("outputs", "feedback"):
        seen = {place for place, secret in secrets.items() if secret in got[way][where]}
        assert not seen, f"the spy's {where} show secrets of {sorted(seen)}"
        assert TOKEN not in got[way][where]
        assert "BEGIN HIDDEN TESTS" not in got[way][where]


@pytest.mark.parametrize("way", SANDBOXED)
def test_the_spy_ran_and_was_refused(attacked, way):
    outputs = attacked[0][way]["outputs"]
    assert "cannot read ../../../gradebook.db: FileNotFoundError" in outputs
    assert "cannot read /srv/" in outputs and "environment: [" in outputs
    # Its own notebook, with the hidden tests put back, is an empty file to it.
    assert f"read {NOTEBOOK}.ipynb: 0 characters" in outputs
    assert SECRET_VARIABLE not in outputs


@pytest.mark.parametrize("way", SANDBOXED)
def test_both_students_keep_their_marks(attacked, way):
    full = {cell: (points, points) for cell, points in example_class.POINTS.items()}
    assert attacked[0][way]["scores"] == {student: full for student in STUDENTS}


def test_without_the_sandbox_the_spy_sees_every_secret(attacked):
    got, secrets = attacked
    missed = {place for place, secret in secrets.items() if secret not in got["no sandbox"]["outputs"]}
    assert not missed, f"the negative control did not reach {sorted(missed)}"
    assert "BEGIN HIDDEN TESTS" in got["no sandbox"]["outputs"]
