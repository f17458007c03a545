"""What the grading command gives: one student's result, the whole run's,
and the short names of the exercises. The command prints them
(grading/command/reporting.py) and writes them as JSON (--json) for scripts and tests."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from grading.plugins.late import after_penalty
from grading.reasons import Reason, Why


@dataclass
class StudentResult:
    """What grading one student's submission gave; late_penalty is a share of the
    final score (grading/plugins/late.py), as the gradebook and exports have it."""

    student: str
    points: dict = field(default_factory=dict)  # test cell -> (score, max score)
    written: tuple = (0.0, 0.0)  # answers graded by hand: (score so far, max score)
    pending: float = 0.0  # points of answers still waiting for hand grading
    late_penalty: float = 0.0
    reasons: list[Reason] = field(default_factory=list)
    seconds: float = 0.0
    graded: bool = False  # whether nbgrader autograded this submission in this run
    # whether the gradebook was read for the scores above (pipeline.read_scores), even if it could not be
    gradebook_read: bool = False
    feedback: bool = False  # whether its feedback file was written
    no_feedback: str | None = None  # why not, when it was not
    retried: bool = False  # given to another worker because a worker it was given to died
    # exercise (short name) -> id of the mistake its visible check diagnosed
    # (grading/plugins/verdicts.py), for each exercise judged wrong in this run
    mistakes: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        """The final score so far: autograded and hand-graded points less the late penalty."""
        score = sum(score for score, _ in self.points.values()) + self.written[0]
        return after_penalty(score, self.late_penalty)

    @property
    def max_score(self) -> float:
        return sum(maximum for _, maximum in self.points.values()) + self.written[1]

    def has(self, why: Why) -> bool:
        """Whether one of the reasons is of that kind."""
        return any(reason.why is why for reason in self.reasons)

    def to_json(self) -> dict:
        """The result as plain data (the command's --json summary), total included."""
        data = asdict(self)
        data["points"] = {cell: list(pair) for cell, pair in self.points.items()}
        data["written"] = list(self.written)
        data["reasons"] = [reason.to_json() for reason in self.reasons]
        data["total"], data["max_score"] = self.total, self.max_score
        return data

    @classmethod
    def from_json(cls, data: dict) -> StudentResult:
        fields = {key: value for key, value in data.items() if key not in ("total", "max_score")}
        fields["points"] = {cell: tuple(pair) for cell, pair in data["points"].items()}
        fields["written"] = tuple(data["written"])
        fields["reasons"] = [Reason.from_json(reason) for reason in data["reasons"]]
        return cls(**fields)


@dataclass
class ClassGrading:
    """What one run of the grading command did."""

    results: list[StudentResult] = field(default_factory=list)  # the students graded, sorted
    refusals: list = field(default_factory=list)  # grading/command/intake.py's Refusals: not graded, and why
    notes: list[str] = field(default_factory=list)
    report: str | None = None  # the class report's page (grading/report/), once written
    changes: dict | None = None  # what this run changed since the last grading (grading/report/changes.py)
    export_problem: str | None = None  # why the grades file could not be written, if it could not
    assignment: str = ""  # the assignment graded

    @property
    def everything_graded(self) -> bool:
        """Whether every file handed in was taken and every submission autograded."""
        return not self.refusals and all(result.graded for result in self.results)

    def to_json(self) -> dict:
        """The command's --json summary. While the class is graded it is
        written with "unfinished": true; a command that could grade no one
        writes {"assignment", "everything_graded": false, "error"} instead."""
        return {
            "assignment": self.assignment,
            "everything_graded": self.everything_graded,
            "students": [result.to_json() for result in self.results],
            "refusals": [asdict(refusal) for refusal in self.refusals],  # {"student_or_file", "reason"}
            "notes": list(self.notes),
            "report": self.report,
            "changes": self.changes,
            "export_problem": self.export_problem,
        }


def exercise_names(cells: list[str]) -> list[str]:
    """Short names: the grade ids without 'test_' and their common prefix."""
    names = [cell.removeprefix("test_") for cell in cells]
    prefix = os.path.commonprefix(names) if len(names) > 1 else ""
    prefix = prefix[: prefix.rfind("_") + 1]
    return [name[len(prefix) :] or name for name in names]
