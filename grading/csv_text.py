"""Text in the CSV files an instructor opens in a spreadsheet.

A cell that starts as a formula does (=, +, -, @, a tab or a carriage
return) is run by Excel, LibreOffice and Google Sheets when the file is
opened: a student's display name or the name of an exception their code
raised could run one on the instructor's machine. Such a cell gets a
leading apostrophe, which spreadsheets show as text (OWASP's advice on CSV
injection). Only text that a student or an LMS may have written goes
through here, never an identifier a platform matches rows by (an id, an
email) or a number.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(text: str | None) -> str:
    """text for a CSV cell that a spreadsheet shows, never runs ("" for None)."""
    if text is None:
        return ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
