"""Checking a submitted notebook against its release before grading."""

from pathlib import Path

import nbformat


def inspect_submission(path: Path, release) -> tuple[list[str], bool]:
    """(notes, readable) for one submitted notebook, compared with its release.

    readable is False when the file is missing or is not a valid notebook;
    the notes then say why. Otherwise the notes list the grade cells the
    student deleted, duplicated, retyped or (locked ones) edited: nbgrader
    restores those before grading (see nbgrader_config.py).
    """
    if not path.exists():
        return [f"no {path.name} in the submission"], False
    try:
        submitted = nbformat.read(path, as_version=4)
        nbformat.validate(submitted)
    except Exception as error:  # any unreadable file: JSON, encoding, schema
        return [f"unreadable {path.name} ({type(error).__name__})"], False
    submitted_cells = {}
    for cell in submitted.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            submitted_cells.setdefault(grade_id, []).append(cell)
    notes = []
    for cell in release.cells:
        info = cell.metadata.get("nbgrader", {})
        grade_id = info.get("grade_id")
        if not grade_id or not (info.get("grade") or info.get("locked")):
            continue
        copies = submitted_cells.get(grade_id, [])
        if not copies:
            notes.append(f"deleted cell {grade_id} (restored)")
            continue
        if len(copies) > 1:
            notes.append(f"duplicated cell {grade_id} (extra copy ignored)")
        kept = copies[-1]  # nbgrader keeps the last copy
        if kept.cell_type != cell.cell_type:
            notes.append(f"retyped cell {grade_id} (restored)")
        elif info.get("locked") and kept.source != cell.source:
            notes.append(f"edited locked cell {grade_id} (restored)")
    return notes, True
