"""gettext catalogs (PO files) read, updated and compiled with Babel.

A catalog holds, for each English text (msgid), its translation (msgstr).
When the English changes, ``update`` keeps the catalog in step the way
gettext's msgmerge does: a new text gets an empty translation, a changed one
gets its old translation marked *fuzzy* (to be checked), and a text that is
gone is dropped. Only complete catalogs, with nothing empty or fuzzy, are used
to build the Chinese edition.
"""

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

PROJECT = "Initializing neural networks"
VERSION = "1.0.0"  # as pyproject.toml
LANGUAGE = "zh_CN"
# Every catalog's header, written the same way each time.
HEADER = {
    "header_comment": (
        f'# Simplified Chinese translation of the course "{PROJECT}".\n'
        "# Copyright (C) 2026 the course's authors\n"
        "# This file is distributed under the same license as the course (LICENSE)."
    ),
    "version": VERSION,
    "copyright_holder": "the course's authors",
    "last_translator": "the course team",
    "language_team": "Chinese (zh_CN)",
    "msgid_bugs_address": "the course's issue tracker",
}


def new_template(units, domain):
    """A catalog template (no translations) of ``units``: (msgid, location,
    kind) triples; repeated texts share one entry."""
    template = Catalog(project=PROJECT, domain=domain, fuzzy=False)
    for text, location, kind in units:
        message = template.add(text, locations=[location], auto_comments=[kind])
        # Babel flags any text with a "%" as a printf format; these are not
        # (messages are filled in with str.format).
        message.flags.discard("python-format")
    return template


def read_catalog(path):
    with open(path, "rb") as file:
        return read_po(file, locale=LANGUAGE)


def write_catalog(catalog, path):
    with open(path, "wb") as file:
        write_po(file, catalog, width=0, omit_header=False, sort_output=False, ignore_obsolete=True)


def update(path, template):
    """Bring the catalog at ``path`` in step with ``template``, creating it if
    needed. Returns the updated catalog (also written to ``path``)."""
    if path.exists():
        catalog = read_catalog(path)
    else:
        catalog = Catalog(locale=LANGUAGE, project=PROJECT, domain=template.domain)
    for field, value in HEADER.items():
        setattr(catalog, field, value)
    # A real date that does not change with every update (the history is git's).
    catalog.revision_date = catalog.creation_date
    catalog.fuzzy = False
    # Keep the header as it was, so that an update that changes no text
    # changes no file (course.mo included).
    catalog.update(template, no_fuzzy_matching=False, update_header_comment=False, update_creation_date=False)
    catalog.obsolete.clear()
    write_catalog(catalog, path)
    return catalog


def problems(catalog, template):
    """What stops ``catalog`` from translating every text of ``template``:
    a list of (kind, msgid) with kind "missing", "untranslated" or "fuzzy"."""
    found = []
    for entry in template:
        if not entry.id:
            continue
        translated = catalog.get(entry.id)
        if translated is None:
            found.append(("missing", entry.id))
        elif not translated.string:
            found.append(("untranslated", entry.id))
        elif translated.fuzzy:
            found.append(("fuzzy", entry.id))
    return found


def translations(catalog):
    """{English: translation} for the finished entries of a catalog."""
    return {entry.id: entry.string for entry in catalog if entry.id and entry.string and not entry.fuzzy}


def compile_mo(catalog, path):
    """Write the binary catalog that Python's gettext reads at run time."""
    with open(path, "wb") as file:
        write_mo(file, catalog, use_fuzzy=False)
