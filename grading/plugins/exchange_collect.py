"""Collecting from nbgrader's exchange without following a student's links.

nbgrader's ExchangeCollect copies each inbound folder with shutil.copytree, which follows links with
the instructor's rights: a link in a student's folder to source/ became a plain file holding the
solutions and the hidden tests, which the grader then graded and showed in that student's feedback.
KeepLinksExchangeCollect (the exchange's collect, nbgrader_config.py) copies such a folder with its
links as links, which the grading command refuses with its reason, as it refuses a link in an LMS
download (grading/submissions.py); pipes, sockets and devices are left out, where copytree would stop
the whole collect. A folder of plain files is copied by nbgrader's own code.
"""

from __future__ import annotations

import os
import shutil

from nbgrader.exchange.default.collect import ExchangeCollect

import grading.compat  # noqa: F401 (checks the nbgrader whose do_copy this overrides)


def unusual_entries(folder: str) -> list[str]:
    """The links, pipes, sockets and devices in folder and below it (links are not followed)."""
    found = []
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            path = os.path.join(parent, name)
            if os.path.islink(path) or not (os.path.isfile(path) or os.path.isdir(path)):
                found.append(os.path.relpath(path, folder))
    return found


def leave_out_special_files(folder: str, names: list[str]) -> set[str]:
    """copytree's ignore: pipes, sockets and devices (a link stays, copied as a link)."""
    return {
        name
        for name in names
        if not os.path.islink(path := os.path.join(folder, name))
        and not (os.path.isfile(path) or os.path.isdir(path))
    }


class KeepLinksExchangeCollect(ExchangeCollect):
    """nbgrader's exchange collect; a folder holding links or special files is copied as it is."""

    def do_copy(self, src, dest, log=None):
        unusual = unusual_entries(src)
        if not unusual:
            return super().do_copy(src, dest, log)
        links = [entry for entry in unusual if os.path.islink(os.path.join(src, entry))]
        if links:
            self.log.error(
                "%s holds links (%s): copied as links, so the grading command refuses this student",
                src,
                ", ".join(sorted(links)[:5]),
            )
        else:
            self.log.warning(
                "%s: pipes, sockets or devices left out (%s)", src, ", ".join(sorted(unusual)[:5])
            )
        shutil.copytree(src, dest, symlinks=True, ignore=leave_out_special_files)
