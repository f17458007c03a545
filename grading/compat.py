"""Everything the grading package takes from nbgrader and IPython beyond their
documented interfaces, for the versions it was written against. On import, the
installed versions are checked against SUPPORTED: another version stops
grading with a message saying what to check, rather than grading wrongly.
What could be fixed upstream is in docs/upstream.md.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import re
import warnings

from sqlalchemy.exc import SAWarning

from grading.errors import GradingError

# distribution -> the release series this module, and the subclasses that lean on these
# versions' insides, were checked against:
# - grading/plugins/sanitize.py: nbgrader's DeduplicateIds.grade_ids, and what OverwriteCells
#   sets while it runs (gradebook, notebook_id, assignment_id) and its missing_cell_transform;
# - grading/plugins/feedback_page.py: nbconvert's HTMLExporter.markdown2html;
# - grading/plugins/feedback_release.py: ExchangeReleaseFeedback.copy_files and its src_path;
# - grading/plugins/exchange_collect.py: ExchangeCollect.do_copy(src, dest), once per folder;
# - grading/command/feedback_writer.py: GenerateFeedback.init_assignment;
# - grading/plugins/markup.py and formulas.py: nbconvert's IPythonRenderer (formulas.py
#   overrides its block_math, inline_math and latex_environment) and MarkdownWithMath, on
#   mistune 3, which decides what a cell's text renders to;
# - grading/command/course.py: nbgrader.api.create_engine (share_gradebook_engines);
# - grading/plugins/sandbox.py: jupyter_client's kernel provisioner;
# - grading/plugins/box_runner.py (which imports nothing of the course): ipykernel_launcher's
#   own lines and ipykernel 7's iopub_welcome.
# nbconvert's series is a minor release: markdown2html and html_page are its 7.17 code.
SUPPORTED = {
    "nbgrader": "0.9.",
    "ipython": "9.",
    "nbconvert": "7.17.",
    "jupyter_client": "8.",
    "ipykernel": "7.",
    "mistune": "3.",
}


def check_versions(supported: dict[str, str] = SUPPORTED) -> None:
    """Raise GradingError if an installed distribution is outside its series."""
    for distribution, series in supported.items():
        found = importlib.metadata.version(distribution)
        if not found.startswith(series):
            raise GradingError(
                f"grading/compat.py was written for {distribution} {series}x and found {found}: "
                f"check each function in it against {distribution} {found} (the file says what it "
                "relies on), then add the version to SUPPORTED"
            )


check_versions()

# Imported after the check: on another version they may not even exist.
from IPython.core.inputtransformer2 import TransformerManager  # noqa: E402
from nbconvert.exporters import HTMLExporter, TemplateExporter  # noqa: E402
from nbconvert.filters.highlight import Highlight2HTML  # noqa: E402
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter  # noqa: E402
from nbconvert.writers import FilesWriter  # noqa: E402
from nbgrader import api as nbgrader_api  # noqa: E402
from nbgrader.converters import GenerateFeedback  # noqa: E402
from nbgrader.preprocessors import AssignLatePenalties  # noqa: E402
from nbgrader.utils import capture_log as nbgrader_capture_log  # noqa: E402

# An <img> tag without an alt attribute.
IMAGE_WITHOUT_ALT = re.compile(r"<img\b(?![^>]*\balt=)", re.IGNORECASE)


def html_page(exporter: HTMLExporter, nb, resources=None, remembered=None, **kw) -> tuple[str, dict]:
    """nbconvert 7's HTMLExporter.from_notebook_node, its last pass made only when
    it has work to do: that BeautifulSoup pass (most of a feedback page's time)
    gives pictures alt text and lab cells a tabindex, and the course's classic
    pages have no lab cells. remembered(highlighter), if given, wraps the page's
    highlight_code filter. Relies on the private `_init_resources` and
    `_nb_metadata`."""
    langinfo = nb.metadata.get("language_info", {})
    lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
    highlight_code = exporter.filters.get(
        "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=exporter)
    )
    if remembered is not None:
        highlight_code = remembered(highlight_code)
    resources = exporter._init_resources(resources)
    filter_data_type = WidgetsDataTypeFilter(
        notebook_metadata=exporter._nb_metadata, parent=exporter, resources=resources
    )
    exporter.register_filter("highlight_code", highlight_code)
    exporter.register_filter("filter_data_type", filter_data_type)
    html, resources = TemplateExporter.from_notebook_node(exporter, nb, resources, **kw)
    if IMAGE_WITHOUT_ALT.search(html):
        return HTMLExporter.from_notebook_node(exporter, nb, resources, **kw)
    return html, resources


def late_plugin(policy: AssignLatePenalties):
    """The LateSubmissionPlugin that nbgrader's AssignLatePenalties makes
    from its plugin_class. nbgrader 0.9 builds it in `init_plugin()` and keeps
    it as `plugin_inst`, neither documented."""
    policy.init_plugin()
    return policy.plugin_inst


def run_converter(converter) -> dict:
    """Run an nbgrader converter as nbgrader's own API runs each one:
    {"success": bool, "error": its traceback, "log": what it logged}.
    That is `nbgrader.utils.capture_log`, which is not documented."""
    return nbgrader_capture_log(converter)


def python_source(cell_source: str) -> str:
    """A code cell's source as Python, IPython's magics and `!` lines
    turned into calls, as the kernel would run it."""
    return TransformerManager().transform_cell(cell_source)


def commit_gradebook(gradebook) -> None:
    """Commit what was changed on the gradebook's objects (a grade's
    needs_manual_grade, a notebook's late penalty). nbgrader's Gradebook has
    no method for it: its own code commits its session, `db`."""
    gradebook.db.commit()


def drop_course_without_assignments(gradebook, course_id: str) -> None:
    """Delete the course course_id from nbgrader's gradebook if no assignment
    belongs to it. nbgrader's Gradebook has no method for either: this
    queries its ORM tables (`Assignment`, `Course`) directly."""
    session = gradebook.db
    if not session.query(nbgrader_api.Assignment).filter_by(course_id=course_id).count():
        session.query(nbgrader_api.Course).filter_by(id=course_id).delete()
        session.commit()


def share_gradebook_engines() -> None:
    """Give every nbgrader Gradebook that this process opens one SQLAlchemy engine
    per database URL: nbgrader 0.9's `Gradebook.__init__` calls
    `nbgrader.api.create_engine` on every open, and recompiling the same queries
    for each new engine took a large share of a worker's CPU. Called as the
    command loads its course, before any other thread that opens a gradebook runs."""
    if not getattr(nbgrader_api.create_engine, "shared", False):
        shared = functools.lru_cache(maxsize=None)(nbgrader_api.create_engine)
        shared.shared = True
        nbgrader_api.create_engine = shared


def quiet_nbgrader_session_warnings() -> None:
    """Ignore the one SQLAlchemy warning nbgrader 0.9's gradebook raises about its
    own session ("Object of type <SubmittedAssignment> not in session", on each
    add_submission); any other stays. A filter, since catch_warnings would change
    every thread's filters. Idempotent, called with share_gradebook_engines."""
    warnings.filterwarnings(
        "ignore", message=r"Object of type <\w+> not in session", category=SAWarning, module=r"nbgrader\.api"
    )


class ExporterKeepingFeedback(GenerateFeedback):
    """nbgrader's GenerateFeedback, building its HTML exporter only once.

    nbgrader 0.9's `BaseConverter.start` with the exporter kept (building it took a
    large share of a student's feedback time), and without nbgrader's change of the
    working directory, which threads share (every path here is absolute)."""

    _kept_exporter = None

    def start(self) -> None:
        if not os.path.isabs(self.coursedir.root):
            raise GradingError(f"the course root must be an absolute path, not {self.coursedir.root!r}")
        self.init_notebooks()
        self.writer = FilesWriter(parent=self, config=self.config)
        if self._kept_exporter is None:
            self._kept_exporter = self.exporter_class(parent=self, config=self.config)
            for preprocessor in self.preprocessors:
                self._kept_exporter.register_preprocessor(preprocessor)
        self.exporter = self._kept_exporter
        self.convert_notebooks()
