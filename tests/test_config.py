from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.config import (
    check_one_site_settings,
    config_profiles,
    load_settings,
    token_variable,
    write_starter_config,
)
from moodle_sync.exceptions import ConfigError

FILE = """
[profiles.default]
url = "https://file.example.org"
protocol = "soap"
concurrency = 2

[profiles.bgtk]
url = "https://lms.bgtk.example"
max_input_vars = 5000
"""


def write(tmp_path: Path, text: str = FILE) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text)
    return p


def test_precedence_flag_over_env_over_file_over_default(tmp_path: Path) -> None:
    path = write(tmp_path)
    s = load_settings(config=path, environ={"MOODLE_PROTOCOL": "rest"}, overrides={"concurrency": 8})
    assert s.url == "https://file.example.org" and s.sources["url"] == str(path)
    assert s.protocol == "rest" and s.sources["protocol"] == "MOODLE_PROTOCOL"
    assert s.concurrency == 8 and s.sources["concurrency"] == "flag"
    assert s.max_input_vars == 1000 and "max_input_vars" not in s.sources


def test_profile_from_env_and_config_from_env(tmp_path: Path) -> None:
    path = write(tmp_path)
    s = load_settings(environ={"MOODLE_SYNC_CONFIG": str(path), "MOODLE_SYNC_PROFILE": "bgtk"})
    assert s.url == "https://lms.bgtk.example" and s.max_input_vars == 5000


def test_env_alone_is_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOODLE_TOKEN", "abcd1234")
    s = load_settings(environ={"MOODLE_URL": "https://x.example", "MOODLE_PROTOCOL": "soap"})
    assert (s.url, s.protocol, s.token()) == ("https://x.example", "soap", "abcd1234")


def test_token_in_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, FILE + 'token = "0123456789abcdef0123456789abcdef"\n')
    with pytest.raises(ConfigError, match="must not be written into the config file") as info:
        load_settings(config=path, environ={})
    assert "0123456789abcdef" not in str(info.value)


def test_token_from_helper_command(tmp_path: Path) -> None:
    path = write(tmp_path, FILE.replace('concurrency = 2', 'concurrency = 2\ntoken_command = "echo s3cr3t-token"'))
    assert load_settings(config=path, environ={}).token() == "s3cr3t-token"


def test_no_token_explains_the_three_ways() -> None:
    with pytest.raises(ConfigError, match="MOODLE_TOKEN.*keyring.*token_command"):
        load_settings(environ={}).token()


def test_token_from_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    monkeypatch.setattr(keyring, "get_password", lambda service, user: "kr-token" if user == "default" else None)
    assert load_settings(environ={}).token() == "kr-token"


@pytest.mark.parametrize("env, message", [
    ({"MOODLE_PROTOCOL": "xmlrpc"}, "protocol"),
    ({"MOODLE_SYNC_CONCURRENCY": "lots"}, "MOODLE_SYNC_CONCURRENCY: concurrency"),
    ({"MOODLE_SYNC_CONCURRENCY": "0"}, "concurrency must be at least 1"),
    ({"MOODLE_URL": "lms.example.org"}, "must start with https://"),
])
def test_bad_values_name_their_source(env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


def test_unknown_setting_and_missing_profile(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown settings: colour"):
        load_settings(config=write(tmp_path, FILE + "colour = 1\n"), profile="bgtk", environ={})
    with pytest.raises(ConfigError, match="unknown settings: sources"):
        load_settings(config=write(tmp_path, FILE + "sources = 1\n"), profile="bgtk", environ={})
    with pytest.raises(ConfigError, match="no profile 'nope'"):
        load_settings(config=write(tmp_path), profile="nope", environ={})


def test_starter_config_is_valid_and_not_overwritten(tmp_path: Path) -> None:
    p = write_starter_config(tmp_path / "c.toml")
    s = load_settings(config=p, environ={})
    assert s.url == "https://lms.example.org" and s.protocol == "rest"
    assert oct(p.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ConfigError, match="already exists"):
        write_starter_config(p)


def test_insecure_tls_is_explicit() -> None:
    assert load_settings(environ={}).verify is True
    assert load_settings(environ={"MOODLE_SYNC_INSECURE": "1"}).verify is False


def test_a_setting_outside_a_profile_is_refused_not_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, 'url = "https://top.example.org"\n' + FILE)
    with pytest.raises(ConfigError, match=r"url: settings outside a \[profiles.NAME\] table are not read"):
        load_settings(config=path, environ={})


def test_the_store_password_becomes_a_secret_masked_everywhere(tmp_path: Path) -> None:
    from moodle_sync.exceptions import InputError, mask_url

    s = load_settings(environ={"MOODLE_SYNC_STORE": "postgresql://ev:p%40ss-w0rd@db.example/ev"})
    assert s.store_url_shown == "postgresql://ev:***@db.example/ev"
    assert "p@ss-w0rd" not in str(InputError("cannot use p@ss-w0rd"))
    assert mask_url("postgresql://u:a@b@h/db?sslpassword=x&port=1") == "postgresql://u:***@h/db?sslpassword=***&port=1"


def test_config_profiles_lists_the_files_profiles(tmp_path: Path) -> None:
    path = write(tmp_path)
    assert config_profiles(path, environ={}) == ["bgtk", "default"]
    assert config_profiles(environ={"MOODLE_SYNC_CONFIG": str(path)}) == ["bgtk", "default"]
    with pytest.raises(ConfigError, match="no config file"):
        config_profiles(environ={})
    with pytest.raises(ConfigError, match="no profile: add a"):
        config_profiles(write(tmp_path, "# nothing yet\n"), environ={})
    with pytest.raises(ConfigError, match="must not be written into the config file"):
        config_profiles(write(tmp_path, FILE + 'token = "0123456789abcdef"\n'), environ={})


def test_each_profile_has_its_own_token_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert token_variable("lampung-bgtk") == "MOODLE_TOKEN_LAMPUNG_BGTK"
    assert token_variable("default") == "MOODLE_TOKEN_DEFAULT"
    path = write(tmp_path)
    monkeypatch.setenv("MOODLE_TOKEN_BGTK", "bgtk-token")
    monkeypatch.setenv("MOODLE_TOKEN", "shared-token")
    assert load_settings(config=path, profile="bgtk", environ={}).token() == "bgtk-token"   # the profile's own first
    assert load_settings(config=path, environ={}).token() == "shared-token"
    monkeypatch.delenv("MOODLE_TOKEN")
    with pytest.raises(ConfigError, match="no web-service token for profile 'default': set MOODLE_TOKEN_DEFAULT"):
        load_settings(config=path, environ={}).token()


def test_settings_naming_one_site_are_refused_for_several_profiles() -> None:
    check_one_site_settings(["a"], {"url": "https://a.example"}, {"MOODLE_TOKEN": "t"})   # one profile: fine
    check_one_site_settings(["a", "b"], {}, {"MOODLE_TOKEN_A": "t", "MOODLE_TOKEN_B": "u"})
    with pytest.raises(ConfigError) as info:
        check_one_site_settings(["a", "b-c"], {}, {"MOODLE_TOKEN": "s3cret", "MOODLE_URL": "https://x.example"})
    message = str(info.value)
    assert message.startswith("MOODLE_TOKEN and MOODLE_URL name one site, but 2 profiles are given (a, b-c)")
    assert "MOODLE_TOKEN_A, MOODLE_TOKEN_B_C" in message and "unset MOODLE_TOKEN and unset MOODLE_URL" in message
    assert "s3cret" not in message
    with pytest.raises(ConfigError, match="--url names one site.*drop --url"):
        check_one_site_settings(["a", "b"], {"url": "https://x.example"}, {})


SITES = """[profiles.lampung]
url = "https://lms.lampung.example.id"
store = "/srv/evidence.sqlite"
concurrency = 6

[profiles.bengkulu]
url = "https://lms.bengkulu.example.id"
store = "/srv/evidence.sqlite"
concurrency = 2
"""


def test_without_a_default_profile_the_only_one_or_what_all_share(tmp_path: Path) -> None:
    only = load_settings(config=write(tmp_path, SITES.split("\n\n")[0] + "\n"), environ={})
    assert (only.profile, only.url) == ("lampung", "https://lms.lampung.example.id")
    several = load_settings(config=write(tmp_path, SITES), environ={})
    assert several.store_url.endswith("/srv/evidence.sqlite")          # the store every profile names
    assert (several.url, several.concurrency) == (None, 4)            # not one site's URL or concurrency
    with pytest.raises(ConfigError, match=r"no profile 'default': choose a site with --profile \(profiles: "
                                          r"bengkulu, lampung\)"):
        several.require_url()
    named = load_settings(config=write(tmp_path, SITES), profile="bengkulu", environ={})
    assert (named.url, named.concurrency) == ("https://lms.bengkulu.example.id", 2)
