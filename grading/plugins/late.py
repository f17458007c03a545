"""The course's late-submission policy, a plugin for nbgrader (docs/upstream.md).

nbgrader asks `AssignLatePenalties.plugin_class` for a penalty in points only while it autogrades;
settle_late_penalties asks again after hand grading, so the penalty is a share of the final score.
Every penalty, written or read, comes from notebook_penalty. nbgrader_config.py sets the numbers.
"""

from __future__ import annotations

import math

from nbgrader.api import MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import LateSubmissionPlugin
from nbgrader.preprocessors import AssignLatePenalties, NbGraderPreprocessor
from traitlets import Float

from grading.compat import commit_gradebook, late_plugin
from grading.extension import ExtensionsError, give_recorded_extension, recorded_extension
from grading.gradebook import course_gradebook
from grading.plugins.quiet_config import display_data_priority


class PenaltyPerDayLate(LateSubmissionPlugin):
    """After a grace period, lose a share of the score for each started day late."""

    grace_minutes = Float(15, help="Minutes after the due date that still count as on time.").tag(config=True)
    percent_per_day = Float(10, help="Percent of the notebook's score lost per started day late.").tag(
        config=True
    )

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return penalty_for(score, total_seconds_late, self.grace_minutes, self.percent_per_day)


def penalty_for(score: float, seconds_late: float, grace_minutes: float, percent_per_day: float) -> float:
    """Points lost: percent_per_day of score per started day, at most the score."""
    if seconds_late <= grace_minutes * 60:
        return 0.0
    days = math.ceil(seconds_late / 86400)
    return round(min(score, score * percent_per_day / 100 * days), 2)


class LatePolicy(AssignLatePenalties):
    """nbgrader's AssignLatePenalties as configured, used only to make the configured plugin."""

    display_data_priority = display_data_priority()


class GiveRecordedExtension(NbGraderPreprocessor):
    """Give the submission the extension extensions.csv records (grading/extension.py) before
    AssignLatePenalties works out the penalty, so `nbgrader autograde` counts it as the command does."""

    display_data_priority = display_data_priority()

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(parent=self)
        try:
            if recorded_extension(coursedir.root, info["assignment"], info["student"]) == (0, 0):
                return nb, resources  # none written: the gradebook is not even opened
        except ExtensionsError as error:
            # Graded all the same (the grading command refuses to start on it).
            self.log.error("%s: the late penalty counts from the gradebook's extension alone", error)
            return nb, resources
        with course_gradebook(coursedir, info["db_url"]) as gradebook:
            give_recorded_extension(gradebook, coursedir.root, info["assignment"], info["student"])
        return nb, resources


def after_penalty(score: float, penalty: float) -> float:
    """The final score: score less the late penalty, at least 0, as nbgrader's CsvExportPlugin has
    it, rounded to 6 decimals (3 - 2.1 is 0.9). The summary, grades file and LMS exports use it."""
    return max(0.0, round(score - penalty, 6))


def notebook_penalty(plugin, submission, notebook) -> float | None:
    """One notebook's late penalty from its score now, as AssignLatePenalties asks it (None on time)."""
    seconds_late = submission.total_seconds_late
    if seconds_late <= 0:
        return None
    penalty = plugin.late_submission_penalty(submission.student.id, notebook.score, seconds_late)
    return None if penalty is None else min(max(penalty, 0.0), notebook.score)  # as nbgrader bounds it


def submission_penalty(plugin, submission) -> float:
    """A whole submission's late penalty from its scores now, read only (for the exporters, lms.py)."""
    return sum(notebook_penalty(plugin, submission, notebook) or 0.0 for notebook in submission.notebooks)


def settle_late_penalties(gradebook, config, assignment: str, student: str) -> None:
    """Write the late penalty of each notebook of the student's submission from its score now.

    nbgrader computes it only when it autogrades, so later hand grades would not count. The grading
    command calls this before it reads a score, and SettleLatePenalties (feedback.py) before
    GetGrades; the exporters only read, through submission_penalty.
    """
    plugin = late_policy_plugin(config)
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return
    for notebook in submission.notebooks:
        penalty = notebook_penalty(plugin, submission, notebook)
        if notebook.late_submission_penalty != penalty:
            notebook.late_submission_penalty = penalty
    commit_gradebook(gradebook)


def late_policy_plugin(config):
    """The course's late-submission plugin, as configured."""
    return late_plugin(LatePolicy(config=config))
