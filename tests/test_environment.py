"""requirements.txt, constraints.txt and environment.yml agree."""

import re
import subprocess
import sys

import yaml

from conftest import REPO

PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)$")


def pins(lines):
    """{normalized name: version} of the name==version lines."""
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def requirement_lines(path=REPO / "requirements.txt"):
    """The lines of a requirements file, with the files it includes (-r) in place."""
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("-r "):
            lines += requirement_lines(path.parent / line[3:].strip())
        else:
            lines.append(line)
    return lines


def test_every_requirement_is_pinned_exactly():
    packages = [line for line in requirement_lines() if line.strip() and not line.startswith("#")]
    assert packages and all(PIN.match(line) for line in packages), packages


def test_each_role_adds_to_the_one_before():
    """A student needs the notebook stack and nbgrader; an instructor adds
    Dask and the PostgreSQL driver; development adds the test tools."""
    roles = {
        role: pins(requirement_lines(REPO / "requirements" / f"{role}.txt"))
        for role in ("student", "instructor", "dev")
    }
    assert {"numpy", "matplotlib", "jupyterlab", "nbgrader"} <= set(roles["student"])
    assert not {"dask", "pytest", "nbval"} & set(roles["student"])
    assert set(roles["student"]) < set(roles["instructor"]) < set(roles["dev"])
    assert {"dask", "distributed", "psycopg2-binary"} <= set(roles["instructor"])
    assert {"pytest", "nbval", "ruff", "babel"} <= set(roles["dev"]) - set(roles["instructor"])
    assert pins(requirement_lines()) == roles["dev"]


def test_environment_yml_lists_the_same_pinned_packages():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(item["pip"] for item in environment["dependencies"] if isinstance(item, dict))
    assert pins(pip_section) == pins(requirement_lines())
    assert "python=3.11" in environment["dependencies"]


def test_constraints_pin_the_requirements_at_the_same_versions():
    constraints = pins((REPO / "constraints.txt").read_text().splitlines())
    for name, version in pins(requirement_lines()).items():
        assert constraints.get(name) == version, name


def test_the_code_passes_ruff():
    """The lint rules of pyproject.toml hold for every Python file of the
    course, and the files are formatted as `ruff format` leaves them."""
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        process = subprocess.run(
            [sys.executable, "-m", "ruff", *command], cwd=REPO, capture_output=True, text=True
        )
        assert process.returncode == 0, process.stdout[-3000:]
