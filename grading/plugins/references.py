"""The reference solution's runs: what the source notebook did when run as a
submission runs (the seconds each cell took, the answers each graded test
cell handed in), kept so that each source notebook runs once.

A store (ReferenceRuns) keeps them in memory for one command and, given a folder, each complete run
on disk under a fingerprint of everything it depends on; a run that fell short serves its command only.
Processes sharing the folder (a command's workers) run each notebook once: the others wait, then read.
The folder (.reference-runs/, the instructor's only) is trusted as source/ is: it sets the answers
every student must match, and no student's code runs where it can write there.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import grading
import utils
from grading.atomic import write_json
from grading.plugins.verdicts import Record, parse_record

FORMAT = 1  # of the files on disk: a new format never reads an old file
REFERENCE_RUNS = ".reference-runs"  # the course root's folder of them


@dataclass(frozen=True)
class Reference:
    """What the reference solution (the source notebook) did when run."""

    seconds: dict[str, float] = field(default_factory=dict)  # cell key -> seconds it took
    answers: dict[str, Record] = field(default_factory=dict)  # grade id -> its answer record
    # grade id -> the record as the kernel displayed it (JSON data): what the disk keeps
    displayed: dict[str, dict] = field(default_factory=dict)
    # False for a run that fell short: it serves its command, and is never kept.
    complete: bool = True


class ReferenceRuns:
    """The Reference of each source notebook run so far:
    {(path, modified, options): Reference}, and on disk under folder if given.

    Shared by every SandboxedExecute configured with it (c.SandboxedExecute.reference_runs), so
    a source notebook runs once per command.
    """

    def __init__(self, folder: Path | str | None = None):
        self.measured = {}
        self.folder = Path(folder) if folder else None
        self.command = ""  # the command whose runs a worker's store holds (start_from)
        # Threads sharing the store wait for one measure: never a second run, never a half-written store.
        self.lock = threading.Lock()

    def get(self, key, measure, name=None, check=None, log=None):
        """The Reference stored under key: from memory, else from the disk file name() names
        (check(reference) raises if the judge cannot use it), else measure(), kept in both."""
        with self.lock:
            if key not in self.measured:
                path = self.folder / f"{name()}.json" if self.folder and name else None
                # Worker processes share the folder: one measures while the others wait, then read.
                with RunLock(path) as run_lock:
                    reference = read_reference(path) if path else None
                    if reference is not None:
                        if check is not None:
                            check(reference)
                        if log is not None:
                            log.info("read the reference run kept in %s", path)
                    if reference is None:
                        if run_lock.fell_short_before():
                            run_lock.release()  # waiting for the next attempt gains nothing: run it now
                        run_lock.note_short(True)  # until this run is kept
                        reference = measure()
                        if path and reference.complete:
                            save_reference(path, reference, log)
                            run_lock.note_short(False)
                self.measured[key] = reference
            return self.measured[key]

    def start_from(self, measured: dict, command: str = "") -> None:
        """At a task of a new (or unnamed) command, forget every run but measured: a worker that
        outlives its command must not judge the next with an unchecked run kept in memory."""
        with self.lock:
            if not command or command != self.command:
                self.measured, self.command = dict(measured), command

    def __deepcopy__(self, memo):
        # traitlets deep-copies configured values: the store must stay one object to be shared.
        return self


class RunLock:
    """The lock of one run's file in the store (its notebook, mode and machine), shared by the
    processes of a course: one runs the reference, the others wait, then read what it kept. An
    advisory lock (flock), freed when its holder ends however it ends; without a folder, or where
    nothing can be locked, nobody waits. A run that fell short is noted in the lock's file, so that
    the processes waiting for it run it at once rather than one after another."""

    def __init__(self, path: Path | None):
        self.path, self.file = path, None

    def __enter__(self) -> RunLock:
        if self.path is None:
            return self
        kind = self.path.stem.rsplit("-", 1)[0]  # notebook-mode-machine: the files save_reference replaces
        try:
            self.path.parent.parent.mkdir(mode=0o700, exist_ok=True)  # the store's folder
            self.path.parent.mkdir(exist_ok=True)
            self.file = open(self.path.parent / f".{kind}.lock", "a+", encoding="utf-8")  # noqa: SIM115
            fcntl.flock(self.file, fcntl.LOCK_EX)
        except OSError:  # at worst, a run is measured twice at once
            self.release()
        return self

    def fell_short_before(self) -> bool:
        """Whether the last attempt at this very run (the same fingerprint) was not kept."""
        if self.file is None:
            return False
        self.file.seek(0)
        return self.file.read() == self.path.name

    def note_short(self, short: bool) -> None:
        if self.file is not None:
            self.file.truncate(0)
            self.file.write(self.path.name if short else "")  # "a+" writes at the end: here, at 0
            self.file.flush()

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # frees the lock
            self.file = None

    def __exit__(self, *exc) -> None:
        self.release()


def read_reference(path: Path) -> Reference | None:
    """The Reference saved at path, or None if there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return None
        displayed = data["records"]
        return Reference(
            seconds={str(key): float(value) for key, value in data["seconds"].items()},
            answers={grade_id: parse_record(record) for grade_id, record in displayed.items()},
            displayed=displayed,
        )
    except FileNotFoundError:
        return None
    except Exception as error:  # noqa: BLE001 (a damaged file is measured again)
        logging.getLogger(__name__).warning("ignoring the reference run saved at %s (%r)", path, error)
        return None


def save_reference(path: Path, reference: Reference, log=None) -> None:
    """Write reference to path (the store's folder is made mode 0700), deleting the files of the
    same notebook, mode and machine it replaces. A run that cannot be written is only not kept."""
    try:
        path.parent.parent.mkdir(mode=0o700, exist_ok=True)  # the store's folder
        path.parent.mkdir(exist_ok=True)  # the assignment's
        kind = path.stem.rsplit("-", 1)[0]
        for older in path.parent.glob(glob.escape(kind) + "-*.json"):
            if older.stem.rsplit("-", 1)[0] == kind:
                older.unlink(missing_ok=True)
        write_json(path, {"format": FORMAT, "seconds": reference.seconds, "records": reference.displayed})
    except OSError as error:
        (log or logging.getLogger(__name__)).warning(
            "could not keep the reference run in %s (%s)", path, error
        )


def fingerprint(source: Path, options: dict, sandbox_settings: dict) -> str:
    """A name for a run of the source notebook, "assignment/notebook-mode-machine-digest", the
    digest of everything the run depends on: the assignment's files, options, the grading package
    and course helpers, the Python environment, this machine, and the sandbox's settings."""
    place = hashlib.sha256(json.dumps(_machine()).encode())
    digest = hashlib.sha256(
        json.dumps([FORMAT, options, sandbox_settings, _machine()], sort_keys=True).encode()
    )
    for folder in (source.parent, *CODE):
        _add_files(digest, folder)
    # The distributions installed now: a run's kernel imports them afresh.
    installed = {f"{each.metadata['Name']}=={each.version}" for each in importlib.metadata.distributions()}
    _add_text(digest, IMPORTED_CODE, sys.version, sys.prefix, *sorted(installed))
    mode = "fast" if options.get("skip_experiments") else "full"
    return f"{source.parent.name}/{source.stem}-{mode}-{place.hexdigest()[:8]}-{digest.hexdigest()[:32]}"


def _add_files(digest, folder: Path) -> None:
    """Add each file below folder, links to files and folders followed."""
    for root, folders, files in os.walk(folder, followlinks=True):
        folders[:] = sorted(name for name in folders if name not in {"__pycache__", ".ipynb_checkpoints"})
        for name in sorted(files):
            path = Path(root, name)
            _add_text(digest, str(path.relative_to(folder)))
            digest.update(hashlib.sha256(path.read_bytes()).digest())


def _add_text(digest, *texts: str) -> None:
    for text in texts:
        digest.update(text.encode("utf-8", "backslashreplace") + b"\0")


def _machine() -> list[str]:
    """What the seconds a run takes depend on: this machine's name, processor and cores."""
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
        model = next((line for line in cpuinfo if line.startswith("model name")), "")
    return [platform.node(), platform.machine(), model.strip(), str(os.cpu_count())]


# The grading package and the course's helpers; the code this process runs is digested once.
CODE = (Path(grading.__file__).parent, Path(utils.__file__).parent)
_imported = hashlib.sha256()
for _folder in CODE:
    _add_files(_imported, _folder)
IMPORTED_CODE = _imported.hexdigest()
