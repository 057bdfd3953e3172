"""The public surface: ``moodle_sync`` exports typed, documented functions, and the workflow functions keep
the promises their docstrings make (the happy path runs in tests/test_readme.py)."""

from __future__ import annotations

import inspect
import typing
from pathlib import Path

import pytest

import moodle_sync
from moodle_sync import api
from moodle_sync.exceptions import InputError
from moodle_sync.provision.spec import offering_summary
from moodle_sync.sandbox import SandboxServer
from moodle_sync.store.store import Store

from .cli.conftest import EXAMPLES, small_offering


def test_every_public_name_is_there_typed_and_documented() -> None:
    for name in moodle_sync.__all__:
        assert hasattr(moodle_sync, name), name
    for name in api.__all__:
        fn = getattr(api, name)
        assert getattr(moodle_sync, name) is fn
        hints = fn.__annotations__   # strings: the types are imported for type checkers only
        assert "return" in hints and set(inspect.signature(fn).parameters) <= set(hints), name
        assert fn.__doc__ and "Raises" in fn.__doc__, f"{name}: its docstring says nothing of what it raises"


def test_connect_returns_the_typed_moodle(sandbox: SandboxServer) -> None:
    assert typing.get_type_hints(moodle_sync.connect)["return"] is moodle_sync.Moodle
    moodle = moodle_sync.connect(sandbox.url, sandbox.token)
    assert isinstance(moodle, moodle_sync.Moodle) and moodle.site_info().userid > 0


@pytest.fixture
def store(tmp_path: Path) -> typing.Iterator[Store]:
    with moodle_sync.open_store(str(tmp_path / "store.sqlite")) as opened:
        yield opened


def test_the_store_finds_the_file_an_offering_was_rendered_from(tmp_path: Path, store: Store) -> None:
    path = small_offering(tmp_path / "o", id="api-1")
    with pytest.raises(InputError, match="'api-1' is not in the store: give its YAML file"):
        api.stored_offering_file(store, "api-1")
    spec = api.render_offering(path)
    store.save_offering(spec.offering_id, spec.template, spec.title, {**offering_summary(spec), "file": None})
    with pytest.raises(InputError, match="recorded without its file"):
        api.stored_offering_file(store, "api-1")

    store.save_offering(spec.offering_id, spec.template, spec.title, offering_summary(spec))

    assert api.stored_offering_file(store, "api-1") == path.resolve()
    path.unlink()
    with pytest.raises(InputError, match="no longer there"):
        api.stored_offering_file(store, "api-1")


def test_nothing_to_pull_or_report_is_an_input_error(sandbox: SandboxServer, store: Store) -> None:
    moodle = moodle_sync.connect(sandbox.url, sandbox.token)
    with pytest.raises(InputError, match="no offerings in the store"):
        api.pull_evidence(moodle, store)
    with pytest.raises(InputError, match="no completion evidence of offering 'koding-2026-a1'"):
        api.offering_report(store, "koding-2026-a1")


def test_apply_writes_nothing_when_the_plan_has_problems(sandbox: SandboxServer, tmp_path: Path,
                                                        store: Store) -> None:
    path = small_offering(tmp_path / "o", id="api-2", category="T api-2 / Koding")
    moodle = moodle_sync.connect(sandbox.url, sandbox.token)
    taken = api.render_offering(path).courses[0].shortname
    moodle.create_courses([{"fullname": "Kursus orang lain", "shortname": taken, "categoryid": 1,
                            "idnumber": "lain"}])
    before = sandbox.control.call_counts()

    with pytest.raises(InputError, match=f"not applied: .*shortname '{taken}' is taken"):
        api.apply_offering(moodle, path, store=store)

    wrote = {f: n - before.get(f, 0) for f, n in sandbox.control.call_counts().items()
             if n != before.get(f, 0) and "_get_" not in f and not f.startswith("core_webservice")}
    assert wrote == {} and store.get_offering("api-2") is None


def test_select_again_after_enrolment_needs_force(sandbox: SandboxServer, tmp_path: Path, store: Store) -> None:
    path = small_offering(tmp_path / "o", id="api-3", category="T api-3 / Koding")
    moodle = moodle_sync.connect(sandbox.url, sandbox.token)
    assert api.apply_offering(moodle, path, store=store).ok
    with pytest.raises(InputError, match="no selected participants for api-3"):
        api.enrol_selected(moodle, path, store=store)
    registrations = [EXAMPLES / "registrations.csv"]
    first = api.select_participants(path, registrations, store=store)
    assert api.enrol_selected(moodle, path, store=store).enrolled == len(first.selection.selected) == 12

    with pytest.raises(InputError, match="12 participants of api-3 are already enrolled"):
        api.select_participants(path, registrations, store=store)

    unsaved = api.select_participants(path, registrations, store=store, save=False)
    assert [p.email for p in unsaved.selection.selected] == [p.email for p in first.selection.selected]
    assert len(store.participants("api-3", status="enrolled")) == 12


def test_open_store_binds_the_stores_one_site_or_the_one_named(tmp_path: Path) -> None:
    url = str(tmp_path / "sites.sqlite")
    with moodle_sync.open_store(url) as fresh:
        assert fresh.site_id == ""
        fresh.save_offering("o-1", "t", "T", {})
        fresh.register_site("https://lms.one.example", "Satu", profile="satu")   # adopts the rows of no site
    with moodle_sync.open_store(url) as one:
        assert one.site_id == "lms.one.example" and one.get_offering("o-1") is not None
        one.register_site("https://lms.two.example", "Dua", profile="dua")
    with pytest.raises(moodle_sync.ConfigError, match="several sites"):
        moodle_sync.open_store(url)
    with moodle_sync.open_store(url, site="dua") as two:
        assert two.site_id == "lms.two.example" and two.get_offering("o-1") is None
    with pytest.raises(moodle_sync.ConfigError, match="no site 'tiga'"):
        moodle_sync.open_store(url, site="tiga")


def test_open_store_with_a_moodle_binds_that_moodles_site(tmp_path: Path, sandbox: SandboxServer) -> None:
    url = str(tmp_path / "sites.sqlite")
    with moodle_sync.open_store(url) as fresh:
        fresh.register_site("https://lms.other.example", "Lain")
    moodle = moodle_sync.connect(sandbox.url, sandbox.token)
    try:
        with moodle_sync.open_store(url, moodle=moodle) as bound:       # a store of one other site: not that one
            assert bound.site_id == moodle_sync.store.site_key(sandbox.url)
            bound.save_offering("o-1", "t", "T", {})
        with moodle_sync.open_store(url, moodle=moodle) as again:       # known now: the same site, its rows
            assert again.get_offering("o-1") is not None
        with Store.open(url) as store:
            assert sorted(s.site_id for s in store.sites()) == sorted(
                ["lms.other.example", moodle_sync.store.site_key(sandbox.url)])
    finally:
        moodle.client.close()
