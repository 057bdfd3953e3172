"""The CLI's store is bound to the configured profile's site (issue 12): one core_webservice_get_site_info
for a URL the store does not know, none afterwards (a new run included); offline never calls Moodle and
binds the known site, the only site or the legacy rows, else names the sites; App.for_profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.cli.app import App
from moodle_sync.exceptions import ConfigError
from moodle_sync.sandbox import SandboxServer
from moodle_sync.store import LEGACY_SITE, Store, site_key

SITE_INFO = "core_webservice_get_site_info"


def _site_info_calls(sandbox: SandboxServer) -> int:
    return sandbox.control.call_counts().get(SITE_INFO, 0)


def _bound_site(app: App, *, offline: bool = False) -> str:
    try:
        site_id: str = app.store(offline=offline).site_id
        return site_id
    finally:
        app.close()


def test_a_new_url_costs_one_site_info_call_and_a_known_one_none(sandbox_env: SandboxServer,
                                                                 store_path: Path) -> None:
    sandbox_id = site_key(sandbox_env.url)
    app = App()
    try:
        store = app.store()
        assert app.store() is store and app.store(offline=True) is store and store.site_id == sandbox_id
        site = app.site()
        assert (site.site_id, site.url, site.profile) == (sandbox_id, sandbox_env.url, "default")
        assert site.name and _site_info_calls(sandbox_env) == 1
    finally:
        app.close()
    assert _bound_site(App()) == sandbox_id                    # the next run: known, no call
    assert App().site().site_id == sandbox_id
    assert _site_info_calls(sandbox_env) == 1


def test_a_configured_url_other_than_moodles_is_remembered_as_an_alias(sandbox_env: SandboxServer,
                                                                       store_path: Path) -> None:
    alias = sandbox_env.url.replace("127.0.0.1", "localhost")
    assert _bound_site(App(overrides={"url": alias})) == site_key(sandbox_env.url)
    assert _bound_site(App(overrides={"url": alias})) == site_key(sandbox_env.url)
    assert _bound_site(App()) == site_key(sandbox_env.url)     # the URL Moodle gave is known too
    assert _site_info_calls(sandbox_env) == 1


def test_the_first_site_adopts_the_rows_of_an_older_store(sandbox_env: SandboxServer, store_path: Path) -> None:
    with Store.open(str(store_path)) as legacy:
        legacy.save_offering("koding-2026-a1", "koding", "Koding", {})
    app = App()
    try:
        assert app.store().get_offering("koding-2026-a1") is not None
        assert app.store().site_id == site_key(sandbox_env.url)
    finally:
        app.close()


def test_offline_never_calls_moodle(sandbox_env: SandboxServer, store_path: Path) -> None:
    assert _bound_site(App(), offline=True) == LEGACY_SITE           # a new store: the legacy rows
    _bound_site(App())                                              # the site is registered (one call)
    assert _bound_site(App(overrides={"url": "https://elsewhere.example.id"}), offline=True) \
        == site_key(sandbox_env.url)                                # the store's only site
    with Store.open(str(store_path)) as store:
        store.register_site("https://lms-b.example.id", "Centre B", profile="b")
    assert _bound_site(App(), offline=True) == site_key(sandbox_env.url)   # the configured URL's site
    with pytest.raises(ConfigError, match=r"2 sites .*lms-b.example.id \(profile b\).*--site"):
        _bound_site(App(overrides={"url": "https://elsewhere.example.id"}), offline=True)
    assert _site_info_calls(sandbox_env) == 1


def test_no_url_configured_binds_offline(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOODLE_URL")
    assert _bound_site(App()) == LEGACY_SITE
    with pytest.raises(ConfigError, match="no Moodle site"):
        App().site()


def test_for_profile_keeps_the_config_overrides_and_output_but_not_the_url(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[profiles.a]\nurl = "https://lms-a.example.id"\n\n'
                      '[profiles.b]\nurl = "https://lms-b.example.id"\n', encoding="utf-8")
    app = App(config=str(config), profile="a", overrides={"url": "https://x.example.id", "store": "s.sqlite"},
              json=True, quiet=True)
    other = app.for_profile("b")
    assert (other.config, other.profile, other.overrides, other.json, other.quiet) == (
        str(config), "b", {"store": "s.sqlite"}, True, True)
    assert other.settings.url == "https://lms-b.example.id" and other.settings.store == "s.sqlite"
    assert app.settings.url == "https://x.example.id"
