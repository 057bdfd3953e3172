"""Turning what people type as their regency or city into one of Lampung's 15 (a slug of
:mod:`moodle_sync.regions`).

Accepted: the official name with or without "Kabupaten"/"Kab."/"Kota"/"Kotamadya"/"Kodya" (any casing,
spacing, punctuation, a trailing "Lampung"/"Provinsi Lampung"), the names glued together
("LampungTengah"), the usual abbreviations (Lambar, Lamsel, Lamtim, Lamteng, Lampura, Tuba, Tubaba,
Pesibar, Balam, B. Lampung, BDL, Lampung Sel., T. Bawang...), a note in brackets ("Lampung Timur (Lamtim)"),
the BPS code ("1871", "18.71"), the seat towns of the regencies (Kalianda, Kotabumi, Liwa, Krui...),
English "... Regency"/"... City", and small typos (one unambiguous close match). Everything else,
including places outside Lampung and the bare province name, is rejected with a reason.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

from ..regions import LAMPUNG

__all__ = ["InvalidRegency", "normalise_regency"]


class InvalidRegency(ValueError):
    """The text does not name one of Lampung's regencies or cities; ``str()`` is the reason."""


_ALIASES: dict[str, str] = {
    # abbreviations in daily use
    "lambar": "lampung-barat", "lbar": "lampung-barat",
    "lamsel": "lampung-selatan", "lsel": "lampung-selatan",
    "lamtim": "lampung-timur", "ltim": "lampung-timur",
    "lamteng": "lampung-tengah", "lteng": "lampung-tengah",
    "lampura": "lampung-utara", "lamut": "lampung-utara", "lamura": "lampung-utara",
    "tgms": "tanggamus",
    "tuba": "tulang-bawang", "tulangbawang": "tulang-bawang",
    "tubaba": "tulang-bawang-barat", "tubabar": "tulang-bawang-barat",
    "pesibar": "pesisir-barat", "pesbar": "pesisir-barat",
    "wayka": "way-kanan",
    "balam": "bandar-lampung", "blampung": "bandar-lampung", "bdl": "bandar-lampung",
    "bandarlampung": "bandar-lampung", "bandarlpg": "bandar-lampung", "blpg": "bandar-lampung",
    "tanjungkarang": "bandar-lampung", "telukbetung": "bandar-lampung",
    "kotametro": "metro", "lampungsel": "lampung-selatan", "lampungtim": "lampung-timur",
    "lampungteng": "lampung-tengah", "lampungbar": "lampung-barat", "lampungut": "lampung-utara",
    "tbawang": "tulang-bawang", "tbawangbarat": "tulang-bawang-barat", "tbb": "tulang-bawang-barat",
    # seat towns (ibu kota kabupaten)
    "liwa": "lampung-barat", "kotaagung": "tanggamus", "kalianda": "lampung-selatan",
    "sukadana": "lampung-timur", "gunungsugih": "lampung-tengah", "kotabumi": "lampung-utara",
    "blambanganumpu": "way-kanan", "menggala": "tulang-bawang", "gedongtataan": "pesawaran",
    "panaragan": "tulang-bawang-barat", "krui": "pesisir-barat", "wiralaga": "mesuji",
}

_PREFIXES = ("kabupaten", "kabupatan", "kab", "kotamadya", "kodya", "kota", "kot", "regency of", "city of")
_SUFFIXES = ("provinsi lampung", "prov lampung", "propinsi lampung", "lampung province", "province",
             "regency", "city", "lampung")

_CANONICAL: dict[str, str] = {r.short.lower().replace(" ", ""): r.slug for r in LAMPUNG}
_KNOWN: dict[str, str] = {**_CANONICAL, **_ALIASES}
_FUZZY_POOL = {k: v for k, v in _KNOWN.items() if len(k) >= 5}
_BY_CODE = {r.code: r.slug for r in LAMPUNG}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"[.,;:/\\()\[\]\-_'\"`]+", " ", text)
    return " ".join(text.split())


def _strip_words(key: str) -> list[str]:
    """The key and its variants without a leading kind word and/or a trailing province word."""
    variants = [key]
    for prefix in _PREFIXES:
        if key.startswith(prefix + " "):
            variants.append(key[len(prefix) + 1:])
    for v in list(variants):
        for suffix in _SUFFIXES:
            if v.endswith(" " + suffix):
                variants.append(v[: -len(suffix) - 1])
    return variants


def normalise_regency(text: str | None) -> str:
    """The slug of the Lampung regency or city that ``text`` names.

    Raises :class:`InvalidRegency` (a ``ValueError``) when ``text`` is empty or ``None``, names only the province,
    names a place outside Lampung, or is too unlike any of the 15 to be sure.
    """
    key = _key(text or "")
    if text is None or not key:
        raise InvalidRegency("the regency/city is empty")
    code = re.sub(r"[\s.]", "", text)
    if code in _BY_CODE:                                   # the BPS code: "1871", "18.71"
        return _BY_CODE[code]
    bare = _key(re.sub(r"\([^)]*\)", " ", text))           # "Lampung Timur (Lamtim)"
    variants = _strip_words(key) + (_strip_words(bare) if bare and bare != key else [])
    for v in variants:
        compact = v.replace(" ", "")
        if compact in _KNOWN:
            return _KNOWN[compact]
    if any(v.replace(" ", "") in ("lampung", "provinsilampung", "provlampung") for v in variants):
        raise InvalidRegency(f"{text.strip()!r} names the province, not one of its regencies or cities")
    shortest = min((v.replace(" ", "") for v in variants), key=len)
    if len(shortest) >= 5:
        close = difflib.get_close_matches(shortest, list(_FUZZY_POOL), n=3, cutoff=0.85)
        slugs = {_FUZZY_POOL[c] for c in close}
        if len(slugs) == 1:
            return slugs.pop()
    raise InvalidRegency(f"{text.strip()!r} is not one of Lampung's 15 regencies and cities")

