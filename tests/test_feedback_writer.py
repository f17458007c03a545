"""Feedback for one student at a time (grading/command/feedback_writer.py):
what goes beside the page."""

import os

from nbgrader.coursedir import CourseDirectory

from grading.command.feedback_writer import FeedbackPagesConverter


def test_only_the_files_release_feedback_reads_go_beside_the_page(tmp_path):
    """Of the autograded folder, only timestamp.txt and submission_secret.txt
    are copied into the feedback folder, and only as small plain files: not
    the helpers, a student's files, a link or a file the size of a payload."""
    autograded = tmp_path / "autograded" / "ada" / "a1"
    (autograded / "utils").mkdir(parents=True)
    (autograded / "utils" / "helper.py").write_text("HIDDEN = 1\n")
    (autograded / "Work.ipynb").write_text("{}")
    (autograded / "my-notes.txt").write_text("the student's own file")
    (autograded / "timestamp.txt").write_text("2026-12-04 12:00:00")
    (autograded / "submission_secret.txt").write_text("b3e1f0")
    converter = FeedbackPagesConverter(coursedir=CourseDirectory(root=str(tmp_path)))
    converter.init_assignment("a1", "ada")
    feedback = tmp_path / "feedback" / "ada" / "a1"
    assert sorted(os.listdir(feedback)) == ["submission_secret.txt", "timestamp.txt"]
    assert (feedback / "timestamp.txt").read_text() == "2026-12-04 12:00:00"
    assert (feedback / "submission_secret.txt").read_text() == "b3e1f0"

    bob = tmp_path / "autograded" / "bob" / "a1"
    bob.mkdir(parents=True)
    (bob / "timestamp.txt").symlink_to(autograded / "utils" / "helper.py")
    (bob / "submission_secret.txt").write_text("x" * 1024)
    converter.init_assignment("a1", "bob")
    assert not (tmp_path / "feedback" / "bob").exists()
