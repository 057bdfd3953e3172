"""Programme choice, eligibility, model schools and quotas: the pure rules and the selection that uses them."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from moodle_sync.offerings import load_offering, parse_offering
from moodle_sync.participants import Table, import_table
from moodle_sync.participants.classes import assign_classes
from moodle_sync.participants.eligibility import Eligibility, ModelSchool, choice_rank, ineligible, match_key
from moodle_sync.participants.explain import explain
from moodle_sync.participants.normalise import InvalidValue, parse_years_of_service, years_band
from moodle_sync.participants.selection import select_participants
from moodle_sync.templates.problems import OfferingError

from .factories import applicant

EXAMPLES = Path(__file__).parents[2] / "examples"
BUCKETS = ("selected", "waitlisted", "not_selected", "not_eligible", "other_programme")


def buckets(selection) -> Counter[str]:
    return Counter(p.status for p in selection.placements)


def test_choice_matches_ignoring_case_spacing_and_punctuation() -> None:
    a = applicant("a@x.id")
    assert choice_rank(replace(a, choices=("  LITERASI   kelautan!",)), ["Literasi Kelautan"]) == 1
    assert choice_rank(replace(a, choices=("Koding untuk Guru", "Literasi-Kelautan")), ["literasi kelautan"]) == 2
    assert choice_rank(replace(a, choices=("Koding untuk Guru",)), ["Literasi Kelautan"]) is None
    assert choice_rank(a, ["Literasi Kelautan"]) == 1          # no choice column: an applicant for any offering
    assert match_key("Guru B.K.") == "guru b k"


@pytest.mark.parametrize("text,years,band", [("12", 12, "> 10"), ("> 10 tahun", 11, "> 10"),
                                             ("lebih dari 10 tahun", 11, "> 10"), ("6 - 10 tahun", 6, "5-10"),
                                             ("< 5 tahun", 0, "< 5"), ("kurang dari 5 tahun", 0, "< 5"),
                                             ("10", 10, "5-10"), ("", None, "?")])
def test_years_of_service_numbers_and_bands(text: str, years: int | None, band: str) -> None:
    assert parse_years_of_service(text) == years and years_band(years) == band


@pytest.mark.parametrize("text", ["lama sekali", "-", "99"])
def test_years_of_service_garbled(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_years_of_service(text)


def test_each_rule_names_itself() -> None:
    a = replace(applicant("a@x.id", "tanggamus", npsn="10801101"), subject="Guru BK", years_of_service=12)
    assert ineligible(a, Eligibility(levels=("SMP",)))[0] == "levels"
    assert ineligible(a, Eligibility(subjects=("Bahasa Inggris",)))[0] == "subjects"
    assert ineligible(a, Eligibility(subjects=("guru bk",))) is None
    assert ineligible(a, Eligibility(regencies=("metro",)))[0] == "regencies"
    assert ineligible(a, Eligibility(schools=("10801201",)))[0] == "schools"
    assert ineligible(a, Eligibility(min_years=15)) == ("years_of_service", "years of service 12 < 15")
    assert ineligible(replace(a, years_of_service=None), Eligibility(min_years=1))[1].startswith(
        "years of service not given")
    assert ineligible(a, Eligibility(levels=("SD",), schools=("10801101",), min_years=10)) is None


def test_gates_put_every_applicant_in_one_bucket_with_the_rule() -> None:
    people = [replace(applicant(f"g{i}@x.id", "metro", minute=i, npsn="10801101" if i % 2 else "10802000"),
                      choices=(("Literasi Kelautan",) if i % 3 else ("Koding untuk Guru",)))
              for i in range(12)]
    sel = select_participants(people, seats=2, choice=["literasi kelautan"],
                              eligible=Eligibility(schools=("10801101",)))
    counts = buckets(sel)
    assert counts["other_programme"] == 4 and counts["not_eligible"] == 4
    assert counts["selected"] == 2 and counts["waitlisted"] == 2 and sum(counts.values()) == 12
    out = next(p for p in sel.not_eligible)
    assert out.cause == "schools" and "10802000" in out.reason
    assert "Eligibility rule 'schools' excluded them" in explain(sel, out.email)
    assert "none of these answers means this offering" in explain(sel, sel.other_programme[0].email)
    doc = sel.to_dict()
    assert len(doc["not_eligible"]) == 4 and len(doc["other_programme"]) == 4


def test_first_choice_before_second_choice_even_when_second_registered_earlier() -> None:
    early = [replace(applicant(f"second{i}@x.id", minute=i), choices=("STEM", "Koding")) for i in range(3)]
    late = [replace(applicant(f"first{i}@x.id", minute=100 + i), choices=("Koding",)) for i in range(3)]
    sel = select_participants(early + late, seats=4, choice=["Koding"])
    assert [p.email for p in sel.selected] == ["first0@x.id", "first1@x.id", "first2@x.id", "second0@x.id"]
    assert sel.selected[-1].choice == 2 and sel.waitlist[0].email == "second1@x.id"
    assert "2nd choice" in explain(sel, "second1@x.id")


def test_model_school_seats_first_never_trained_first_and_one_class() -> None:
    school = [applicant(f"m{i}@x.id", "metro", minute=50 + i, npsn="10807001", trained=(i == 0)) for i in range(5)]
    others = [applicant(f"o{i}@x.id", "metro", minute=i, npsn="10802000") for i in range(20)]
    sel = select_participants(others + school, seats=10,
                              model_schools=[ModelSchool("10807001", 3, "SD Negeri 1 Metro Pusat")])
    model = [p for p in sel.selected if p.cause == "model_school"]
    assert [p.email for p in model] == ["m1@x.id", "m2@x.id", "m3@x.id"]     # m0 was trained: after them
    assert [p.rank for p in model] == [1, 2, 3] and "model school SD Negeri 1 Metro Pusat" in model[0].reason
    assert len(sel.selected) == 10 and sel.placement("m0@x.id").status == "waitlisted"
    assert "Rule 0 (model schools first)" in explain(sel, "m1@x.id")


def test_model_school_teachers_share_one_class_in_the_roster() -> None:
    from moodle_sync.roster import _classes

    school = [applicant(f"m{i}@x.id", "metro", minute=50 + i, npsn="10807001", school="SD 1") for i in range(5)]
    others = [applicant(f"o{i}@x.id", "metro", minute=i, npsn=f"1080200{i % 3}", school=f"S{i % 3}")
              for i in range(7)]
    sel = select_participants(others + school, seats=12, model_schools=[ModelSchool("10807001", 5)])
    classes = _classes(sel, 4, lambda regency: "metro")["metro"]
    assert [g.code for g in classes] == ["A", "B", "C"] and classes[0].name == "Kelas A"
    assert {a.email for a in classes[0].members} == {f"m{i}@x.id" for i in range(5)}   # whole, past class_size
    # the usual packing (classes of at most 4) would split the school
    plain = assign_classes(sel.selected, class_size=4, course_of=lambda a: "metro")["metro"]
    assert not any({f"m{i}@x.id" for i in range(5)} <= {a.email for a in g.members} for g in plain)


def test_quotas_decide_per_regency_and_unused_quota_seats_go_round() -> None:
    people = ([applicant(f"a{i}@x.id", "metro", minute=i) for i in range(10)]
              + [applicant(f"b{i}@x.id", "pesawaran", minute=i) for i in range(2)])
    sel = select_participants(people, seats=8, quotas={"metro": 4, "pesawaran": 4}, min_per_regency=3)
    chosen = Counter(p.applicant.regency for p in sel.selected)
    assert chosen == {"metro": 6, "pesawaran": 2}          # pesawaran's 2 unused quota seats went to metro
    assert [t.allocation.seats_of("metro") for t in sel.tiers] == [4, 0, 2]


def test_offering_reads_the_applicants_block(tmp_path: Path) -> None:
    offering = load_offering(EXAMPLES / "offering-kelautan-pesisir.yaml")
    rules = offering.applicants
    assert rules.choice == ("Literasi Kelautan",) and "10801101" in rules.eligible.schools
    assert sum(rules.quotas.values()) == offering.seats
    model = load_offering(EXAMPLES / "offering-koding-model.yaml").applicants
    assert [m.npsn for m in model.model_schools] == ["10807001", "10807002"]
    assert model.eligible.levels == ("SD", "SMP")


def test_offering_applicants_block_errors_name_file_line_and_field(tmp_path: Path) -> None:
    text = (EXAMPLES / "offering-koding-model.yaml").read_text(encoding="utf-8")
    text = text.replace("levels: [SD, SMP]", "levels: [SD, Universitas]\n    age: 3")
    text += "quotas: {metro: 3, mesuji: 2}\n"
    path = tmp_path / "o.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OfferingError) as raised:
        load_offering(path)
    message = str(raised.value)
    assert "applicants.eligible.levels" in message and "'Universitas'" in message
    assert "applicants.eligible.age" in message and "quotas.mesuji" in message
    assert f"{path.name}:" in message or str(path) in message


def test_import_reads_choice_subject_and_years() -> None:
    header = ("Timestamp", "Alamat email", "Nama Lengkap", "Kabupaten/Kota", "Pilihan Pelatihan", "Pilihan Kedua",
              "Mata Pelajaran", "Masa Kerja")
    rows = ((2, ("01/06/2026 08:00:00", "a@guru.id", "Ani", "Metro", "Koding", "STEM", "Guru BK", "> 10 tahun")),
            (3, ("01/06/2026 08:01:00", "b@guru.id", "Budi", "Metro", "", "", "", "lama")))
    result = import_table(Table("f.csv", header, rows))
    a, b = result.accepted
    assert a.choices == ("Koding", "STEM") and a.subject == "Guru BK" and a.years_of_service == 11
    assert b.choices == () and b.years_of_service is None and any("years_of_service" in w for w in b.warnings)


def test_parse_offering_without_the_block_has_no_rules() -> None:
    doc = {"id": "x-1", "template": "t", "title": "T", "batch": "1", "start": "2026-01-05", "end": "2026-02-05",
           "category": "A", "courses": "single"}
    assert parse_offering(doc).applicants.choice == ()


def test_a_freed_seat_goes_to_a_first_choice_applicant_before_a_second_choice_one() -> None:
    from moodle_sync.participants.selection import promote_from_waitlist

    people = [replace(applicant("sel@x.id", minute=0), choices=("Koding",)),
              replace(applicant("second@x.id", minute=1), choices=("STEM", "Koding")),
              replace(applicant("first.trained@x.id", minute=2, trained=True), choices=("Koding",))]
    sel = select_participants(people, seats=1, choice=["Koding"])
    assert [p.email for p in sel.waitlist] == ["first.trained@x.id", "second@x.id"]
    _, promoted = promote_from_waitlist(sel, "sel@x.id")
    assert promoted is not None and promoted.email == "first.trained@x.id"


# quotas per level: {regency: {SD: n, SMP: m}} ------------------------------------------------------

def leveled(email: str, regency: str, level: str, minute: int, trained: bool | None = None):
    return replace(applicant(email, regency, minute=minute, trained=trained), school_level=level)


def test_level_quotas_give_each_level_its_seats_first_inside_the_regency() -> None:
    # metro: 6 SD registered first, then 3 SMP; 4 SD + 2 SMP seats. Without the split SD would take all 6.
    people = ([leveled(f"sd{i}@x.id", "metro", "SD", i) for i in range(6)]
              + [leveled(f"smp{i}@x.id", "metro", "SMP", 10 + i) for i in range(3)])
    plain = select_participants(people, seats=6, quotas={"metro": 6})
    assert Counter(p.applicant.school_level for p in plain.selected) == {"SD": 6}
    sel = select_participants(people, seats=6, quotas={"metro": 6}, level_quotas={"metro": {"SD": 4, "SMP": 2}})
    assert [p.email for p in sel.selected] == ["sd0@x.id", "sd1@x.id", "sd2@x.id", "sd3@x.id",
                                               "smp0@x.id", "smp1@x.id"]
    again = select_participants(list(reversed(people)), seats=6, quotas={"metro": 6},
                                level_quotas={"metro": {"SD": 4, "SMP": 2}})
    assert [p.email for p in again.selected] == [p.email for p in sel.selected]   # deterministic


def test_seats_a_level_cannot_fill_go_to_the_regencys_other_levels_then_round() -> None:
    people = ([leveled(f"sd{i}@x.id", "metro", "SD", i) for i in range(6)]
              + [leveled("smp0@x.id", "metro", "SMP", 10)]
              + [leveled(f"p{i}@x.id", "pesawaran", "SD", 20 + i) for i in range(4)])
    sel = select_participants(people, seats=8, quotas={"metro": 5, "pesawaran": 3},
                              level_quotas={"metro": {"SD": 2, "SMP": 3}})
    metro = [p.email for p in sel.selected if p.applicant.regency == "metro"]
    assert metro == ["sd0@x.id", "sd1@x.id", "sd2@x.id", "sd3@x.id", "smp0@x.id"]   # SMP's 2 unused -> SD
    assert Counter(p.applicant.regency for p in sel.selected) == {"metro": 5, "pesawaran": 3}
    short = select_participants(people[:2] + people[6:], seats=8, quotas={"metro": 5, "pesawaran": 3},
                                level_quotas={"metro": {"SD": 2, "SMP": 3}})
    assert Counter(p.applicant.regency for p in short.selected) == {"metro": 3, "pesawaran": 4}  # then round


def test_level_quotas_keep_never_trained_first() -> None:
    people = [leveled("sd-trained@x.id", "metro", "SD", 0, trained=True),
              leveled("sd-new@x.id", "metro", "SD", 5), leveled("smp-new@x.id", "metro", "SMP", 6)]
    sel = select_participants(people, seats=2, quotas={"metro": 2}, level_quotas={"metro": {"SD": 1, "SMP": 1}},
                              previously_trained={"sd-trained@x.id": "store"})
    assert [p.email for p in sel.selected] == ["sd-new@x.id", "smp-new@x.id"]


def test_offering_reads_quotas_per_level_and_names_bad_ones_by_line(tmp_path: Path) -> None:
    text = (EXAMPLES / "offering-koding-model.yaml").read_text(encoding="utf-8")
    path = tmp_path / "o.yaml"
    path.write_text(text + "quotas:\n  metro: {SD: 8, smp: 4}\n  pringsewu: 6\n", encoding="utf-8")
    rules = load_offering(path).applicants
    assert rules.quotas == {"metro": 12, "pringsewu": 6}
    assert rules.level_quotas == {"metro": {"SD": 8, "SMP": 4}}
    lines = len(text.splitlines())
    path.write_text(text + "quotas:\n  metro: {SD: 8, Kuliah: 4}\n  pringsewu:\n    SD: -1\n    SMP: 2\n"
                    "  lampung-tengah: {SD: 2, MI: 2}\n", encoding="utf-8")
    with pytest.raises(OfferingError) as raised:
        load_offering(path)
    message = str(raised.value)
    assert f"{path}:{lines + 2}: quotas.metro.Kuliah: 'Kuliah' is not one of" in message
    assert f"{path}:{lines + 4}: quotas.pringsewu.SD: must be a whole number of seats, at least 0" in message
    assert f"{path}:{lines + 6}: quotas.lampung-tengah.MI: SD is given twice" in message   # MI is SD
    assert "quotas.pringsewu.SMP" not in message
