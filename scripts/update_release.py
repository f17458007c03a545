"""Bring release/<assignment>/ up to date with a freshly generated copy.

    python scripts/update_release.py GENERATED_RELEASE_FOLDER RELEASE_FOLDER

Only the files whose bytes differ are written, each to a temporary name and
then renamed into place, and files the new release no longer has are
removed. So regenerating a release that is already up to date touches
nothing, and whoever reads release/ meanwhile (a student copying it, a test
running beside the main job) never sees it half written or missing, as
`nbgrader generate_assignment --force`, which deletes the folder and writes
it again, would show it.
"""

import os
import shutil
import sys
from pathlib import Path


def update(generated: Path, release: Path) -> list[str]:
    """Make release hold what generated holds; return the paths changed."""
    changed = []
    for source in sorted(generated.rglob("*")):
        if source.is_dir():
            continue
        relative = source.relative_to(generated)
        target = release / relative
        if target.is_file() and not target.is_symlink() and target.read_bytes() == source.read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        incoming = target.with_name(f".{target.name}.incoming")
        shutil.copy2(source, incoming)
        os.replace(incoming, target)
        changed.append(str(relative))
    for old in sorted(release.rglob("*"), reverse=True):  # files before their folders
        if not (generated / old.relative_to(release)).exists():
            old.rmdir() if old.is_dir() and not old.is_symlink() else old.unlink()
            changed.append(f"{old.relative_to(release)} (removed)")
    return changed


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    generated, release = map(Path, sys.argv[1:])
    changed = update(generated, release)
    print(f"{release}: " + (f"{len(changed)} files updated" if changed else "already up to date"))
