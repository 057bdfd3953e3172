"""Full names: tidying, titles, and the Moodle first/last name split."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from moodle_sync.participants.names import InvalidValue, normalise_name, parse_name, split_name


@pytest.mark.parametrize("raw, full, first, last", [
    ("Budi Santoso", "Budi Santoso", "Budi", "Santoso"),
    ("  budi   santoso ", "Budi Santoso", "Budi", "Santoso"),
    ("DRA. SITI AMINAH M.PD", "Dra. Siti Aminah, M.Pd.", "Dra. Siti", "Aminah, M.Pd."),
    ("Siti Aminah,S.Pd,M.Pd", "Siti Aminah, S.Pd., M.Pd.", "Siti", "Aminah, S.Pd., M.Pd."),
    ("eko puspita, s.pd.sd", "Eko Puspita, S.Pd.SD", "Eko", "Puspita, S.Pd.SD"),
    ("I Made Wirawan, S.Pd., Gr.", "I Made Wirawan, S.Pd., Gr.", "I Made", "Wirawan, S.Pd., Gr."),
    ("Hj. Nur’aini Lubis, S.Pd.I", "Hj. Nur’aini Lubis, S.Pd.I.", "Hj. Nur’aini", "Lubis, S.Pd.I."),
    ("Budi Santoso Siregar", "Budi Santoso Siregar", "Budi Santoso", "Siregar"),
    ("Sukarno", "Sukarno", "Sukarno", "-"),
    ("Drs. Sukarno", "Drs. Sukarno", "Drs. Sukarno", "-"),
    ("Drs Sukarno", "Drs. Sukarno", "Drs. Sukarno", "-"),
    ("Ns Aa Bb", "Ns Aa Bb", "Ns Aa", "Bb"),
    ("Lim Ma", "Lim Ma", "Lim", "Ma"),
    ("Siti Aminah SPd", "Siti Aminah, S.Pd.", "Siti", "Aminah, S.Pd."),
    ("Siti Aminah, SPd, Gr", "Siti Aminah, S.Pd., Gr.", "Siti", "Aminah, S.Pd., Gr."),
    ("Tukiyem S.Pd", "Tukiyem, S.Pd.", "Tukiyem", "S.Pd."),
    ("M. Rizky Pratama", "M. Rizky Pratama", "M. Rizky", "Pratama"),
    ("Ahmad S.", "Ahmad S.", "Ahmad", "S."),
    ("McDonald van Houten", "McDonald van Houten", "McDonald van", "Houten"),
    ("siti nur-aini", "Siti Nur-Aini", "Siti", "Nur-Aini"),
    ("Ani Susanti, S.Pd.Bio", "Ani Susanti, S.Pd.Bio", "Ani", "Susanti, S.Pd.Bio"),
])
def test_names(raw: str, full: str, first: str, last: str) -> None:
    assert normalise_name(raw) == full
    assert split_name(raw) == (first, last)
    if len(parse_name(raw).words) >= 2:
        assert f"{first} {last}" == full


def test_single_word_lastname_can_be_chosen() -> None:
    assert split_name("Sukarno", single_word_lastname="Sukarno") == ("Sukarno", "Sukarno")


@pytest.mark.parametrize("raw, reason", [
    ("", "empty"), ("   ", "empty"), ("=cmd|' /C calc'!A0", "characters"), ("Guru 123", "characters"),
    ("=HYPERLINK(\"x\")", "characters"), ("budi@gmail.com", "characters"), ("A", "too short"),
    ("S.Pd., M.Pd.", "titles but no name"), ("Budi " + "a" * 120, "100 characters"),
])
def test_names_rejected(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=reason):
        parse_name(raw)


_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=10)


@given(st.lists(_word, min_size=2, max_size=5))
def test_first_and_last_rebuild_the_full_name(words: list[str]) -> None:
    name = parse_name(" ".join(words))
    first, last = name.split()
    assert first and last
    if len(name.words) >= 2:
        assert f"{first} {last}" == name.fullname


def test_a_note_after_a_line_break_is_left_out_and_kept_for_a_warning() -> None:
    name = parse_name("Sri Siregar\n(wali kelas 5)")
    assert (name.fullname, name.note) == ("Sri Siregar", "(wali kelas 5)")
    assert parse_name("DRA. SITI AMINAH M.PD\r\nGuru kelas 3").split() == ("Dra. Siti", "Aminah, M.Pd.")
    assert parse_name("Sri\nSiregar").note == "" and parse_name("Sri\nSiregar").fullname == "Sri Siregar"
    with pytest.raises(InvalidValue):
        parse_name("(wali kelas 5)\nSri Siregar")
