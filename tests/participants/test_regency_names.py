"""Regencies written many ways map to one of the 15; everything else is rejected."""

from __future__ import annotations

import pytest

from moodle_sync.participants.regency_names import InvalidRegency, normalise_regency
from moodle_sync.regions import LAMPUNG


@pytest.mark.parametrize("raw, slug", [
    ("Kota Bandar Lampung", "bandar-lampung"), ("Bandar Lampung", "bandar-lampung"),
    ("BANDAR LAMPUNG", "bandar-lampung"), ("bandar  lampung", "bandar-lampung"), ("Balam", "bandar-lampung"),
    ("B. Lampung", "bandar-lampung"), ("Bandarlampung", "bandar-lampung"), ("Kab. Bandar Lampung", "bandar-lampung"),
    ("Metro", "metro"), ("Kota Metro", "metro"), ("Kota metro", "metro"), ("Kotamadya Metro", "metro"),
    ("Metro, Lampung", "metro"), ("Kabupaten Lampung Tengah", "lampung-tengah"), ("Lamteng", "lampung-tengah"),
    ("Kab Lamteng", "lampung-tengah"), ("Kab. Lampung Tengah", "lampung-tengah"), ("lampung tengah", "lampung-tengah"),
    ("LampungTengah", "lampung-tengah"), ("Lamsel", "lampung-selatan"), ("Kab. Lamsel", "lampung-selatan"),
    ("Lamtim", "lampung-timur"), ("Lampura", "lampung-utara"), ("Kotabumi", "lampung-utara"),
    ("Lambar", "lampung-barat"), ("Tuba", "tulang-bawang"), ("Tulang Bawang", "tulang-bawang"),
    ("Tubaba", "tulang-bawang-barat"), ("Tulang Bawang Barat", "tulang-bawang-barat"),
    ("Pesibar", "pesisir-barat"), ("Krui", "pesisir-barat"), ("Kab. Tanggamus", "tanggamus"),
    ("Kota Agung", "tanggamus"), ("Waykanan", "way-kanan"), ("Way Kanan", "way-kanan"),
    ("Kab Pesawaran", "pesawaran"), ("Pringsewu", "pringsewu"), ("Kab. Mesuji", "mesuji"),
    ("Lampung Selatan Regency", "lampung-selatan"), ("Kabupaten Lampung Barat, Provinsi Lampung", "lampung-barat"),
    ("Lampung Tenga", "lampung-tengah"), ("Lampng Selatan", "lampung-selatan"),
])
def test_regency_spellings(raw: str, slug: str) -> None:
    assert normalise_regency(raw) == slug


@pytest.mark.parametrize("region", LAMPUNG, ids=lambda r: r.slug)
def test_every_official_name_and_slug(region) -> None:  # type: ignore[no-untyped-def]
    assert normalise_regency(region.name) == region.slug
    assert normalise_regency(region.short) == region.slug
    assert normalise_regency(region.slug) == region.slug


@pytest.mark.parametrize("raw, reason", [
    ("Kota Palembang", "not one of Lampung"), ("Kab. Ogan Komering Ilir", "not one of Lampung"),
    ("Jakarta Timur", "not one of Lampung"), ("Lampung", "province"), ("Provinsi Lampung", "province"),
    ("", "empty"), (None, "empty"), ("Lampung Raya", "not one of Lampung"), ("Tulang", "not one of Lampung"),
])
def test_regency_rejected(raw: str | None, reason: str) -> None:
    with pytest.raises(InvalidRegency, match=reason):
        normalise_regency(raw)
