"""grading/plugins/exchange_collect.py: the exchange's collect copies a student's links as
links, so that the grading command refuses them, and never reads what they point to.
Through the real `nbgrader collect`, links and pipes included: tests/test_grading_intake.py's
test_nbgrader_collect_copies_a_students_links_as_links."""

from nbgrader.coursedir import CourseDirectory

from grading.plugins.exchange_collect import KeepLinksExchangeCollect


def collector() -> KeepLinksExchangeCollect:
    return KeepLinksExchangeCollect(coursedir=CourseDirectory())


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
