"""Collecting from nbgrader's exchange without following a student's links.

nbgrader's ExchangeCollect copies each inbound folder with shutil.copytree, which follows links with
the instructor's rights: a link in a student's folder to source/ became a plain file holding the
solutions and the hidden tests, which the grader then graded and showed in that student's feedback.
KeepLinksExchangeCollect (the exchange's collect, nbgrader_config.py) copies a folder that the
course's submission check refuses (grading/submissions.py) with its links as links, so the grading
command refuses that student with its reason, as it refuses a link in an LMS download; pipes, sockets
and devices are left out, where copytree would stop the whole collect. Any other folder is copied by
nbgrader's own code.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect

import grading.compat  # noqa: F401 (checks the nbgrader whose do_copy this overrides)
from grading.submissions import check_submission_folder


def leave_out_special_files(folder: str, names: list[str]) -> set[str]:
    """copytree's ignore: pipes, sockets and devices (a link stays, copied as a link)."""
    return {
        name
        for name in names
        if not os.path.islink(path := os.path.join(folder, name))
        and not (os.path.isfile(path) or os.path.isdir(path))
    }


class KeepLinksExchangeCollect(ExchangeCollect):
    """nbgrader's exchange collect; a folder the submission check refuses is copied as it is."""

    def do_copy(self, src, dest, log=None):
        reason = check_submission_folder(Path(src))
        if reason is None:
            return super().do_copy(src, dest, log)
        self.log.error(
            "%s: %s; copied with its links as links and without pipes, sockets or devices, "
            "for the grading command to check again",
            src,
            reason,
        )
        shutil.copytree(src, dest, symlinks=True, ignore=leave_out_special_files)
