"""The course's tools install from a wheel, not only as the checkout's
editable install (scripts/setup.sh): the wheel ships grading with its
subpackages and feedback template, the helpers in utils/ with their compiled
catalogs, and the kernel provisioner's entry point. Installed in a fresh
environment, run from another folder with nothing on PYTHONPATH, its packages
import without the checkout and its provisioner starts a sandboxed kernel.

The fresh environment is a venv without pip that sees the course's packages
through a .pth file, which Python reads only in the venv's own site-packages:
the editable install's finder in the course's venv stays off, so what
imports there comes from the wheel or not at all."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from conftest import REPO
from grading.plugins.sandbox import PROVISIONER_NAME, sandbox_problem

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# The folders the build reads: the top-level packages pyproject.toml names,
# as a list or as the patterns setuptools finds them with.
_packages = PYPROJECT["tool"]["setuptools"]["packages"]
BUILT = sorted(
    {name.split(".")[0] for name in (_packages["find"]["include"] if "find" in _packages else _packages)}
)
# What the wheel should ship: grading, and the helpers it imports.
PACKAGES = ["grading", "utils"]
# Modules not to import in the probe: a file IPython runs first in each
# sandboxed kernel (importing it would end every fork of the probe).
NOT_IMPORTED = {"grading.plugins.kernel_startup"}


def offline_build_problem():
    """None when this environment can build the wheel itself (pip's
    --no-build-isolation, which downloads nothing); else why not."""
    for requirement in map(Requirement, PYPROJECT["build-system"]["requires"]):
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            return f"{requirement.name} is not installed"
        if not requirement.specifier.contains(installed, prereleases=True):
            return f"{requirement.name} {installed} is not {requirement.specifier}"
    # setuptools makes wheels itself from 70.1 on; before, with the wheel package.
    if Version(version("setuptools")) < Version("70.1") and find_spec("wheel") is None:
        return f"setuptools {version('setuptools')} makes no wheel without the wheel package"
    return None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built from a copy of what the build reads (so that no
    build/ or .egg-info folder, stale files included, is left in the
    checkout): pyproject.toml, the license and the packages' folders."""
    source = tmp_path_factory.mktemp("source")
    for path in [REPO / "pyproject.toml", *REPO.glob("LICEN[CS]E*")]:
        shutil.copy(path, source)
    for name in BUILT:
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    built = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(built), str(source)]
    problem = offline_build_problem()
    if problem is None:
        command.insert(4, "--no-build-isolation")
    # Else pip fetches the build requirements from the configured index, as
    # scripts/setup.sh's `pip install -e .` does.
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0 and problem and "build dependencies" in result.stdout + result.stderr:
        pytest.skip(f"no wheel can be built offline here ({problem}) and pip could not fetch setuptools")
    assert result.returncode == 0, result.stdout + result.stderr
    [path] = built.glob("*.whl")
    return path


@pytest.fixture(scope="module")
def environment(wheel, tmp_path_factory):
    """(python, its venv) of a new venv where the wheel is installed, which
    sees the course's other packages through a .pth file."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The course venv's pip installs into the new venv, before that one sees the
    # course's packages (where pip would find the checkout's editable install).
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps"]
        + ["--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    site_packages = Path(subprocess.run(probe, check=True, capture_output=True, text=True).stdout.strip())
    course = dict.fromkeys(os.path.realpath(sysconfig.get_paths()[key]) for key in ("purelib", "platlib"))
    (site_packages / "course-packages.pth").write_text("".join(f"{path}\n" for path in course))
    return python, venv


def run_in(environment, tmp_path, script, *arguments):
    """What script, run by the new venv's Python in an empty folder with
    nothing on PYTHONPATH, prints as JSON on its last line."""
    python, _ = environment
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {name: value for name, value in os.environ.items() if name not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # nothing written beside the course's packages
    result = subprocess.run(
        [str(python), "-c", textwrap.dedent(script), *arguments],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.splitlines()[-1])


@pytest.mark.slow
def test_the_wheel_ships_the_packages_their_data_and_the_provisioner(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {path for name in PACKAGES for path in (REPO / name).rglob("*.py")}
    # Every template folder of the package (the feedback page's, the class report's, ...).
    expected |= {path for path in (REPO / "grading").rglob("templates/**/*") if path.is_file()}
    expected |= set((REPO / "utils" / "locale").glob("*/LC_MESSAGES/*.mo"))
    expected = {path.relative_to(REPO).as_posix() for path in expected if "__pycache__" not in path.parts}
    assert {"grading/plugins/sandbox.py", "grading/command/pipeline.py"} <= expected
    templates = {"grading/templates/course_feedback/index.html.j2", "grading/report/templates/report.html.j2"}
    assert templates <= expected
    assert {"utils/i18n.py", "utils/locale/zh_CN/LC_MESSAGES/course.mo"} <= expected
    assert sorted(expected - names) == []
    [dist_info] = {name.split("/")[0] for name in names if ".dist-info/" in name}
    assert {name.split("/")[0] for name in names} == {*PACKAGES, dist_info}
    assert not [name for name in names if name.endswith(".po") or "__pycache__" in name]
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode()
    assert f"{PROVISIONER_NAME} = grading.plugins.sandbox:SandboxProvisioner" in entry_points


IMPORTS = """
    import importlib, json, pkgutil, sys
    import grading, utils
    from grading.plugins.feedback_page import TEMPLATE_NAME, TEMPLATES
    from utils.i18n import translation

    imported = {}
    for package in (grading, utils):
        imported[package.__name__] = package.__file__
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name not in sys.argv[1:]:
                imported[module.name] = importlib.import_module(module.name).__file__
    catalog = translation("zh_CN")
    print(json.dumps({
        "imported": imported,
        "template": str(TEMPLATES / TEMPLATE_NAME / "index.html.j2"),
        "catalog": [type(catalog).__name__, len(catalog._catalog)],
        "sys_path": sys.path,
        "finders": [repr(finder) for finder in sys.meta_path],
    }))
"""


@pytest.mark.slow
def test_the_installed_packages_import_on_their_own(environment, tmp_path):
    """Every module of grading and utils imports from the new venv, the
    feedback template and the Chinese catalog are found there, and nothing
    comes from the checkout."""
    _, venv = environment
    found = run_in(environment, tmp_path, IMPORTS, *NOT_IMPORTED)
    imported = found["imported"]
    assert {"grading.plugins.sandbox", "grading.command.pipeline", "grading.grade"} <= imported.keys()
    assert {"utils.i18n", "utils.answers", "utils.init_checks", "utils.deep_checks"} <= imported.keys()
    outside = {name: path for name, path in imported.items() if not Path(path).is_relative_to(venv)}
    assert outside == {}
    assert Path(found["template"]).is_file() and Path(found["template"]).is_relative_to(venv)
    name, entries = found["catalog"]
    assert name == "GNUTranslations" and entries > 100
    assert str(REPO) not in found["sys_path"] and os.path.realpath(REPO) not in found["sys_path"]
    assert not [finder for finder in found["finders"] if "editable" in finder.lower()]


KERNEL = """
    import json, sys
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import KernelProvisionerFactory
    from jupyter_client.utils import run_sync
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    import grading.plugins.sandbox as sandbox

    kernels, workdir = sys.argv[1:]
    entry = KernelProvisionerFactory.instance().provisioners[sandbox.PROVISIONER_NAME]
    manager = AsyncKernelManager(
        kernel_name="sandboxed", kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels])
    )
    notebook = new_notebook(cells=[new_code_cell("1+1"), new_code_cell("import os; os.getpid() < 10")])
    NotebookClient(notebook, km=manager, timeout=60, resources={"metadata": {"path": workdir}}).execute()
    print(json.dumps({
        "entry_point": [entry.value, str(entry.dist.locate_file(""))],
        "loaded": entry.load() is sandbox.SandboxProvisioner,
        "sandbox": sandbox.__file__,
        "provisioner": type(manager.provisioner).__name__ if manager.provisioner else None,
        "results": [
            [out["data"]["text/plain"] for out in cell.outputs if out.output_type == "execute_result"]
            for cell in notebook.cells
        ],
    }))
    run_sync(manager.shutdown_kernel)(now=True)  # nbclient leaves the kernel of a manager it was given
"""


@pytest.mark.slow
@pytest.mark.sandbox
def test_the_installed_provisioner_starts_a_sandboxed_kernel(environment, tmp_path):
    """jupyter_client finds grading-sandbox through the installed wheel's
    entry point, and the provisioner runs a kernel in the sandbox (its own
    process namespace), which computes 1+1. The kernel is the course venv's
    Python, by its real path, so that the sandbox shows its packages."""
    problem = sandbox_problem()
    if problem:
        pytest.skip(f"the sandbox cannot start here: {problem}")
    _, venv = environment
    spec = tmp_path / "kernels" / "sandboxed"
    spec.mkdir(parents=True)
    kernel_python = os.path.join(os.path.realpath(sys.prefix), "bin", "python")
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [kernel_python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "sandboxed",
                "language": "python",
                "metadata": {"kernel_provisioner": {"provisioner_name": PROVISIONER_NAME}},
            }
        )
    )
    workdir = tmp_path / "work"
    workdir.mkdir()
    found = run_in(environment, tmp_path, KERNEL, str(spec.parent), str(workdir))
    value, location = found["entry_point"]
    assert value == "grading.plugins.sandbox:SandboxProvisioner" and found["loaded"]
    assert Path(location).is_relative_to(venv), "the entry point came from another installation"
    assert Path(found["sandbox"]).is_relative_to(venv)
    assert found["provisioner"] == "SandboxProvisioner"
    assert found["results"] == [["2"], ["True"]]
