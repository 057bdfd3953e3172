"""``enrol_participants`` against the sandbox: match or create users, enrol, classes; bad records isolated;
lost answers reconciled; dry runs read only. And the user records we send."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from moodle_sync import enrolment
from moodle_sync.enrolment import enrol_participants, moodle_username, new_user_record, record_problem
from moodle_sync.offerings import Facilitator, load_offering
from moodle_sync.provision.apply import apply_plan
from moodle_sync.provision.observe import observe
from moodle_sync.provision.plan import plan_offering
from moodle_sync.provision.spec import OfferingSpec
from moodle_sync.sandbox import SandboxServer
from moodle_sync.store import ParticipantRecord
from moodle_sync.templates import load_template, render_offering
from moodle_sync.ws import connect
from moodle_sync.ws.functions import FUNCTIONS
from moodle_sync.ws.moodle import Moodle
from moodle_sync.ws.transport import RetryPolicy

EXAMPLE = Path(__file__).parents[1] / "examples" / "offering-koding.yaml"


def writes(counts: dict[str, int]) -> dict[str, int]:
    return {name: n for name, n in counts.items() if name in FUNCTIONS and not FUNCTIONS[name].is_read}


def person(n: int, key: str = "metro", **changes: Any) -> ParticipantRecord:
    base = ParticipantRecord(email=f"guru{n}.{key}@guru.belajar.id", fullname=f"Guru {n}", firstname="Guru",
                             lastname=str(n), regency=key, school_level="SD", course_key=key,
                             class_name=f"Kelas {key.replace('-', ' ').title()} A")
    return replace(base, **changes)


# the records we send ----------------------------------------------------------------------------------

def test_a_new_user_record() -> None:
    p = person(1, nuptk="1234567890123456", school="SD Negeri 1 Metro " * 20, phone="+6281234567890123456789",
               email=" Guru1.Metro@Guru.Belajar.ID ")
    record = new_user_record(p, "manual")
    assert record["username"] == "guru1.metro@guru.belajar.id" == record["email"]
    assert (record["auth"], record["createpassword"]) == ("manual", 1)
    assert (record["firstname"], record["lastname"]) == ("Guru", "1")
    assert record["idnumber"] == "1234567890123456" and record["city"] == "Kota Metro"
    assert (record["country"], record["timezone"], record["department"]) == ("ID", "Asia/Jakarta", "SD")
    assert len(record["institution"]) == 255 and len(record["phone1"]) == 20
    assert "password" not in record


def test_an_oauth2_user_gets_no_password_and_a_bare_record_is_valid() -> None:
    record = new_user_record(ParticipantRecord(email="solo@belajar.id", fullname="Solo"), "oauth2")
    assert record == {"username": "solo@belajar.id", "email": "solo@belajar.id", "auth": "oauth2",
                      "firstname": "Solo", "lastname": "-", "country": "ID", "timezone": "Asia/Jakarta"}


def test_usernames() -> None:
    assert moodle_username(" Sari.Dewi+Lms@Guru.Belajar.id ") == "sari.dewilms@guru.belajar.id"
    assert moodle_username("o'neil@x.id") == "oneil@x.id"


def test_records_moodle_would_refuse_are_told_before_sending() -> None:
    good = new_user_record(person(1), "manual")
    assert record_problem(good) is None
    assert "lastname cannot be blank" in (record_problem({**good, "lastname": " "}) or "")
    assert "not valid in Moodle" in (record_problem({**good, "username": "Guru1"}) or "")
    assert "not valid in Moodle" in (record_problem({**good, "username": "guru satu"}) or "")
    for bad in ("guru.@x", "guru@x", "gu ru@x.id", "guru..satu@x.id", "<guru@x.id>"):
        assert "not valid" in (record_problem({**good, "email": bad}) or ""), bad
    assert "longer than Moodle keeps (100" in (record_problem({**good, "firstname": "G" * 101}) or "")


# against the sandbox ----------------------------------------------------------------------------------

@pytest.fixture
def moodle(sandbox: SandboxServer) -> Iterator[Moodle]:
    m = connect(sandbox.url, sandbox.token)
    m.client.retry = RetryPolicy(attempts=2, backoff=0.0)
    yield m
    m.client.close()


@pytest.fixture
def offering(moodle: Moodle) -> OfferingSpec:
    """Two courses of the example offering, provisioned."""
    o = load_offering(EXAMPLE)
    spec = render_offering(o, load_template(o.template))
    spec = replace(spec, courses=tuple(c for c in spec.courses if c.key in ("metro", "pesawaran")))
    assert apply_plan(moodle, spec, plan_offering(spec, observe(moodle, spec))).ok
    return spec


def students(moodle: Moodle, offering: OfferingSpec, key: str) -> dict[str, Any]:
    cid = moodle.courses_by_field("idnumber", offering.course(key).idnumber)[0].id
    return {u.email: u for u in moodle.enrolled_users(cid) if "student" in u.roles}


def group_names(moodle: Moodle, offering: OfferingSpec, key: str) -> dict[int, str]:
    cid = moodle.courses_by_field("idnumber", offering.course(key).idnumber)[0].id
    return {g.id: g.name for g in moodle.groups(cid)}


def test_everyone_enrolled_once_in_their_class_and_a_rerun_does_nothing(sandbox: SandboxServer, moodle: Moodle,
                                                                        offering: OfferingSpec) -> None:
    people = [person(n, "metro") for n in range(5)] + [person(n, "pesawaran") for n in range(3)]
    seen: list[tuple[str, int | None, str | None]] = []
    result = enrol_participants(moodle, offering, people,
                                on_result=lambda p, uid, why: seen.append((p.email, uid, why)))
    assert (result.created, result.enrolled, result.grouped, result.matched, result.failed) == (8, 8, 8, 0, [])
    assert sorted(e for e, _, _ in seen) == sorted(p.email for p in people)
    assert all(uid == result.user_ids[e] and why is None for e, uid, why in seen)
    for key, n in (("metro", 5), ("pesawaran", 3)):
        enrolled = students(moodle, offering, key)
        assert len(enrolled) == n
        names = group_names(moodle, offering, key)
        template_class = offering.course(key).groups[0].name
        assert {tuple(names[g] for g in u.groups) for u in enrolled.values()} == {(template_class,)}
    before = writes(sandbox.control.call_counts())
    again = enrol_participants(moodle, offering, people)
    assert (again.created, again.enrolled, again.grouped, again.matched, again.already_enrolled) == (0, 0, 0, 8, 8)
    assert writes(sandbox.control.call_counts()) == before


def test_existing_users_are_matched_by_email_then_nuptk(moodle: Moodle, offering: OfferingSpec) -> None:
    by_email, by_nuptk = person(1), person(2, nuptk="9876543210987654")
    outcome = moodle.create_users([
        {**new_user_record(by_email, "manual"), "username": "guru.lama"},
        {**new_user_record(replace(by_nuptk, email="old.address@yahoo.co.id"), "manual"),
         "username": "guru.nuptk", "idnumber": "9876543210987654"}])
    assert not outcome.failed
    result = enrol_participants(moodle, offering, [by_email, by_nuptk, person(3)])
    assert (result.matched, result.created, result.enrolled) == (2, 1, 3)
    enrolled = students(moodle, offering, "metro")
    assert set(enrolled) == {by_email.email, "old.address@yahoo.co.id", person(3).email}


def test_people_who_cannot_be_placed_are_named(moodle: Moodle, offering: OfferingSpec) -> None:
    people = [person(1), person(2, course_key=None), person(3, "tanggamus"), person(4, "lampung-barat")]
    result = enrol_participants(moodle, offering, people)
    reasons = dict(result.failed)
    assert set(reasons) == {person(2).email, person(3, "tanggamus").email, person(4, "lampung-barat").email}
    assert "no course assigned" in reasons[person(2).email]
    assert "not part of offering" in reasons[person(3, "tanggamus").email]
    assert result.enrolled == 1 and set(result.user_ids) == {person(1).email}


def test_a_course_not_provisioned_yet(moodle: Moodle) -> None:
    o = load_offering(EXAMPLE)
    spec = render_offering(o, load_template(o.template))
    result = enrol_participants(moodle, spec, [person(1)])
    assert result.failed == [(person(1).email, (f"course {spec.course('metro').idnumber} does not exist yet: "
                                                "run apply first"))]
    assert result.created == 0


def test_a_bad_record_fails_alone(sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec) -> None:
    people = [person(n) for n in range(9)]
    victim = people[4].email
    sandbox.control.fail_record("core_user_create_users", {"email": victim}, "invalidparameter", "bad e-mail")
    result = enrol_participants(moodle, offering, people)
    assert [e for e, _ in result.failed] == [victim]
    assert result.failed[0][1].startswith("Invalid parameter value detected [invalidparameter]")
    assert (result.created, result.enrolled) == (8, 8)
    assert set(students(moodle, offering, "metro")) == {p.email for p in people} - {victim}


def test_an_enrolment_refused_fails_alone(sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec) -> None:
    people = [person(n) for n in range(4)]
    enrol_participants(moodle, offering, people[:1])
    victim = moodle.users_by_field("email", [people[0].email])[0]
    cid = moodle.courses_by_field("idnumber", offering.course("metro").idnumber)[0].id
    moodle.unenrol([{"userid": victim.id, "courseid": cid}])
    sandbox.control.fail_record("enrol_manual_enrol_users", {"userid": victim.id}, "wsnoinstance",
                                "Manual enrolment plugin instance doesn't exist or is disabled for the course")
    result = enrol_participants(moodle, offering, people)
    assert [e for e, _ in result.failed] == [people[0].email]
    assert "[wsnoinstance]" in result.failed[0][1]
    assert set(students(moodle, offering, "metro")) == {p.email for p in people[1:]}


def test_a_lost_answer_is_reconciled_not_resent(sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec) -> None:
    people = [person(n) for n in range(6)]
    creates = sandbox.control.call_counts().get("core_user_create_users", 0)
    sandbox.control.inject_fault("core_user_create_users", "apply_then_drop")
    result = enrol_participants(moodle, offering, people)
    assert (result.created, result.enrolled, result.failed) == (6, 6, [])
    assert sandbox.control.call_counts()["core_user_create_users"] == creates + 1
    again = enrol_participants(moodle, offering, people)
    assert (again.created, again.matched, again.enrolled) == (0, 6, 0)
    assert sorted(u.email for u in moodle.users_by_field("email", [p.email for p in people])) \
        == sorted(p.email for p in people)


def test_a_lost_enrolment_answer_is_finished_by_a_rerun(sandbox: SandboxServer, moodle: Moodle,
                                                        offering: OfferingSpec) -> None:
    people = [person(n) for n in range(3)]
    sandbox.control.inject_fault("enrol_manual_enrol_users", "apply_then_drop")
    first = enrol_participants(moodle, offering, people)
    assert first.created == 3
    again = enrol_participants(moodle, offering, people)
    assert again.failed == [] and again.enrolled + again.already_enrolled == 3
    assert len(students(moodle, offering, "metro")) == 3


def test_a_class_the_offering_does_not_have_fails_its_members_only(moodle: Moodle, offering: OfferingSpec) -> None:
    people = [person(1), person(2, class_name="Kelas Tambahan")]
    result = enrol_participants(moodle, offering, people)
    assert result.groups_created == 0 and [e for e, _ in result.failed] == [person(2).email]
    assert "class 'Kelas Tambahan' is not a class of course metro" in result.failed[0][1]
    assert "run select again" in result.failed[0][1]
    cid = moodle.courses_by_field("idnumber", offering.course("metro").idnumber)[0].id
    assert "Kelas Tambahan" not in {g.name for g in moodle.groups(cid)}   # never a second naming rule


def test_dry_run_only_reads(sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec) -> None:
    people = [person(n) for n in range(4)]
    before = writes(sandbox.control.call_counts())
    called: list[str] = []
    result = enrol_participants(moodle, offering, people, dry_run=True,
                                on_result=lambda p, u, w: called.append(p.email))
    assert result.dry_run and (result.created, result.enrolled, result.groups_created) == (4, 4, 0)
    assert writes(sandbox.control.call_counts()) == before and called == []
    assert students(moodle, offering, "metro") == {}


def test_a_lost_enrolment_answer_is_reconciled_in_the_same_run(sandbox: SandboxServer, moodle: Moodle,
                                                               offering: OfferingSpec) -> None:
    people = [person(n) for n in range(3)]
    sandbox.control.inject_fault("enrol_manual_enrol_users", "apply_then_drop")
    first = enrol_participants(moodle, offering, people)
    assert first.failed == [] and (first.enrolled, first.grouped) == (3, 3)


# e-mails as Moodle compares them; records checked before sending --------------------------------------

def test_an_account_whose_email_has_capitals_is_matched_not_created(sandbox: SandboxServer, moodle: Moodle,
                                                                      offering: OfferingSpec) -> None:
    teacher = person(1)
    assert not moodle.create_users([{**new_user_record(teacher, "manual"), "username": "guru.lama",
                                     "email": "Guru1.Metro@Guru.Belajar.ID"}]).failed
    mailed_before = len(sandbox.control.mails())
    result = enrol_participants(moodle, offering, [teacher, person(2)])
    assert result.failed == [] and (result.matched, result.created, result.enrolled) == (1, 1, 2)
    old = moodle.users_by_field("username", ["guru.lama"])[0]
    assert students(moodle, offering, "metro")[old.email].id == old.id == result.user_ids[teacher.email]
    # Moodle refused the address (its batch rolled back, so nothing was mailed for it): the old account
    # is the teacher's; no second account, and only the new teacher got a password.
    assert moodle.users_by_field("username", [moodle_username(teacher.email)]) == []
    assert [m["to"] for m in sandbox.control.mails()[mailed_before:]] == [person(2).email]


def test_new_users_cost_no_read_per_address(sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec) -> None:
    people = [person(n) for n in range(6)]
    before = sandbox.control.call_counts()
    result = enrol_participants(moodle, offering, people)
    assert (result.created, result.enrolled, result.grouped, result.failed) == (6, 6, 6, [])
    calls = {k: v - before.get(k, 0) for k, v in sandbox.control.call_counts().items()}
    assert calls.get("core_user_get_users", 0) == 0          # no case-insensitive read per new address
    # e-mails, then the usernames we would give; and the facilitators of the classes getting new members
    assert calls["core_user_get_users_by_field"] == 3


def test_once_moodle_had_an_address_in_another_case_the_rest_are_read_first(
        sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enrolment, "NEW_USER_CHUNK", 2)
    people = [person(n) for n in range(6)]
    for n in (0, 3):   # stored in capitals, found neither as given nor in lower case
        assert not moodle.create_users([{**new_user_record(people[n], "manual"), "username": f"lama{n}",
                                         "email": people[n].email.upper()}]).failed
    creates = sandbox.control.call_counts()["core_user_create_users"]
    result = enrol_participants(moodle, offering, people, new_user_workers=1)
    assert result.failed == [] and (result.matched, result.created, result.enrolled, result.grouped) == (2, 4, 6, 6)
    # chunk 1 was refused and split (3 calls); chunks 2 and 3 were read first and sent once each
    assert sandbox.control.call_counts()["core_user_create_users"] == creates + 5
    assert {result.user_ids[people[n].email] for n in (0, 3)} == \
        {u.id for u in moodle.users_by_field("username", ["lama0", "lama3"])}


def test_a_dry_run_reads_every_unknown_address_ignoring_case(moodle: Moodle, offering: OfferingSpec) -> None:
    teacher = person(1)
    assert not moodle.create_users([{**new_user_record(teacher, "manual"), "username": "guru.lama",
                                     "email": "GURU1.METRO@guru.belajar.id"}]).failed
    result = enrol_participants(moodle, offering, [teacher, person(2)], dry_run=True)
    assert (result.matched, result.created, result.enrolled, result.failed) == (1, 1, 2, [])


def test_new_users_in_chunks_side_by_side(sandbox: SandboxServer, moodle: Moodle, offering: OfferingSpec,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enrolment, "NEW_USER_CHUNK", 2)
    people = [person(n) for n in range(5)] + [person(n, "pesawaran") for n in range(2)]
    before = sandbox.control.call_counts()
    result = enrol_participants(moodle, offering, people, new_user_workers=3)
    assert result.failed == [] and (result.created, result.enrolled, result.grouped) == (7, 7, 7)
    calls = {k: v - before.get(k, 0) for k, v in sandbox.control.call_counts().items()}
    assert calls["core_user_create_users"] == calls["enrol_manual_enrol_users"] == 4   # one each per chunk
    for key, n in (("metro", 5), ("pesawaran", 2)):
        enrolled = students(moodle, offering, key)
        class_id = next(g for g, name in group_names(moodle, offering, key).items()
                        if name == offering.course(key).groups[0].name)
        assert len(enrolled) == n and all(u.groups == (class_id,) for u in enrolled.values())


def test_records_moodle_would_refuse_fail_alone_before_the_batch_is_sent(sandbox: SandboxServer, moodle: Moodle,
                                                                          offering: OfferingSpec) -> None:
    assert not moodle.create_users([{**new_user_record(person(9), "manual"), "username": "guru3.metro@guru.belajar.id",
                                     "email": "someone.else@guru.belajar.id"}]).failed
    people = [person(1), person(2, email="guru+1.metro@guru.belajar.id"), person(3), person(4, lastname="")]
    creates = sandbox.control.call_counts()["core_user_create_users"]
    result = enrol_participants(moodle, offering, people)
    reasons = dict(result.failed)
    assert set(reasons) == {people[1].email, people[2].email}
    assert "would be the same as guru1.metro@guru.belajar.id's" in reasons[people[1].email]
    assert "is already Moodle user" in reasons[people[2].email] and "someone.else@" in reasons[people[2].email]
    assert (result.created, result.enrolled) == (2, 2)        # person 4 got "-" as last name, as always
    assert sandbox.control.call_counts()["core_user_create_users"] == creates + 1   # no refused batch, no split


def test_a_lost_create_answer_and_a_rerun_mail_every_new_teacher_once(sandbox: SandboxServer, moodle: Moodle,
                                                                     offering: OfferingSpec) -> None:
    people = [person(n) for n in range(5)]
    mailed_before = len(sandbox.control.mails())
    sandbox.control.inject_fault("core_user_create_users", "apply_then_drop")
    first = enrol_participants(moodle, offering, people)
    assert (first.created, first.failed) == (5, [])
    again = enrol_participants(moodle, offering, people)
    assert (again.created, again.matched) == (0, 5)
    mails = sandbox.control.mails()[mailed_before:]
    assert sorted(m["to"] for m in mails) == sorted(p.email for p in people)   # each exactly once


# classes ----------------------------------------------------------------------------------------------

def test_a_lost_group_members_answer_is_settled_by_reading_the_members(sandbox: SandboxServer, moodle: Moodle,
                                                                      offering: OfferingSpec) -> None:
    people = [person(n) for n in range(4)]
    sandbox.control.inject_fault("core_group_add_group_members", "apply_then_drop")
    result = enrol_participants(moodle, offering, people)
    assert result.failed == [] and (result.enrolled, result.grouped) == (4, 4)
    class_a = offering.course("metro").groups[0].name
    names = group_names(moodle, offering, "metro")
    assert {p.email: [names[g] for g in u.groups] for p in people
            for u in [students(moodle, offering, "metro")[p.email]]} == {p.email: [class_a] for p in people}


def test_a_class_moodle_lacks_is_made_as_apply_makes_it(sandbox: SandboxServer, moodle: Moodle,
                                                        offering: OfferingSpec) -> None:
    o = load_offering(EXAMPLE)
    more = replace(o, classes_per_course={**o.classes_per_course, "metro": 2}, facilitators=(
        *o.facilitators, Facilitator("budi.fasil@guru.belajar.id", "Budi", "Fasil", "metro", "B")))
    spec = render_offering(more, load_template(o.template))
    spec = replace(spec, courses=tuple(c for c in spec.courses if c.key in ("metro", "pesawaran")))
    class_a, class_b = spec.course("metro").groups
    assert class_b.name == "Kelas Metro B"
    people = [person(1, class_name=class_a.name)] + [person(n, class_name=class_b.name) for n in (2, 3)]
    result = enrol_participants(moodle, spec, people)
    assert result.failed == [] and (result.groups_created, result.grouped) == (1, 3)
    cid = moodle.courses_by_field("idnumber", spec.course("metro").idnumber)[0].id
    made = next(g for g in moodle.groups(cid) if g.name == class_b.name)
    assert made.idnumber == class_b.idnumber
    grouping = next(g for g in moodle.groupings(cid) if g.idnumber == spec.course("metro").grouping.idnumber)
    state = sandbox.moodle.state
    assert state.grouping_groups.first("pair", (grouping.id, made.id)) is not None   # in the offering's grouping
    enrolled = {u.email: u for u in moodle.enrolled_users(cid)}
    assert made.id in enrolled["budi.fasil@guru.belajar.id"].groups                    # with its facilitator
    assert "editingteacher" in enrolled["budi.fasil@guru.belajar.id"].roles
    assert {e for e, u in enrolled.items() if made.id in u.groups} == \
        {"budi.fasil@guru.belajar.id", person(2).email, person(3).email}
    left = plan_offering(spec, observe(moodle, spec)).pending   # the same classes apply would make:
    assert [a.kind for a in left] == ["course"]                   # only the summary naming them is apply's
    assert enrol_participants(moodle, spec, people).groups_created == 0
