"""Helpers for template tests: write small template trees and offerings into tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from moodle_sync.offerings import Offering, parse_offering

MINIMAL = """\
title: Contoh
fullname: "Pelatihan {{ course.name }}"
shortname: "{{ offering.id | upper }}-{{ course.key | upper }}"
idnumber: "{{ offering.id }}-{{ course.key }}"
master:
  idnumber: MASTER-X
sections:
  - number: 1
    name: Orientasi
  - number: 2
    name: Materi
groups:
  name: "Kelas {{ course.short }} {{ letter }}"
  idnumber: "{{ course.idnumber }}-{{ letter | lower }}"
"""


def write_template(root: Path, name: str, yaml_text: str, files: dict[str, str] | None = None) -> Path:
    """Create ``root/name/template.yaml`` (dedented) and any extra files; return the template.yaml path."""
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "template.yaml"
    path.write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    for file_name, text in (files or {}).items():
        (folder / file_name).write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make_offering(**changes: object) -> Offering:
    """A small valid offering (3 regencies, 2 classes each) with ``changes`` applied."""
    document: dict[str, object] = {
        "id": "uji-2026-a1", "template": "contoh", "title": "Uji Coba", "batch": "Angkatan 1",
        "start": "2026-07-06", "end": "2026-09-30", "category": "BGTK Lampung / 2026 / Uji",
        "courses": "per-regency", "regencies": ["metro", "pringsewu", "mesuji"], "seats": 180,
        "class_size": 30,
    }
    document.update(changes)
    return parse_offering(document, file="<test>")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    return folder
