"""The wheel: built from a copy of the source tree with no warnings, it carries every module, every data
file, the course templates (as the package ``moodle_sync.course_templates``) and ``py.typed``; installed
outside the repository, ``moodle-sync templates list`` finds the shipped templates inside it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "moodle_sync", "course_templates")
# Warnings of the build backend (setuptools' Python warnings, distutils' "warning:" lines); pip's own
# notes about its index configuration ("WARNING: Location ... is ignored") are not the build's.
BUILD_WARNING = re.compile(r"\w+Warning:|^\s*warning:|not found \(or not a regular file\)", re.MULTILINE)
SHIPPED = {"base", "koding-untuk-guru", "ai-untuk-pendidikan", "stem-terpadu", "pembelajaran-mendalam",
           "literasi-kelautan"}


def _source_files(folder: str) -> list[Path]:
    """Every file of ``folder`` in the repository (relative to the repository), byte code left out."""
    return sorted(p.relative_to(REPO) for p in (REPO / folder).rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def _build_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # else distutils warns that byte-compiling is disabled
    return env


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(the wheel, the build's output), built by pip from a copy of the sources in a temporary folder."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "src"
    source.mkdir()
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, source / name)
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(work / "dist"),
                             str(source)], capture_output=True, text=True, env=_build_env(), check=False)
    output = result.stdout + result.stderr
    if result.returncode != 0 and "No matching distribution found for setuptools" in output:
        pytest.skip("the build backend (setuptools) cannot be installed from the package index here")
    assert result.returncode == 0, output[-3000:]
    wheels = list((work / "dist").glob("moodle_sync-*.whl"))
    assert len(wheels) == 1, output[-3000:]
    return wheels[0], output


def test_the_build_warns_about_nothing(built: tuple[Path, str]) -> None:
    _, output = built
    assert BUILD_WARNING.findall(output) == []


def test_the_wheel_carries_every_module_and_data_file(built: tuple[Path, str]) -> None:
    wheel, _ = built
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {p.as_posix() for p in _source_files("moodle_sync")}
    expected |= {f"moodle_sync/{p.as_posix()}" for p in _source_files("course_templates")}
    assert sorted(expected - names) == []
    assert "moodle_sync/py.typed" in names
    for name in SHIPPED:
        assert f"moodle_sync/course_templates/{name}/template.yaml" in names
    assert [n for n in names if ".data/" in n or n.startswith(("tests/", "course_templates/"))] == []


def test_installed_outside_the_repository_it_finds_its_templates(built: tuple[Path, str],
                                                               tmp_path: Path) -> None:
    """The wheel installed into a folder of its own (its dependencies come from this environment)."""
    wheel, _ = built
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "--target",
                    str(target), str(wheel)], capture_output=True, check=True)
    env = {**_build_env(), "PYTHONPATH": str(target), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith("MOODLE_")}
    run = subprocess.run([sys.executable, str(target / "bin" / "moodle-sync"), "templates", "list", "--json"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, check=False)
    assert run.returncode == 0, run.stderr
    found = {t["name"]: t for t in json.loads(run.stdout)["templates"]}
    assert set(found) == SHIPPED
    packaged = target / "moodle_sync" / "course_templates"
    for entry in found.values():
        assert entry["origin"] == "shipped" and Path(entry["path"]).parent == packaged and entry["valid"]
