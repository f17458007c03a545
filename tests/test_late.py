"""The late penalty (grading/plugins/late.py)."""

import pytest

from grading.plugins.late import after_penalty, penalty_for


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


def test_the_final_score_is_the_score_less_the_penalty_as_written():
    assert after_penalty(3.0, 2.1) == 0.9  # 3 points, 7 days late: not 0.8999999999999999, in every export
    assert after_penalty(8.0, 0.0) == 8.0
    assert after_penalty(1.5, 3.0) == 0.0  # never below 0
