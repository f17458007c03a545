"""Times as the class report and the regrade text show them: "2026-12-05 10:30 UTC".

Records keep times as written ("2026-12-05 10:30:00 UTC", or "2026-12-05T10:30:00+00:00" in older
ones); either is shown to the minute, in UTC. A time with no zone is UTC, as the gradebook's are.
"""

from __future__ import annotations

import datetime
import re

# A time written in a text: a date, the time of day, seconds, a zone, each of its forms.
TIME_IN_TEXT = re.compile(
    r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?UTC\b|Z\b|[+-]\d{2}:?\d{2}\b)?"
)


def shown(value: str | None, missing: str = "never") -> str:
    """value (a stored time) as "YYYY-MM-DD HH:MM UTC"; missing for None or "", a non-time unchanged."""
    if not value:
        return missing
    text = value.strip()
    text = text.removesuffix("UTC").strip().removesuffix("Z")
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def shown_in(text: str) -> str:
    """text with every time in it shown so (a regrade's lines as an earlier run wrote them)."""
    return TIME_IN_TEXT.sub(lambda match: shown(match.group(0)), text)
