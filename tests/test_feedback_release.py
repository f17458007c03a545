"""grading/plugins/feedback_release.py: what a feedback folder holds after
plain `nbgrader generate_feedback` (its post_convert_hook)."""

import logging
from pathlib import Path

from traitlets.config import Config

from grading.plugins.feedback_release import KeepOnlyFeedbackPages


def test_the_hook_keeps_the_pages_and_the_exchange_files_only(tmp_path):
    """Everything nbgrader copied beside the page goes; a link is removed,
    never followed (its target stays); another student's folder is untouched."""
    outside = tmp_path / "instructor-secret.txt"
    outside.write_text("hidden tests")
    feedback = tmp_path / "feedback" / "ada" / "a1"
    (feedback / "utils").mkdir(parents=True)
    (feedback / "utils" / "helper.py").write_text("x = 1")
    (feedback / "Work.html").write_text("<html></html>")
    (feedback / "evil.html").write_text("<script></script>")
    (feedback / "timestamp.txt").write_text("2026-12-04 12:00:00")
    (feedback / "submission_secret.txt").write_text("b3e1f0")
    (feedback / "link.txt").symlink_to(outside)
    (feedback / "big").symlink_to(tmp_path)
    other = tmp_path / "feedback" / "bob" / "a1"
    other.mkdir(parents=True)
    (other / "notes.txt").write_text("bob's")
    autograded = tmp_path / "autograded" / "ada" / "a1" / "Work.ipynb"
    config = Config()
    config.CourseDirectory.root = str(tmp_path)

    KeepOnlyFeedbackPages(config)(assignment="a1", student="*", notebooks=[str(autograded)])

    assert sorted(path.name for path in feedback.iterdir()) == [
        "Work.html",
        "submission_secret.txt",
        "timestamp.txt",
    ]
    assert outside.read_text() == "hidden tests" and Path(tmp_path).is_dir()
    assert (other / "notes.txt").exists()


def test_a_folder_the_hook_cannot_place_is_an_error_not_a_silence(tmp_path, caplog):
    """nbgrader logs a failing hook at INFO only: a notebook outside the
    course's autograded folders (a course root configured elsewhere) is
    named as an error, since its feedback folder was not cleaned."""
    config = Config()
    config.CourseDirectory.root = str(tmp_path / "course")
    stray = tmp_path / "elsewhere" / "ada" / "a1" / "Work.ipynb"
    with caplog.at_level(logging.INFO):
        KeepOnlyFeedbackPages(config)(assignment="a1", student="ada", notebooks=[str(stray)])
    # Errors only: a kernel client collected meanwhile may warn on the same log.
    [record] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert record.levelno == logging.ERROR and "may still hold files" in record.getMessage()
