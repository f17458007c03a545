"""Runs in every sandboxed grading kernel before the student's notebook.

A forked copy of the kernel would share its sockets and answer nbgrader in
its place, so a copy made with os.fork ends at once. (subprocess starts
programs without running this hook, so it keeps working.)
"""

import os as _os

_os.register_at_fork(after_in_child=lambda end=_os._exit: end(70))
del _os
