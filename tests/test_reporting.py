"""The class summary the grading command prints (grading/command/reporting.py)."""

from grading.command.reporting import shortened, summary_table
from grading.command.results import StudentResult
from grading.reasons import Reason, Why


def test_a_long_reason_is_cut_at_a_word_and_kept_on_one_line():
    text = (
        "KeyError: your function raised\nKeyError for W3 on a hidden call "
        "with a bigger network of five layers"
    )
    short = shortened(text)
    assert "\n" not in short and len(short) <= 80 and short.endswith("...")
    assert text.replace("\n", " ").startswith(short[:-3])  # cut between words
    assert shortened("he: timed out") == "he: timed out"


def test_the_table_shows_short_reasons_and_the_json_keeps_them_whole():
    long = "ValueError: " + "a message that goes on " * 10
    result = StudentResult("ana", points={"test_he": (0.0, 3.0)}, reasons=[Reason(Why.ERROR, long, "he")])
    row = summary_table([result]).splitlines()[2]
    assert "he: ValueError: a message" in row and row.endswith("...") and "\\n" not in row
    assert result.reasons[0].to_json()["text"] == long
