"""What a submission may hold, checked before it is graded: the student's id,
its files (plain files and folders only, within size limits) and its
notebooks compared with their release.

Grading runs as root, and nbgrader follows links when it reads or copies a
submission: a link to source/ would be graded as the instructor's solution,
one to a root-only file would come back readable in autograded/.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat
from dateutil.tz import gettz
from nbgrader.utils import parse_utc

from grading.reasons import Reason, Why
from utils.i18n import ENGLISH, notebook_language

MiB = 1024 * 1024
MAX_FILE_BYTES = 20 * MiB  # a notebook with its outputs is well under 1 MiB
MAX_SUBMISSION_BYTES = 50 * MiB  # all files of one student's submission
MAX_SUBMISSION_FILES = 1000  # files and folders of one submission
MAX_DEPTH = 20  # folders inside folders

# Left behind by operating systems and editors, never part of an answer:
# macOS's resource forks (__MACOSX/, ._name) and Finder data, Jupyter's autosaves.
JUNK_FOLDERS = frozenset({"__MACOSX", ".ipynb_checkpoints"})
JUNK_FILES = frozenset({".DS_Store"})

# Student ids name folders, nbgrader's --student option (a glob) and gradebook rows: ASCII
# letters and digits (no look-alikes, no Unicode normalization that differs between macOS
# and Linux) and . @ + -, never first: no hidden folder, ".", "..", "-x", glob or path separator.
STUDENT_ID = re.compile(r"[A-Za-z0-9@+][A-Za-z0-9.@+-]{0,63}")


def student_id_problem(name: str) -> str | None:
    """Why name cannot be a student id (see STUDENT_ID), or None when it can."""
    if STUDENT_ID.fullmatch(name):
        return None
    return (
        f"{name!r} is not a valid student id (1 to 64 letters, digits and . @ + -, not starting with . or -)"
    )


def valid_student_id(name: str) -> bool:
    """True when name may be a student id (checked before it names a folder or reaches nbgrader)."""
    return student_id_problem(name) is None


def layout_students(folder: Path, assignment: str) -> list[str]:
    """The names of folder's entries that hold an <assignment> entry (nbgrader's
    <student>/<assignment> layout), sorted; links too, so that they are refused
    rather than passed over. What the grading command grades from submitted/ and
    the LMS exports give 0 when the gradebook has no submission."""
    with os.scandir(folder) as entries:
        return sorted(entry.name for entry in entries if os.path.lexists(Path(entry.path, assignment)))


# An assignment's name names folders that the grading command empties before it files
# or grades: one path component, never ".", ".." or option-like.
ASSIGNMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def assignment_name_problem(name: str) -> str | None:
    """Why name cannot be an assignment's name, or None when it can."""
    if ASSIGNMENT_NAME.fullmatch(name):
        return None
    return (
        f"{name!r} is not a valid assignment name (1 to 64 letters, digits and . _ -, "
        "not starting with . _ or -)"
    )


def is_junk(name: str) -> bool:
    """True for what operating systems and editors leave in a folder (see JUNK_FOLDERS)."""
    return name in JUNK_FOLDERS or name in JUNK_FILES or name.startswith("._")


class RefusedError(Exception):
    """A submission or file that is not taken; the message says why."""


def describe(mode: int) -> str:
    """What a file that is neither a plain file nor a folder is, in words."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "a special file"


def size_in_words(size: int) -> str:
    return f"{size / MiB:.1f} MiB" if size >= MiB else f"{size} bytes"


def _open_entry(name: str, dir_fd: int | None, label: PurePosixPath | str) -> tuple[int, os.stat_result]:
    """Open a plain file or folder, never through a link: (descriptor, stat).
    It is looked at first (opening a FIFO or a device can block or act), opened
    with O_NOFOLLOW, and checked again once open: a file swapped in between is refused."""
    try:
        before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as error:
        raise RefusedError(f"{label} cannot be read ({error.strerror})") from None
    if not (stat.S_ISREG(before.st_mode) or stat.S_ISDIR(before.st_mode)):
        raise RefusedError(f"{label} is {describe(before.st_mode)}")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise RefusedError(f"{label} is a symbolic link") from None
        raise RefusedError(f"{label} cannot be read ({error.strerror})") from None
    after = os.fstat(fd)
    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise RefusedError(f"{label} changed while it was being read")
    return fd, after


@dataclass
class Entry:
    """One file met by walk_files: an open plain file, or why it is not one."""

    path: PurePosixPath  # relative to the folder walked
    fd: int | None = None  # open for reading; closed when the walk moves on
    size: int = 0
    problem: str | None = None  # set for a link, a special file, a folder too deep


def walk_files(folder: Path, *, skip_junk: bool = False) -> Iterator[Entry]:
    """Walk folder without following links, in name order: an Entry with an open
    descriptor for each plain file, one with a problem for anything else (never
    opened or entered). Names are opened relative to their folder's descriptor
    with O_NOFOLLOW, so no link is followed even if the folder changes meanwhile. Raises
    RefusedError when folder is not a plain folder."""
    fd, info = _open_entry(str(folder), None, folder.name)
    try:
        if not stat.S_ISDIR(info.st_mode):
            raise RefusedError(f"{folder.name} is not a folder")
        yield from _walk(fd, PurePosixPath(), skip_junk)
    finally:
        os.close(fd)


def _walk(dir_fd: int, relative: PurePosixPath, skip_junk: bool) -> Iterator[Entry]:
    for name in sorted(os.listdir(dir_fd)):
        if skip_junk and is_junk(name):
            continue
        path = relative / name
        try:
            fd, info = _open_entry(name, dir_fd, path)
        except RefusedError as problem:
            yield Entry(path, problem=str(problem))
            continue
        try:
            if not stat.S_ISDIR(info.st_mode):
                yield Entry(path, fd=fd, size=info.st_size)
            elif len(path.parts) > MAX_DEPTH:
                yield Entry(path, problem=f"{path} is nested more than {MAX_DEPTH} folders deep")
            else:
                yield from _walk(fd, path, skip_junk)
        finally:
            os.close(fd)


def submission_files(folder: Path, *, skip_junk: bool = False) -> Iterator[Entry]:
    """The plain files of one student's submission folder, as walk_files
    yields them; raises RefusedError at the first thing that refuses the whole
    submission: a link or special file anywhere, a file over MAX_FILE_BYTES,
    more than MAX_SUBMISSION_BYTES or MAX_SUBMISSION_FILES in all."""
    count = total = 0
    # closing(): a refusal stops the walk, and the walk's descriptors are closed at once.
    with closing(walk_files(folder, skip_junk=skip_junk)) as entries:
        for entry in entries:
            if entry.problem:
                raise RefusedError(entry.problem)
            count += 1
            total += entry.size
            if entry.size > MAX_FILE_BYTES:
                raise RefusedError(
                    f"{entry.path} is {size_in_words(entry.size)}, over the limit of "
                    f"{size_in_words(MAX_FILE_BYTES)} per file"
                )
            if total > MAX_SUBMISSION_BYTES:
                raise RefusedError(f"the submission is over {size_in_words(MAX_SUBMISSION_BYTES)} in all")
            if count > MAX_SUBMISSION_FILES:
                raise RefusedError(f"the submission has more than {MAX_SUBMISSION_FILES} files")
            yield entry


def check_submission_folder(folder: Path) -> str | None:
    """Why a submitted/<student>/<assignment>/ folder must not be graded, or None:
    it or its student's folder is a link, or it holds anywhere (junk too: nbgrader
    copies it) what submission_files refuses. Files are opened, never through a
    link, but not read."""
    folder = Path(folder)
    if folder.parent.is_symlink():
        return f"the student's folder {folder.parent.name} is a symbolic link"
    try:
        for _ in submission_files(folder):
            pass
    except RefusedError as refusal:
        return str(refusal)
    return None


def extra_notebooks(folder: Path, release_names: Iterable[str], handed_out: Iterable[str] = ()) -> list[str]:
    """The notebooks in a submission folder that are not the assignment's (paths
    relative to folder, sorted): reported, not refused. release_names may end in
    ".ipynb" or not; handed_out are the ungraded notebooks the release gives
    (Course.companion_notebooks), which a student may hand back unremarked."""
    expected = {name if name.endswith(".ipynb") else f"{name}.ipynb" for name in release_names}
    expected |= set(handed_out)
    extras = []
    for parent, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not is_junk(name)]
        relative = PurePosixPath(Path(parent).relative_to(folder))
        for name in files:
            path = relative / name
            if name.endswith(".ipynb") and not is_junk(name) and str(path) not in expected:
                extras.append(str(path))
    return sorted(extras)


# How much more than its release a submitted notebook may hold: every cell costs grading
# time and markdown costs rendering time (some grows with the square of its length), so
# a notebook far larger than a student makes is refused before anything runs.
SIZE_FACTOR = 4
MIN_MARKDOWN_CELL = 10_000  # characters a written answer may always have
EXTRA_TEXT = 50_000  # characters a notebook may always add to SIZE_FACTOR x its release's


def cell_size(cell) -> int:
    """Characters of a cell's text, its attachments (pictures pasted into
    markdown) included."""
    attachments = cell.get("attachments")
    return len(cell.source) + (len(json.dumps(attachments)) if attachments else 0)


def size_problem(submitted, release) -> str | None:
    """Why a submitted notebook is too large next to its release, or None."""
    most_cells = SIZE_FACTOR * len(release.cells)
    if len(submitted.cells) > most_cells:
        return f"it has {len(submitted.cells)} cells, more than the {most_cells} allowed"
    text = [cell_size(cell) for cell in release.cells if cell.cell_type != "code"]
    longest = max(SIZE_FACTOR * max(text, default=0), MIN_MARKDOWN_CELL)
    for index, cell in enumerate(submitted.cells):
        if cell.cell_type != "code" and cell_size(cell) > longest:
            return f"cell {index} holds {cell_size(cell)} characters of text, over the {longest} allowed"
    most_text = SIZE_FACTOR * sum(map(cell_size, release.cells)) + EXTRA_TEXT
    total = sum(map(cell_size, submitted.cells))
    if total > most_text:
        return f"its cells hold {total} characters, more than the {most_text} allowed"
    return None


# A time zone written as a number after a space ("12:00:00 -0500"), which
# nbgrader 0.9.6's parse_utc misreads: as seconds ("-0500": 8 min 20 s) or
# not at all ("-05:00": taken as UTC).
SPACED_NUMERIC_ZONE = re.compile(r"\S+ \S+ [+-]?[0-9]{1,2}:?[0-9]{2}")
TIMESTAMP_EXAMPLE = "2026-12-05 12:00:00 UTC, or 2026-12-05 07:00:00 America/New_York"


def timestamp_problem(folder: Path) -> str | None:
    """Why nbgrader would read the submission's timestamp.txt wrong or not
    at all, or None (also when there is none). The instructor writes this
    file for an LMS download; nbgrader's own are always readable."""
    path = Path(folder) / "timestamp.txt"
    if path.is_symlink() or not path.is_file():
        return None  # a link is refused with the folder (check_submission_folder)
    with open(path, "rb") as file:
        text = file.read(200).decode("utf-8", errors="replace").strip()
    if SPACED_NUMERIC_ZONE.fullmatch(text):
        return (
            f"timestamp.txt holds {text!r}, whose numeric time zone nbgrader misreads: "
            f"write the zone's name, such as {TIMESTAMP_EXAMPLE}"
        )
    parts = text.split(" ")
    if len(parts) == 3 and gettz(parts[2]) is None:  # nbgrader would take the time as UTC
        return f"timestamp.txt holds {text!r}: no time zone is called {parts[2]!r}; write {TIMESTAMP_EXAMPLE}"
    try:
        parse_utc(text)
    except (ValueError, OverflowError, TypeError):
        return f"timestamp.txt holds {text!r}, which is no time nbgrader can read: write {TIMESTAMP_EXAMPLE}"
    return None


# The Chinese edition of an assignment is the assignment <name>_zh (the LMS
# exports merge the two: grading/plugins/lms.py).
EDITION_SUFFIX = "_zh"


def english_assignment(assignment: str) -> str:
    """The English assignment of either edition: initialization for initialization_zh."""
    return assignment.removesuffix(EDITION_SUFFIX)


def editions(assignment: str) -> tuple[str, str]:
    """(the English assignment, its Chinese edition) of either of them."""
    english = english_assignment(assignment)
    return english, english + EDITION_SUFFIX


def other_edition(assignment: str) -> str:
    """The assignment's other edition: initialization_zh for initialization, and back."""
    english, chinese = editions(assignment)
    return chinese if assignment == english else english


def edition_problem(submitted, release, assignment: str) -> str | None:
    """Why a notebook of the other edition cannot be graded as this assignment's, or
    None: its cells and checks differ, so every cell would count as changed."""
    language = notebook_language(submitted)
    if language == notebook_language(release):
        return None
    english = english_assignment(assignment)
    other = english if language == ENGLISH else english + EDITION_SUFFIX
    return (
        f"is the notebook of the other edition, {other} (its metadata says it is in {language}): "
        f"grade it there, for instance `python -m grading.grade {other} <the same download>`"
    )


def folder_problem(folder: Path) -> Reason | None:
    """Why a submission folder is not graded as it is, or None: refused for what the student
    handed in (check_submission_folder), or the course's fault for the time of submission the
    instructor wrote (timestamp_problem: once it is fixed, the student is graded again)."""
    if refused := check_submission_folder(folder):
        return Reason(Why.REFUSED, f"refused: {refused}")
    wrong_time = timestamp_problem(folder)
    return Reason(Why.COURSE_FAULT, f"not graded: {wrong_time}") if wrong_time else None


def notebook_problem(submitted, release, name: str, assignment: str) -> str | None:
    """Why a readable submitted notebook (file name name) is refused, or None: too large,
    or of the assignment's other edition."""
    if too_large := size_problem(submitted, release):
        return f"{name} is too large to grade ({too_large})"
    wrong_edition = edition_problem(submitted, release, assignment)
    return f"{name} {wrong_edition}" if wrong_edition else None


def inspect_submission(path: Path, release) -> tuple[list[Reason], bool]:
    """(notes, readable) for one submitted notebook, compared with its release.
    readable is False (the notes say why) when the file is missing, invalid, too
    large or of the other edition; otherwise the notes list the grade cells the
    student deleted, duplicated, retyped or edited (locked ones), which nbgrader restores."""
    if not path.exists():
        return [Reason(Why.MISSING_NOTEBOOK, f"no {path.name} in the submission")], False
    try:
        submitted = nbformat.read(path, as_version=4)
        nbformat.validate(submitted)
    except Exception as error:  # any unreadable file: JSON, encoding, schema
        return [Reason(Why.UNREADABLE, f"unreadable {path.name} ({type(error).__name__})")], False
    if refused := notebook_problem(submitted, release, path.name, assignment=path.parent.name):
        return [Reason(Why.REFUSED, f"refused: {refused}")], False
    submitted_cells = {}
    for cell in submitted.cells:
        info = cell.get("metadata", {}).get("nbgrader")
        grade_id = info.get("grade_id") if isinstance(info, dict) else None
        if isinstance(grade_id, str) and grade_id:
            submitted_cells.setdefault(grade_id, []).append(cell)
    notes = []
    known = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in release.cells}
    for grade_id in sorted(set(submitted_cells) - known)[:5]:
        text = f"ignored the grading metadata of a cell named {grade_id[:40]!r} (no cell of {path.name})"
        notes.append(Reason(Why.IGNORED_CELL, text))
    for cell in release.cells:
        info = cell.metadata.get("nbgrader", {})
        grade_id = info.get("grade_id")
        if not grade_id or not (info.get("grade") or info.get("locked")):
            continue
        copies = submitted_cells.get(grade_id, [])
        if not copies:
            notes.append(Reason(Why.RESTORED_CELL, f"deleted cell {grade_id} (restored)"))
            continue
        if len(copies) > 1:
            notes.append(Reason(Why.RESTORED_CELL, f"duplicated cell {grade_id} (extra copy ignored)"))
        kept = copies[-1]  # nbgrader keeps the last copy
        if kept.cell_type != cell.cell_type:
            notes.append(Reason(Why.RESTORED_CELL, f"retyped cell {grade_id} (restored)"))
        elif info.get("locked") and kept.source != cell.source:
            notes.append(Reason(Why.RESTORED_CELL, f"edited locked cell {grade_id} (restored)"))
    return notes, True
