"""The class report's per-student table as CSV (grading/report/table.py)."""

import csv
import io

from grading.report.table import students_csv


def test_a_reason_a_spreadsheet_would_run_is_written_as_text():
    """A reason can quote what a student wrote (an error's message, a file's
    name): one that starts as a formula gets a leading apostrophe."""
    row = {
        "student": "alice",
        "exercises": {"he": {"points": 0.0, "why": '=HYPERLINK("http://x.example"): Hidden test'}},
        "written": 0.0,
        "waiting": 0.0,
        "late_penalty": 0.0,
        "total": 0.0,
        "max": 3.0,
    }
    data = {"exercises": [{"name": "he"}], "editions": ["initialization"], "table": [row]}
    rows = list(csv.reader(io.StringIO(students_csv(data))))
    assert rows[1][:3] == ["alice", "0", '\'=HYPERLINK("http://x.example"): Hidden test']
