"""The late penalty (grading/plugins/late.py)."""

import pytest

from grading.plugins.late import penalty_for


@pytest.mark.parametrize(
    "hours_late, penalty",
    [
        (0.2, 0.0),  # within the 15 minutes of grace
        (0.5, 0.8),  # a started day: 10% of 8 points
        (30, 1.6),  # two started days
        (24 * 12, 8),  # never more than the score
    ],
)
def test_late_penalty_per_started_day(hours_late, penalty):
    assert penalty_for(8.0, hours_late * 3600, grace_minutes=15, percent_per_day=10) == pytest.approx(penalty)
