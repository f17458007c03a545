"""scripts/update_release.py: a regenerated release is copied over release/
file by file, touching only what changed."""

import importlib.util

from conftest import REPO

spec = importlib.util.spec_from_file_location("update_release", REPO / "scripts" / "update_release.py")
update_release = importlib.util.module_from_spec(spec)
spec.loader.exec_module(update_release)


def write(folder, files):
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def test_only_what_changed_is_written_and_what_is_gone_is_removed(tmp_path):
    generated, release = tmp_path / "generated", tmp_path / "release"
    write(generated, {"A.ipynb": "new", "utils/same.py": "same", "companion/T.ipynb": "tour"})
    write(release, {"A.ipynb": "old", "utils/same.py": "same", "utils/gone.py": "x", "stale/B.ipynb": "b"})
    untouched = (release / "utils" / "same.py").stat().st_mtime_ns
    changed = update_release.update(generated, release)
    assert sorted(changed) == [
        "A.ipynb",
        "companion/T.ipynb",
        "stale (removed)",
        "stale/B.ipynb (removed)",
        "utils/gone.py (removed)",
    ]
    files = {
        str(path.relative_to(release)): path.read_text() for path in release.rglob("*") if path.is_file()
    }
    assert files == {"A.ipynb": "new", "utils/same.py": "same", "companion/T.ipynb": "tour"}
    assert (release / "utils" / "same.py").stat().st_mtime_ns == untouched
    assert update_release.update(generated, release) == []  # up to date: nothing written
