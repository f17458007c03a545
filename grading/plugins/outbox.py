"""The one file that comes out of a grading box, read and checked.

The box runner (box_runner.py) writes a line of JSON per cell into a file with no path, which only
it holds (box.py), so the kernel cannot rewrite a line once written. What the lines hold came from the
kernel, so nothing in them is trusted. The grader reads at most `max_bytes`, and rebuilds each
output from checked parts that cannot run in a page (an image's
`width` that is not a number would become an HTML attribute in formgrader), so no key the kernel
chose survives (a grader's mark among them: grading/errors.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
from dataclasses import dataclass, field

from nbformat.v4 import new_output

from grading.notes import CELL_OUTPUT_CUT
from utils.answers import MAX_NAME
from utils.answers import MIME_TYPE as ANSWER_TYPE

PICTURES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
STATUSES = ("ok", "timeout", "kernel-died")
STOPS = ("stuck", "notebook-budget", "kernel-died")
ERROR_NAME = re.compile(rf"[A-Za-z_][\w.]{{0,{MAX_NAME - 1}}}")  # an error's name, as a record's
MAX_MESSAGE = 4000  # characters of an error's message
MAX_TRACEBACK = 20_000  # characters of an error's traceback, all lines
MAX_PICTURE_SIDE = 10_000  # pixels


@dataclass
class CellRun:
    """What the box reports of one cell."""

    status: str  # one of STATUSES
    seconds: float | None  # unloaded seconds it took, as the box measured them
    outputs: list


@dataclass
class BoxReport:
    """Everything read from one box's file."""

    cells: dict[int, CellRun] = field(default_factory=dict)
    started: bool = False  # the runner said the kernel had started
    stopped: str | None = None  # why the box stopped early, one of STOPS
    stopped_at: int | None = None
    cut: bool = False  # the file was larger than the grader reads


def read_report(
    descriptor: int, max_bytes: int, max_cell_bytes: int, cut_note: str = CELL_OUTPUT_CUT
) -> BoxReport:
    """The checked report in the file open at descriptor, read from its start (the descriptor stays
    open). cut_note, with {limit} in it, ends a cell's outputs cut at max_cell_bytes."""
    report = BoxReport()
    with os.fdopen(os.dup(descriptor), "rb") as file:
        file.seek(0)
        left = max_bytes
        while left > 0:
            line = file.readline(min(left, 4 * max_cell_bytes + 65536))
            if not line:
                break
            left -= len(line)
            if not line.endswith(b"\n"):
                report.cut = True  # a line too long, or the end of the cap
                break
            try:
                add_data(report, json.loads(line), max_cell_bytes, cut_note)
            except (ValueError, RecursionError):
                continue
        else:
            report.cut = bool(file.read(1))
    return report


def add_data(report: BoxReport, data, max_cell_bytes: int, cut_note: str) -> None:
    """Add one line of the file, read as JSON, to report, if it is one the runner writes."""
    if not isinstance(data, dict):
        return
    if data.get("ready") is True:
        report.started = True
        return
    if data.get("stopped") in STOPS and _index(data.get("at")) is not None:
        if report.stopped is None:
            report.stopped, report.stopped_at = data["stopped"], data["at"]
        return
    index = _index(data.get("cell"))
    if index is None or index in report.cells or data.get("status") not in STATUSES:
        return
    seconds = data.get("seconds")
    if not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and math.isfinite(seconds)):
        seconds = None
    outputs = data.get("outputs") if isinstance(data.get("outputs"), list) else []
    report.cells[index] = CellRun(data["status"], seconds, checked_outputs(outputs, max_cell_bytes, cut_note))


def _index(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 100_000 else None


def checked_outputs(outputs: list, max_bytes: int, cut_note: str) -> list:
    """The outputs that pass checked_output, up to max_bytes of JSON in all, then cut_note if cut."""
    kept, used = [], 0
    for output in outputs:
        output = checked_output(output)
        if output is None:
            continue
        used += len(json.dumps(output, ensure_ascii=False).encode())
        if used > max_bytes:
            note = cut_note.format(limit=max_bytes) + "\n"
            kept.append(new_output("stream", name="stdout", text=note))
            break
        kept.append(output)
    return kept


def checked_output(output) -> dict | None:
    """A new output made of output's safe parts, or None."""
    if not isinstance(output, dict):
        return None
    kind = output.get("output_type")
    if kind == "stream":
        name, text = output.get("name"), _text(output.get("text"))
        if name not in ("stdout", "stderr") or text is None:
            return None
        return new_output("stream", name=name, text=text)
    if kind == "error":
        name = output.get("ename")
        name = name if isinstance(name, str) and ERROR_NAME.fullmatch(name) else "Error"
        message = (_text(output.get("evalue")) or "")[:MAX_MESSAGE]
        lines = output.get("traceback") if isinstance(output.get("traceback"), list) else []
        traceback, size = [], 0
        for line in filter(None, map(_text, lines)):
            size += len(line)
            if size > MAX_TRACEBACK:
                break
            traceback.append(line)
        return new_output("error", ename=name, evalue=message, traceback=traceback)
    if kind in ("display_data", "execute_result"):
        data, metadata = checked_data(output.get("data")), {}
        if not data:
            return None
        given = output.get("metadata") if isinstance(output.get("metadata"), dict) else {}
        for picture in PICTURES:
            size = given.get(picture)
            if picture in data and isinstance(size, dict):
                sides = {key: size[key] for key in ("width", "height") if _side(size.get(key))}
                if sides:
                    metadata[picture] = sides
        if kind == "display_data":
            return new_output("display_data", data=data, metadata=metadata)
        count = output.get("execution_count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
        return new_output("execute_result", data=data, metadata=metadata, execution_count=count)
    return None


def checked_data(data) -> dict:
    """{type: value} of data's plain text, checked pictures and answer record."""
    if not isinstance(data, dict):
        return {}
    kept = {}
    text = _text(data.get("text/plain"))
    if text is not None:
        kept["text/plain"] = text
    for picture, signature in PICTURES.items():
        encoded = _text(data.get(picture))
        if encoded is not None and is_picture(encoded, signature):
            kept[picture] = encoded
    if isinstance(data.get(ANSWER_TYPE), (dict, str)):
        kept[ANSWER_TYPE] = data[ANSWER_TYPE]  # plain JSON, read by grading/plugins/verdicts.py
    return kept


def is_picture(encoded: str, signature: bytes) -> bool:
    """True when encoded is base64 of a file that starts with signature."""
    try:
        raw = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(signature)


def _side(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_PICTURE_SIDE


def _text(value) -> str | None:
    """A string, or a list of strings joined (nbformat's multiline form)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return "".join(value)
    return None
