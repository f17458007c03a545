"""The course's late-submission policy, a plugin for nbgrader.

nbgrader computes how late a submission is from the student's
`timestamp.txt` and the assignment's due date in the gradebook, and asks the
plugin configured as `AssignLatePenalties.plugin_class` for a penalty in
points. nbgrader_config.py sets the numbers.
"""

from __future__ import annotations

import math

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Float


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
