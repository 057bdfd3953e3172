"""Reports over several centres (Moodle sites) in one store: figures together from the union of their rows
(never an average of rates), each centre apart, and the CLI's --site / --all-sites in every format."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from moodle_sync.cli import _register, cli
from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.exceptions import ConfigError
from moodle_sync.reports.sites import SiteEvidence, combined_report
from moodle_sync.store import ParticipantRecord, Store

from .conftest import COURSE_STARTS, LS, NOW, T0, snap

_register()
OFFERING = "koding-2026-a1"          # the id in examples/offering-koding.yaml
EXAMPLE = Path(__file__).parents[2] / "examples" / "offering-koding.yaml"
LAMPUNG, BENGKULU = ("https://lms.lampung.example.id", "BGP Lampung"), ("https://lms.bengkulu.example.id",
                                                                         "BGP Bengkulu")


def centre_b() -> list[CompletionSnapshot]:
    """Three students of centre B with the same Moodle course and user ids as a, b and c of centre A, all
    completed: together 6 of 9 completed (66.7%), where averaging the centres' rates would say 75%."""
    return [snap(user, name, class_name="Kelas A", school_level="SD", completed=True, time_completed=T0 + DAYS,
                 last_access=T0 + DAYS, activities_done=5, time_enrolled=T0)
            for user, name in ((1, "p"), (2, "q"), (3, "r"))]


DAYS = 3 * 86_400


def evidence(snapshots: list[CompletionSnapshot], participants: list[ParticipantRecord]) -> list[SiteEvidence]:
    return [SiteEvidence("a", "Centre A", snapshots, participants, snapshots, "Koding", COURSE_STARTS,
                         {"ls": "Lampung Selatan"}),
            SiteEvidence("b", "Centre B", centre_b(), (), centre_b(), None, {"ls": T0})]


def test_figures_together_come_from_the_union_of_rows(snapshots: list[CompletionSnapshot],
                                                      participants: list[ParticipantRecord]) -> None:
    built = combined_report("o", evidence(snapshots, participants), now=NOW)
    assert (built.total.enrolled, built.total.completed) == (9, 6)
    assert built.total.completion_pct == pytest.approx(600 / 9)              # not (50 + 100) / 2
    assert [(g.group, g.label, g.enrolled, g.completed) for g in built.breakdowns["site"]] == [
        ("a", "Centre A", 6, 3), ("b", "Centre B", 3, 3)]
    regencies = {g.group: g.enrolled for g in built.breakdowns["regency"]}
    assert regencies[LS] == 7                                                 # 4 of A (b by record) + 3 of B
    courses = {g.group: g.label for g in built.breakdowns["course"]}
    assert courses == {"a/ls": "Centre A / Lampung Selatan", "a/metro": "Centre A / metro", "b/ls": "Centre B / ls"}
    assert built.progress[-1].enrolled == 9            # the same user ids at two centres are two enrolments
    assert [(s.site_id, s.site_name, s.total.enrolled) for s in built.sites] == [("a", "Centre A", 6),
                                                                                 ("b", "Centre B", 3)]
    assert built.title == "Koding" and built.site_id is None


def test_json_gives_each_centre_beside_the_total(snapshots: list[CompletionSnapshot],
                                                 participants: list[ParticipantRecord]) -> None:
    doc = combined_report("o", evidence(snapshots, participants), now=NOW).to_dict()
    assert doc["total"]["enrolled"] == 9 and [s["name"] for s in doc["sites"]] == ["Centre A", "Centre B"]
    first = doc["sites"][0]
    assert first["site_id"] == "a" and first["total"]["enrolled"] == 6 and "by" not in first
    assert set(first) == {"site_id", "name", *(k for k in doc if k not in ("site_id", "site_name", "sites"))}


@pytest.fixture
def two_centres(tmp_path: Path, snapshots: list[CompletionSnapshot],
                participants: list[ParticipantRecord]) -> Path:
    path = tmp_path / "data" / "store.sqlite"
    with Store.open(str(path)) as store:
        for (url, name), rows, people in ((LAMPUNG, snapshots, participants), (BENGKULU, centre_b(), [])):
            site = store.for_site(store.register_site(url, name).site_id)
            site.save_offering(OFFERING, "koding-untuk-guru", "Koding untuk Guru 2026",
                               {"courses": [{"key": "ls", "start_date": T0}]})
            site.save_participants(OFFERING, people)
            run = site.start_run([OFFERING], "full")
            site.save_snapshots(run.id, [replace(s, offering_id=OFFERING) for s in rows])
            site.finish_run(run.id, "ok")
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=False)


def test_all_sites_json_from_the_offering_file(two_centres: Path) -> None:
    result = invoke("--store", str(two_centres), "report", str(EXAMPLE), "--all-sites", "--json")
    assert result.return_value == 0
    doc = json.loads(result.output)
    assert doc["offering_id"] == OFFERING and doc["total"]["enrolled"] == 9 and doc["total"]["completed"] == 6
    assert [(s["site_id"], s["name"], s["total"]["enrolled"]) for s in doc["sites"]] == [
        ("lms.bengkulu.example.id", "BGP Bengkulu", 3), ("lms.lampung.example.id", "BGP Lampung", 6)]


def test_one_site_by_name_id_url_or_profile(two_centres: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.default]\nurl = "https://lms.lampung.example.id"\n\n'
                      '[profiles.bengkulu]\nurl = "https://LMS.bengkulu.example.id/"\n', "utf-8")
    for ref in ("BGP Lampung", "lms.lampung.example.id", "https://lms.lampung.example.id/"):
        doc = json.loads(invoke("--store", str(two_centres), "report", OFFERING, "--site", ref, "--json").output)
        assert (doc["site_name"], doc["total"]["enrolled"], doc["sites"]) == ("BGP Lampung", 6, [])
    doc = json.loads(invoke("--config", str(config), "--store", str(two_centres), "report", OFFERING, "--site",
                            "bengkulu", "--json").output)
    assert (doc["site_id"], doc["total"]["enrolled"]) == ("lms.bengkulu.example.id", 3)
    doc = json.loads(invoke("--config", str(config), "--store", str(two_centres), "report", OFFERING, "--json").output)
    assert (doc["site_name"], doc["total"]["enrolled"]) == ("BGP Lampung", 6)   # the configured profile's site
    doc = json.loads(invoke("--store", str(two_centres), "report", str(EXAMPLE), "--site", "BGP Lampung",
                            "--json").output)
    assert doc["offering_id"] == OFFERING and doc["total"]["enrolled"] == 6     # the offering file names it
    with pytest.raises(ConfigError, match="BGP Lampung"):
        invoke("--store", str(two_centres), "report", OFFERING, "--site", "nowhere")


def test_without_a_choice_two_centres_are_not_guessed(two_centres: Path) -> None:
    with pytest.raises(ConfigError, match="--site"):
        invoke("--store", str(two_centres), "report", OFFERING)
    with pytest.raises(Exception, match="not both"):
        invoke("--store", str(two_centres), "report", OFFERING, "--site", "x", "--all-sites")


def test_tables_html_csv_and_xlsx_show_each_centre_and_all(two_centres: Path, tmp_path: Path) -> None:
    store = ("--store", str(two_centres), "report", OFFERING, "--all-sites")
    table = invoke(*store, "--lang", "en").output
    assert "By centre" in table and "BGP Bengkulu" in table and "Centres: BGP Bengkulu, BGP Lampung" in table
    html = tmp_path / "r.html"
    assert invoke(*store, "--format", "html", "-o", str(html)).return_value == 0
    text = html.read_text("utf-8")
    assert "Per balai" in text and "BGP Lampung / ls" in text and text.count('id="completion-site-') > 0
    csv = tmp_path / "r.csv"
    invoke(*store, "--format", "csv", "-o", str(csv), "--lang", "en")
    rows = [line.split(",") for line in csv.read_text("utf-8-sig").splitlines()]
    assert ["Centre", "BGP Bengkulu", "3", "0", "3", "3", "100.0"] == rows[1][:7]
    assert rows[-1][:7] == ["All participants", "All participants", "9", "0", "8", "6", "66.7"]
    xlsx = tmp_path / "r.xlsx"
    invoke(*store, "--format", "xlsx", "-o", str(xlsx), "--lang", "en")
    assert load_workbook(xlsx).sheetnames[0] == "By centre"


def test_centres_of_the_same_name_are_told_apart_by_their_site_id(tmp_path: Path,
                                                                  snapshots: list[CompletionSnapshot]) -> None:
    path = tmp_path / "store.sqlite"
    with Store.open(str(path)) as store:
        for url in ("http://127.0.0.1:8001", "http://127.0.0.1:8002", "http://127.0.0.1:8003"):
            site = store.for_site(store.register_site(url, "" if url.endswith("3") else "BGTK Test Moodle").site_id)
            run = site.start_run([OFFERING], "full")
            site.save_snapshots(run.id, [replace(s, offering_id=OFFERING) for s in snapshots])
    doc = json.loads(invoke("--store", str(path), "report", OFFERING, "--all-sites", "--json").output)
    assert [s["name"] for s in doc["sites"]] == ["BGTK Test Moodle (127.0.0.1:8001)",
                                                 "BGTK Test Moodle (127.0.0.1:8002)", "127.0.0.1:8003"]


def test_pemerataan_over_centres_counts_a_person_once(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    teacher = ParticipantRecord("a@x.id", "A", nuptk="111", regency="metro", status="enrolled", trained=False)
    with Store.open(str(path)) as store:
        for (url, name), people in ((LAMPUNG, [teacher]), (BENGKULU, [replace(teacher, email="a@lain.id"),
                                                                      ParticipantRecord("b@x.id", "B")])):
            site = store.for_site(store.register_site(url, name).site_id)
            site.save_offering("k1", "koding-untuk-guru", "K", {"courses": [{"key": "main", "start_date": T0}]})
            site.save_participants("k1", people)
    result = invoke("--store", str(path), "report", "--programme", "koding-untuk-guru", "--all-sites", "--json")
    doc = json.loads(result.output)
    assert doc["total"]["applicants"] == 2 and doc["total"]["selected"] == 2        # the teacher once
    assert [(s["name"], s["total"]["applicants"]) for s in doc["sites"]] == [("BGP Bengkulu", 2),
                                                                            ("BGP Lampung", 1)]
    assert doc["offerings"] == ["BGP Bengkulu: k1", "BGP Lampung: k1"]
    out = tmp_path / "p.csv"
    written = json.loads(invoke("--store", str(path), "report", "--programme", "koding-untuk-guru", "--all-sites",
                                "--format", "csv", "-o", str(out), "--json").output)["written"]
    assert [Path(p).name for p in written] == ["p.csv", "p-levels.csv", "p-sites.csv"]
    table = invoke("--store", str(path), "report", "--year", "2026", "--all-sites", "--lang", "en").output
    assert "Reach per centre: 2026" in table
