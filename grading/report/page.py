"""The class report's files: index.html (a Jinja template, with autoescape:
every student id, reason and line of student code is escaped), its PNG
figures, report.json, mistakes.csv and students.csv, in one folder."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from grading.atomic import write_atomically, write_json
from grading.report.data import mistakes_csv
from grading.report.figures import write_figures
from grading.report.table import students_csv
from grading.report.times import shown, shown_in

TEMPLATES = Path(__file__).with_name("templates")


def render(data: dict, figures: dict) -> str:
    """The report page's HTML for data (grading/report/data.py) and its figures."""
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["time"] = shown  # a stored time: "2026-12-05 10:30 UTC"
    environment.filters["times"] = shown_in  # each time in a text so
    # Each exercise by its short name, its grade id in a tooltip.
    grade_ids = {exercise["name"]: exercise["cell"] for exercise in data["exercises"]}
    return environment.get_template("report.html.j2").render(data=data, figures=figures, grade_ids=grade_ids)


def write_report(data: dict, folder: Path) -> Path:
    """Write the report's files into folder (made if missing); the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    figures = write_figures(data, folder)
    for stale in folder.glob("*.png"):  # a figure not drawn this time (no mistakes left, say)
        if stale.stem not in figures:
            stale.unlink()
    files = {name: figure["file"] for name, figure in figures.items()}
    write_json(folder / "report.json", {**data, "figures": files})
    write_atomically(folder / "mistakes.csv", mistakes_csv(data))
    write_atomically(folder / "students.csv", students_csv(data))
    page = folder / "index.html"
    write_atomically(page, render(data, figures))
    return page
