"""Bringing submissions into the course's submitted/ folder, and refusing
what is not a plain notebook from that student.

A folder in nbgrader's layout is copied; a zip or folder downloaded from a
learning platform (grading/plugins/download_names.py) is filed as nbgrader's
zip_collect would. Nothing handed in is trusted (grading/submissions.py says why):
no link is followed, only plain files within size limits are taken, no
archive inside a download is unpacked (its files could claim to be another
student's), and every student id is checked. One refusal never stops the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path, PurePosixPath

from nbgrader.apps.zipcollectapp import ZipCollectApp
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import parse_utc

from grading.command.course import Course
from grading.errors import GradingError
from grading.plugins.download_names import MOODLE_FOLDER, DownloadName, read_download_name
from grading.submissions import (
    MAX_FILE_BYTES,
    MAX_SUBMISSION_BYTES,
    RefusedError,
    describe,
    edition_problem,
    is_junk,
    layout_students,
    size_in_words,
    student_id_problem,
    submission_files,
    valid_student_id,
    walk_files,
)

GiB = 1024 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 2 * GiB  # a whole zip or folder of downloads, all students
MAX_DOWNLOAD_FILES = 10_000
TOO_MANY_FILES = f"more than {MAX_DOWNLOAD_FILES} files: the rest were not read"
CHUNK = 1024 * 1024  # bytes read at a time

# Archives are refused by name and by their first bytes (a notebook starts with "{").
ARCHIVE_SUFFIXES = frozenset(
    {".zip", ".jar", ".tar", ".gz", ".tgz", ".bz2", ".tbz", ".tbz2", ".xz", ".txz"}
    | {".lz", ".lzma", ".zst", ".z", ".7z", ".rar"}
)
ARCHIVE_SIGNATURES = {
    b"PK\x03\x04": "zip",
    b"PK\x05\x06": "zip",  # an empty zip
    b"\x1f\x8b": "gzip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"Rar!\x1a\x07": "rar",
}


@dataclass(frozen=True)
class Refusal:
    """A student, or a download whose files name no valid student, left out of
    grading, and why. An earlier submission of theirs in submitted/ stays."""

    student_or_file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.student_or_file}: {self.reason}"


@dataclass
class Collected:
    """What collect() brought in, refused and has to say."""

    students: list[str] = field(default_factory=list)  # collected into submitted/, sorted
    refusals: list[Refusal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # taken, with something the instructor should know


def collect(course: Course, assignment: str, source: str | Path) -> Collected:
    """Bring submissions from source (a folder in nbgrader's layout, or a zip or
    folder of downloads) into submitted/; return whom it collected and what it
    refused. Raises GradingError when source is neither a folder nor a zip file."""
    source = Path(source).resolve()
    if source.is_dir() and is_nbgrader_layout(source, assignment):
        if source == course.submitted_root().resolve():  # already where it belongs
            return Collected(students=[s for s in layout_students(source, assignment) if valid_student_id(s)])
        return copy_layout(course, assignment, source)
    if not (source.is_dir() or zipfile.is_zipfile(source)):
        raise GradingError(f"{source} is neither a folder nor a zip file")
    return collect_downloads(course, assignment, source)


def is_nbgrader_layout(folder: Path, assignment: str) -> bool:
    """True when folder holds <student>/<assignment>/ subfolders and is not a
    Moodle download (one student's folder named <assignment> must not make the
    whole download read as nbgrader's layout)."""
    with os.scandir(folder) as entries:
        if any(MOODLE_FOLDER.fullmatch(entry.name) for entry in entries):
            return False
    return bool(layout_students(folder, assignment))


def submitted_students(course: Course, assignment: str) -> tuple[list[str], list[Refusal]]:
    """(students, refusals) of submitted/<student>/<assignment>/: an invalid id is
    refused, since "*" or ".." must never name a path (what each folder holds is
    checked right before nbgrader reads it)."""
    root = course.submitted_root()
    students, refusals = [], []
    for name in layout_students(root, assignment) if root.is_dir() else []:
        if reason := student_id_problem(name):
            refusals.append(Refusal(name, reason))
        else:
            students.append(name)
    return students, refusals


def unsafe_destination(course: Course, student: str, assignment: str) -> str | None:
    """Why submitted/<student>/<assignment>/ must not be written, or None: a link
    there would have the files written wherever it points."""
    destination = course.folder("submitted", student, assignment)
    for path in (destination.parent, destination):
        if path.is_symlink():
            return f"{os.path.relpath(path, course.root)} is a symbolic link: nothing is written through it"
    return None


def copy_capped(read: Callable[[int], bytes], destination: Path, label: str) -> int:
    """Copy what read(n) returns into the new file destination; return its size.
    Raises RefusedError once the copy is over MAX_FILE_BYTES (a zip bomb stops there)."""
    size = 0
    with open(destination, "xb") as copy:
        while chunk := read(CHUNK):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise RefusedError(f"{label} is over the limit of {size_in_words(MAX_FILE_BYTES)} per file")
            copy.write(chunk)
    return size


# -------------------------------------------- a folder in nbgrader's layout


def copy_layout(course: Course, assignment: str, source: Path) -> Collected:
    """Copy each <student>/<assignment>/ of source into submitted/."""
    collected = Collected()
    for student in layout_students(source, assignment):
        reason = student_id_problem(student) or copy_submission(course, assignment, student, source)
        if reason:
            collected.refusals.append(Refusal(student, reason))
        else:
            collected.students.append(student)
    return collected


def copy_submission(course: Course, assignment: str, student: str, source: Path) -> str | None:
    """Copy source/<student>/<assignment>/ into submitted/; None, or why not. Refused
    whole at a link, a special file or a size limit; the copy is put in place only
    once complete, so a refusal keeps the earlier submission."""
    if (source / student).is_symlink():
        return f"the folder {student} is a symbolic link"
    if reason := unsafe_destination(course, student, assignment):
        return reason
    destination = course.folder("submitted", student, assignment)
    # A hidden folder of submitted/, which names no student.
    course.submitted_root().mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=".incoming-", dir=course.submitted_root()))
    try:
        for entry in submission_files(source / student / assignment, skip_junk=True):
            target = incoming / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            copy_capped(partial(os.read, entry.fd), target, str(entry.path))
        put_in_place(incoming, destination)
    except RefusedError as refusal:
        return str(refusal)
    except OSError as error:
        return f"could not be copied ({error})"
    finally:
        shutil.rmtree(incoming, ignore_errors=True)  # gone already when it was put in place
    return None


# --------------------------------------- downloads from a learning platform


@dataclass
class Download:
    """One file of a zip or folder downloaded from a learning platform."""

    origin: str  # its path in the zip or folder, as reported
    name: str  # its base name; once its student is known, the name zip_collect is given
    staged: Path | None = None  # a copy of its bytes, once read
    size: int = 0
    problem: str | None = None  # why it is refused
    student: str | None = None  # from its name, once read and found valid
    notebook: str | None = None  # the file it becomes in submitted/<student>/<assignment>/
    timestamp: datetime | None = None  # the time of submission in its name, if any
    late_on_lms: bool = False  # Canvas marked it late, without a time
    parsed: DownloadName | None = None  # its name as nbgrader's, Canvas's or Moodle's, once read


class Staging:
    """A temporary folder holding the plain files read from a download, and
    what they have cost so far (MAX_DOWNLOAD_FILES, MAX_DOWNLOAD_BYTES)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files = 0
        self.bytes = 0

    def full(self) -> bool:
        return self.files >= MAX_DOWNLOAD_FILES

    def add(self, download: Download, read: Callable[[int], bytes]) -> None:
        """Copy the download's bytes from read(n), within the limits, and
        refuse it if it turns out to be an archive."""
        if self.bytes > MAX_DOWNLOAD_BYTES:
            download.problem = (
                f"{download.origin} was not read: the download is over "
                f"{size_in_words(MAX_DOWNLOAD_BYTES)} in all"
            )
            return
        self.files += 1
        staged = self.folder / str(self.files)  # numbered: two downloads may share a name
        try:
            download.size = copy_capped(read, staged, download.origin)
            kind = archive_kind_by_content(staged)
            if kind:
                download.problem = archive_problem(download.origin, kind)
        except RefusedError as refusal:
            download.problem = str(refusal)
        except Exception as error:  # anything unreadable: a disk error, a zip's CRC or encryption
            download.problem = f"{download.origin} cannot be read ({type(error).__name__}: {error})"
        if staged.exists():
            self.bytes += staged.stat().st_size
        if download.problem:
            staged.unlink(missing_ok=True)
        else:
            download.staged = staged


def archive_kind_by_name(name: str) -> str | None:
    suffix = PurePosixPath(name.lower()).suffix
    return suffix[1:] if suffix in ARCHIVE_SUFFIXES else None


def archive_kind_by_content(path: Path) -> str | None:
    """The kind of archive the file at path is ("zip", "gzip", ...), or None."""
    with open(path, "rb") as file:
        head = file.read(512)
    for signature, kind in ARCHIVE_SIGNATURES.items():
        if head.startswith(signature):
            return kind
    if head[257:262] == b"ustar":
        return "tar"
    # A zip's directory is at its end: a zip behind other bytes is one too.
    return "zip" if zipfile.is_zipfile(path) else None


def archive_problem(origin: str, kind: str) -> str:
    return f"{origin} is an archive ({kind}), and archives inside a download are not unpacked"


def zip_downloads(source: Path, staging: Staging) -> Iterator[Download]:
    """The files of a zip, each read into staging or refused (folders and junk
    skipped): links, special files, nested archives and members over
    MAX_FILE_BYTES are never extracted. Each keeps only its base name, so none
    can be written outside the archive folder."""
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, UnicodeDecodeError, OSError) as error:  # a name flagged UTF-8 that is not
        problem = f"{type(error).__name__}: {error}"
        raise GradingError(f"{source} cannot be read as a zip file ({problem})") from None
    with archive:
        for info in archive.infolist():
            name = member_name(info)
            parts = [part for part in name.replace("\\", "/").split("/") if part]
            mode = info.external_attr >> 16  # Unix file type and permissions, 0 if none recorded
            if info.is_dir() or stat.S_ISDIR(mode) or not parts or any(map(is_junk, parts)):
                continue
            if staging.full():
                yield Download(source.name, source.name, problem=TOO_MANY_FILES)
                return
            download = Download(name, parts[-1])
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                download.problem = f"{name} is {describe(mode)}"
            elif download.name in (".", ".."):
                download.problem = f"{name} has no file name"
            elif kind := archive_kind_by_name(download.name):
                download.problem = archive_problem(name, kind)
            else:
                try:
                    with archive.open(info) as stream:
                        staging.add(download, stream.read)
                except Exception as error:  # a member zipfile cannot open: encrypted, unknown compression
                    download.problem = f"{name} cannot be read ({type(error).__name__}: {error})"
            yield download


UTF8_NAME_FLAG = 0x800  # a zip member's flag bit: its name is UTF-8


def member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's name in NFC. A name without the UTF-8 flag that is valid
    UTF-8 is read as UTF-8 (Linux's and macOS's zip tools write it there)."""
    name = info.filename
    if not info.flag_bits & UTF8_NAME_FLAG:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass  # a name in code page 437 indeed
    return unicodedata.normalize("NFC", name)


def folder_downloads(source: Path, staging: Staging) -> Iterator[Download]:
    """The files of a folder of downloads, each read into staging or refused:
    the same rules as zip_downloads, walked without following links."""
    with closing(walk_files(source, skip_junk=True)) as entries:
        for entry in entries:
            if staging.full():
                yield Download(source.name, source.name, problem=TOO_MANY_FILES)
                return
            download = Download(str(entry.path), entry.path.name, problem=entry.problem)
            if not is_utf8(download.origin):  # Linux allows any bytes in a name
                shown = os.fsencode(download.origin).decode("utf-8", "backslashreplace")
                download.problem = f"{shown}: its name is not UTF-8 text"
            if not download.problem:
                if kind := archive_kind_by_name(download.name):
                    download.problem = archive_problem(download.origin, kind)
                else:
                    staging.add(download, partial(os.read, entry.fd))
            yield download


def is_utf8(name: str) -> bool:
    """Whether a name read from the file system was valid UTF-8 (Python
    keeps other bytes as lone surrogates, which no text file can hold)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_names(course: Course, assignment: str, downloads: list[Download]) -> None:
    """Fill in each download's student, notebook and time of submission from its
    name, with the course's zip_collect collector (LmsFileNames in nbgrader_config.py).
    A refused download is named too, so that its student is refused whole; one taken
    gets the name zip_collect would file it by, <student>_[attempt_<time>_]<notebook>."""
    app = ZipCollectApp(config=course.config, log=course.log)
    app.coursedir = CourseDirectory(config=course.config, assignment_id=assignment)
    plugin = app.collector_plugin(parent=app)
    # zip_collect matches the path of each file it extracted.
    extracted = course.archive_folder(assignment).parent / app.extracted_directory
    for download in downloads:
        if not is_utf8(download.origin):
            continue  # refused: a name that is not text names no student
        # Read once, for the plugin and for Canvas's "late" and Moodle's folders below.
        download.parsed = read_download_name(download.origin)
        if hasattr(plugin, "identify"):
            info, problem = plugin.identify(download.origin, download.parsed)
        else:  # a course's own collector, which matches the path zip_collect would give it
            info, problem = plugin.collect(str(extracted / download.origin.lstrip("/"))), None
        student, file_id = (info or {}).get("student_id"), (info or {}).get("file_id")
        if not (isinstance(student, str) and isinstance(file_id, str)):
            download.problem = (
                download.problem or problem or f"{download.origin} is not named as a student's notebook"
            )
            continue
        if id_problem := student_id_problem(student):
            download.problem = download.problem or f"{download.origin}: {id_problem}"
            continue
        download.student = student
        # The name zip_collect gives the file in the student's folder.
        download.notebook = os.path.splitext(file_id)[0] + os.path.splitext(download.name)[1]
        if "/" in download.notebook or "\\" in download.notebook or download.notebook in (".", ".."):
            download.problem = download.problem or f"{download.origin} names a folder, not a notebook"
        timestamp = info.get("timestamp")
        if timestamp:
            try:
                download.timestamp = parse_utc(timestamp)
            except (ValueError, OverflowError):
                download.problem = download.problem or f"{download.origin}: {timestamp!r} is not a time"
        attempt = f"attempt_{timestamp}_" if timestamp else ""
        download.name = f"{student}_{attempt}{download.notebook}"
        if len(os.fsencode(download.notebook)) > MAX_NAME_BYTES:
            # Legal where it was made (macOS, Windows count characters), not here.
            download.problem = download.problem or f"{download.origin}: the file name is too long to file"
        download.late_on_lms = bool(download.parsed and download.parsed.late)
    if getattr(plugin, "worksheet_mismatches", 0):
        refuse_moodle_files(downloads, plugin.worksheet_mismatches)


def refuse_moodle_files(downloads: list[Download], mismatches: int) -> None:
    """Refuse every Moodle file of a download in which some folders name other
    people than the grading worksheet does: the worksheet is not this
    assignment's, and two students of the same name could be filed wrong."""
    for download in downloads:
        name = download.parsed
        if name is not None and name.platform == "Moodle" and not download.problem:
            download.problem = (
                f"{download.origin}: not filed, with every Moodle file of this download: "
                f"{mismatches} of its folders name someone else than the grading worksheet does "
                "for their participant number, so the worksheet is not this assignment's"
            )


def refuse_other_editions(course: Course, assignment: str, downloads: list[Download]) -> None:
    """Refuse each download that is a release notebook of the other edition
    (English or Chinese): an LMS has one assignment for both."""
    releases = course.release_notebooks(assignment)
    for download in downloads:
        release = releases.get(os.path.splitext(download.notebook or "")[0])
        if download.problem or download.staged is None or release is None:
            continue
        try:
            submitted = json.loads(download.staged.read_bytes())  # at most MAX_FILE_BYTES
        except (ValueError, RecursionError):
            continue  # not JSON, or nested too deeply to read: refused when it is graded, with the reason
        if isinstance(submitted, dict) and (problem := edition_problem(submitted, release, assignment)):
            download.problem = f"{download.origin} {problem}"


# The longest file name, in bytes, that Linux's file systems take.
MAX_NAME_BYTES = 255


def latest_copy(copies: list[Download]) -> Download | None:
    """Of several files for one student's notebook, the one whose name has the
    latest time; None when the names cannot tell (a missing or repeated time)."""
    if len(copies) == 1:
        return copies[0]
    times = [copy.timestamp for copy in copies]
    if None in times or times.count(max(times)) > 1:
        return None
    return copies[times.index(max(times))]


def choose_files(
    course: Course, assignment: str, source: Path, downloads: list[Download]
) -> tuple[dict[str, list[Download]], list[Refusal]]:
    """({student: the files to collect}, refusals). A refused file refuses its
    student whole (the rest would replace their submission with part of one); one
    naming no valid student is reported under the download's name. A student is also refused
    for two copies of a notebook whose names don't tell which is later, more than
    MAX_SUBMISSION_BYTES in all, or a destination that is a link."""
    refusals = []
    by_student = defaultdict(list)
    for download in downloads:
        if download.student:
            by_student[download.student].append(download)
        elif download.problem:
            refusals.append(Refusal(source.name, download.problem))
    chosen = {}
    for student, files in sorted(by_student.items()):
        problems = [download.problem for download in files if download.problem]
        by_notebook = defaultdict(list)
        for download in files:
            by_notebook[download.notebook].append(download)
        kept = []
        for notebook, copies in sorted(by_notebook.items()):
            latest = latest_copy(copies)
            if latest is None:
                names = ", ".join(download.origin for download in copies)
                problems.append(f"{len(copies)} files for {notebook} ({names}), none later by its name")
            else:
                kept.append(latest)
        if not problems and sum(download.size for download in kept) > MAX_SUBMISSION_BYTES:
            problems.append(f"the submission is over {size_in_words(MAX_SUBMISSION_BYTES)} in all")
        if not problems and (reason := unsafe_destination(course, student, assignment)):
            problems.append(reason)
        if problems:
            refusals.append(Refusal(student, "; ".join(problems)))
        else:
            chosen[student] = kept
    return chosen, refusals


def collect_downloads(course: Course, assignment: str, source: Path) -> Collected:
    """File a zip or folder of downloads into submitted/, each chosen file once, as
    nbgrader's zip_collect would; filed here, since zip_collect would read the
    names again and empty the archive folder where instructors keep downloads."""
    # Staged beside submitted/: the same disk, not a /tmp that may live in memory.
    course.root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".staging-", dir=course.root) as folder:
        staging = Staging(Path(folder))
        read = folder_downloads if source.is_dir() else zip_downloads
        downloads = list(read(source, staging))
        read_names(course, assignment, downloads)
        refuse_other_editions(course, assignment, downloads)
        chosen, refusals = choose_files(course, assignment, source, downloads)
        fingerprints = {student: fingerprint(files) for student, files in chosen.items()}
        unchanged = {s for s in chosen if filed_before(course, assignment, s) == fingerprints[s]}
        to_file = {student: files for student, files in chosen.items() if student not in unchanged}
        if to_file:
            print(f"Collecting {source.name}: filing {len(to_file)} submissions in submitted/", flush=True)
        for student, files in to_file.items():
            try:
                file_submission(course, assignment, student, files)
            except OSError as error:  # one student's folder never stops the others
                refusals.append(Refusal(student, f"could not be filed in submitted/: {error}"))
                continue
            with contextlib.suppress(OSError):  # without it, the next download files them again
                record_filed(course, assignment, student, fingerprints[student])
    refused = {refusal.student_or_file for refusal in refusals}
    collected = Collected(sorted(set(chosen) - refused), refusals)
    if unchanged:
        collected.notes.append(
            f"{', '.join(sorted(unchanged))}: the same files as in the download collected before: "
            "their folders in submitted/ were kept as they are (a fix or a timestamp.txt written there too)"
        )
    collected.notes += [
        f"{download.student}: {download.origin} is marked late by Canvas, whose file names carry "
        "no time: graded as on time (see the README's term walkthrough to apply the penalty)"
        for files in to_file.values()
        for download in files
        if download.late_on_lms and download.student not in refused
    ]
    return collected


def file_submission(course: Course, assignment: str, student: str, files: list[Download]) -> None:
    """Replace student's folder in submitted/ with these files and a timestamp.txt
    (the latest time their names give); a failure leaves the earlier one whole."""
    destination = course.folder("submitted", student, assignment)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".filing-", dir=destination.parent) as folder:
        new = Path(folder) / "new"
        new.mkdir()
        for download in files:
            shutil.copyfile(download.staged, new / download.notebook)
        times = [download.timestamp for download in files if download.timestamp is not None]
        if times:
            (new / "timestamp.txt").write_text(max(times).isoformat(" "), encoding="utf-8")
        put_in_place(new, destination)


def put_in_place(new: Path, destination: Path) -> None:
    """Move the folder new (on destination's file system) to destination,
    replacing the folder there, which comes back if the move fails."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    old = destination.with_name(f".{destination.name}.old")
    shutil.rmtree(old, ignore_errors=True)  # left by a run killed between the two renames
    if destination.exists():
        destination.rename(old)
    try:
        new.rename(destination)
    except OSError:
        if old.exists():
            old.rename(destination)
        raise
    shutil.rmtree(old, ignore_errors=True)


# The fingerprint of the files last filed from a download: the same files again leave
# the student's folder, and the instructor's changes in it, as they are.
FILED_FROM_DOWNLOAD = ".filed-from-download"


def fingerprint(files: list[Download]) -> str:
    """What a student's chosen files are: their names and bytes, hashed."""
    digest = hashlib.sha256()
    for download in sorted(files, key=lambda download: download.name):
        digest.update(download.name.encode() + b"\0")
        digest.update(download.staged.read_bytes())  # at most MAX_SUBMISSION_BYTES in all
    return digest.hexdigest()


def filed_before(course: Course, assignment: str, student: str) -> str | None:
    """The fingerprint of the files last filed for student from a download, if any."""
    marker = course.folder("submitted", student, assignment) / FILED_FROM_DOWNLOAD
    if marker.is_symlink() or not marker.is_file():
        return None
    return marker.read_text(encoding="utf-8", errors="replace")[:64]


def record_filed(course: Course, assignment: str, student: str, files_digest: str) -> None:
    """Note in student's folder the fingerprint of the files just filed there."""
    folder = course.folder("submitted", student, assignment)
    if folder.is_dir() and not folder.is_symlink():
        marker = folder / FILED_FROM_DOWNLOAD
        marker.unlink(missing_ok=True)  # a file, never followed through a link
        marker.write_text(files_digest, encoding="utf-8")
