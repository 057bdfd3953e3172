"""Helpers shared by the CLI tests: running the command, a small copy of the example offering, a store in
tmp_path and the store as a run left it (bound to its site)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from moodle_sync.cli import main
from moodle_sync.offerings import find_regency
from moodle_sync.sandbox import SandboxServer
from moodle_sync.store import Store
from moodle_sync.ws.functions import FUNCTIONS

EXAMPLES = Path(__file__).parents[2] / "examples"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI as the console script does; (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    """Run with ``--json``; (exit code, the JSON document)."""
    code, out, err = run(capsys, *args, "--json")
    assert out, err
    return code, json.loads(out)


def writes(counts: dict[str, int]) -> dict[str, int]:
    """The write functions among a sandbox's call counts."""
    return {name: n for name, n in counts.items() if name in FUNCTIONS and not FUNCTIONS[name].is_read}


def small_offering(folder: Path, regencies: tuple[str, ...] = ("metro", "pesawaran"), seats: int = 12,
                   min_per_regency: int = 4, **changes: Any) -> Path:
    """A copy of the example offering for fewer regencies and seats, with the facilitators of those regencies
    (the offering's ``facilitators:`` path is relative to the offering file)."""
    folder.mkdir(parents=True, exist_ok=True)
    document = yaml.safe_load((EXAMPLES / "offering-koding.yaml").read_text("utf-8"))
    document.update(regencies=list(regencies), seats=seats, min_per_regency=min_per_regency, **changes)
    rows = list(csv.reader((EXAMPLES / "facilitators.csv").read_text("utf-8-sig").splitlines()))
    course = rows[0].index("course")
    keep = [r for r in rows[1:] if (reg := find_regency(r[course])) is not None and reg.slug in regencies]
    with open(folder / document["facilitators"], "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([rows[0], *keep])
    path = folder / "offering.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@contextmanager
def site_store(store: str | Path) -> Iterator[Store]:
    """The store at ``store`` (a path or URL) bound to its one site: what a run against the sandbox wrote."""
    with Store.open(str(store)) as opened:
        (site,) = opened.sites()
        yield opened.for_site(site.site_id)


@pytest.fixture
def store_path(sandbox_env: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "store.sqlite"
    monkeypatch.setenv("MOODLE_SYNC_STORE", str(path))
    monkeypatch.chdir(tmp_path)   # announcement lists default to ./<offering>-seleksi
    return path
