"""Grade a class with nbgrader: one command from submissions to grades.

    python -m grading.grade ASSIGNMENT [SUBMISSIONS] [--root COURSE] [--csv FILE]

Run it from the course root (the folder with nbgrader_config.py), or name
the root with --root. SUBMISSIONS is optional:

- left out: the submissions already in nbgrader's layout under the course's
  submitted/<student>/<ASSIGNMENT>/ (what `nbgrader collect` makes);
- a folder in that layout elsewhere: copied into submitted/ first;
- a zip file, or a folder of notebooks downloaded from a learning platform:
  handed to nbgrader's zip_collect, which files them by the names set in
  nbgrader_config.py (FileNameCollectorPlugin.named_regexp).

Then it autogrades the submissions one student at a time, each in nbgrader's
own pipeline with the kernel in a sandbox (grading/sandbox.py), writes each
student's feedback, exports the gradebook to a CSV file and prints a summary:
points per exercise, the late penalty, the total, and why points were lost
when an error rather than a wrong answer cost them. Grading the same class
again gives the same gradebook, feedback and CSV: nbgrader updates each
submission in place.
"""

import argparse
import logging
import os
import shutil
import sys
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.apps.exportapp import ExportApp
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning
from traitlets import Dict
from traitlets.config import Configurable
from traitlets.config.loader import PyFileConfigLoader

from grading.course import run_nbgrader
from grading.reasons import lost_point_reasons
from grading.submissions import inspect_submission

# nbgrader 0.9.6 makes SQLAlchemy 2 warn about its own session handling while
# autograding; the warnings say nothing about the submissions.
warnings.filterwarnings("ignore", category=SAWarning)


class Grading(Configurable):
    """Course settings of the grading command, read from nbgrader_config.py."""

    due_dates = Dict(help="Due date of each assignment, such as "
                          "{'initialization': '2026-12-04 23:59:00 UTC'}; "
                          "written into the gradebook before grading.").tag(config=True)


@dataclass
class StudentResult:
    """What grading one student's submission gave."""

    student: str
    points: dict = field(default_factory=dict)  # test cell -> (score, max score)
    late_penalty: float = 0.0
    reasons: list = field(default_factory=list)
    seconds: float = 0.0
    feedback: bool = False  # whether its feedback file was written
    retried: bool = False  # graded again because its first worker died

    @property
    def total(self):
        return sum(score for score, _ in self.points.values()) - self.late_penalty


class Course:
    """An nbgrader course root with its configuration and gradebook."""

    def __init__(self, root):
        self.root = Path(root).resolve()
        if not (self.root / "nbgrader_config.py").exists():
            raise SystemExit(f"{self.root} has no nbgrader_config.py: "
                             "run from the course root or pass --root")
        # nbgrader shells out to `alembic` when it creates a gradebook.
        bin_dir = str(Path(sys.executable).parent)
        if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        sys.path.insert(0, str(self.root))
        self.config = PyFileConfigLoader("nbgrader_config.py",
                                         path=str(self.root)).load_config()
        coursedir = CourseDirectory(config=self.config)
        coursedir.root = str(self.root)
        self.log = quiet_logger()
        self.api = NbGraderAPI(coursedir=coursedir, config=self.config, log=self.log)
        self.settings = Grading(config=self.config)

    def gradebook(self):
        # With the course's id: without one, nbgrader adds a "default_course".
        return Gradebook(self.api.coursedir.db_url, course_id=self.api.coursedir.course_id)

    def export_grades(self, csv_name):
        """What `nbgrader export --to csv_name` does, in this process.

        The exporter is the configured ExportApp.plugin_class (nbgrader's
        CSV one unless the course sets another); a separate `nbgrader export`
        would pay about 2 s of start-up and imports again.
        """
        app = ExportApp(config=self.config, log=self.log)
        exporter = app.plugin_class(parent=app)
        exporter.to = str(self.root / csv_name)
        with self.gradebook() as gradebook:
            exporter.export(gradebook)

    def submitted(self, assignment):
        """Students with a submission folder for assignment, sorted."""
        folder = self.root / "submitted"
        if not folder.is_dir():
            return []
        return sorted(path.name for path in folder.iterdir()
                      if (path / assignment).is_dir())

    def release_notebooks(self, assignment):
        """{notebook name: release notebook} of the assignment."""
        folder = self.root / "release" / assignment
        return {path.stem: nbformat.read(path, as_version=4)
                for path in sorted(folder.glob("*.ipynb"))}


def quiet_logger():
    """A logger for nbgrader's messages: kept for the results, not printed."""
    logger = logging.getLogger("grading.nbgrader")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())  # else Python prints warnings itself
    return logger


# ---------------------------------------------------------------- collecting

def is_nbgrader_layout(folder, assignment):
    """True when folder holds <student>/<assignment>/ subfolders."""
    return any((path / assignment).is_dir() for path in Path(folder).iterdir()
               if path.is_dir())


def collect(course, assignment, source):
    """Bring submissions from source into course/submitted/<student>/<assignment>/."""
    source = Path(source).resolve()
    submitted = course.root / "submitted"
    if source.is_dir() and is_nbgrader_layout(source, assignment):
        if source != submitted.resolve():
            for student_folder in sorted(source.iterdir()):
                if (student_folder / assignment).is_dir():
                    destination = submitted / student_folder.name / assignment
                    shutil.rmtree(destination, ignore_errors=True)
                    shutil.copytree(student_folder / assignment, destination)
        return
    if not (source.is_dir() or zipfile.is_zipfile(source)):
        raise SystemExit(f"{source} is neither a folder nor a zip file")
    archive = course.root / "downloaded" / assignment / "archive"
    shutil.rmtree(archive, ignore_errors=True)
    archive.mkdir(parents=True)
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if path.is_file():
                shutil.copy(path, archive / path.name)
    else:
        shutil.copy(source, archive / source.name)
    print(f"Collecting {source.name} with nbgrader zip_collect...", flush=True)
    run_nbgrader(course.root, "zip_collect", assignment, "--force")


# ------------------------------------------------------------------ grading

def set_due_date(course, assignment):
    due = course.settings.due_dates.get(assignment)
    with course.gradebook() as gradebook:
        if due:
            gradebook.update_or_create_assignment(assignment, duedate=due)


def ensure_assignment_in_gradebook(course, assignment):
    """Autograde needs the assignment's cells in the gradebook: generate it if missing."""
    with course.gradebook() as gradebook:
        try:
            if gradebook.find_assignment(assignment).notebooks:
                return
        except MissingEntry:
            pass
    print(f"{assignment} is not in the gradebook yet: generating it from source/",
          flush=True)
    result = course.api.generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n"
                         + result.get("error", ""))


def grade_student(course, assignment, student, releases):
    """Autograde one submission and read back its scores and reasons."""
    start = time.monotonic()
    result = StudentResult(student)
    folder = course.root / "submitted" / student / assignment
    readable = True
    for name, release in releases.items():
        notes, ok = inspect_submission(folder / f"{name}.ipynb", release)
        result.reasons += notes
        readable = readable and ok
    if readable:
        outcome = course.api.autograde(assignment, student, force=True, create=True)
        if not outcome["success"]:
            result.reasons.append("nbgrader could not grade it: "
                                  + last_line(outcome.get("error", "")))
    else:
        with course.gradebook() as gradebook:
            gradebook.update_or_create_student(student)
    read_scores(course, assignment, student, releases, result, graded=readable)
    result.seconds = time.monotonic() - start
    return result


def read_scores(course, assignment, student, releases, result, graded):
    """Fill result with the gradebook's scores (0 where there is none)."""
    timeout = course.config.Execute.get("timeout", 30)
    with course.gradebook() as gradebook:
        for name in releases:
            code_cells = [cell for cell in gradebook.find_notebook(name, assignment).grade_cells
                          if cell.cell_type == "code"]
            try:
                notebook = gradebook.find_submission_notebook(name, assignment, student)
            except MissingEntry:
                result.points.update({cell.name: (0.0, cell.max_score) for cell in code_cells})
                continue
            if not graded:
                result.reasons.append("the gradebook keeps the grade of an earlier run")
            scores = {grade.name: (grade.score, grade.max_score)
                      for grade in notebook.grades if grade.cell.cell_type == "code"}
            result.points.update(scores)
            result.late_penalty += notebook.late_submission_penalty or 0.0
            autograded = (course.root / "autograded" / student / assignment
                          / f"{name}.ipynb")
            if graded and autograded.exists():
                lost = [cell for cell, (score, maximum) in scores.items() if score < maximum]
                short = dict(zip(scores, exercise_names(list(scores))))
                result.reasons += [
                    f"{short[cell]}: {reason}" for cell, reason in lost_point_reasons(
                        nbformat.read(autograded, as_version=4), lost, timeout)]


def last_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"


def write_feedback(course, assignment, result):
    """Feedback for one graded student; a failure becomes a reason."""
    result.feedback = False
    if not (course.root / "autograded" / result.student / assignment).is_dir():
        return
    outcome = course.api.generate_feedback(assignment, result.student, force=True)
    if outcome["success"]:
        result.feedback = True
    else:
        result.reasons.append("no feedback: " + last_line(outcome.get("error", "")))


def grade_and_give_feedback(course, assignment, student, releases):
    """Everything one submission needs: autograde, scores, reasons, feedback."""
    result = grade_student(course, assignment, student, releases)
    write_feedback(course, assignment, result)
    return result


# ------------------------------------------------------------------ summary

def exercise_names(cells):
    """Short column names: the grade ids without 'test_' and their common prefix."""
    names = [cell.removeprefix("test_") for cell in cells]
    prefix = os.path.commonprefix(names) if len(names) > 1 else ""
    prefix = prefix[:prefix.rfind("_") + 1]
    return [name[len(prefix):] or name for name in names]


def summary_table(results):
    """The class as text: one row per student, points per exercise, reasons."""
    cells = list(results[0].points)
    names = exercise_names(cells)
    width = max(len("student"), *(len(result.student) for result in results)) + 2
    columns = [max(len(name), 6) + 2 for name in names]
    header = ("student".ljust(width)
              + "".join(name.rjust(size) for name, size in zip(names, columns))
              + "late".rjust(7) + "total".rjust(8) + "  reasons")
    lines = [header, "-" * len(header)]
    for result in results:
        row = result.student.ljust(width)
        row += "".join(f"{result.points[cell][0]:>{size}g}"
                       for cell, size in zip(cells, columns))
        late = f"-{result.late_penalty:g}" if result.late_penalty else "0"
        row += late.rjust(7) + f"{result.total:>8g}"
        if result.reasons:
            row += "  " + "; ".join(result.reasons)
        lines.append(row)
    maxima = [results[0].points[cell][1] for cell in cells]
    lines.append("out of".ljust(width)
                 + "".join(f"{m:>{size}g}" for m, size in zip(maxima, columns))
                 + "".rjust(7) + f"{sum(maxima):>8g}")
    return "\n".join(lines)


# --------------------------------------------------------------------- main

def grade_class(root, assignment, submissions=None, csv_name="grades.csv",
                workers=1, scheduler=None):
    """Collect, autograde, write feedback, export; return the StudentResults.

    workers > 1 grades that many submissions at once on an embedded Dask
    cluster; scheduler (an address such as tcp://10.0.0.5:8786) uses a running
    Dask cluster instead. The results are the same either way.
    """
    course = Course(root)
    if submissions is not None:
        collect(course, assignment, submissions)
    ensure_assignment_in_gradebook(course, assignment)
    set_due_date(course, assignment)
    releases = course.release_notebooks(assignment)
    students = course.submitted(assignment)
    if not students:
        raise SystemExit(f"no submissions of {assignment} in {course.root / 'submitted'}")
    print(f"Grading {assignment}: {len(students)} submissions", flush=True)
    progress = Progress(len(students), name_width=max(map(len, students)))
    if workers == 1 and scheduler is None:
        results = []
        for student in students:
            results.append(grade_and_give_feedback(course, assignment, student, releases))
            progress.report(results[-1])
    else:
        from grading.parallel import grade_on_cluster  # Dask only when asked for
        results = grade_on_cluster(course, assignment, students, workers, scheduler,
                                   progress.report)
    course.export_grades(csv_name)
    print()
    print(summary_table(results))
    print()
    print(f"Feedback for {sum(result.feedback for result in results)} students in "
          f"feedback/<student>/{assignment}/; grades in {csv_name}")
    return results


class Progress:
    """One line per graded submission: count, a bar, score, seconds, time left.

    [ 7/34] [####----------------] some-student   8/8  (6.1 s; about 2 min left)
    """

    BAR_WIDTH = 20

    def __init__(self, total, name_width=30):
        self.total, self.done = total, 0
        self.name_width = name_width  # the longest student name, to align the scores
        self.start = time.monotonic()

    def report(self, result):
        self.done += 1
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        maximum = sum(m for _, m in result.points.values())
        filled = self.BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (self.BAR_WIDTH - filled)
        retried = "; retried: its first worker died" if result.retried else ""
        print(f"[{self.done:>{len(str(self.total))}}/{self.total}] [{bar}] "
              f"{result.student:<{self.name_width}} {result.total:>5g}/{maximum:g}  "
              f"({result.seconds:.1f} s{retried}; about {format_duration(left)} left)",
              flush=True)


def format_duration(seconds):
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m grading.grade",
        description="Autograde a class with nbgrader, write feedback, export "
                    "grades and print a summary.")
    parser.add_argument("assignment", help="assignment name, such as initialization")
    parser.add_argument("submissions", nargs="?",
                        help="zip file or folder of submissions (default: the "
                             "course's submitted/ folder)")
    parser.add_argument("--root", default=".", help="course root (default: .)")
    parser.add_argument("--csv", default="grades.csv",
                        help="grades file, relative to the course root")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once on this machine "
                             "(default: the number of cores; 1 grades one at a time)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="grade on a running Dask cluster, such as "
                             "tcp://10.0.0.5:8786, instead of this machine")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    grade_class(args.root, args.assignment, args.submissions, args.csv,
                args.workers, args.scheduler)


if __name__ == "__main__":
    main()
