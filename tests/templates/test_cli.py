"""``moodle-sync templates`` commands through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from moodle_sync.cli import _register, cli
from moodle_sync.templates import TemplateError

from .conftest import MINIMAL, write_template

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = str(REPO / "examples" / "offering-koding.yaml")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    _register()
    return CliRunner().invoke(cli, list(args), standalone_mode=False, env={"COLUMNS": "200", **(env or {})})


def test_list_shows_shipped_templates() -> None:
    result = run("templates", "list", "--json")
    assert result.exception is None and result.return_value == 0
    entries = {e["name"]: e for e in json.loads(result.stdout)["templates"]}
    assert entries["koding-untuk-guru"]["title"] == "Koding untuk Guru"
    assert entries["koding-untuk-guru"]["extends"] == ["base"] and entries["base"]["abstract"] is True
    human = run("templates", "list")
    assert human.return_value == 0 and "pembelajaran-mendalam" in human.stdout


def test_list_marks_invalid_templates(root: Path) -> None:
    write_template(root, "rusak", "title: [\n")
    result = run("templates", "--templates", str(root), "list", "--json")
    entry = next(e for e in json.loads(result.stdout)["templates"] if e["name"] == "rusak")
    assert entry["valid"] is False and "not valid YAML" in entry["problem"]


def test_show_prints_the_merged_template() -> None:
    result = run("templates", "show", "stem-terpadu", "--json")
    document = json.loads(result.stdout)
    assert document["master"] == {"idnumber": "MASTER-STEM"} and document["extends"] == ["base"]
    assert document["groups"]["name"] == "Kelas {{ course.short }} {{ letter }}"
    human = run("templates", "show", "stem-terpadu")
    assert "Proses Desain Rekayasa" in human.stdout and "stem-terpadu > base" in human.stdout


def test_render_prints_course_specs() -> None:
    result = run("templates", "render", "--offering", EXAMPLE, "--json")
    assert result.return_value == 0
    document = json.loads(result.stdout)
    assert document["offering_id"] == "koding-2026-a1" and len(document["courses"]) == 15
    assert document["courses"][0]["shortname"] == "KODING-2026-A1-LAMPUNG-BARAT"
    one = json.loads(run("templates", "render", "ai-untuk-pendidikan", "--offering", EXAMPLE, "--course",
                         "metro", "--json").stdout)
    assert [c["key"] for c in one["courses"]] == ["metro"] and one["template"] == "ai-untuk-pendidikan"
    human = run("templates", "render", "--offering", EXAMPLE, "--course", "metro")
    assert "KODING-2026-A1-METRO" in human.stdout and "agus.setiawan@guru.belajar.id" in human.stdout


def test_render_error_names_file_line_field(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("Pelatihan {{ course.name }}", "{{ tidak_ada }}"))
    result = run("templates", "--templates", str(root), "render", "contoh", "--offering", EXAMPLE)
    assert isinstance(result.exception, TemplateError)
    assert str(result.exception).startswith(f"{path}:2: fullname: undefined variable")


def test_templates_dir_setting_is_honoured(root: Path) -> None:
    write_template(root, "dari-setelan", MINIMAL)
    result = run("templates", "list", "--json", env={"MOODLE_SYNC_TEMPLATES": str(root)})
    names = [e["name"] for e in json.loads(result.stdout)["templates"]]
    assert "dari-setelan" in names


def test_check_passes_for_shipped_templates() -> None:
    result = run("templates", "check")
    assert result.return_value == 0 and "templates are valid" in result.stdout
    document = json.loads(run("templates", "check", "--offering", EXAMPLE, "--json").stdout)
    assert document["ok"] is True and document["problems"] == []


def test_check_lists_problems_and_exits_1(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("    name: Materi\n", ""))
    result = run("templates", "--templates", str(root), "check")
    assert result.return_value == 1
    assert f"{path}:10: sections[1].name: required" in result.stdout
    document = json.loads(run("templates", "--templates", str(root), "check", "--json").stdout)
    assert document["ok"] is False
    assert document["problems"] == [{"file": str(path), "line": 10, "field": "sections[1].name",
                                     "message": "required"}]


@pytest.mark.parametrize("args", [["show", "tidak-ada"], ["render", "tidak-ada", "--offering", EXAMPLE]])
def test_unknown_template(args: list[str]) -> None:
    result = run("templates", *args)
    assert isinstance(result.exception, TemplateError) and "unknown template 'tidak-ada'" in str(result.exception)


def test_main_maps_errors_to_exit_1(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from moodle_sync.cli import main

    path = write_template(root, "contoh", MINIMAL.replace("    name: Materi\n", ""))
    with pytest.raises(SystemExit) as info:
        main(["templates", "--templates", str(root), "show", "contoh"])
    assert info.value.code == 1
    assert f"Error: {path}:10: sections[1].name: required" in capsys.readouterr().err
