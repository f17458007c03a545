"""Everything the grading package takes from nbgrader and IPython beyond
their documented interfaces, in one place, for the versions it was written
against.

Each function below leans on something those projects may change without
notice: a method that is not documented, an attribute set as a side effect,
the tables behind nbgrader's gradebook. On import, the installed versions
are checked against SUPPORTED, and another version stops grading with a
message that says what to check, instead of grading wrongly. What could be
fixed upstream is written up in docs/upstream.md.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import re
import warnings

from sqlalchemy.exc import SAWarning

from grading.errors import GradingError

# distribution -> the release series this module, and the subclasses below
# that lean on these versions' insides, were checked against:
# - grading/plugins/sanitize.py: DropDuplicateGradeIds keeps nbgrader's
#   DeduplicateIds.grade_ids; OverwriteCellsWithIds reads the gradebook,
#   notebook_id and assignment_id that OverwriteCells sets while it runs,
#   and overrides its missing_cell_transform;
# - grading/plugins/feedback_page.py: FeedbackPage.markdown2html is
#   nbconvert's HTMLExporter.markdown2html with the course's renderer;
# - grading/plugins/feedback_release.py: ReleaseFeedbackToExchange wraps
#   nbgrader's ExchangeReleaseFeedback.copy_files and reads its src_path;
# - grading/command/feedback_writer.py: FeedbackPagesConverter overrides
#   GenerateFeedback.init_assignment (nbgrader's BaseConverter calls it to
#   copy the autograded folder before converting);
# - grading/plugins/markup.py renders with nbconvert's IPythonRenderer and
#   MarkdownWithMath (markdown_mistune), the classes nbconvert's own
#   markdown2html uses, and formulas.py's MathMLRenderer derives from
#   IPythonRenderer (its block_math, inline_math and latex_environment);
#   both classes are mistune 3's, which decides what a cell's text renders
#   to, so what markup.py finds in it;
# - grading/command/course.py: share_gradebook_engines (below) replaces
#   nbgrader.api's create_engine, which Gradebook.__init__ calls;
# - grading/plugins/sandbox.py: SandboxProvisioner is a jupyter_client
#   kernel provisioner (a public extension point, checked all the same);
# - grading/plugins/box_runner.py (which imports nothing of the course, so
#   is checked here, assuming the kernel is this environment's ipykernel, as
#   the course's kernel spec has it): the kernel starts with
#   ipykernel_launcher's own lines, and is ready once ipykernel 7 has sent
#   its iopub_welcome (another kernel is checked as jupyter_client checks it).
# nbconvert's series is a minor release: markdown2html and html_page below
# are its 7.17 code.
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


def html_page(exporter: HTMLExporter, nb, resources=None, **kw) -> tuple[str, dict]:
    """nbconvert 7's HTMLExporter.from_notebook_node, its last pass made only
    when it has work to do.

    That pass parses the whole page with BeautifulSoup (half a second for a
    feedback page, most of the time a student's page takes) to give every
    picture without alt text one and the lab template's cells a tabindex.
    A page of the classic template (the course's feedback page) has no lab
    cells, and most have no picture: the pass runs only for a page with a
    picture that lacks alt text (nbconvert's own method then makes the page
    again, whole). It relies on `_init_resources` and `_nb_metadata`, private."""
    langinfo = nb.metadata.get("language_info", {})
    lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
    highlight_code = exporter.filters.get(
        "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=exporter)
    )
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


def save_changes(gradebook) -> None:
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
    """Give every nbgrader Gradebook that this process opens one SQLAlchemy
    engine per database URL.

    nbgrader 0.9's `Gradebook.__init__` calls `nbgrader.api.create_engine`
    anew each time it is opened, about 14 times for one student's grading,
    and SQLAlchemy keeps its compiled statements per engine: a third of a
    worker's CPU for a student went to compiling the same queries again.
    `Gradebook.close` still disposes of the engine's pooled connections;
    the compiled statements stay. Called as the grading command loads its
    course (grading/command/course.py): in the command's process before it
    starts a thread; on a Dask worker, in the one thread that runs the
    course's tasks, while only Dask's own threads (which open no gradebook)
    run beside it. Plain nbgrader commands keep nbgrader's own behaviour.
    """
    if not getattr(nbgrader_api.create_engine, "shared", False):
        shared = functools.lru_cache(maxsize=None)(nbgrader_api.create_engine)
        shared.shared = True
        nbgrader_api.create_engine = shared


def quiet_nbgrader_session_warnings() -> None:
    """Ignore the one SQLAlchemy warning nbgrader 0.9's gradebook raises
    about its own session handling ("Object of type <SubmittedAssignment>
    not in session, add operation along ... will not proceed", from
    nbgrader/api.py, on each Gradebook.add_submission). It says nothing
    about the submissions. Any other warning,
    SQLAlchemy's included, stays as Python shows it. A filter, not a
    catch_warnings block around each step: that would change the filters
    of every thread for its time. Called as the grading command loads its
    course, where share_gradebook_engines is (and idempotent, as it is).
    """
    warnings.filterwarnings(
        "ignore", message=r"Object of type <\w+> not in session", category=SAWarning, module=r"nbgrader\.api"
    )


class ExporterKeepingFeedback(GenerateFeedback):
    """nbgrader's GenerateFeedback, building its HTML exporter only once.

    nbgrader 0.9's `BaseConverter.start` builds a new exporter on every
    call, which compiles its Jinja templates and reads its CSS again: about
    a third of a student's feedback time, when the grading command writes
    feedback one student at a time. This is that method, the exporter kept.
    It leaves out nbgrader's change of the working directory: every path
    here is absolute (the course root is resolved), and the process's
    working directory is shared with the threads that run beside it.
    """

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
