"""What the grading command prints: a progress line per student and the
class summary."""

from __future__ import annotations

import time

from grading.command.results import StudentResult, exercise_names

MAX_HEADER = 12  # longest exercise name the table shows as a column header


def summary_table(results: list[StudentResult]) -> str:
    """The class as text: a row per student with points per exercise, written,
    waiting, late, total and reasons; long exercise names are numbered."""
    # A student whose grade could not even be read has no points: the
    # exercises are those of any result that has them.
    maxima = {cell: maximum for result in results for cell, (_, maximum) in result.points.items()}
    cells = list(maxima)
    names = exercise_names(cells)
    legend = ""
    if max((len(name) for name in names), default=0) > MAX_HEADER:
        # Long names (initialize_parameters_xavier) would make every row too
        # wide to read: numbered columns, and a line that names them.
        legend = "Columns: " + "; ".join(f"ex{number} = {name}" for number, name in enumerate(names, 1))
        names = [f"ex{number}" for number in range(1, len(names) + 1)]
    width = max(len("student"), *(len(result.student) for result in results)) + 2
    columns = [max(len(name), 6) + 2 for name in names]
    header = "student".ljust(width) + "".join(name.rjust(size) for name, size in zip(names, columns))
    header += "written".rjust(9) + "waiting".rjust(9) + "late".rjust(7) + "total".rjust(8) + "  reasons"
    lines = [header, "-" * len(header)]
    for result in results:
        row = result.student.ljust(width)
        row += "".join(
            f"{result.points[cell][0]:>{size}g}" if cell in result.points else "-".rjust(size)
            for cell, size in zip(cells, columns)
        )
        row += f"{result.written[0]:>9g}" + f"{result.pending:>9g}"
        late = f"-{result.late_penalty:g}" if result.late_penalty else "0"
        row += late.rjust(7) + f"{result.total:>8g}"
        if result.reasons:
            row += "  " + "; ".join(printable(shortened(str(reason))) for reason in result.reasons)
        lines.append(row)
    maxima = list(maxima.values())
    written_max = max(result.written[1] for result in results)
    footer = "out of".ljust(width) + "".join(f"{m:>{size}g}" for m, size in zip(maxima, columns))
    lines.append(footer + f"{written_max:>9g}" + "".rjust(9 + 7) + f"{sum(maxima) + written_max:>8g}")
    if legend:
        lines.append(legend)
    return "\n".join(lines)


def hand_grading_line(results: list[StudentResult]) -> str:
    """How many points of written answers still wait for hand grading."""
    waiting = [result for result in results if result.pending]
    if not waiting:
        return "Hand grading: nothing waits for the students above; their totals are final."
    points = sum(result.pending for result in waiting)
    return (
        f"Hand grading: {plural(points, 'point')} of written answers wait in formgrader "
        f"({len(waiting)} of {plural(len(results), 'student')}); "
        "until they are graded, the totals count a new answer as 0 and an answer changed "
        "since it was graded at its earlier grade."
    )


def plural(count: float, noun: str) -> str:
    """ "1 student", "2 students", "0.5 points"."""
    return f"{count:g} {noun}" if count == 1 else f"{count:g} {noun}s"


class Progress:
    """One line per graded submission: count, a bar, score, seconds, time left.

    [ 7/34] [####----------------] some-student   8/8  (6.1 s; about 2 min left)
    """

    BAR_WIDTH = 20

    def __init__(self, total: int, name_width: int = 30, workers: int = 1):
        self.total, self.done = total, 0
        self.name_width = name_width  # the longest student name, to align the scores
        self.workers = max(1, workers)  # submissions graded at the same time
        self.first_done_at: float | None = None  # the first graded result's time
        self.done_at_first = 0  # and how many were done then

    def time_left(self, result: StudentResult) -> float | None:
        """Seconds until the last submission is graded (None: not known yet).

        Until the first graded result, the clock also counted the reference run and
        the workers' start: the first estimate is that student's own time shared
        among the workers; then, the pace of the results since the first. A result
        not graded took no grading time, and tells nothing before the first graded one."""
        now, remaining = time.monotonic(), self.total - self.done
        if self.first_done_at is None:
            if not result.graded:
                return None
            self.first_done_at, self.done_at_first = now, self.done
            return result.seconds * remaining / self.workers
        return (now - self.first_done_at) / (self.done - self.done_at_first) * remaining

    def report(self, result: StudentResult) -> None:
        self.done += 1
        left = self.time_left(result)
        filled = self.BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "-" * (self.BAR_WIDTH - filled)
        retried = "; retried: a worker it was given to died" if result.retried else ""
        estimate = "not yet known how long is left" if left is None else f"about {format_duration(left)} left"
        print(
            f"[{self.done:>{len(str(self.total))}}/{self.total}] [{bar}] "
            f"{result.student:<{self.name_width}} {result.total:>5g}/{result.max_score:g}  "
            f"({result.seconds:.1f} s{retried}; {estimate})",
            flush=True,
        )


def format_duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def block(title: str, items: list) -> str:
    """title ("Not graded:", "Notes:") and an indented line per item (intake's Refusals, its
    Collected.notes: grading/command/intake.py); "" when there are none."""
    return "\n".join([title, *(f"  {printable(str(item))}" for item in items)]) if items else ""


def shortened(text: str, width: int = 80) -> str:
    """text on one line (its line breaks and runs of spaces made one space),
    cut at the last word that fits in width characters, with "..." when cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 3]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ;,:") + "..."


def printable(text: str) -> str:
    """text with its control characters written as escapes: a file name in a
    student's download must not move the cursor or recolour the instructor's
    terminal."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def feedback_line(results: list[StudentResult], assignment: str, csv_name: str) -> str:
    """Where the feedback and the grades are, and every student who got no feedback, and why."""
    written = sum(result.feedback for result in results)
    lines = [
        f"Feedback for {plural(written, 'student')} in feedback/<student>/{assignment}/; grades in {csv_name}"
    ]
    missing = [result for result in results if not result.feedback]
    if missing:
        lines.append("No feedback for:")
        lines += [
            f"  {result.student}: {printable(result.no_feedback or 'not written')}" for result in missing
        ]
    return "\n".join(lines)
