"""``moodle-sync report`` through click's CliRunner, against a store in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from moodle_sync.cli import _register, cli
from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.store import ParticipantRecord, Store

_register()


@pytest.fixture
def store_path(tmp_path: Path, snapshots: list[CompletionSnapshot], participants: list[ParticipantRecord]) -> Path:
    path = tmp_path / "data" / "store.sqlite"
    with Store.open(str(path)) as store:
        store.save_offering("o", "koding", "Koding untuk Guru", {"courses": [{"key": "ls", "start_date": 1}]})
        store.save_participants("o", participants)
        run = store.start_run(["o"], "full")
        store.save_snapshots(run.id, snapshots)
        store.finish_run(run.id, "ok")
    return path


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, standalone_mode=False, catch_exceptions=False)


def test_table_in_english(store_path: Path) -> None:
    result = invoke("--store", str(store_path), "report", "o", "--lang", "en")
    assert result.return_value == 0
    assert "Koding untuk Guru" in result.output and "By regency/city" in result.output


def test_json_on_stdout_from_the_store_named_by_the_environment(store_path: Path) -> None:
    result = invoke("report", "o", "--format", "json", env={"MOODLE_SYNC_STORE": str(store_path)})
    assert result.return_value == 0
    doc = json.loads(result.output)
    assert doc["title"] == "Koding untuk Guru" and doc["total"]["enrolled"] == 6 and doc["lang"] == "id"


def test_json_flag_means_json(store_path: Path) -> None:
    result = invoke("--store", str(store_path), "report", "o", "--json")
    assert json.loads(result.output)["offering_id"] == "o"


def test_files_are_written(store_path: Path, tmp_path: Path) -> None:
    html = tmp_path / "out" / "report.html"
    result = invoke("--store", str(store_path), "report", "o", "--format", "html", "--output", str(html))
    assert result.return_value == 0 and html.read_text("utf-8").startswith("<!DOCTYPE html>")
    result = invoke("--store", str(store_path), "report", "o", "--format", "csv", "-o", str(tmp_path / "r.csv"),
                    "--stalled-days", "30", "--json")
    assert result.return_value == 0
    written = json.loads(result.output)["written"]
    assert [Path(p).name for p in written] == ["r.csv", "r-follow-up.csv", "r-progress.csv"]
    assert "stalled" not in (tmp_path / "r-follow-up.csv").read_text("utf-8-sig")   # 20 days < 30
    result = invoke("--store", str(store_path), "report", "o", "--format", "xlsx", "-o", str(tmp_path / "r.xlsx"))
    assert result.return_value == 0 and (tmp_path / "r.xlsx").stat().st_size > 0


def test_default_file_name_in_the_current_folder(store_path: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert invoke("--store", str(store_path), "report", "o", "--format", "json", "-o", "o.json").return_value == 0
    assert invoke("--store", str(store_path), "report", "o", "--format", "html").return_value == 0
    assert (tmp_path / "o-report.html").exists() and json.loads((tmp_path / "o.json").read_text())["offering_id"] == "o"


def test_no_data_is_exit_1(store_path: Path, tmp_path: Path) -> None:
    result = invoke("--store", str(store_path), "report", "nothing-here")
    assert result.return_value == 1 and "no completion evidence" in result.output
    missing = tmp_path / "nowhere" / "store.sqlite"
    result = invoke("--store", str(missing), "report", "o")
    assert result.return_value == 1 and not missing.parent.exists()     # a report never creates a store


def test_bad_options_are_usage_errors(store_path: Path) -> None:
    from moodle_sync.cli import main

    for args in (["report", "o", "--format", "pdf"], ["report", "o", "--lang", "fr"],
                 ["report", "o", "--stalled-days", "0"]):
        with pytest.raises(SystemExit) as exited:
            main(["--store", str(store_path), *args])
        assert exited.value.code == 2


def test_csv_for_indonesian_excel_has_semicolons_and_a_decimal_comma(store_path: Path, tmp_path: Path) -> None:
    target = tmp_path / "r.csv"
    result = invoke("--store", str(store_path), "report", "o", "--format", "csv", "-o", str(target),
                    "--csv-dialect", "excel-id")
    assert result.return_value == 0
    lines = target.read_text("utf-8-sig").splitlines()
    assert lines[0].startswith("Rincian;Kelompok;Terdaftar;")
    total = lines[-1].split(";")
    assert total[:7] == ["Semua peserta", "Semua peserta", "6", "0", "5", "3", "50,0"]
    standard = tmp_path / "s.csv"
    invoke("--store", str(store_path), "report", "o", "--format", "csv", "-o", str(standard), "--lang", "en")
    assert standard.read_text("utf-8-sig").splitlines()[-1].split(",")[6] == "50.0"


def test_the_table_keeps_its_headers_when_piped(store_path: Path) -> None:
    result = invoke("--store", str(store_path), "report", "o", "--lang", "en")
    assert "Done %" in result.output and "Median days" in result.output and "n pre/ post" in result.output
