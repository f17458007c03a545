"""The course's Chinese edition, built from the English source and gettext
catalogs (see editions.py; the command is scripts/translate.py)."""
