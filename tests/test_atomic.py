"""grading/atomic.py: files the grading command rewrites, never seen half written."""

import json
import os

import pytest

from grading.atomic import write_atomically, write_json


def test_a_file_the_command_rewrites_is_replaced_in_one_rename(tmp_path, monkeypatch):
    """grades.csv, the summary, the report's files and extensions.csv are
    written beside their place and renamed over it: a write that fails
    before the rename leaves the earlier file whole and nothing beside it.
    The new file keeps the old one's permissions, and a link's target is
    the file rewritten."""
    path = tmp_path / "grades.csv"
    path.write_text("the earlier grades\n")
    path.chmod(0o600)  # made private by the instructor

    def cut_short(source, target):
        raise OSError("killed mid-write")

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", cut_short)
        with pytest.raises(OSError, match="killed"):
            write_atomically(path, "the new grades\n")
    assert path.read_text() == "the earlier grades\n"
    assert sorted(item.name for item in tmp_path.iterdir()) == ["grades.csv"]

    write_atomically(path, "the new grades\n")
    assert path.read_text() == "the new grades\n"
    assert path.stat().st_mode & 0o777 == 0o600
    link = tmp_path / "grades-link.csv"
    link.symlink_to(path)
    write_atomically(link, "through the link\n")
    assert link.is_symlink() and path.read_text() == "through the link\n"


def test_json_is_written_readable_in_one_rename(tmp_path):
    path = tmp_path / "summary.json"
    write_json(path, {"student": "José", "points": [1.5, 3]})
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and "José" in text  # as typed, not \u00e9
    assert json.loads(text) == {"student": "José", "points": [1.5, 3]}
    assert sorted(item.name for item in tmp_path.iterdir()) == ["summary.json"]


def test_a_file_name_that_is_not_utf8_is_written_escaped(tmp_path):
    """Python keeps a name's bytes that are not UTF-8 as lone surrogates, which
    UTF-8 cannot encode: they are written as their escapes, not an error."""
    path = tmp_path / "summary.json"
    name = os.fsdecode(b"dave_\xff.ipynb")
    write_json(path, {"refused": name})
    assert path.read_text(encoding="utf-8") == '{\n "refused": "dave_\\udcff.ipynb"\n}\n'
