"""What the grading command prints: a progress line per student and the
class summary."""

from __future__ import annotations

import time

from grading.pipeline import StudentResult, exercise_names


def summary_table(results: list[StudentResult]) -> str:
    """The class as text: one row per student, points per exercise, reasons."""
    cells = list(results[0].points)
    names = exercise_names(cells)
    width = max(len("student"), *(len(result.student) for result in results)) + 2
    columns = [max(len(name), 6) + 2 for name in names]
    header = (
        "student".ljust(width)
        + "".join(name.rjust(size) for name, size in zip(names, columns))
        + "late".rjust(7)
        + "total".rjust(8)
        + "  reasons"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        row = result.student.ljust(width)
        row += "".join(f"{result.points[cell][0]:>{size}g}" for cell, size in zip(cells, columns))
        late = f"-{result.late_penalty:g}" if result.late_penalty else "0"
        row += late.rjust(7) + f"{result.total:>8g}"
        if result.reasons:
            row += "  " + "; ".join(result.reasons)
        lines.append(row)
    maxima = [results[0].points[cell][1] for cell in cells]
    lines.append(
        "out of".ljust(width)
        + "".join(f"{m:>{size}g}" for m, size in zip(maxima, columns))
        + "".rjust(7)
        + f"{sum(maxima):>8g}"
    )
    return "\n".join(lines)


class Progress:
    """One line per graded submission: count, a bar, score, seconds, time left.

    [ 7/34] [####----------------] some-student   8/8  (6.1 s; about 2 min left)
    """

    BAR_WIDTH = 20

    def __init__(self, total: int, name_width: int = 30):
        self.total, self.done = total, 0
        self.name_width = name_width  # the longest student name, to align the scores
        self.start = time.monotonic()

    def report(self, result: StudentResult) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * (self.total - self.done)
        maximum = sum(m for _, m in result.points.values())
        filled = self.BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (self.BAR_WIDTH - filled)
        retried = "; retried: its first worker died" if result.retried else ""
        print(
            f"[{self.done:>{len(str(self.total))}}/{self.total}] [{bar}] "
            f"{result.student:<{self.name_width}} {result.total:>5g}/{maximum:g}  "
            f"({result.seconds:.1f} s{retried}; about {format_duration(left)} left)",
            flush=True,
        )


def format_duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def refusals_block(refusals) -> str:
    """What intake refused, a line each (grading/intake.py's Refusal)."""
    if not refusals:
        return ""
    return "\n".join(["Not graded:", *(f"  {refusal}" for refusal in refusals)])


def feedback_line(results: list[StudentResult], assignment: str, csv_name: str) -> str:
    written = sum(result.feedback for result in results)
    return f"Feedback for {written} students in feedback/<student>/{assignment}/; grades in {csv_name}"
