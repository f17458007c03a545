"""grading/plugins/outbox.py: the one file that comes out of a grading box.

The kernel may have written that file itself, so every test here hands the
reader something a hostile kernel could write and checks what is kept.
"""

import base64
import json
import os

from grading.notes import CELL_OUTPUT_CUT
from grading.plugins.outbox import read_report
from utils.answers import MIME_TYPE as ANSWER_TYPE

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 16).decode()
MAX_BYTES, MAX_CELL_BYTES = 1_000_000, 10_000


def report_of(tmp_path, *lines, max_bytes=MAX_BYTES, max_cell_bytes=MAX_CELL_BYTES):
    """The report read from a file of these lines (dicts as JSON, the rest as they are), open at
    its end, as the runner leaves it."""
    text = "".join((json.dumps(line) if isinstance(line, dict) else line) + "\n" for line in lines)
    descriptor = os.memfd_create("box-report")
    try:
        os.write(descriptor, text.encode())
        return read_report(descriptor, max_bytes, max_cell_bytes)
    finally:
        os.close(descriptor)


def cell(index, *outputs, status="ok", seconds=0.5):
    return {"cell": index, "status": status, "seconds": seconds, "outputs": list(outputs)}


def stream(text, name="stdout"):
    return {"output_type": "stream", "name": name, "text": text}


def test_what_the_runner_writes_is_read(tmp_path):
    report = report_of(
        tmp_path,
        {"ready": True},
        cell(0, stream("hello\n")),
        cell(1, status="timeout", seconds=5.0),
        {"stopped": "stuck", "at": 2},
    )
    assert report.started and not report.cut
    assert (report.stopped, report.stopped_at) == ("stuck", 2)
    assert report.cells[0].outputs == [stream("hello\n")]
    assert (report.cells[1].status, report.cells[1].seconds) == ("timeout", 5.0)


def test_lines_that_are_not_the_runners_count_as_none(tmp_path):
    report = report_of(
        tmp_path,
        "not JSON",
        "[" * 100_000,  # too deeply nested for Python's JSON reader
        "[1, 2, 3]",
        cell(True),  # an index must be an int, not a bool
        cell(-1),
        cell(10**9),
        cell(3, status="passed"),  # not a status the runner writes
        {"stopped": "because", "at": 1},
        cell(4, stream("first\n"), seconds=float("nan")),
        cell(4, stream("a second report of the same cell\n")),
        {"stopped": "stuck", "at": 5},
        {"stopped": "notebook-budget", "at": 6},
    )
    assert list(report.cells) == [4]
    assert report.cells[4].outputs == [stream("first\n")]  # the first report of a cell stands
    assert report.cells[4].seconds is None  # NaN is no time
    assert (report.stopped, report.stopped_at) == ("stuck", 5)  # and the first stop
    assert not report.started


def test_no_more_than_max_bytes_is_read(tmp_path):
    lines = [cell(index, stream("x" * 100)) for index in range(50)]
    report = report_of(tmp_path, *lines, max_bytes=1_000)
    assert report.cut and 0 < len(report.cells) < 50
    assert list(report.cells) == list(range(len(report.cells)))  # the first ones, in order


def test_a_line_longer_than_a_cell_may_be_ends_the_reading(tmp_path):
    huge = cell(1, stream("x" * (4 * MAX_CELL_BYTES + 100_000)))
    report = report_of(tmp_path, cell(0), huge, cell(2))
    assert report.cut and list(report.cells) == [0]


def test_outputs_are_rebuilt_from_their_safe_parts(tmp_path):
    outputs = [
        stream("kept\n"),
        stream("no such stream\n", name="stdin"),
        {"output_type": "update_display_data", "data": {"text/plain": "dropped"}},
        {
            "output_type": "display_data",
            "data": {"text/html": "<script>alert(1)</script>", "text/plain": "plain", "image/png": PNG},
            "metadata": {
                "image/png": {"width": "100 onload=alert(1)", "height": 20},
                "grading": {"judged": 1},
            },
            "transient": {"display_id": "x"},
        },
        {"output_type": "display_data", "data": {"image/png": base64.b64encode(b"GIF89a").decode()}},
        {"output_type": "error", "ename": "<b>Boom</b>", "evalue": "m" * 10_000, "traceback": ["line\n"]},
        {"output_type": "execute_result", "data": {ANSWER_TYPE: {"format": 1}}, "execution_count": True},
    ]
    kept = report_of(tmp_path, cell(0, *outputs)).cells[0].outputs
    assert kept[0] == stream("kept\n")
    picture = kept[1]
    assert picture["data"] == {"text/plain": "plain", "image/png": PNG}  # no HTML
    assert picture["metadata"] == {"image/png": {"height": 20}}  # no width that is not a number, no marks
    assert "transient" not in picture
    error = kept[2]  # the GIF that claimed to be a PNG is gone
    assert (error["ename"], len(error["evalue"]), error["traceback"]) == ("Error", 4000, ["line\n"])
    assert kept[3]["data"] == {ANSWER_TYPE: {"format": 1}} and kept[3]["execution_count"] is None
    assert len(kept) == 4


def test_a_cells_outputs_are_cut_with_a_note(tmp_path):
    outputs = [stream(f"line {number}\n" + "y" * 200) for number in range(200)]
    kept = report_of(tmp_path, cell(0, *outputs), max_cell_bytes=2_000).cells[0].outputs
    assert 1 < len(kept) < 20
    assert kept[-1] == stream(CELL_OUTPUT_CUT.format(limit=2_000) + "\n")
    assert sum(len(json.dumps(output)) for output in kept[:-1]) <= 2_000
