"""Pemerataan across offerings: per regency, people counted once however many offerings they are in;
selected, completed and never-trained reached; offerings chosen by programme and year; the CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from moodle_sync.cli import _register, cli
from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.reports.reach import reach
from moodle_sync.store import ParticipantRecord, Store

_register()
JAN_2025, JAN_2026 = 1_735_664_400, 1_767_200_400   # 2025-01-01 and 2026-01-01 00:00 WIB

A = [ParticipantRecord("a@x.id", "A", nuptk="111", regency="metro", status="enrolled", trained=False),
     ParticipantRecord("b@x.id", "B", regency="metro", status="not_selected"),
     ParticipantRecord("c@x.id", "C", regency="pesawaran", status="withdrawn", trained=True),
     ParticipantRecord("d@x.id", "D", regency="pesawaran", status="waitlist")]
# the same teacher A (same NUPTK, another e-mail) in a second offering, and E, selected there
B = [ParticipantRecord("a.lain@x.id", "A", nuptk="111", regency="metro", status="enrolled", trained=True),
     ParticipantRecord("e@x.id", "E", regency="metro", status="selected", trained=False)]


def snap(offering: str, user: int, email: str, completed: bool, regency: str | None = None) -> CompletionSnapshot:
    return CompletionSnapshot(offering, 1, "main", user, email, email, completed=completed, regency=regency)


def test_people_are_counted_once_per_regency_over_offerings() -> None:
    report = reach("koding", {
        "a": (A, [snap("a", 1, "a@x.id", True), snap("a", 3, "c@x.id", False)]),
        "b": (B, [snap("b", 1, "a.lain@x.id", True)]),
        "old": ([], [snap("old", 9, "z@x.id", True, "Kabupaten Pesawaran")]),   # adopted: no records
    })
    rows = {r.regency: (r.applicants, r.selected, r.completed, r.never_trained) for r in report.rows}
    assert rows == {"Kabupaten Pesawaran": (2, 1, 1, 0), "Kota Metro": (3, 2, 1, 2)}
    assert [r.regency for r in report.rows] == ["Kabupaten Pesawaran", "Kota Metro"]   # BPS order
    t = report.total
    assert (t.applicants, t.selected, t.completed, t.never_trained) == (5, 3, 2, 2)
    assert report.offerings == ["a", "b", "old"]


def test_reach_per_school_level_counts_people_as_per_regency() -> None:
    people = [replace(A[0], school_level="SMP"), replace(A[1], school_level="SD"), A[2]]
    report = reach("koding", {"a": (people, [snap("a", 1, "a@x.id", True)]),
                              "b": ([replace(B[0], school_level="SMP")], [snap("b", 1, "a.lain@x.id", True)]),
                              "old": ([], [replace(snap("old", 9, "z@x.id", True), school_level="SMA")])})
    levels = {r.school_level: (r.applicants, r.selected, r.completed, r.never_trained) for r in report.levels}
    assert levels == {"SD": (1, 0, 0, 0), "SMP": (1, 1, 1, 1), "SMA": (0, 0, 1, 0), None: (1, 1, 0, 0)}
    assert [r.school_level for r in report.levels] == ["SD", "SMP", "SMA", None]     # by stage, unknown last


def _store(path: Path) -> None:
    with Store.open(str(path)) as store:
        for oid, template, start, people in (("k25", "koding", JAN_2025, A), ("k26", "koding", JAN_2026, B),
                                              ("ai26", "ai", JAN_2026, [])):
            store.save_offering(oid, template, oid, {"courses": [{"key": "main", "start_date": start}]})
            store.save_participants(oid, people)


def test_report_by_programme_and_year(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    _store(path)
    runner = CliRunner()
    result = runner.invoke(cli, ["--store", str(path), "report", "--programme", "koding", "--json"],
                           standalone_mode=False, catch_exceptions=False)
    doc = json.loads(result.output)
    assert doc["offerings"] == ["k25", "k26"] and doc["total"]["applicants"] == 5
    result = runner.invoke(cli, ["--store", str(path), "report", "--programme", "koding", "--year", "2026",
                                 "--json"], standalone_mode=False, catch_exceptions=False)
    assert json.loads(result.output)["offerings"] == ["k26"]
    result = runner.invoke(cli, ["--store", str(path), "report", "--year", "2026", "--lang", "en"],
                           standalone_mode=False, catch_exceptions=False)
    assert "Reach per regency/city: 2026" in result.output and "Never trained before, selected" in result.output
    assert "Reach per school level: 2026" in result.output
    target = tmp_path / "p.csv"
    runner.invoke(cli, ["--store", str(path), "report", "--year", "2025", "--format", "csv", "-o", str(target),
                        "--csv-dialect", "excel-id"], standalone_mode=False, catch_exceptions=False)
    assert target.read_text("utf-8-sig").splitlines()[-1] == "Semua peserta;4;2;0;1"
    assert target.stat().st_mode & 0o777 == 0o600
    result = runner.invoke(cli, ["--store", str(path), "report", "--year", "2019"], standalone_mode=False)
    assert result.return_value == 1
    result = runner.invoke(cli, ["--store", str(path), "report", "k25", "--year", "2019"])
    assert result.exit_code == 2 and "not both" in result.output
