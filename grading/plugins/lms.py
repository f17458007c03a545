"""Grade files for a learning management system, as nbgrader export plugins.

    nbgrader export --exporter=grading.plugins.lms.CanvasExport --to=canvas.csv
    nbgrader export --exporter=grading.plugins.lms.MoodleExport --to=moodle.csv
    nbgrader export --exporter=grading.plugins.lms.GradesCsvExport --to=grades.csv

Each honours --assignment and --student, writes with the csv module (a comma in a name stays in its
cell) and only reads the gradebook. A score is the final score (late.py: after_penalty), its late
penalty worked out from the scores now (submission_penalty), so later hand grades count.

CanvasExport and MoodleExport give one column per assignment, `<name>_zh` merged into `<name>` (the
higher score). By default they refuse a score still waiting for hand grading (`pending`), and any
blank cell: both LMSs would clear a grade entered there by hand (Canvas: gradebook_importer.rb,
no_change_to_value?).
"""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Dict, Enum, Unicode

from grading.atomic import write_atomically
from grading.csv_text import inert
from grading.plugins.late import after_penalty, late_policy_plugin, submission_penalty
from grading.submissions import english_assignment, layout_students, valid_student_id


def _cell(value) -> str:
    # As nbgrader's CsvExportPlugin writes a value: None blank, the rest str().
    return "" if value is None else str(value)


class _FilteredExport(ExportPlugin):
    """The export plugins' shared part: the --to default and the filters."""

    default_file = "grades.csv"

    def destination(self) -> str:
        return self.to or self.default_file

    def wanted_assignments(self, gradebook: Gradebook) -> list:
        """The assignments --assignment keeps (all by default); `<name>` keeps `<name>_zh` too."""
        names = {str(name) for name in self.assignment}
        return [
            assignment
            for assignment in gradebook.assignments
            if not names or assignment.name in names or english_assignment(assignment.name) in names
        ]

    @functools.cached_property
    def late_plugin(self):
        return late_policy_plugin(self.config)

    def penalty(self, submission) -> float:
        """The submission's late penalty from its scores now (read, not written)."""
        return submission_penalty(self.late_plugin, submission)

    def wanted_students(self, gradebook: Gradebook) -> list:
        ids = {str(student) for student in self.student}
        return [student for student in gradebook.students if not ids or student.id in ids]

    def ungraded_hand_ins(self, gradebook: Gradebook, assignment: str) -> list[str]:
        """The students (--student kept) with an entry submitted/<student>/<assignment> (a folder, or a
        link or file the command refuses: submissions.layout_students) but no gradebook submission:
        refused or unreadable, graded 0. [] without a course directory."""
        coursedir = getattr(self.parent, "coursedir", None)
        if coursedir is None:
            return []
        root = Path(coursedir.format_path(coursedir.submitted_directory, ".", "."))
        if not root.is_dir():
            return []
        graded = {submission.student.id for submission in gradebook.assignment_submissions(assignment)}
        ids = {str(student) for student in self.student}
        return [
            name
            for name in layout_students(root, assignment)
            if valid_student_id(name) and name not in graded and (not ids or name in ids)
        ]

    def write(self, rows: list[list]) -> None:
        dest = self.destination()
        self.log.info("Exporting grades to %s", dest)
        text = io.StringIO(newline="")
        csv.writer(text).writerows(rows)
        # The grading command rewrites grades.csv as it goes: never half written.
        write_atomically(dest, text.getvalue())


class ExportRefused(SystemExit):
    """What an LMS export would write could lose a grade: nothing was written. A SystemExit
    (status 1), so `nbgrader export` ends with the logged reason, not a traceback."""

    def __init__(self, why: str):
        super().__init__(1)
        self.why = why

    def __str__(self) -> str:
        return self.why


class _ColumnExport(_FilteredExport):
    """A row per student, a column per assignment (Chinese editions merged)."""

    pending = Enum(
        ["refuse", "leave-out", "include"],
        default_value="refuse",
        help="Scores whose written answers still wait for hand grading: refuse (write "
        "nothing and name them), leave-out (export the other scores), include (export "
        "them as they are now).",
    ).tag(config=True)

    def columns(self, gradebook: Gradebook) -> dict:
        """{column: max score} in the gradebook's order; the English edition's max when it has one."""
        columns = {}
        for assignment in self.wanted_assignments(gradebook):
            name = english_assignment(assignment.name)
            if name not in columns or assignment.name == name:
                columns[name] = assignment.max_score
        return columns

    def scores(self, gradebook: Gradebook) -> dict:
        """{(student id, column): (final score, waits for hand grading)}; of two editions, the higher."""
        scores = {}
        for assignment in self.wanted_assignments(gradebook):
            name = english_assignment(assignment.name)
            for submission in gradebook.assignment_submissions(assignment.name):
                key = (submission.student.id, name)
                score = (
                    after_penalty(submission.score, self.penalty(submission)),
                    bool(submission.needs_manual_grade),
                )
                if key not in scores or score[0] > scores[key][0]:
                    scores[key] = score
            ungraded = self.ungraded_hand_ins(gradebook, assignment.name)
            if ungraded:
                self.log.warning(
                    "%s: handed in %s, not in the gradebook (refused or unreadable, or not graded yet): 0",
                    ", ".join(ungraded),
                    assignment.name,
                )
            for student in ungraded:
                scores.setdefault((student, name), (0.0, False))
        return scores

    def final_scores(self, gradebook: Gradebook, students: list) -> dict:
        """{(student id, column): final score} to export, after the pending policy."""
        wanted = {student.id for student in students}
        scores = {key: value for key, value in self.scores(gradebook).items() if key[0] in wanted}
        waiting = sorted(f"{student} ({column})" for (student, column), (_, waits) in scores.items() if waits)
        if waiting and self.pending == "refuse":
            self.refuse(
                f"written answers still wait for hand grading: {', '.join(waiting)}. Grade them in "
                f"formgrader, or export with --{type(self).__name__}.pending=leave-out (their scores "
                f"are not written) or =include (written as they are now)"
            )
        if waiting:
            self.log.warning(
                "Written answers still wait for hand grading (--%s.pending=%s): %s",
                type(self).__name__,
                self.pending,
                ", ".join(waiting),
            )
        left_out = self.pending == "leave-out"
        return {key: score for key, (score, waits) in scores.items() if not (waits and left_out)}

    def export(self, gradebook: Gradebook) -> None:
        columns = self.columns(gradebook)
        students = self.wanted_students(gradebook)
        scores = self.final_scores(gradebook, students)
        rows = self.head(columns)
        for student in students:
            cells = [scores.get((student.id, name)) for name in columns]
            if self.keeps_row(student.id, columns, cells):
                rows.append(self.identity(student) + [_cell(cell) for cell in cells])
        self.write(rows)

    def keeps_row(self, student_id: str, columns: dict, cells: list) -> bool:
        """Whether a row is written (cells: a score or None per column): only with every score;
        some blank cells stop the export."""
        missing = [name for name, cell in zip(columns, cells) if cell is None]
        if missing and len(missing) < len(cells):
            self.refuse(
                f"{student_id} has no score for {', '.join(missing)}, and {self.lms} would clear a grade "
                "entered there by hand: export one assignment at a time (--assignment=NAME)"
            )
        return not missing

    def refuse(self, why: str) -> None:
        """Write nothing: say why (nbgrader's export then ends with exit status 1)."""
        self.log.error("Nothing exported to %s: %s", self.destination(), why)
        raise ExportRefused(why)

    lms = "the LMS"  # the platform's name, for messages

    def head(self, columns: dict) -> list[list]:
        raise NotImplementedError

    def identity(self, student) -> list:
        raise NotImplementedError


class CanvasExport(_ColumnExport):
    """Canvas's gradebook import CSV (canvas.csv unless --to says otherwise).

    Student,ID,SIS User ID,SIS Login ID,Section,Initialization (4012)
    Points Possible,,,,,10.0
    "Smith, Jr., Bob",1002,,bob@example.org,,7.0

    ID is lms_user_id, SIS Login ID the email; SIS User ID and Section stay blank. Canvas matches a
    column by "Title (id)" (canvas_columns); under the nbgrader name it plans a new assignment.
    """

    default_file = "canvas.csv"
    lms = "Canvas"
    ID_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]

    canvas_columns = Dict(
        value_trait=Unicode(),
        help="{assignment: the header of its Canvas column}, such as "
        "{'initialization': 'Initialization (4012)'}: the assignment's title in Canvas and "
        "its id (the number in its address).",
    ).tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        self.unmatched = []  # the students of rows Canvas cannot match (identity)
        super().export(gradebook)
        if self.unmatched:
            self.log.warning(
                "No Canvas user id or email in the roster for %s: Canvas's import cannot match their rows; "
                "import a roster with their ids (lms_user_id) or emails",
                ", ".join(self.unmatched),
            )

    def head(self, columns: dict) -> list[list]:
        untitled = [name for name in columns if name not in self.canvas_columns]
        if untitled:
            self.log.warning(
                "No Canvas title for %s: Canvas's import will offer to create a new assignment; set "
                "c.CanvasExport.canvas_columns = {'%s': 'Its title (its id)'} to fill the existing one",
                ", ".join(untitled),
                untitled[0],
            )
        blanks = [""] * (len(self.ID_COLUMNS) - 1)
        return [
            self.ID_COLUMNS + [self.canvas_columns.get(name, name) for name in columns],
            ["Points Possible", *blanks] + [_cell(points) for points in columns.values()],
        ]

    def identity(self, student) -> list:
        if not student.lms_user_id and not student.email:
            self.unmatched.append(student.id)
        name = ", ".join(part for part in (student.last_name, student.first_name) if part)
        return [inert(name) or student.id, _cell(student.lms_user_id), "", _cell(student.email), ""]


class MoodleExport(_ColumnExport):
    """Moodle's grade import CSV (moodle.csv unless --to says otherwise).

    Email address,ID number,First name,Last name,initialization
    bob@example.org,bob,Bob,"Smith, Jr.",7.0

    ID number is the nbgrader id; map it (or the email) to a user field when importing.
    """

    default_file = "moodle.csv"
    lms = "Moodle"

    def export(self, gradebook: Gradebook) -> None:
        no_email = [student.id for student in self.wanted_students(gradebook) if not student.email]
        if no_email:
            self.log.warning(
                "No email in the roster for %s: Moodle's import matched on the email stops at their rows; "
                "match on ID number, or import a roster with their emails",
                ", ".join(no_email),
            )
        super().export(gradebook)

    def head(self, columns: dict) -> list[list]:
        return [["Email address", "ID number", "First name", "Last name", *columns]]

    def identity(self, student) -> list:
        return [_cell(student.email), student.id, inert(student.first_name), inert(student.last_name)]


class GradesCsvExport(_FilteredExport):
    """The grading command's grades.csv: a row per student and assignment handed in.

    assignment,duedate,timestamp,student_id,last_name,first_name,email,
    raw_score,late_submission_penalty,score,max_score,hand_grading_pending

    nbgrader's CSV export columns and values, plus hand_grading_pending (any needs_manual_grade).
    No row for work not handed in; a row of 0 for files refused or unreadable.
    """

    KEYS = [
        "assignment",
        "duedate",
        "timestamp",
        "student_id",
        "last_name",
        "first_name",
        "email",
        "raw_score",
        "late_submission_penalty",
        "score",
        "max_score",
        "hand_grading_pending",
    ]

    def export(self, gradebook: Gradebook) -> None:
        rows = [self.KEYS]
        wanted = {student.id for student in self.wanted_students(gradebook)}
        for assignment in self.wanted_assignments(gradebook):
            submissions = {s.student.id: s for s in gradebook.assignment_submissions(assignment.name)}
            ungraded = self.ungraded_hand_ins(gradebook, assignment.name)
            for student_id in sorted((set(submissions) & wanted) | set(ungraded)):
                rows.append(self.row(gradebook, assignment, student_id, submissions.get(student_id)))
        self.write(rows)

    def row(self, gradebook: Gradebook, assignment, student_id: str, submission) -> list:
        try:
            student = gradebook.find_student(student_id)
            # No platform matches grades.csv's rows by email: written inert too.
            names = [inert(student.last_name), inert(student.first_name), inert(student.email)]
        except MissingEntry:
            names = [None, None, None]
        score, pending = [None, 0.0, 0.0, 0.0], False  # refused or unreadable: graded 0
        if submission is not None:
            penalty = self.penalty(submission)
            final = after_penalty(submission.score, penalty)
            score = [submission.timestamp, submission.score, penalty, final]
            pending = bool(submission.needs_manual_grade)
        values = [assignment.name, assignment.duedate, score[0], student_id, *names, *score[1:]]
        return [_cell(value) for value in values + [assignment.max_score, pending]]
