"""``moodle-sync participants check``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moodle_sync.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "registrations.csv"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_check_example_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "registrations.csv"
    source.write_bytes(EXAMPLE.read_bytes())
    code, out, _ = _run(capsys, "participants", "check", str(source), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["rows"] == doc["accepted"] + doc["superseded"] + doc["rejected"]
    assert doc["rejected"] == len(doc["rejects"]) > 0
    assert {"file", "row", "field", "reason"} <= set(doc["rejects"][0])
    assert doc["rejects_file"] == str(tmp_path / "registrations.rejects.csv")
    assert (tmp_path / "registrations.rejects.csv").exists()


def test_check_human_output_and_rejects_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "form.csv"
    source.write_text("Timestamp,Email,Nama,Kota\n27/11/2026 10:00:00,a@b.id,Budi,Metro\n"
                      "27/11/2026 10:00:00,bad,Siti,Metro\n", "utf-8")
    rejects = tmp_path / "out" / "tolak.csv"
    code, out, _ = _run(capsys, "participants", "check", str(source), "--rejects", str(rejects))
    assert code == 0
    assert "accepted" in out and "row 3: email" in out and str(rejects) in out.replace("\n", "")
    assert rejects.read_text("utf-8-sig").count("\n") == 2


def test_check_with_mapping(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "form.csv"
    source.write_text("Waktu;Surel;Siapa?;Domisili\n27/11/2026 10:00:00;a@b.id;Budi;Metro\n", "utf-8")
    mapping = tmp_path / "kolom.yaml"
    mapping.write_text("submitted_at: Waktu\nemail: Surel\nfullname: Siapa?\nregency: Domisili\n", "utf-8")
    code, out, _ = _run(capsys, "participants", "check", str(source), "--mapping", str(mapping), "--json")
    assert code == 0 and json.loads(out)["accepted"] == 1


def test_unusable_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "form.csv"
    source.write_text("Waktu;Surel\n27/11/2026 10:00:00;a@b.id\n", "utf-8")
    code, out, err = _run(capsys, "participants", "check", str(source), "--json")
    assert code == 1
    assert json.loads(out)["file"] == str(source)
    assert "required field(s)" in err and "'Waktu'" in err
    assert not (tmp_path / "form.rejects.csv").exists()


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "participants", "check")
    assert code == 2 and "Missing argument" in err


def test_unwritable_rejects_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "form.csv"
    source.write_text("Timestamp,Email,Nama,Kota\n27/11/2026 10:00:00,a@b.id,Budi,Metro\n", "utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = _run(capsys, "participants", "check", str(source), "--rejects", str(blocker / "r.csv"))
    assert code == 1 and "cannot write the rejects file" in err
