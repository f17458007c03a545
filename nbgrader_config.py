"""nbgrader configuration of the course. The folder holding this file is the
course root: run every nbgrader command from here."""

import os
import sys

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.preprocessors import (
    AssignLatePenalties,
    ClearSolutions,
    DeduplicateIds,
    Execute,
    GetGrades,
    OverwriteCells,
)

COURSE_ROOT = os.path.dirname(os.path.abspath(__file__))
# The course root's own grading/ and utils/ come first, before any installed
# copy: nbgrader's command puts its bin/ folder on sys.path, not the course
# root, so without this a checkout that was never installed could not load
# the plugins, and a copy of the course (a clone, the tests' scratch courses)
# would run the code of whichever checkout was installed, not the code beside
# this configuration. (Once: every nbgrader application reads the file again.)
if COURSE_ROOT not in sys.path:
    sys.path.insert(0, COURSE_ROOT)
from grading.plugins.answer_stubs import ClearSolutionsInLanguage  # noqa: E402
from grading.plugins.companions import HandOutCompanions  # noqa: E402
from grading.plugins.due_dates import WriteDueDate  # noqa: E402
from grading.plugins.execute import SandboxedExecute  # noqa: E402
from grading.plugins.feedback import HideHiddenTests, SettleLatePenalties, ShowWaitingHandGrades  # noqa: E402
from grading.plugins.feedback_page import TEMPLATE_NAME, TEMPLATES, FeedbackPage  # noqa: E402
from grading.plugins.feedback_release import KeepOnlyFeedbackPages  # noqa: E402
from grading.plugins.late import GiveRecordedExtension, PenaltyPerDayLate  # noqa: E402
from grading.plugins.references import REFERENCE_RUNS, ReferenceRuns  # noqa: E402
from grading.plugins.sanitize import (  # noqa: E402
    DropDuplicateGradeIds,
    KeepTrustedMetadata,
    OverwriteCellsWithIds,
    RefuseUnsafeSubmissions,
)

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

c.CourseDirectory.course_id = "initializing-neural-networks"

# The gradebook. SQLite, next to this file, by default: parallel graders wait
# up to 120 s for each other's writes instead of failing. For graders on
# several machines, use a PostgreSQL server instead, for example
#   c.CourseDirectory.db_url = "postgresql+psycopg2://grader:secret@db.example.org/course"
c.CourseDirectory.db_url = f"sqlite:///{os.path.join(COURSE_ROOT, 'gradebook.db')}?timeout=120"

# Solutions sit between these lines. nbgrader replaces the first line with the
# stub and drops the second, so the stub repeats both to keep them visible.
# (The course's tools read the delimiters from here: grading.configuration.delimiters.)
SOLUTION_BEGIN, SOLUTION_END = "### START CODE HERE ###", "### END CODE HERE ###"
c.ClearSolutions.begin_solution_delimeter = SOLUTION_BEGIN
c.ClearSolutions.end_solution_delimeter = SOLUTION_END
c.ClearSolutions.code_stub = {
    "python": f"{SOLUTION_BEGIN}\n# YOUR CODE HERE\nraise NotImplementedError()\n{SOLUTION_END}",
}
# The Chinese edition asks for its answers in Chinese (grading/plugins/answer_stubs.py).
c.ClearSolutionsInLanguage.text_stubs = {"zh_CN": "在此作答"}
c.ClearSolutionsInLanguage.code_stubs = {
    "zh_CN": {
        "python": c.ClearSolutions.code_stub["python"].replace("# YOUR CODE HERE", "# 在此编写你的代码")
    },
}

# Hidden tests: removed from the release, restored when autograding.
c.ClearHiddenTests.begin_test_delimeter = "### BEGIN HIDDEN TESTS"
c.ClearHiddenTests.end_test_delimeter = "### END HIDDEN TESTS"

# Seconds one cell may run when validating (the slowest cell, a training,
# takes 1-6 s), and when autograding a cell the reference solution did not time.
c.Execute.timeout = 30

# Autograding runs student code in a sandboxed kernel (grading/plugins/sandbox.py): it
# sees only the system, the Python installation and its own folder (not the
# rest of the course, the gradebook or this file), a clean environment, no
# network, and limits (grading/plugins/execute.py).
# An extension written to extensions.csv before the student handed in is
# given to the submission before nbgrader works out its late penalty
# (grading/plugins/late.py).
REPLACED_STEPS = {
    Execute: [SandboxedExecute],
    AssignLatePenalties: [GiveRecordedExtension, AssignLatePenalties],
}
c.Autograde.autograde_preprocessors = [
    replacement
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
    for replacement in REPLACED_STEPS.get(step, [step])
]
# Each kernel's limits (its cgroup's cores, memory and processes, its CPU
# seconds, the sizes of its private tmpfs folders, the largest file it may
# write) are the traits of SandboxProvisioner, the kernel provisioner
# grading-sandbox, whose defaults in grading/plugins/sandbox.py the course uses. Set
# any of them here to change it, e.g.
#   c.SandboxProvisioner.memory_mb = 4096
# Ungraded experiments, the cells that source/ tags "skip-when-grading", are
# not re-run (the grading command's --full runs them). Each cell may take 10
# times what the reference solution's took, and at least 5 s; a notebook that
# has spent 20 s in cells over their budget stops there.
c.SandboxedExecute.skip_experiments = True
# The reference solution runs once for every notebook an nbgrader command
# grades: all the preprocessors it makes share this store (the grading
# command gives them its own, which it hands to its Dask workers). The store
# keeps each run in .reference-runs/ too, for the next command on this
# machine, until the assignment, the grading code or the environment changes.
c.SandboxedExecute.reference_runs = ReferenceRuns(folder=os.path.join(COURSE_ROOT, REFERENCE_RUNS))
# Each assignment's visible checks, which the grader replays on the answers
# a test cell hands in (utils/answers.py): the modules that define them.
CHECKS = {"initialization": ["utils.init_checks"], "initialization_deep": ["utils.deep_checks"]}
c.SandboxedExecute.check_modules = {
    **CHECKS,
    **{f"{assignment}_zh": modules for assignment, modules in CHECKS.items()},
}
c.SandboxedExecute.budget_factor = 10
c.SandboxedExecute.budget_floor = 5
c.SandboxedExecute.stuck_allowance = 20

# Before grading, nbgrader restores test and locked cells the student edited
# or retyped; these settings also put back deleted grade cells and ignore
# extra copies of duplicated ones instead of stopping, and keep of a submission's
# metadata only what grading reads (grading/plugins/sanitize.py).
# A submission that holds a link or a special file is not graded at all.
c.Autograde.sanitize_preprocessors = [
    RefuseUnsafeSubmissions,
    KeepTrustedMetadata,
    *(
        {DeduplicateIds: DropDuplicateGradeIds, OverwriteCells: OverwriteCellsWithIds}.get(step, step)
        for step in Autograde.class_traits()["sanitize_preprocessors"].default()
    ),
]
c.OverwriteCells.add_missing_cells = True
# nbconvert checks the notebook against nbformat's schema after every
# preprocessor, 21 times a submission at about 1 ms each; once, after the
# last, is enough: a notebook left invalid still fails its conversion.
# (nbconvert 7.17 then fails on a converter given no preprocessor at all;
# every converter of the course has some.)
c.Exporter.optimistic_validation = True

# Late submissions: nbgrader measures lateness from each student's
# timestamp.txt and the assignment's due date (written into the gradebook by
# `python -m grading.grade`). After 15 minutes of grace, each started day late
# costs 10% of the notebook's final score, the answers graded by hand included:
# the grading command, feedback and the exports below settle it again from
# the score at that moment, whatever the order of the steps (grading/plugins/late.py).
# The Chinese edition of an assignment (<name>_zh) is due when the English one is.
DUE = {
    "initialization": "2026-12-04 23:59:00 UTC",
    "initialization_deep": "2026-12-11 23:59:00 UTC",
}
c.Grading.due_dates = {**DUE, **{f"{assignment}_zh": due for assignment, due in DUE.items()}}
# Generating an assignment writes its due date into the gradebook, where
# formgrader shows it (grading/plugins/due_dates.py), and hands out its companion
# notebooks with it (grading/plugins/companions.py).
# Each release asks for answers in its notebook's language (ClearSolutionsInLanguage
# takes the place of nbgrader's ClearSolutions).
c.GenerateAssignment.preprocessors = [
    ClearSolutionsInLanguage if step is ClearSolutions else step
    for step in GenerateAssignment.class_traits()["preprocessors"].default()
] + [WriteDueDate, HandOutCompanions]
c.AssignLatePenalties.plugin_class = PenaltyPerDayLate
c.PenaltyPerDayLate.grace_minutes = 15
c.PenaltyPerDayLate.percent_per_day = 10

# `nbgrader export` writes grades.csv: a row per submission, quoted where a
# name holds a comma, the late penalty of the final score, and whether hand
# grading is pending. For the LMS: --exporter=grading.plugins.lms.CanvasExport or
# grading.plugins.lms.MoodleExport (grading/plugins/lms.py).
c.ExportApp.plugin_class = "grading.plugins.lms.GradesCsvExport"
# Canvas's import matches a column to an assignment by "Title (id)", the id
# being the number in the assignment's address; without one it offers to
# create a new assignment:
# c.CanvasExport.canvas_columns = {"initialization": "Initialization (4012)"}

# Submissions downloaded from a learning platform (a zip or a folder) are
# collected by `nbgrader zip_collect` with the course's collector, which reads
# the names nbgrader, Canvas and Moodle give the files (grading/plugins/download_names.py):
#   <student>_<notebook>.ipynb, <student>_attempt_<YYYY-MM-DDThhmmss>_<notebook>.ipynb
#   (the time of submission in UTC), Canvas's <name>_[late_]<user id>_<submission id>_<file>
#   and Moodle's <Full Name>_<user id>_assignsubmission_file_/<file>.
# Canvas user ids are looked up in the roster's lms_user_id
# (`nbgrader db student import roster.csv`). Student ids contain no underscore.
c.ZipCollectApp.collector_plugin = "grading.plugins.download_names.LmsFileNames"
# Moodle's number is the participant number of one assignment: its files are
# matched through that assignment's grading worksheet (Moodle's "Download
# grading worksheet"), participant number to email to the roster's email:
# c.LmsFileNames.moodle_worksheets = {
#     "initialization": "moodle-worksheet-initialization.csv",
#     "initialization_deep": "moodle-worksheet-initialization_deep.csv",
# }

# Feedback released through the exchange (`nbgrader release_feedback`,
# formgrader's button) to every student who handed in through it; one whose
# work came from an LMS download is skipped with a note, not a stop
# (grading/plugins/feedback_release.py).
c.ExchangeFactory.release_feedback = "grading.plugins.feedback_release.ReleaseFeedbackToExchange"
# `nbgrader collect` copies a student's links as links, which the grading
# command then refuses, where nbgrader's copy would follow them with the
# instructor's rights (to source/, say) (grading/plugins/exchange_collect.py).
c.ExchangeFactory.collect = "grading.plugins.exchange_collect.KeepLinksExchangeCollect"
# A feedback folder holds the feedback pages and the two files the exchange
# needs, never copies of the rest of the autograded folder (same module).
c.GenerateFeedback.post_convert_hook = KeepOnlyFeedbackPages(c)

# Pages made from submissions (formgrader's grading page, feedback) clean the
# HTML of students' markdown: a <script> in a written answer would run in
# the instructor's browser. (Code cells keep only text and pictures:
# grading/plugins/execute.py.)
c.HTMLExporter.sanitize_html = True

# Feedback: the default shows hidden test code and tracebacks; this does not.
# SettleLatePenalties first: the late penalty of the final score, hand grades
# included (grading/plugins/late.py, grading/plugins/feedback.py).
c.GenerateFeedback.preprocessors = [
    SettleLatePenalties,
    GetGrades,
    ShowWaitingHandGrades,
    HideHiddenTests,
    CSSHTMLHeaderPreprocessor,
]

# The feedback page in the notebook's language (grading/plugins/feedback_page.py):
# nbgrader's template with its words translated, from the course's templates.
c.GenerateFeedback.exporter_class = FeedbackPage
c.FeedbackPage.template_name = TEMPLATE_NAME
c.FeedbackPage.extra_template_basedirs = [str(TEMPLATES)]
# A graded notebook has no execution counts: its "In [ ]:" prompts say nothing.
c.FeedbackPage.exclude_input_prompt = True
c.FeedbackPage.exclude_output_prompt = True

# Formulas render with no network. The feedback page writes them as MathML
# (grading/plugins/formulas.py) and loads no script. Formgrader's grading page
# (nbgrader's HTMLExporter with its own templates, which load MathJax from a
# CDN) takes MathJax from the Jupyter server, which jupyter-server-mathjax
# serves: the course's templates come before nbconvert's and nbgrader's
# (grading/templates/base/mathjax.html.j2).
c.HTMLExporter.extra_template_basedirs.prepend([str(TEMPLATES)])
