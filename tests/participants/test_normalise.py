"""Each normaliser: the accepted spellings and the rejected ones."""

from __future__ import annotations

from datetime import datetime

import pytest

from moodle_sync.participants.normalise import (
    InvalidValue,
    detect_dayfirst,
    normalise_email,
    normalise_npsn,
    normalise_nuptk,
    normalise_phone,
    normalise_school_level,
    parse_timestamp,
    parse_yes_no,
)


@pytest.mark.parametrize("raw, expected", [
    ("  Budi.Santoso@Gmail.COM ", "budi.santoso@gmail.com"),
    ("<siti@guru.sd.belajar.id>", "siti@guru.sd.belajar.id"),
    ("mailto:ani@yahoo.co.id", "ani@yahoo.co.id"),
    ("ａｎｉ＠ｙａｈｏｏ.co.id", "ani@yahoo.co.id"),
    ("o'neil+kelas@sekolah.sch.id", "o'neil+kelas@sekolah.sch.id"),
])
def test_email_accepted(raw: str, expected: str) -> None:
    assert normalise_email(raw) == expected


@pytest.mark.parametrize("raw, reason", [
    ("", "empty"), (None, "empty"), ("budi.santoso@gmail", "not a valid"), ("dewi lestari@gmail.com", "space"),
    ("rina.marlinagmail.com", "not a valid"), ("agus@@yahoo.co.id", "not a valid"),
    ("a..b@gmail.com", "not a valid"), (".a@gmail.com", "not a valid"), ("a@-x.com", "not a valid"),
    ("sri@gmail.con", "typo of gmail.com"), ("x@gmial.com", "typo"),
    ("=HYPERLINK(\"http://x.id\")", "not a valid"), ("a" * 95 + "@gmail.com", "100 characters"),
])
def test_email_rejected(raw: str | None, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason):
        normalise_email(raw)


@pytest.mark.parametrize("raw, expected", [
    ("1234567890123456", "1234567890123456"), ("1234 5678 9012 3456", "1234567890123456"),
    ("1234-5678-9012-3456", "1234567890123456"), ("", None), ("-", None), ("tidak ada", None),
    ("Belum punya", None), ("0", None), (None, None),
])
def test_nuptk_accepted(raw: str | None, expected: str | None) -> None:
    assert normalise_nuptk(raw) == expected


@pytest.mark.parametrize("raw, reason", [
    ("123456789012345", "it has 15"), ("12345678901234567", "it has 17"), ("3.21E+15", "spreadsheet"),
    ("1,23457E+15", "spreadsheet"), ("12345678901234AB", "16 digits"), ("0000000000000000", "zeros"),
    ("١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦", "16 digits"),
])
def test_nuptk_rejected(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason):
        normalise_nuptk(raw)


@pytest.mark.parametrize("raw, expected", [("10801234", "10801234"), ("1080 1234", "10801234"), ("", None),
                                           ("-", None)])
def test_npsn_accepted(raw: str, expected: str | None) -> None:
    assert normalise_npsn(raw) == expected


@pytest.mark.parametrize("raw", ["108012", "108012345", "P9990123"])
def test_npsn_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue, match="NPSN"):
        normalise_npsn(raw)


@pytest.mark.parametrize("raw, expected", [
    ("SD", "SD"), ("sd", "SD"), ("SD/MI", "SD"), ("MI", "SD"), ("Sekolah Dasar", "SD"),
    ("Madrasah Ibtidaiyah", "SD"), ("SD Negeri 1 Metro", "SD"), ("SMP/MTs", "SMP"), ("MTs", "SMP"),
    ("Smp", "SMP"), ("Madrasah Tsanawiyah", "SMP"), ("SMA/MA", "SMA"), ("MA", "SMA"), ("Madrasah Aliyah", "SMA"),
    ("SMK", "SMK"), ("SMK/MAK", "SMK"), ("Madrasah Aliyah Kejuruan", "SMK"), ("SLB", "SLB"), ("SDLB", "SLB"),
    ("SMALB", "SLB"), ("Sekolah Luar Biasa", "SLB"), ("TK/PAUD", "PAUD"), ("TK", "PAUD"), ("RA", "PAUD"),
    ("Kelompok Bermain", "PAUD"), ("Taman Kanak-Kanak", "PAUD"), ("", None), (None, None),
])
def test_school_level(raw: str | None, expected: str | None) -> None:
    assert normalise_school_level(raw) == expected


@pytest.mark.parametrize("raw, reason", [("Perguruan Tinggi", "not a school level"),
                                         ("SMA/SMK", "more than one"), ("SD dan SMP", "more than one")])
def test_school_level_rejected(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason):
        normalise_school_level(raw)


@pytest.mark.parametrize("raw, expected", [
    ("Ya", True), ("ya", True), ("Iya", True), ("Sudah", True), ("Sudah pernah", True), ("Pernah", True),
    ("Pernah, tahun 2024 di Metro", True), ("Yes", True), ("Tidak", False), ("Belum", False),
    ("Belum pernah", False), ("Tidak pernah", False), ("belum", False), ("No", False), ("", None),
    (None, None), ("Mungkin", None), ("-", None),
])
def test_yes_no(raw: str | None, expected: bool | None) -> None:
    assert parse_yes_no(raw) is expected


@pytest.mark.parametrize("raw, expected", [
    ("0812-3456-7890", "+6281234567890"), ("081234567890", "+6281234567890"), ("+6281234567890", "+6281234567890"),
    ("+62 812 3456 7890", "+6281234567890"), ("6281234567890", "+6281234567890"),
    ("+62 (0)812 3456 7890", "+6281234567890"), ("81234567890", "+6281234567890"),
    ("0812 3456 7890 / 0857 1234 5678", "+6281234567890"), ("(0721) 781234", "+62721781234"),
    ("", None), ("-", None), (None, None),
])
def test_phone_accepted(raw: str | None, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "+1 415 555 0100", "0812-ABC", "08123456789012345"])
def test_phone_rejected(raw: str) -> None:
    with pytest.raises(InvalidValue):
        normalise_phone(raw)


@pytest.mark.parametrize("raw, expected", [
    ("27/11/2026 14:03:12", datetime(2026, 11, 27, 14, 3, 12)),
    ("27/11/2026 14.03.12", datetime(2026, 11, 27, 14, 3, 12)),
    ("2/11/2026 7:05:00", datetime(2026, 11, 2, 7, 5)),
    ("27-11-2026 14:03", datetime(2026, 11, 27, 14, 3)),
    ("27/11/2026", datetime(2026, 11, 27)),
    ("11/27/2026 2:03:12 PM", datetime(2026, 11, 27, 14, 3, 12)),
    ("11/27/2026 12:03:12 AM", datetime(2026, 11, 27, 0, 3, 12)),
    ("2026-11-27 14:03:12", datetime(2026, 11, 27, 14, 3, 12)),
    ("2026-11-27T14:03:12", datetime(2026, 11, 27, 14, 3, 12)),
    ("2026-11-27T07:03:12Z", datetime(2026, 11, 27, 14, 3, 12)),
    ("2026-11-27T14:03:12+07:00", datetime(2026, 11, 27, 14, 3, 12)),
    ("2026/11/27 2:03:12 PM GMT+7", datetime(2026, 11, 27, 14, 3, 12)),
    ("2026/11/27 2:03:12 p.m. GMT+07:00", datetime(2026, 11, 27, 14, 3, 12)),
    ("2026/11/27 7:03:12 AM GMT", datetime(2026, 11, 27, 14, 3, 12)),
    ("2026/11/27 3:03:12 PM GMT+8", datetime(2026, 11, 27, 14, 3, 12)),
    ("27/11/2026 15:03:12 WITA", datetime(2026, 11, 27, 14, 3, 12)),
    ("27/11/2026 14:03:12 WIB", datetime(2026, 11, 27, 14, 3, 12)),
    ("2026-11-27 09:03:12 UTC-2", datetime(2026, 11, 27, 18, 3, 12)),
    ("46353.5", datetime(2026, 11, 27, 12, 0, 0)),
    ("46353", datetime(2026, 11, 27)),
])
def test_timestamp(raw: str, expected: datetime) -> None:
    assert parse_timestamp(raw) == expected


def test_timestamp_dayfirst_only_decides_ambiguous_dates() -> None:
    assert parse_timestamp("03/11/2026 10:00:00", dayfirst=True) == datetime(2026, 11, 3, 10)
    assert parse_timestamp("03/11/2026 10:00:00", dayfirst=False) == datetime(2026, 3, 11, 10)
    assert parse_timestamp("27/11/2026 10:00:00", dayfirst=False) == datetime(2026, 11, 27, 10)


@pytest.mark.parametrize("raw, reason", [("", "empty"), ("kemarin", "cannot read|can read"),
                                         ("31/02/2026 10:00", "not a valid date"), ("13:00 27/11", "read"),
                                         ("27/11/1926 10:00", "plausible"), ("11/27/2026 13:00 PM", "valid time")])
def test_timestamp_rejected(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason):
        parse_timestamp(raw)


def test_detect_dayfirst() -> None:
    assert detect_dayfirst(["27/11/2026 10:00", "03/11/2026 10:00"]) is True
    assert detect_dayfirst(["11/27/2026 10:00", "11/03/2026 10:00"]) is False
    assert detect_dayfirst(["03/11/2026 10:00"]) is True          # ambiguous: Indonesian default
    assert detect_dayfirst(["27/11/2026", "11/27/2026"]) is True   # mixed: day first, per value where clear
    assert detect_dayfirst(["2026-11-27 10:00"]) is True
