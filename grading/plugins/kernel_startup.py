"""Runs in every sandboxed grading kernel before the student's notebook.

A forked copy of the kernel would share its sockets and answer in its place, so it ends at once
(subprocess does not run this hook).
"""

import os as _os

_os.register_at_fork(after_in_child=lambda end=_os._exit: end(70))
del _os
