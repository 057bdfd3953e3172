"""Announcement lists in Bahasa Indonesia, written through tabular (neutralised)."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from moodle_sync.participants import (
    announcement_sheets,
    assign_classes,
    mask_email,
    promote_from_waitlist,
    select_participants,
    write_announcement_csv,
    write_announcement_xlsx,
)

from .factories import applicant


def _selection():  # type: ignore[no-untyped-def]
    people = [applicant("budi.santoso@gmail.com", "metro", minute=0, school="=HYPERLINK(\"x\",\"SDN 1\")",
                        name="Budi Santoso"),
              applicant("ani@x.id", "metro", minute=1, name="Ani Lestari"),
              applicant("cici@x.id", "metro", minute=2, name="Cici Paramida", trained=True),
              applicant("dodi@x.id", "mesuji", minute=3, name="Dodi"),
              applicant("eka@x.id", "metro", minute=4, name="Eka Putri")]
    sel = select_participants(people, seats=2, regencies=["metro"], exclude_trained=True)
    return promote_from_waitlist(sel, "ani@x.id")[0]


def test_mask_email() -> None:
    assert mask_email("budi.santoso@gmail.com") == "bu***@gmail.com"
    assert mask_email("ani@x.id") == "a***@x.id"


def test_sheets() -> None:
    sel = _selection()
    selected, waitlist, others = announcement_sheets(sel, classes=assign_classes(sel.selected, class_size=30))
    assert selected.title == "Peserta Terpilih" and waitlist.title == "Daftar Tunggu"
    assert list(selected.header) == ["No", "Nama Lengkap", "Asal Sekolah", "Kabupaten/Kota", "Jenjang",
                                     "Email (disamarkan)", "Kelas", "Keterangan"]
    assert [r[1] for r in selected.rows] == ["Budi Santoso", "Eka Putri"]
    assert selected.rows[0][-2:] == ["Kelas A", "Terpilih (kuota Kota Metro)"]
    assert selected.rows[1][-1] == "Terpilih (dari daftar tunggu)"
    assert waitlist.rows == []
    assert {r[1]: r[-1] for r in others.rows} == {
        "Cici Paramida": "Sudah pernah mengikuti pelatihan ini",
        "Dodi": "Kabupaten Mesuji tidak termasuk wilayah sasaran kegiatan ini"}
    assert "Ani Lestari" not in {r[1] for s in (selected, waitlist, others) for r in s.rows}   # withdrew
    assert all("@" not in str(v) or "***" in str(v) for s in (selected, others) for r in s.rows for v in r)


def test_waitlist_sheet() -> None:
    sel = select_participants([applicant(f"g{i}@x.id", "metro", minute=i) for i in range(3)], seats=1)
    _, waitlist, _ = announcement_sheets(sel)
    assert list(waitlist.header)[-2:] == ["Urutan di Kabupaten/Kota", "Keterangan"]
    assert waitlist.rows[1][0] == 2 and waitlist.rows[1][-1] == "Daftar tunggu nomor 2 (nomor 2 di Kota Metro)"


def test_write_csv_and_xlsx(tmp_path: Path) -> None:
    sel = _selection()
    paths = write_announcement_csv(sel, tmp_path, stem="koding-2026", delimiter=";")
    assert sorted(p.name for p in paths.values()) == ["koding-2026-daftar-tunggu.csv", "koding-2026-terpilih.csv",
                                                      "koding-2026-tidak-terpilih.csv"]
    with paths["Peserta Terpilih"].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[1][2] == "'=HYPERLINK(\"x\",\"SDN 1\")"
    book = write_announcement_xlsx(sel, tmp_path / "pengumuman.xlsx")
    wb = load_workbook(book)
    assert wb.sheetnames == ["Peserta Terpilih", "Daftar Tunggu", "Tidak Terpilih"]
    cell = wb["Peserta Terpilih"]["C2"]
    assert cell.value == "'=HYPERLINK(\"x\",\"SDN 1\")" and cell.data_type == "s"


def test_lists_are_private_to_their_owner(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        sel = _selection()
        folder = tmp_path / "koding-seleksi"
        (tmp_path / "x.xlsx").write_text("old")
        (tmp_path / "x.xlsx").chmod(0o644)
        paths = [*write_announcement_csv(sel, folder).values(), write_announcement_xlsx(sel, tmp_path / "x.xlsx")]
    finally:
        os.umask(old)
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {0o600}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
