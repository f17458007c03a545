"""What the grader writes into a student's notebook itself, in the
notebook's language: why a cell was stopped or not run, and where its
outputs were cut or withheld.

The texts are marked with N_ for the course's catalog (translation/editions.py
reads this file) and translated when they are written, into the language of
the notebook (utils.i18n.notebook_language); English is the source. The
sandbox's runner writes two of them (an output cut short) from the texts
the grader puts in its job, already translated: it reads no catalog.
"""

from nbformat.v4 import new_output

from grading.errors import CELL_TIMEOUT, KERNEL_DIED, NOT_RUN_ERROR
from utils.i18n import ENGLISH, N_, translation

# The line an error note shows, by the error's name: the name, then the note.
ERROR_LINES = {
    CELL_TIMEOUT: N_("CellTimeoutError: {message}"),
    KERNEL_DIED: N_("KernelDied: {message}"),
    NOT_RUN_ERROR: N_("NotRun: {message}"),
}
# Names of the grader's verdicts (grading/plugins/verdicts.py) that a page
# shows before the message only in English, as Python would: in another
# language the message, which says what is wrong, stands alone. A student's
# own error (KeyError, ...) keeps its name in every language.
VERDICT_NAMES = {"AssertionError", "NotAnswered", "MissingAnswer"}
RAN_OVER_BUDGET = N_("the cell ran over its budget of {seconds} s")
KERNEL_DIED_HERE = N_(
    "the kernel stopped while running this cell (os._exit, a crash, or a limit of the sandbox)"
)
KERNEL_DIED_BEFORE = N_("not run: the kernel stopped in cell {cell}")
NOTEBOOK_BUDGET_SPENT = N_("not run: the notebook used up its time budget of {seconds} s at cell {cell}")
CELLS_RAN_OUT = N_("not run: cells up to cell {cell} ran out of time")
RUNNER_STOPPED = N_("not run: the notebook ran past its time limit, or stopped its runner")
CELL_OUTPUT_CUT = N_("[output cut: the cell printed more than {limit} bytes]")
NOTEBOOK_OUTPUT_CUT = N_("[output cut: the notebook printed more than the grader reads in all]")
ERROR_MESSAGE_WITHHELD = N_(
    "your function raised {name} in this test; its message is not shown in feedback, since your "
    "code wrote it after the hidden tests had been sent to the kernel: run the cell in your notebook "
    "to see it"
)
OUTPUT_WITHHELD = N_(
    "[output not shown in feedback: this cell ran after the hidden tests had been sent to the "
    "kernel, and what it printed could repeat them]"
)


def template(language: str, text: str) -> str:
    """text in language, its {placeholders} left to fill."""
    return translation(language).gettext(text)


def note(language: str, text: str, **values) -> str:
    """text (one of the notes above) in language, filled with values."""
    return translation(language).gettext(text).format(**values)


def error_output(language: str, name: str, text: str, **values):
    """An error output named name (grading/errors.py) whose message is the
    note text, in language; its one traceback line is what a page shows."""
    message = note(language, text, **values)
    return new_output("error", ename=name, evalue=message, traceback=[error_line(language, name, message)])


def error_line(language: str, name: str, message: str) -> str:
    """The one line a page shows for an error: its name (the grader's own in
    language; a verdict's only in English; a student's as it is), then its message."""
    if name in ERROR_LINES:
        return translation(language).gettext(ERROR_LINES[name]).format(message=message)
    if name in VERDICT_NAMES and language != ENGLISH:
        return message  # the check's message says what is wrong, in the notebook's language
    return f"{name}: {message}"


def stream_note(language: str, text: str, **values):
    """A note printed as a line of the cell's output, in language."""
    return new_output("stream", name="stdout", text=note(language, text, **values) + "\n")
