"""grading/plugins/exchange_collect.py: the exchange's collect copies a student's links as
links, so that the grading command refuses them, and never reads what they point to."""

import os

from nbgrader.coursedir import CourseDirectory

from grading.plugins.exchange_collect import KeepLinksExchangeCollect


def collector() -> KeepLinksExchangeCollect:
    return KeepLinksExchangeCollect(coursedir=CourseDirectory())


def test_a_link_in_a_students_folder_is_copied_as_a_link_and_a_pipe_is_left_out(tmp_path):
    """A link to the instructor's source notebook stays a link (its text never
    copied) and a pipe, which copytree would choke on, is left out."""
    secret = tmp_path / "source" / "Initialization.ipynb"
    secret.parent.mkdir()
    secret.write_text("the hidden tests")
    handed_in = tmp_path / "inbound" / "ada+initialization"
    handed_in.mkdir(parents=True)
    (handed_in / "Initialization.ipynb").symlink_to(secret)
    (handed_in / "notes.txt").write_text("mine")
    os.mkfifo(handed_in / "pipe")
    copy = tmp_path / "submitted" / "ada" / "initialization"
    collector().do_copy(str(handed_in), str(copy))
    notebook = copy / "Initialization.ipynb"
    assert notebook.is_symlink() and os.readlink(notebook) == str(secret)
    assert (copy / "notes.txt").read_text() == "mine"
    assert not os.path.lexists(copy / "pipe")


def test_a_folder_the_check_accepts_is_copied_by_nbgraders_own_code(tmp_path):
    """Only a refused folder takes the course's copy: any other keeps nbgrader's
    (its size limit, ignore and include patterns)."""
    handed_in = tmp_path / "inbound" / "ada+initialization"
    handed_in.mkdir(parents=True)
    (handed_in / "Initialization.ipynb").write_text("{}")
    (handed_in / ".ipynb_checkpoints").mkdir()  # nbgrader's CourseDirectory.ignore leaves it out
    copy = tmp_path / "submitted" / "ada" / "initialization"
    collector().do_copy(str(handed_in), str(copy))
    assert (copy / "Initialization.ipynb").read_text() == "{}"
    assert not (copy / ".ipynb_checkpoints").exists()
