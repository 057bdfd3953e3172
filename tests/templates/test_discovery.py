"""Finding templates: extra directories, installed packages (entry points), the shipped folder."""

from __future__ import annotations

import os
import sys
import zipfile
from importlib import metadata, resources
from pathlib import Path

import pytest

from moodle_sync.templates import (
    ENTRY_POINT_GROUP,
    TemplateError,
    check_templates,
    find_templates,
    shipped_templates_dir,
    template_dirs,
)

from .conftest import MINIMAL, write_template

SHIPPED = {"base", "koding-untuk-guru", "ai-untuk-pendidikan", "stem-terpadu", "pembelajaran-mendalam",
           "literasi-kelautan"}


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Installs fake entry points (real EntryPoint objects over a module written to tmp_path)."""
    package = tmp_path / "plugin_src"
    package.mkdir()
    module_name = f"ms_test_plugin_{abs(hash(str(tmp_path)))}"

    def install(source: str, *values: tuple[str, str]) -> None:
        (package / f"{module_name}.py").write_text(source, encoding="utf-8")
        monkeypatch.syspath_prepend(str(package))
        points = [metadata.EntryPoint(name, value.replace("MOD", module_name), ENTRY_POINT_GROUP)
                  for name, value in values]

        def fake(**params: str):
            assert params == {"group": ENTRY_POINT_GROUP}
            return points

        monkeypatch.setattr(metadata, "entry_points", fake)

    yield install
    sys.modules.pop(module_name, None)


def test_shipped_templates_are_found() -> None:
    assert shipped_templates_dir() is not None
    sources = find_templates()
    assert SHIPPED <= set(sources)
    assert all(sources[n].origin == "shipped" for n in SHIPPED)


def test_shipped_templates_are_the_package_moodle_sync_course_templates() -> None:
    """Found with importlib.resources (setup.cfg maps the repository's course_templates/ into the package)."""
    assert shipped_templates_dir() == Path(str(resources.files("moodle_sync.course_templates")))
    assert {p.parent.name for p in shipped_templates_dir().glob("*/template.yaml")} == SHIPPED


def test_a_source_tree_never_installed_uses_its_course_templates_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(package: str) -> None:
        raise ModuleNotFoundError(package)

    monkeypatch.setattr(resources, "files", not_installed)
    assert shipped_templates_dir() == Path(__file__).resolve().parents[2] / "course_templates"


def test_templates_inside_a_zip_are_not_offered_as_a_folder(monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    archive = tmp_path / "moodle_sync.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("moodle_sync/course_templates/base/template.yaml", "title: Dasar\n")
    monkeypatch.setattr(resources, "files",
                        lambda package: zipfile.Path(archive, "moodle_sync/course_templates/"))
    assert shipped_templates_dir() is None


def test_extra_directories_come_first_and_shadow(root: Path, tmp_path: Path) -> None:
    write_template(root, "stem-terpadu", MINIMAL)
    write_template(root, "contoh", MINIMAL)
    second = tmp_path / "kedua"
    write_template(second, "contoh", MINIMAL)
    sources = find_templates([root, second])
    assert sources["contoh"].path == root / "contoh" and sources["contoh"].shadows == (second / "contoh",)
    assert sources["stem-terpadu"].origin == "directory"
    assert sources["stem-terpadu"].shadows[0].parent == shipped_templates_dir()


def test_folders_without_template_yaml_or_with_bad_names_are_skipped(root: Path) -> None:
    (root / "kosong").mkdir()
    write_template(root, "Bad Name", MINIMAL)
    sources = find_templates([root])
    assert "kosong" not in sources and "Bad Name" not in sources
    assert any("template folder names" in str(p) for p in check_templates([root]))


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="templates directory not found"):
        find_templates([tmp_path / "tidak-ada"])


def test_entry_points_give_directories(plugin, tmp_path: Path) -> None:
    by_string, by_callable = tmp_path / "satu", tmp_path / "dua"
    write_template(by_string, "dari-string", MINIMAL)
    write_template(by_callable, "dari-fungsi", MINIMAL)
    plugin(f"from pathlib import Path\nPATH = {str(by_string)!r}\ndef templates():\n"
           f"    return Path({str(by_callable)!r})\n",
           ("satu", "MOD:PATH"), ("dua", "MOD:templates"))
    sources = find_templates()
    assert sources["dari-string"].path == by_string / "dari-string"
    assert sources["dari-fungsi"].path == by_callable / "dari-fungsi"
    assert sources["dari-fungsi"].origin.startswith("entry point ") and sources["dari-fungsi"].origin.endswith(":dua")
    assert SHIPPED <= set(sources)


def test_entry_point_module_means_its_folder(plugin, tmp_path: Path) -> None:
    plugin("X = 1\n", ("modul", "MOD"))
    write_template(tmp_path / "plugin_src", "di-modul", MINIMAL)
    assert "di-modul" in find_templates()


def test_entry_points_come_after_extra_dirs(plugin, root: Path, tmp_path: Path) -> None:
    from_plugin = tmp_path / "plugin"
    write_template(from_plugin, "contoh", MINIMAL)
    write_template(root, "contoh", MINIMAL)
    plugin(f"PATH = {str(from_plugin)!r}\n", ("p", "MOD:PATH"))
    assert find_templates([root])["contoh"].path == root / "contoh"
    assert find_templates()["contoh"].path == from_plugin / "contoh"


def test_broken_entry_points_are_skipped_and_reported(plugin, tmp_path: Path) -> None:
    plugin("PATH = '/tidak/ada'\nNUMBER = 3\n", ("hilang", "MOD:PATH"), ("angka", "MOD:NUMBER"),
           ("rusak", "tidak_ada_modul_ini:X"))
    assert SHIPPED <= set(find_templates())
    problems = {p.file: p.message for p in check_templates()}
    assert problems["entry point ?:hilang"] == "/tidak/ada is not a directory"
    assert problems["entry point ?:angka"].startswith("cannot load: TypeError: resolves to int")
    assert problems["entry point ?:rusak"].startswith("cannot load: ModuleNotFoundError")


def test_template_dirs_precedence() -> None:
    assert template_dirs(["a", "b"], f"c{os.pathsep}d") == ["a", "b", "c", "d"]
    assert template_dirs((), None) == []


def test_an_unknown_template_in_an_offering_names_its_file_and_line(tmp_path: Path) -> None:
    from moodle_sync.offerings import load_offering
    from moodle_sync.templates import load_template

    examples = Path(__file__).parents[2] / "examples"
    text = (examples / "offering-koding.yaml").read_text("utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), start=1) if t.startswith("template:"))
    (tmp_path / "facilitators.csv").write_bytes((examples / "facilitators.csv").read_bytes())
    path = tmp_path / "offering.yaml"
    path.write_text("\n".join("template: nope" if t.startswith("template:") else t for t in text.splitlines()),
                    encoding="utf-8")
    offering = load_offering(path)
    with pytest.raises(TemplateError) as info:
        load_template(offering.template, where=offering.template_where)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == (offering.file, line, "template")
    assert str(info.value).startswith(f"{offering.file}:{line}: template: unknown template 'nope' (known: ")
