"""Writing follow-up packs: per facilitator one XLSX (a sheet per class) and one self-contained HTML page,
both ``0600`` and formula-safe (see :mod:`moodle_sync.tabular`, :mod:`moodle_sync.files`)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from ..files import private_dir, write_private_text
from ..tabular import Sheet, write_xlsx
from .aggregate import day_of
from .followup import STATUS_TEXT, ClassPack, Facilitator, FollowupPack

HEADER = ["Nama", "Email", "Sekolah", "Kabupaten/Kota", "Status", "Keterangan", "Telepon", "WhatsApp"]
NOBODY = "tanpa-fasilitator"


def file_stem(facilitator: Facilitator | None) -> str:
    """A file name for a facilitator's pack: their e-mail made safe (``tanpa-fasilitator`` for none)."""
    if facilitator is None:
        return NOBODY
    return re.sub(r"[^a-z0-9._-]+", "-", facilitator.email.lower()).strip("-.") or NOBODY


def _unique(stem: str, taken: set[str]) -> str:
    """``stem``, or ``stem-2``, ``stem-3``... when another facilitator's e-mail made the same name (``a+b@x``
    and ``a-b@x``): one facilitator's file never overwrites another's. Adds the name to ``taken``."""
    name, n = stem, 1
    while name.casefold() in taken:
        n += 1
        name = f"{stem}-{n}"
    taken.add(name.casefold())
    return name


def _rows(pack: ClassPack) -> list[list[str | None]]:
    return [[p.fullname, p.email, p.school, p.regency, STATUS_TEXT[p.status], p.detail, p.phone, p.whatsapp]
            for p in pack.people]


def render_pack_html(pack: FollowupPack, facilitator: Facilitator | None, classes: list[ClassPack]) -> str:
    """One self-contained HTML page (inline style, no scripts, every value escaped)."""
    e = html.escape
    who = facilitator.name if facilitator else "kelas tanpa fasilitator"
    parts = ["<!DOCTYPE html><html lang=\"id\"><head><meta charset=\"utf-8\">",
             f"<title>Tindak lanjut {e(pack.title)} — {e(who)}</title>",
             ("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
             "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#eee}</style></head><body>"),
             f"<h1>Tindak lanjut {e(pack.title)}</h1>",
             (f"<p>Untuk: {e(who)} · per {e(day_of(pack.generated_at))} · tidak aktif = tanpa akses "
             f"{pack.stalled_days} hari</p>")]
    for c in classes:
        parts.append(f"<h2>{e(c.label)} ({len(c.people)} peserta)</h2><table><tr>"
                     + "".join(f"<th>{e(h)}</th>" for h in HEADER[:-2]) + "<th>WhatsApp</th></tr>")
        for p in c.people:
            link = (f"<a href=\"{e(p.whatsapp)}\">{e(p.phone or '')}</a>" if p.whatsapp else e(p.phone or "—"))
            cells = [p.fullname, p.email, p.school or "—", p.regency or "—", STATUS_TEXT[p.status], p.detail]
            parts.append("<tr>" + "".join(f"<td>{e(v)}</td>" for v in cells) + f"<td>{link}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_packs(pack: FollowupPack, folder: Path) -> list[Path]:
    """Write every facilitator's XLSX and HTML into ``folder`` (created ``0700``). Returns the paths."""
    private_dir(folder)
    written: list[Path] = []
    taken: set[str] = set()
    for facilitator, classes in pack.by_facilitator().items():
        stem = _unique(file_stem(facilitator), taken)
        sheets = [Sheet(c.label, HEADER, _rows(c)) for c in classes]
        written.append(write_xlsx(folder / f"{stem}.xlsx", sheets))
        written.append(write_private_text(folder / f"{stem}.html", render_pack_html(pack, facilitator, classes)))
    return written
