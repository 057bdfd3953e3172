"""One topic, however a survey spells it: "koding" / "Coding", "Kecerdasan Artifisial (AI)" / "AI" / "K.A.".

:func:`topic_key` is what topics are counted and matched by: :func:`..eligibility.match_key` (case, spacing
and punctuation ignored) of the answer without a bracketed abbreviation, with the common other spellings
of a topic (English, abbreviations) replaced by its name. :func:`topic_name` is how a known topic is shown.
"""

from __future__ import annotations

import re

from ..eligibility import match_key

__all__ = ["topic_key", "topic_name"]

_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("artificial intelligence", "kecerdasan artifisial"), ("kecerdasan buatan", "kecerdasan artifisial"),
    ("kecerdasan artificial", "kecerdasan artifisial"), ("k a", "kecerdasan artifisial"),
    ("ai", "kecerdasan artifisial"), ("coding", "koding"), ("deep learning", "pembelajaran mendalam"),
    ("ocean literacy", "literasi kelautan"), ("literasi laut", "literasi kelautan"),
)
_NAMES = {"kecerdasan artifisial": "Kecerdasan Artifisial", "koding": "Koding", "stem": "STEM",
          "pembelajaran mendalam": "Pembelajaran Mendalam", "literasi kelautan": "Literasi Kelautan"}


def topic_key(text: str) -> str:
    """``"Kecerdasan Artifisial (AI)"``, ``"AI"`` and ``"K.A."`` -> ``"kecerdasan artifisial"``;
    ``"Coding"`` -> ``"koding"``; an empty string for an empty answer."""
    bare = re.sub(r"\([^)]*\)", " ", str(text))
    key = f" {match_key(bare if match_key(bare) else text)} "
    for other, name in _SYNONYMS:
        key = key.replace(f" {other} ", f" {name} ")
    return key.strip()


def topic_name(text: str) -> str:
    """How a topic is shown: the name of a known topic, else the answer as written (spaces tidied)."""
    return _NAMES.get(topic_key(text), " ".join(str(text).split()))
