"""``moodle-sync config init`` and ``config show``: the starter file, precedence with sources, profiles,
and the token never shown (and refused when written into the file)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from moodle_sync.config import default_config_path

from .conftest import run

TOKEN = "c0nf1g-t0k3n-that-must-never-show"




def config_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_init_writes_a_private_starter_file_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "etc" / "moodle-sync.toml"
    code, out, _ = run(capsys, "config", "init", "--path", str(target), "--json")
    assert code == 0 and json.loads(out) == {"written": str(target)}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    text = target.read_text("utf-8")
    assert "[profiles.default]" in text and "MOODLE_TOKEN" in text
    target.write_text("# mine\n", encoding="utf-8")
    code, _, err = run(capsys, "config", "init", "--path", str(target))
    assert code == 2 and "already exists" in err and "--force" in err
    assert target.read_text("utf-8") == "# mine\n"
    code, out, _ = run(capsys, "config", "init", "--path", str(target), "--force")
    assert code == 0 and f"Wrote {target}" in out and "[profiles.default]" in target.read_text("utf-8")


def test_init_defaults_to_the_user_config_dir_and_the_file_is_usable(capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, _ = run(capsys, "config", "init")
    assert code == 0 and default_config_path().exists()
    code, out, _ = run(capsys, "config", "show", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["url"] == "https://lms.example.org" and doc["sources"]["url"] == str(default_config_path())
    assert doc["config_path"] == str(default_config_path())


def test_show_says_where_each_setting_came_from(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    path = config_file(tmp_path, '[profiles.default]\nurl = "https://file.example.org"\ntimeout = 20\n'
                                 'concurrency = 2\n')
    monkeypatch.setenv("MOODLE_SYNC_CONFIG", str(path))
    monkeypatch.setenv("MOODLE_SYNC_TIMEOUT", "45")
    monkeypatch.setenv("MOODLE_SYNC_STORE", str(tmp_path / "evidence.sqlite"))
    monkeypatch.setenv("MOODLE_TOKEN", TOKEN)
    code, out, err = run(capsys, "--url", "https://flag.example.org", "config", "show", "--json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["url"], doc["sources"]["url"]) == ("https://flag.example.org", "flag")
    assert (doc["timeout"], doc["sources"]["timeout"]) == (45.0, "MOODLE_SYNC_TIMEOUT")
    assert (doc["concurrency"], doc["sources"]["concurrency"]) == (2, str(path))
    assert doc["retries"] == 4 and "retries" not in doc["sources"]
    assert doc["store_url"] == f"sqlite:///{tmp_path / 'evidence.sqlite'}"
    assert TOKEN not in out + err and "token" not in {k for k in doc if k != "token_command"}
    code, out, err = run(capsys, "config", "show")
    assert code == 0 and "https://file.example.org" in out and "MOODLE_SYNC_TIMEOUT" in out
    assert TOKEN not in out + err


def test_profiles(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = config_file(tmp_path, '[profiles.default]\nurl = "https://lms.example.org"\n\n'
                                 '[profiles.uji]\nurl = "https://uji.example.org"\nprotocol = "soap"\n')
    code, out, _ = run(capsys, "--config", str(path), "--profile", "uji", "config", "show", "--json")
    doc = json.loads(out)
    assert code == 0 and (doc["profile"], doc["url"], doc["protocol"]) == ("uji", "https://uji.example.org", "soap")
    code, _, err = run(capsys, "--config", str(path), "--profile", "nope", "config", "show")
    assert code == 2 and "no profile 'nope'" in err and "default, uji" in err


def test_a_token_in_the_file_is_refused_without_echoing_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = config_file(tmp_path, f'[profiles.default]\nurl = "https://lms.example.org"\ntoken = "{TOKEN}"\n')
    for args in (["config", "show"], ["config", "show", "--json"], ["doctor"]):
        code, out, err = run(capsys, "--config", str(path), *args)
        assert code == 2
        assert TOKEN not in out + err
        assert "must not be written into the config file" in out + err


@pytest.mark.parametrize("env,value,name", [
    ("MOODLE_SYNC_CONCURRENCY", "many", "MOODLE_SYNC_CONCURRENCY"),
    ("MOODLE_PROTOCOL", "graphql", "protocol"),
    ("MOODLE_URL", "lms.example.org", "https://"),
    ("MOODLE_SYNC_CONFIG", "/nowhere/config.toml", "/nowhere/config.toml"),
])
def test_bad_settings_are_configuration_errors(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                               env: str, value: str, name: str) -> None:
    monkeypatch.setenv(env, value)
    code, _, err = run(capsys, "config", "show")
    assert code == 2 and name in err and "Traceback" not in err


def test_a_top_level_token_in_the_file_is_refused_without_echoing_it(capsys: pytest.CaptureFixture[str],
                                                                     tmp_path: Path) -> None:
    path = config_file(tmp_path, f'token = "{TOKEN}"\n\n[profiles.default]\nurl = "https://lms.example.org"\n')
    code, out, err = run(capsys, "--config", str(path), "config", "show", "--json")
    assert code == 2 and TOKEN not in out + err
    assert "token: a token must not be written into the config file" in err and "MOODLE_TOKEN" in err


@pytest.mark.parametrize("url", [
    f"https://lms.example.org/?wstoken={TOKEN}",
    f"https://lms.example.org/webservice/rest/server.php?wsfunction=x&token={TOKEN}",
    f"https://lms.example.org/#{TOKEN}",
    f"https://admin:{TOKEN}@lms.example.org",
    f"https://{TOKEN}@lms.example.org",
])
def test_a_site_url_carrying_a_token_is_refused_without_echoing_it(capsys: pytest.CaptureFixture[str],
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path, url: str) -> None:
    path = config_file(tmp_path, f'[profiles.default]\nurl = "{url}"\n')
    code, out, err = run(capsys, "--config", str(path), "config", "show", "--json")
    assert code == 2 and TOKEN not in out + err and "must not carry" in err
    monkeypatch.setenv("MOODLE_URL", url)
    code, out, err = run(capsys, "config", "show", "--json")
    assert code == 2 and TOKEN not in out + err and "from MOODLE_URL" in err


def test_the_store_password_is_masked_in_show_and_in_errors(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    password = "pg-s3cret-pass"
    monkeypatch.setenv("MOODLE_SYNC_STORE", f"postgresql+psycopg://evidence:{password}@127.0.0.1:9/ev")
    code, out, err = run(capsys, "config", "show", "--json")
    doc = json.loads(out)
    assert code == 0 and password not in out + err
    assert doc["store"] == doc["store_url"] == "postgresql+psycopg://evidence:***@127.0.0.1:9/ev"
    code, out, err = run(capsys, "config", "show")
    assert code == 0 and password not in out + err
    code, out, err = run(capsys, "report", "koding-2026", "--json")  # the store cannot be reached
    assert code != 0 and password not in out + err


def test_config_profiles_lists_each_site_and_where_its_token_comes_from(capsys: pytest.CaptureFixture[str],
                                                                        tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    monkeypatch.setattr(keyring, "get_password", lambda service, user: TOKEN if user == "lampung" else None)
    monkeypatch.setenv("MOODLE_TOKEN_JAMBI_BGTK", TOKEN)
    path = config_file(tmp_path, '[profiles.lampung]\nurl = "https://lampung.example"\n\n'
                                 '[profiles.jambi-bgtk]\nurl = "https://jambi.example"\n\n'
                                 '[profiles.riau]\nurl = "https://riau.example"\ntoken_command = "pass show riau"\n\n'
                                 '[profiles.aceh]\nurl = "https://aceh.example"\n\n'
                                 '[profiles.broken]\nurl = "lms.example"\n')
    code, out, err = run(capsys, "--config", str(path), "--store", "postgresql://ev:s3cret@db/ev", "config", "profiles",
                         "--json")
    rows = {r["profile"]: r for r in json.loads(out)["profiles"]}
    assert code == 2 and list(rows) == ["aceh", "broken", "jambi-bgtk", "lampung", "riau"]
    assert {name: r["token"] for name, r in rows.items()} == {
        "aceh": "none", "broken": None, "jambi-bgtk": "MOODLE_TOKEN_JAMBI_BGTK", "lampung": "keyring",
        "riau": "token_command"}
    assert rows["lampung"]["url"] == "https://lampung.example" and rows["lampung"]["store"] == "postgresql://ev:***@db/ev"
    assert "must start with https://" in rows["broken"]["error"]
    assert TOKEN not in out + err and "s3cret" not in out + err
    path.write_text('[profiles.lampung]\nurl = "https://lampung.example"\n', encoding="utf-8")
    code, out, err = run(capsys, "--config", str(path), "config", "profiles")
    assert code == 0 and "lampung" in out and "keyring" in out and TOKEN not in out + err
