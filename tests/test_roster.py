"""The roster: which course serves a regency, selection into courses and classes named as provisioning
named them, the participant records, and earlier training found in Moodle."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from moodle_sync.exceptions import InputError, MoodleSyncError
from moodle_sync.offerings import Offering, load_facilitators, load_offering
from moodle_sync.participants.classes import assign_classes, class_code
from moodle_sync.participants.selection import promote_from_waitlist
from moodle_sync.provision.spec import CourseSpec, GroupSpec, OfferingSpec
from moodle_sync.roster import (
    build_roster,
    class_names,
    course_chooser,
    desired_offering,
    moodle_history,
    next_on_waitlist,
    plan_withdrawal,
    school_classes,
)
from moodle_sync.store.records import MappedObject, OfferingRecord
from moodle_sync.templates import load_template
from moodle_sync.ws.moodle import Course, User
from tests.participants.factories import applicant, crowd


def course(key: str, regency: str | None, groups: Iterable[str]) -> CourseSpec:
    return CourseSpec(key=key, fullname=f"Koding {key}", shortname=f"K-{key}", idnumber=f"o-{key}",
                      category_path=("BGTK",), regency=regency,
                      groups=tuple(GroupSpec(name, f"o-{key}-{i}") for i, name in enumerate(groups)))


def per_regency(seats: int = 10, class_size: int = 30, min_per_regency: int = 0) -> OfferingSpec:
    return OfferingSpec(offering_id="o", title="Koding", template="koding-untuk-guru", batch="Angkatan 1",
                        courses=(course("metro", "metro", ["Kelas Metro A"]),
                                 course("pesawaran", "pesawaran", ["Kelas Pesawaran A", "Kelas Pesawaran B"])),
                        seats=seats, class_size=class_size, min_per_regency=min_per_regency)


def single(seats: int, class_size: int, groups: Iterable[str] = ("Kelas Provinsi A",)) -> OfferingSpec:
    return OfferingSpec(offering_id="o", title="PM", template="pembelajaran-mendalam", batch="Angkatan 1",
                        courses=(course("main", None, groups),), seats=seats, class_size=class_size)


# course_chooser ---------------------------------------------------------------------------------------

def test_per_regency_each_regency_to_its_own_course() -> None:
    choose = course_chooser(per_regency())
    assert choose("metro") == "metro" and choose("pesawaran") == "pesawaran"
    assert choose("tanggamus") is None and choose(None) is None


def test_single_course_serves_everyone() -> None:
    choose = course_chooser(single(10, 5))
    assert [choose(r) for r in ("metro", "tanggamus", None)] == ["main", "main", "main"]


def test_no_course_at_all() -> None:
    empty = OfferingSpec(offering_id="o", title="", template="t", batch="b", courses=())
    assert course_chooser(empty)("metro") is None


# build_roster -----------------------------------------------------------------------------------------

def test_selected_go_to_their_regency_course_in_the_templates_classes() -> None:
    applicants = crowd({"metro": 8, "pesawaran": 6, "tanggamus": 3})
    roster = build_roster(per_regency(seats=10), applicants, previously_trained={})
    by_email = {r.email: r for r in roster.records}
    assert len(by_email) == len(applicants) == len(roster.records)   # every applicant exactly once
    selected = [r for r in roster.records if r.status == "selected"]
    assert len(selected) == 10
    assert all(r.course_key == r.regency for r in selected)
    assert {r.class_name for r in selected if r.regency == "metro"} == {"Kelas Metro A"}
    assert {r.class_name for r in selected if r.regency == "pesawaran"} == {"Kelas Pesawaran A"}
    waiting = [r for r in roster.records if r.status == "waitlist"]
    assert len(waiting) == 4 and all(r.course_key is None and r.class_name is None for r in waiting)
    assert sorted(r.rank for r in waiting) == [1, 2, 3, 4]
    outside = [r for r in roster.records if r.regency == "tanggamus"]
    assert {r.status for r in outside} == {"not_selected"} and all(r.course_key is None for r in outside)
    assert set(roster.classes) == {"metro", "pesawaran"}


def test_records_carry_the_applicant_and_the_registration_time_in_wib() -> None:
    a = applicant("sari.dewi@guru.belajar.id", "metro", minute=5, nuptk="1234567890123456", school="SDN 1 Metro",
                  npsn="10801234")
    roster = build_roster(per_regency(), [a], previously_trained={})
    (r,) = roster.records
    assert (r.email, r.fullname, r.firstname, r.lastname) == (a.email, a.fullname, a.firstname, a.lastname)
    assert (r.nuptk, r.npsn, r.school, r.regency, r.school_level) == (a.nuptk, a.npsn, a.school, "metro", "SD")
    assert r.status == "selected" and r.rank == 1 and r.reason
    assert r.submitted_at == int(datetime(2026, 11, 2, 8, 5, tzinfo=ZoneInfo("Asia/Jakarta")).timestamp())


def rendered(base: OfferingSpec, asked: list[dict[str, int]]) -> Callable[[Mapping[str, int]], OfferingSpec]:
    """A stand-in for rendering the template with more classes: "Kelas Provinsi <letter>" per course."""

    def render(counts: Mapping[str, int]) -> OfferingSpec:
        asked.append(dict(counts))
        return replace(base, courses=tuple(
            course(c.key, c.regency, [f"Kelas Provinsi {class_code(i)}" for i in range(max(counts.get(c.key, 0),
                                                                                           len(c.groups)))])
            for c in base.courses))

    return render


def test_more_classes_than_the_offering_has_take_the_templates_names() -> None:
    applicants = crowd({"metro": 4, "pesawaran": 3})
    asked: list[dict[str, int]] = []
    base = single(seats=7, class_size=3, groups=["Kelas Provinsi A"])
    roster = build_roster(base, applicants, previously_trained={}, render=rendered(base, asked))
    assert asked == [{"main": 3}]
    assert [g.name for g in roster.offering.course("main").groups] == \
        ["Kelas Provinsi A", "Kelas Provinsi B", "Kelas Provinsi C"]
    assert [g.name for g in roster.classes["main"]] == ["Kelas Provinsi A", "Kelas Provinsi B", "Kelas Provinsi C"]
    names = Counter(r.class_name for r in roster.records if r.status == "selected")
    assert set(names) == {"Kelas Provinsi A", "Kelas Provinsi B", "Kelas Provinsi C"}   # never "Kelas B"
    assert sum(names.values()) == 7 and max(names.values()) <= 3
    for group in roster.classes["main"]:
        assert {r.email for r in roster.records if r.class_name == group.name} == {a.email for a in group.members}


def test_enough_classes_need_no_rendering() -> None:
    asked: list[dict[str, int]] = []
    base = single(seats=7, class_size=30, groups=["Kelas Provinsi A", "Kelas Provinsi B"])
    roster = build_roster(base, crowd({"metro": 4}), previously_trained={}, render=rendered(base, asked))
    assert asked == [] and roster.offering is base
    assert {r.class_name for r in roster.records} == {"Kelas Provinsi A"}


def test_without_enough_classes_and_no_way_to_render_it_is_an_error() -> None:
    with pytest.raises(ValueError, match="needs 3 classes but the offering has 1"):
        build_roster(single(seats=7, class_size=3), crowd({"metro": 7}), previously_trained={})


def test_class_names_with_two_template_classes() -> None:
    offering = per_regency()
    classes = assign_classes(crowd({"pesawaran": 4}), class_size=2, course_of=lambda a: a.regency)
    names = class_names(offering, classes)
    assert Counter(names.values()) == Counter({"Kelas Pesawaran A": 2, "Kelas Pesawaran B": 2})


def test_a_template_without_classes_gives_nobody_a_class() -> None:
    classes = assign_classes(crowd({"metro": 2}), class_size=30, course_of=lambda a: "elsewhere")
    assert class_names(per_regency(), classes) == {}


def test_trained_before_comes_after_never_trained() -> None:
    first, second = applicant("first@x.id", minute=0), applicant("second@x.id", minute=1)
    roster = build_roster(per_regency(seats=1), [first, second],
                          previously_trained={"first@x.id": "completed koding-2025-a1"})
    status = {r.email: r.status for r in roster.records}
    assert status == {"first@x.id": "waitlist", "second@x.id": "selected"}


def test_no_seat_limit_takes_everyone_served() -> None:
    roster = build_roster(per_regency(seats=0), crowd({"metro": 5, "tanggamus": 2}), previously_trained={})
    assert Counter(r.status for r in roster.records) == Counter({"selected": 5, "not_selected": 2})


# withdrawal: the selection's promotion rule, on the stored roster -------------------------------------

def small_roster() -> list[Any]:
    """Three seats: metro's two never-trained, pesawaran's one; waiting: a never-trained metro teacher
    and two trained pesawaran ones."""
    people = [applicant(f"m{i}@x.id", "metro", minute=i) for i in range(3)] + \
        [applicant("p0@x.id", "pesawaran", minute=3)] + \
        [applicant(f"p{i}@x.id", "pesawaran", minute=3 + i, trained=True) for i in (1, 2)]
    return build_roster(per_regency(seats=3), people, previously_trained={}).records


def test_the_stored_roster_promotes_by_the_selections_one_rule() -> None:
    people = crowd({"metro": 5, "pesawaran": 7}, trained_every=3)
    roster = build_roster(per_regency(seats=4), people, previously_trained={})
    records = {r.email: r for r in roster.records}
    for leaving in roster.selection.selected:
        _, promoted = promote_from_waitlist(roster.selection, leaving.email)
        found = next_on_waitlist(roster.records, records[leaving.email])
        assert promoted is not None and found is not None and found[0].email == promoted.email
    records = {r.email: r for r in small_roster()}
    assert [e for e, r in records.items() if r.status == "selected"] == ["m0@x.id", "m1@x.id", "p0@x.id"]
    assert next_on_waitlist(records.values(), records["m0@x.id"]) == (records["m2@x.id"], True)
    # pesawaran has only trained teachers waiting: the never-trained tier comes first, from anywhere
    assert next_on_waitlist(records.values(), records["p0@x.id"]) == (records["m2@x.id"], False)


def test_a_withdrawal_gives_the_seat_in_the_leavers_course_and_class() -> None:
    people = small_roster()
    spec = per_regency(seats=3)
    plan = plan_withdrawal(spec, people, " P0@X.ID ", unenrol=True)
    assert plan.person.email == "p0@x.id" and plan.freed and plan.unenrol and plan.verb == "unenrolled"
    assert plan.action == "none (not enrolled)"     # selected, not enrolled yet: Moodle has nothing to end
    seat = plan.promoted
    assert seat is not None and not plan.same_regency
    assert (seat.email, seat.status, seat.course_key, seat.class_name) == \
        ("m2@x.id", "selected", "pesawaran", plan.person.class_name)
    assert seat.reason == "promoted from the waitlist: seat of p0@x.id"
    assert plan_withdrawal(spec, people, "p0@x.id", promote=False).promoted is None
    waiting = plan_withdrawal(spec, people, "p1@x.id")   # no seat freed, none given
    assert not waiting.freed and waiting.promoted is None
    with pytest.raises(InputError, match="not a participant"):
        plan_withdrawal(spec, people, "nobody@x.id")
    gone = [replace(p, status="withdrawn") if p.email == "m0@x.id" else p for p in people]
    with pytest.raises(InputError, match="already withdrawn"):
        plan_withdrawal(spec, gone, "m0@x.id")


# moodle_history ---------------------------------------------------------------------------------------

@dataclass
class FakeStore:
    courses: dict[str, list[int]]

    def offerings(self) -> list[OfferingRecord]:
        return [OfferingRecord(o, "t", o, {}, 0, 0) for o in self.courses]

    def objects(self, offering_id: str, kind: str | None = None) -> list[MappedObject]:
        assert kind == "course"
        return [MappedObject(offering_id, "course", str(i), i, None, 0) for i in self.courses[offering_id]]


class FakeMoodle:
    def __init__(self, users: dict[str, int], courses: dict[int, list[int]], broken: int | None = None) -> None:
        self.users, self.courses, self.broken = users, courses, broken
        self.calls: list[str] = []

    def users_by_field(self, field: str, values: list[str]) -> list[User]:
        self.calls.append("users")
        assert field == "email"
        return [User(uid, email, email, "A", "B") for email, uid in self.users.items() if email in values]

    def users_courses(self, userid: int) -> list[Course]:
        self.calls.append(f"courses {userid}")
        if userid == self.broken:
            raise MoodleSyncError("cannot read")
        return [Course(c, f"c{c}", f"c{c}", f"i{c}", 1) for c in self.courses.get(userid, [])]

    def map_reads(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        out = []
        for item in items:
            try:
                out.append(fn(item))
            except MoodleSyncError as exc:
                out.append(exc)
        return out


def test_earlier_offerings_in_moodle_count_as_training() -> None:
    store = FakeStore({"now": [30, 31], "koding-2025-a1": [10, 11], "ai-2025-a1": [20]})
    moodle = FakeMoodle({"a@x.id": 100, "b@x.id": 101, "c@x.id": 102},
                        {100: [11, 20], 101: [30], 102: [99]})
    people = [applicant(e) for e in ("a@x.id", "b@x.id", "c@x.id", "new@x.id")]
    found = moodle_history(moodle, store, "now", people)
    assert found == {"a@x.id": "enrolled in ai-2025-a1, koding-2025-a1 (Moodle)"}


def test_no_earlier_offerings_no_calls() -> None:
    moodle = FakeMoodle({"a@x.id": 100}, {100: [30]})
    assert moodle_history(moodle, FakeStore({"now": [30]}), "now", [applicant("a@x.id")]) == {}
    assert moodle.calls == []


def test_a_failed_read_is_raised_not_taken_as_untrained() -> None:
    moodle = FakeMoodle({"a@x.id": 100}, {}, broken=100)
    with pytest.raises(MoodleSyncError, match="cannot read"):   # never taken for "never trained"
        moodle_history(moodle, FakeStore({"now": [], "old": [10]}), "now", [applicant("a@x.id")])


# model schools: the school's facilitator leads the class the roster keeps its teachers in --------------

def test_a_schools_class_is_one_only_its_teachers_are_in_the_largest_if_several() -> None:
    rows = [("metro", "Kelas Metro A", "111", 6),                               # the model school's own
            ("metro", "Kelas Metro B", "111", 2), ("metro", "Kelas Metro B", "222", 9),   # mixed: not its
            ("pringsewu", "Kelas Pringsewu A", "222", 1), ("pringsewu", "Kelas Pringsewu B", "222", 4),
            ("pringsewu", "Kelas Pringsewu C", None, 3), ("metro", "Kelas Metro C", "333", 5)]
    assert school_classes(rows, ["111", "222", "444"]) == {
        "111": ("metro", "Kelas Metro A"), "222": ("pringsewu", "Kelas Pringsewu B")}   # 333 not asked for


def model_offering(folder: Path, facilitators: str) -> Offering:
    """The model-school example offering with a facilitators CSV (rows after the header)."""

    offering = load_offering(Path(__file__).parents[1] / "examples" / "offering-koding-model.yaml")
    csv = folder / "fasilitator.csv"
    csv.write_text("email,name,course,class\n" + facilitators, "utf-8")
    return replace(offering, facilitators=load_facilitators(csv, offering))


AGUS = "agus.fasilitator@bgtk-lampung.example.org"
RINA = "rina.fasilitator@bgtk-lampung.example.org"


def led(spec: OfferingSpec, key: str) -> dict[str, tuple[str, ...]]:
    """E-mail -> names of the classes each facilitator of course ``key`` leads."""
    names = {g.idnumber: g.name for g in spec.course(key).groups}
    return {f.email: tuple(names[g] for g in f.groups) for f in spec.course(key).facilitators}


def test_the_model_schools_facilitator_leads_its_class_and_keeps_a_class_the_csv_gives(tmp_path: Path) -> None:
    offering = model_offering(tmp_path, f"{AGUS},Agus Salim,pringsewu,Kelas Pringsewu B\nx@guru.id,Xena,metro,\n")
    template = load_template(offering.template)
    classes = {"10807001": ("metro", "Kelas Metro A"), "10807002": ("pringsewu", "Kelas Pringsewu A")}
    spec = desired_offering(offering, template, {"metro": 2, "pringsewu": 2}, classes)
    assert led(spec, "metro") == {"x@guru.id": (), RINA: ("Kelas Metro A",)}
    assert led(spec, "pringsewu") == {AGUS: ("Kelas Pringsewu B", "Kelas Pringsewu A")}
    agus = spec.course("pringsewu").facilitators[0]
    rina = spec.course("metro").facilitators[1]
    assert (agus.firstname, agus.lastname, rina.firstname, rina.lastname) == ("Agus", "Salim", "Rina", "Fasilitator")
    assert "Rina Fasilitator" in spec.course("metro").summary        # named where the CSV's are
    assert led(spec, "lampung-tengah") == {}
    without = desired_offering(offering, template, {"metro": 2, "pringsewu": 2})
    assert led(without, "metro") == {"x@guru.id": ()}                # no roster yet: no class to lead


def test_a_model_school_class_the_template_no_longer_has_or_the_csv_gives_already_adds_nothing(
        tmp_path: Path) -> None:
    offering = model_offering(tmp_path, f"{RINA},Rina Wati,metro,Kelas Metro A\n")
    template = load_template(offering.template)
    classes = {"10807001": ("metro", "kelas  metro a"), "10807002": ("pringsewu", "Kelas Lama")}
    spec = desired_offering(offering, template, {}, classes)
    assert led(spec, "metro") == {RINA: ("Kelas Metro A",)}
    assert (spec.course("metro").facilitators[0].firstname, spec.course("metro").facilitators[0].lastname) == (
        "Rina", "Wati")
    assert led(spec, "pringsewu") == {}
