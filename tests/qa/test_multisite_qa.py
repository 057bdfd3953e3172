"""QA of issue 12 (many centres, one store) through the CLI, as the README describes it: a store older than
sites upgraded by a multi-site pull."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodle_sync.sandbox import SandboxServer
from moodle_sync.store import Store

from ..cli.conftest import run


@pytest.fixture(scope="module")
def other_site() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


def test_a_multi_site_pull_never_lets_a_centre_adopt_another_centres_pre_site_rows(
        sandbox: SandboxServer, other_site: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with Store.open(store) as legacy:     # a v4 store: Lampung's rows, no site yet
        legacy.save_offering("koding-2026-a1", "koding-untuk-guru", "Koding (Lampung)", {"courses": []})
    config = tmp_path / "config.toml"     # profiles in name order: bengkulu comes first
    config.write_text(f'[profiles.bengkulu]\nurl = "{other_site.url}"\n\n[profiles.lampung]\nurl = "{sandbox.url}"\n')
    for name, value in (("MOODLE_SYNC_CONFIG", str(config)), ("MOODLE_SYNC_STORE", store),
                        ("MOODLE_TOKEN_BENGKULU", other_site.token), ("MOODLE_TOKEN_LAMPUNG", sandbox.token)):
        monkeypatch.setenv(name, value)
    code, _, err = run(capsys, "pull", "--all-profiles")
    assert code == 2, err
    assert "older than sites" in err and "moodle-sync --profile NAME pull" in err
    with Store.open(store) as opened:     # nobody adopted Lampung's rows
        assert opened.sites() == [] and opened.has_legacy_rows()
    assert run(capsys, "--profile", "lampung", "pull")[0] == 0      # the README's upgrade: the writer first
    code, _, err = run(capsys, "pull", "--all-profiles")
    assert code == 0, err
    with Store.open(store) as opened:
        (lampung,) = [s for s in opened.sites() if s.profile == "lampung"]
        assert [o.offering_id for o in opened.for_site(lampung.site_id).offerings()] == ["koding-2026-a1"]
        assert not opened.has_legacy_rows()


def test_schedule_carries_the_config_file_and_store_given_by_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """cron starts with none of the caller's environment: the scheduled --all-profiles pull must read the same
    config file (its profiles) and store as the run that printed it."""
    config = tmp_path / "centres.toml"
    config.write_text('[profiles.a]\nurl = "https://a.example"\n\n[profiles.b]\nurl = "https://b.example"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MOODLE_SYNC_CONFIG", "centres.toml")
    monkeypatch.setenv("MOODLE_SYNC_STORE", "postgresql+psycopg://sync:secret@db.example/evidence")
    code, out, err = run(capsys, "schedule", "--all-profiles", "--every", "30", "--json")
    assert code == 0, err
    assert "secret" not in out
    doc = json.loads(out)
    assert f"--config {config} --store postgresql+psycopg://sync@db.example/evidence pull --all-profiles" \
        in doc["pull_command"]
    assert doc["crontab"].startswith("*/30 * * * * ") and doc["pull_command"] in doc["crontab"]


@pytest.mark.parametrize("at_once", ["1", "4"])
def test_two_profiles_naming_one_site_pull_it_once_and_say_so(
        sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        at_once: str) -> None:
    """The same Moodle under two addresses (http://127.0.0.1:PORT and http://LocalHost:PORT/): one site, pulled
    once per run, never 'busy' because of the run itself; the config mistake is named (exit 2)."""
    store = f"sqlite:///{tmp_path / 'store.sqlite'}"
    other = sandbox.url.replace("127.0.0.1", "LocalHost") + "/"
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.a]\nurl = "{sandbox.url}"\n\n[profiles.c]\nurl = "{other}"\n')
    for name, value in (("MOODLE_SYNC_CONFIG", str(config)), ("MOODLE_SYNC_STORE", store),
                        ("MOODLE_TOKEN_A", sandbox.token), ("MOODLE_TOKEN_C", sandbox.token)):
        monkeypatch.setenv(name, value)
    code, out, _ = run(capsys, "pull", "--all-profiles", "--sites-at-once", at_once, "--json")
    doc = json.loads(out)
    assert code == 2 and doc["status"] == "failed", doc
    pulled, twice = sorted(doc["sites"], key=lambda s: s["status"] != "ok")   # which comes first is a race
    assert pulled["site_id"] == twice["site_id"] and pulled["status"] == "ok"
    assert (twice["status"], twice["exit_code"]) == ("failed", 2)
    assert twice["errors"] == [(f"profile {twice['profile']} names the same site ({pulled['site_id']}) as profile "
                                f"{pulled['profile']}, pulled once under {pulled['profile']}: remove one of them "
                                "from the config file or the --profile options")]
    with Store.open(store) as opened:
        (site,) = opened.sites()
        assert len(opened.for_site(site.site_id).runs()) <= 1


def test_profiles_whose_token_variables_coincide_never_share_a_token(
        sandbox: SandboxServer, other_site: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """bgtk-a and bgtk_a both read MOODLE_TOKEN_BGTK_A: site A's token must not be sent to site B."""
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.bgtk-a]\nurl = "{sandbox.url}"\n\n[profiles.bgtk_a]\nurl = "{other_site.url}"\n')
    for name, value in (("MOODLE_SYNC_CONFIG", str(config)), ("MOODLE_SYNC_STORE", f"{tmp_path / 's.sqlite'}"),
                        ("MOODLE_TOKEN_BGTK_A", sandbox.token)):
        monkeypatch.setenv(name, value)
    other_site.control.reset()
    code, _, err = run(capsys, "pull", "--all-profiles")
    assert code == 2, err
    assert "profiles bgtk-a and bgtk_a both take their token from MOODLE_TOKEN_BGTK_A" in " ".join(err.split())
    assert other_site.control.call_counts() == {}    # nothing was sent to site B


def test_a_site_halted_by_ctrl_c_records_its_run_interrupted() -> None:
    """Ctrl-C during `pull --all-profiles` halts every site's client: each site's calls then raise
    RunHaltedError(cause=KeyboardInterrupt) on its own thread. The README: a run is `interrupted` after Ctrl-C
    (seen on PostgreSQL: both runs recorded `failed`, the JSON saying `interrupted`)."""
    from moodle_sync.evidence.pull import stopped_status
    from moodle_sync.exceptions import RunHaltedError

    assert stopped_status(KeyboardInterrupt()) == "interrupted"
    assert stopped_status(RunHaltedError("core_enrol_get_enrolled_users", KeyboardInterrupt())) == "interrupted"
