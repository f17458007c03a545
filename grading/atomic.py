"""Writing a file that no reader ever sees half written.

The text goes to a hidden file beside the destination (the same folder, so
the same file system), which then takes the destination's place in one
rename: a reader finds the old file or the new one, and a command killed
mid-write leaves the old one as it was.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path | str, text: str | bytes) -> None:
    """Write text (a str as UTF-8, or bytes as they are) to path in one rename."""
    path = Path(path)
    incoming = path.with_name(f".{path.name}.incoming")
    incoming.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    os.replace(incoming, path)
