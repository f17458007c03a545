"""The class summary the grading command prints (grading/command/reporting.py)."""

from grading.command.intake import Refusal
from grading.command.reporting import block, shortened, summary_table
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


def test_long_exercise_names_become_numbered_columns_with_a_legend():
    points = {"test_initialize_parameters_xavier": (1.0, 1.0), "test_activation_stds": (2.0, 2.0)}
    table = summary_table([StudentResult("ana", points=dict(points))]).splitlines()
    assert table[0].split()[:3] == ["student", "ex1", "ex2"]
    assert table[-1] == "Columns: ex1 = initialize_parameters_xavier; ex2 = activation_stds"
    assert max(len(line) for line in table[:-1]) < 80
    short = summary_table([StudentResult("ana", points={"test_zeros": (1.0, 1.0), "test_he": (0.0, 3.0)})])
    assert short.splitlines()[0].split()[:3] == ["student", "zeros", "he"] and "Columns" not in short


def test_the_time_left_leaves_out_what_happens_once_before_the_first_result(monkeypatch, capsys):
    """A class of 79 on 2 workers whose reference run took 5 minutes: the
    first line estimates from the first student's own time, not from the
    5 minutes; later lines from the pace since the first result."""
    from grading.command import reporting

    clock = iter([300.0, 320.0, 330.0])  # seconds at the 1st, 2nd and 3rd result
    monkeypatch.setattr(reporting.time, "monotonic", lambda: next(clock))
    progress = reporting.Progress(79, name_width=3, workers=2)
    for _ in range(3):
        progress.report(StudentResult("ana", points={"test_he": (3.0, 3.0)}, seconds=20.0, graded=True))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("about 13 min left)")  # 20 s x 78 / 2 workers = 780 s
    assert lines[1].endswith("about 26 min left)")  # 20 s for one result, 77 to go
    assert lines[2].endswith("about 19 min left)")  # 30 s for two, 76 to go


def test_a_submission_that_was_not_graded_gives_no_estimate(monkeypatch, capsys):
    """An unreadable file, reported first, took no grading time: the line
    says the time left is not known yet, and the estimates start from the
    first graded submission."""
    from grading.command import reporting

    clock = iter([1.0, 21.0, 31.0])
    monkeypatch.setattr(reporting.time, "monotonic", lambda: next(clock))
    progress = reporting.Progress(10, name_width=3, workers=1)
    progress.report(StudentResult("bad", seconds=0.01))
    progress.report(StudentResult("ana", points={"test_he": (3.0, 3.0)}, seconds=20.0, graded=True))
    progress.report(StudentResult("bo", points={"test_he": (3.0, 3.0)}, seconds=10.0, graded=True))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("not yet known how long is left)")
    assert lines[1].endswith("about 3 min left)")  # 20 s x 8 to go: 160 s
    assert lines[2].endswith("about 70 s left)")  # 10 s for one since the first, 7 to go


def test_what_a_download_names_cannot_take_over_the_terminal():
    hostile = "x\x1b[2J\x1b[31m_Initialization.ipynb\r"
    printed = block("Not graded:", [Refusal("d.zip", f"{hostile} is not named as a student's notebook")])
    printed += block("Notes:", [f"ada: {hostile} is marked late"])
    assert "\x1b" not in printed and "\r" not in printed
    assert "\\x1b[2J" in printed
