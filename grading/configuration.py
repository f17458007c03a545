"""The course's nbgrader configuration, as its nbgrader_config.py sets it:
the whole, and the marker lines of solutions and hidden tests that the
course's tools (translation, the example students, the tests) look for."""

from __future__ import annotations

import functools
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader


def course_config(course_root: str | Path):
    """The configuration nbgrader_config.py of course_root sets (read anew each call)."""
    return PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()


def assignment_notebook(config, resources, folder: str) -> Path | None:
    """The notebook nbgrader is converting, in the course folder named by
    folder ("source_directory" or "release_directory"): its path there, or
    None when it has none there or nbgrader is not converting one."""
    # Imported here: the course's tools (translation, examples) use this module without nbgrader.
    from nbgrader.coursedir import CourseDirectory

    info = (resources or {}).get("nbgrader", {})
    if "assignment" not in info:
        return None
    coursedir = CourseDirectory(config=config)
    path = Path(coursedir.format_path(getattr(coursedir, folder), ".", info["assignment"]))
    path = path / f"{info['notebook']}.ipynb"
    return path if path.is_file() else None


def autograded_folder(config, resources) -> Path | None:
    """nbgrader's autograded folder of the submission being converted
    (resolved), or None when nbgrader names no student and assignment."""
    from nbgrader.coursedir import CourseDirectory

    info = (resources or {}).get("nbgrader", {})
    if not info.get("student") or not info.get("assignment"):
        return None
    coursedir = CourseDirectory(config=config)
    folder = coursedir.format_path(coursedir.autograded_directory, info["student"], info["assignment"])
    return Path(folder).resolve()


def delimiters(course_root: str | Path) -> dict:
    """The marker lines of solutions and hidden tests, as nbgrader_config.py
    sets them: {"solution": (begin, end), "hidden tests": (begin, end)}."""
    return dict(_delimiters(str(Path(course_root).resolve())))


@functools.lru_cache(maxsize=None)
def _delimiters(course_root: str) -> tuple:
    """delimiters(), read from the configuration once a process."""
    config = course_config(course_root)
    return tuple(
        {
            "solution": (
                config.ClearSolutions.begin_solution_delimeter,
                config.ClearSolutions.end_solution_delimeter,
            ),
            "hidden tests": (
                config.ClearHiddenTests.begin_test_delimeter,
                config.ClearHiddenTests.end_test_delimeter,
            ),
        }.items()
    )
