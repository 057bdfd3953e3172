"""Lampung's 15 regencies and cities (kabupaten/kota), as the official names and stable slugs.

Codes are BPS (Statistics Indonesia) region codes. ``slug`` is what we put in course short names and
idnumbers; ``name`` is what people read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Regency:
    code: str
    kind: str   # "Kabupaten" or "Kota"
    short: str  # "Lampung Selatan"
    slug: str   # "lampung-selatan"

    @property
    def name(self) -> str:
        """The official name, e.g. "Kabupaten Lampung Selatan" or "Kota Metro"."""
        return f"{self.kind} {self.short}"


def _r(code: str, kind: str, short: str) -> Regency:
    return Regency(code, kind, short, short.lower().replace(" ", "-"))


LAMPUNG: tuple[Regency, ...] = (
    _r("1801", "Kabupaten", "Lampung Barat"),
    _r("1802", "Kabupaten", "Tanggamus"),
    _r("1803", "Kabupaten", "Lampung Selatan"),
    _r("1804", "Kabupaten", "Lampung Timur"),
    _r("1805", "Kabupaten", "Lampung Tengah"),
    _r("1806", "Kabupaten", "Lampung Utara"),
    _r("1807", "Kabupaten", "Way Kanan"),
    _r("1808", "Kabupaten", "Tulang Bawang"),
    _r("1809", "Kabupaten", "Pesawaran"),
    _r("1810", "Kabupaten", "Pringsewu"),
    _r("1811", "Kabupaten", "Mesuji"),
    _r("1812", "Kabupaten", "Tulang Bawang Barat"),
    _r("1813", "Kabupaten", "Pesisir Barat"),
    _r("1871", "Kota", "Bandar Lampung"),
    _r("1872", "Kota", "Metro"),
)

BY_SLUG = {r.slug: r for r in LAMPUNG}
BY_NAME = {r.name: r for r in LAMPUNG}


def by_slug(slug: str) -> Regency:
    """The regency with this slug; ``KeyError`` if there is none."""
    return BY_SLUG[slug]
