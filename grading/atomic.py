"""Writing a file that no reader ever sees half written.

The text goes to a new hidden file beside the destination (the same folder,
so the same file system), which then takes the destination's place in one
rename: a reader finds the old file or the new one, and a command killed
mid-write leaves the old one as it was. The new file keeps the old one's
permissions (grades are personal data: a file the instructor made private
stays private), and a link is followed, so that its target is rewritten.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
from pathlib import Path


def write_atomically(path: Path | str, text: str | bytes) -> None:
    """Write text (a str as UTF-8, or bytes as they are) to path in one rename.

    A lone surrogate (how Python keeps a file name's bytes that are not
    UTF-8) is written as its escape, \\udcff: a student's file name never
    stops a summary or a report from being written.

    A path that is not a regular file (a terminal, a pipe: `--to /dev/stdout`)
    is written in place: there is nothing to rename over it."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "backslashreplace")
    target = Path(os.path.realpath(path))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    if info is not None and not stat.S_ISREG(info.st_mode):
        with open(target, "wb") as file:
            file.write(data)
        return
    # A name of its own: two writers at once never share a half-written file.
    incoming = target.with_name(f".{target.name}.{secrets.token_hex(4)}.incoming")
    # Created as open() creates a file (0666 less the umask), then given the old file's mode.
    descriptor = os.open(incoming, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        if info is not None:
            os.chmod(incoming, stat.S_IMODE(info.st_mode))
        os.replace(incoming, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(incoming)
        raise


def write_json(path: Path | str, data) -> None:
    """Write data as readable JSON (indented, non-ASCII as it is) in one rename."""
    write_atomically(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
