"""The class report's figures, as PNG files beside its page.

Drawn from the report's data (data.py) with matplotlib's object API (no pyplot: no global state, no
display). A figure shows counts, scores, exercise and mistake names, never a student's id; each
function returns its texts too, so that a test can check that.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.figure import Figure

# One colour per edition (matplotlib's default cycle, colour-blind safe enough for two).
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
# One per cause of a 0 (grading/report/outcomes.py's CAUSES), from Okabe and Ito's colour-blind safe set.
CAUSE_COLOURS = {
    "mistake": "#0072B2",
    "error": "#D55E00",
    "not_answered": "#999999",
    "not_graded": "#E69F00",
    "other": "#CC79A7",
}
MAX_MISTAKE_ROWS = 20  # the page's table has them all


def write_figures(data: dict, folder: Path) -> dict[str, dict]:
    """Write the report's figures into folder: {name: {"file", "alt",
    "texts"}} for those drawn (no mistakes figure when there are none)."""
    figures = {}
    if data["exercises"]:
        figures["scores"] = scores_figure(data)
        figures["totals"] = totals_figure(data)
    if any(exercise["zero"] for exercise in data["exercises"]):
        figures["zeros"] = zeros_figure(data)
    if data["mistakes"]:
        figures["mistakes"] = mistakes_figure(data)
    written = {}
    for name, (figure, alt) in figures.items():
        path = folder / f"{name}.png"
        figure.savefig(path, dpi=100, metadata={"Software": None})
        written[name] = {"file": path.name, "alt": alt, "texts": figure_texts(figure)}
    return written


def figure_texts(figure: Figure) -> list[str]:
    """Every text drawn in figure: titles, labels, tick labels, legends."""
    return [
        text.get_text()
        for text in figure.findobj(lambda artist: hasattr(artist, "get_text"))
        if text.get_text()
    ]


def _editions_legend(figure, axes, data):
    """One legend for the figure, below it, when the bars stack two editions."""
    if len(data["editions"]) > 1:
        handles, labels = axes.get_legend_handles_labels()
        figure.legend(
            handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8, frameon=False
        )


def scores_figure(data: dict) -> tuple[Figure, str]:
    """A bar chart per exercise: how many students got each score."""
    exercises = data["exercises"]
    figure = Figure(figsize=(3.2 * len(exercises), 3.0), layout="constrained")
    axes_row = figure.subplots(1, len(exercises), squeeze=False)[0]
    for axes, exercise in zip(axes_row, exercises):
        scores = sorted({0.0, exercise["max"], *(score for score, _ in exercise["scores"])})
        bottom = [0] * len(scores)
        for number, edition in enumerate(data["editions"]):
            counted = dict(map(tuple, exercise["by_edition"][edition]))
            counts = [counted.get(score, 0) for score in scores]
            bars = axes.bar(
                [f"{score:g}" for score in scores],
                counts,
                bottom=bottom,
                color=COLOURS[number % 4],
                label=edition,
            )
            bottom = [below + count for below, count in zip(bottom, counts)]
        axes.bar_label(bars, labels=[f"{count:g}" for count in bottom], fontsize=8)  # each whole bar's count
        # Room for the labels (a stacked bar's sticky edges keep matplotlib's margins off).
        axes.set_ylim(0, max(bottom) * 1.15 + 0.5)
        axes.set_title(exercise["name"], fontsize=10)
        axes.set_xlabel(f"points (of {exercise['max']:g})")
        axes.set_ylabel("students")
        axes.yaxis.get_major_locator().set_params(integer=True)
    _editions_legend(figure, axes, data)
    figure.suptitle(f"Scores per exercise: {data['title']}", fontsize=11)
    alt = "Scores per exercise: " + "; ".join(
        f"{exercise['name']}: {exercise['full']} of {data['students']} with full points"
        for exercise in exercises
    )
    return figure, alt


def zeros_figure(data: dict) -> tuple[Figure, str]:
    """A bar per exercise: its students with 0 points, split by cause (outcomes.CAUSES)."""
    exercises = data["exercises"]
    causes = [cause for cause in CAUSE_COLOURS if any(e["zero_causes"].get(cause) for e in exercises)]
    figure = Figure(figsize=(8.0, 1.3 + 0.45 * len(exercises)), layout="constrained")
    axes = figure.subplots()
    names = [exercise["name"] for exercise in exercises]
    left = [0] * len(exercises)
    for cause in causes:
        counts = [exercise["zero_causes"].get(cause, 0) for exercise in exercises]
        bars = axes.barh(names, counts, left=left, color=CAUSE_COLOURS[cause], label=data["causes"][cause])
        # Each part's count inside it, where there is one.
        axes.bar_label(
            bars,
            labels=[f"{count:g}" if count else "" for count in counts],
            label_type="center",
            fontsize=8,
            color="white" if cause in ("mistake", "error") else "black",
        )
        left = [before + count for before, count in zip(left, counts)]
    for row, total in enumerate(left):  # each bar's whole count, after it
        axes.annotate(
            f"{total:g}", (total, row), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8
        )
    axes.set_xlim(0, max(left) * 1.1 + 0.5)
    axes.invert_yaxis()  # the first exercise at the top, as in the table
    axes.set_xlabel("students with 0 points")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_title(f"Why 0 points: {data['title']}", fontsize=11)
    figure.legend(loc="outside lower center", ncols=len(causes), fontsize=8, frameon=False)
    alt = "Why 0 points: " + "; ".join(
        f"{exercise['name']}: "
        + ", ".join(f"{exercise['zero_causes'][cause]} {data['causes'][cause]}" for cause in causes)
        for exercise in exercises
    )
    return figure, alt


def totals_figure(data: dict) -> tuple[Figure, str]:
    """A histogram of the totals, one bin per point."""
    totals = data["totals"]
    maximum = max(1, int(round(totals["max"])))
    figure = Figure(figsize=(6.0, 3.0), layout="constrained")
    axes = figure.subplots()
    counts, _, bars = axes.hist(
        totals["values"], bins=range(0, maximum + 2), align="left", rwidth=0.85, color=COLOURS[0]
    )
    axes.bar_label(bars, labels=[f"{count:g}" if count else "" for count in counts], fontsize=8)
    axes.margins(y=0.15)
    axes.set_xticks(range(0, maximum + 1))
    axes.set_xlabel(
        f"total of {totals['max']:g}, after any late penalty (written answers not yet graded count 0)"
    )
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(f"Totals: {data['title']}", fontsize=11)
    alt = f"Totals of {len(totals['values'])} students: mean {totals['mean']}, median {totals['median']}"
    return figure, alt


def mistakes_figure(data: dict) -> tuple[Figure, str]:
    """Horizontal bars: how many students made each mistake, most common at the top."""
    rows = data["mistakes"][:MAX_MISTAKE_ROWS]
    labels = [textwrap.fill(f"{row['title']} ({row['exercise']})", 48) for row in rows]
    figure = Figure(
        figsize=(8.0, 0.9 + 0.42 * len(rows) + 0.14 * sum(label.count("\n") for label in labels)),
        layout="constrained",
    )
    axes = figure.subplots()
    left = [0] * len(rows)
    for number, edition in enumerate(data["editions"]):
        counts = [row["by_edition"].get(edition, 0) for row in rows]
        bars = axes.barh(labels, counts, left=left, color=COLOURS[number % 4], label=edition)
        left = [before + count for before, count in zip(left, counts)]
    axes.bar_label(bars, labels=[f"{count:g}" for count in left], fontsize=8, padding=2)
    axes.set_xlim(0, max(left) * 1.1 + 0.3)
    axes.invert_yaxis()  # the most common first, at the top
    axes.tick_params(axis="y", labelsize=8)
    axes.set_xlabel("students")
    axes.xaxis.get_major_locator().set_params(integer=True)
    shown = "" if len(data["mistakes"]) <= MAX_MISTAKE_ROWS else f" (the {MAX_MISTAKE_ROWS} most common)"
    axes.set_title(f"Mistakes the visible checks diagnosed{shown}: {data['title']}", fontsize=11)
    _editions_legend(figure, axes, data)
    alt = "Mistakes, most common first: " + "; ".join(
        f"{row['title']} ({row['exercise']}): {row['count']}" for row in rows
    )
    return figure, alt
