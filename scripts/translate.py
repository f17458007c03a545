"""Keep the Chinese edition in step with the English source.

    python scripts/translate.py update   # English changed: refresh the catalogs
    python scripts/translate.py check    # what is left to translate or fix
    python scripts/translate.py build    # catalogs translated: write the edition

`update` adds every new English text to the catalogs (locale/zh_CN/*.po and
utils/locale/zh_CN/LC_MESSAGES/course.po) with an empty translation, marks a
changed text's old translation fuzzy, and drops texts that are gone. Translate
them in any PO editor (Poedit, Lokalize, or a text editor) and remove the
fuzzy flags.

`build` compiles course.po into course.mo and writes the Chinese notebooks.
It refuses while a catalog has an empty or fuzzy entry. A notebook keeps the
recorded outputs of cells whose code did not change; re-record the others:
    .venv/bin/python scripts/record_outputs.py <the notebooks it names>
and regenerate the Chinese releases with nbgrader generate_assignment.
"""

import argparse
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from translation import catalogs, quality  # noqa: E402
from translation.editions import (  # noqa: E402
    EDITIONS,
    REPO,
    RUNTIME_CATALOG,
    all_templates,
    chinese_notebook,
    keep_outputs,
    notebook_catalog,
)


def update():
    for path, template in all_templates():
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = catalogs.update(path, template)
        todo = catalogs.problems(catalog, template)
        print(f"{path.relative_to(REPO)}: {len(template)} texts, {len(todo)} to translate")


def check():
    """Print every entry that is missing, empty, fuzzy, or loses a number,
    code, a formula or a placeholder of its English."""
    count = 0
    for path, template in all_templates():
        catalog = catalogs.read_catalog(path)
        for kind, text in catalogs.problems(catalog, template):
            count += 1
            print(f"{path.relative_to(REPO)}: {kind}: {text[:70]!r}")
        for entry in template:
            translated = catalog.get(entry.id)
            if entry.id and translated is not None and translated.string:
                for problem in quality.problems(entry.id, translated.string, entry.auto_comments[0]):
                    count += 1
                    print(f"{path.relative_to(REPO)}: {entry.id[:50]!r}: {problem}")
    print(f"{count} problems")
    return count


def build():
    todo = [
        (path, problem)
        for path, template in all_templates()
        for problem in catalogs.problems(catalogs.read_catalog(path), template)
    ]
    if todo:
        for path, (kind, text) in todo[:20]:
            print(f"{path.relative_to(REPO)}: {kind}: {text[:70]!r}")
        sys.exit(f"{len(todo)} texts are not translated yet: nothing was built")
    runtime = catalogs.read_catalog(RUNTIME_CATALOG)
    catalogs.compile_mo(runtime, RUNTIME_CATALOG.with_suffix(".mo"))
    for english_path, chinese_path in EDITIONS.items():
        translated = catalogs.translations(catalogs.read_catalog(notebook_catalog(english_path)))
        built = chinese_notebook(english_path, translated)
        target = REPO / chinese_path
        stale = len([c for c in built.cells if c.cell_type == "code"])
        if target.exists():
            stale = keep_outputs(built, nbformat.read(target, as_version=4))
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(built, target)
        print(f"{chinese_path}: written" + (f", {stale} code cells to re-record" if stale else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["update", "check", "build"])
    command = parser.parse_args().command
    if command == "check":
        sys.exit(1 if check() else 0)
    {"update": update, "build": build}[command]()


if __name__ == "__main__":
    main()
