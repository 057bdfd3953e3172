"""Helpers shared by the CLI tests: a small copy of the example offering, and a store in tmp_path."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
import yaml

from moodle_sync.offerings import find_regency
from moodle_sync.sandbox import SandboxServer

EXAMPLES = Path(__file__).parents[2] / "examples"


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


@pytest.fixture
def store_path(sandbox_env: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data" / "store.sqlite"
    monkeypatch.setenv("MOODLE_SYNC_STORE", str(path))
    monkeypatch.chdir(tmp_path)   # announcement lists default to ./<offering>-seleksi
    return path
