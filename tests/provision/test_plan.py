"""The planner is pure: desired + observed state in, actions out. No Moodle needed."""

from __future__ import annotations

from moodle_sync.provision.plan import CREATE, UNCHANGED, UPDATE, plan_offering
from moodle_sync.provision.spec import (
    CourseSpec,
    FacilitatorSpec,
    GroupingSpec,
    GroupSpec,
    MasterCourseRef,
    OfferingSpec,
    SectionSpec,
)
from moodle_sync.provision.state import CourseState, ObservedState, category_idnumber
from moodle_sync.ws.moodle import Category, Course, EnrolledUser, Group, Grouping, Module, Section, User

MASTER = MasterCourseRef("idnumber", "MASTER-KODING")


def spec(key: str = "metro") -> CourseSpec:
    return CourseSpec(
        key=key, fullname=f"Koding untuk Guru - {key}", shortname=f"koding-{key}", idnumber=f"koding-a1-{key}",
        category_path=("BGTK Lampung", "2026"), summary="<p>Pelatihan</p>", start_date=100, end_date=200,
        sections=(SectionSpec(0, "Umum"), SectionSpec(1, "Orientasi")), master_course=MASTER,
        groups=(GroupSpec("Kelas A", f"koding-a1-{key}-a"),), grouping=GroupingSpec("Semua", f"koding-a1-{key}-all"),
        facilitators=(FacilitatorSpec("f@guru.belajar.id", "Fasil", "Satu", (f"koding-a1-{key}-a",)),),
        regency=key)


OFFERING = OfferingSpec("koding-a1", "Koding", "koding-untuk-guru", "A1", (spec(),))
CATS = [Category(10, "BGTK Lampung", category_idnumber("ms", ("BGTK Lampung",)), 0, "/10"),
        Category(11, "2026", category_idnumber("ms", ("BGTK Lampung", "2026")), 10, "/10/11")]
MASTER_COURSE = Course(5, "Master", "MASTER-KODING", "MASTER-KODING", 2)


def observed_in_sync() -> ObservedState:
    s = spec()
    course = Course(20, s.fullname, s.shortname, s.idnumber, 11, s.summary, "topics", 100, 200, True, "id", True, 1)
    sections = [Section(100, 0, "Umum", "", (Module(1, "Pengumuman", "forum", 1),)),
                Section(101, 1, "Orientasi", "", (Module(2, "Pre-test", "quiz", 1),))]
    teacher = EnrolledUser(7, "f@guru.belajar.id", "f@guru.belajar.id", "Fasil Satu", "", ("editingteacher",),
                           (3,), (30,), None, None, None)
    return ObservedState(
        categories=CATS,
        courses={"metro": CourseState(course, sections, [Group(30, 20, "Kelas A", "koding-a1-metro-a")],
                                      [Grouping(40, 20, "Semua", "koding-a1-metro-all")], [teacher])},
        users={"f@guru.belajar.id": User(7, "f@guru.belajar.id", "f@guru.belajar.id", "Fasil", "Satu")},
        masters={MASTER: MASTER_COURSE})


def test_empty_site_plans_every_create_in_order() -> None:
    plan = plan_offering(OFFERING, ObservedState(masters={MASTER: MASTER_COURSE}))
    kinds = [a.kind for a in plan.actions if a.op == CREATE]
    assert kinds == ["category", "category", "course", "content", "section", "section", "group", "grouping",
                     "user", "enrolment", "member"]
    assert not plan.problems
    assert plan.to_dict()["changes_pending"] is True


def test_in_sync_site_plans_nothing() -> None:
    plan = plan_offering(OFFERING, observed_in_sync())
    assert plan.pending == [], [a.to_dict() for a in plan.pending]
    assert plan.counts()[UNCHANGED] == len(plan.actions)


def test_a_fullname_edited_in_moodle_shows_exactly_that_update() -> None:
    obs = observed_in_sync()
    cs = obs.courses["metro"]
    cs.course = Course(**{**vars(cs.course), "fullname": "Edited by hand"})
    plan = plan_offering(OFFERING, obs)
    assert len(plan.pending) == 1
    action = plan.pending[0]
    assert (action.kind, action.op) == ("course", UPDATE)
    assert [(c.field, c.old, c.new) for c in action.changes] == [
        ("fullname", "Edited by hand", "Koding untuk Guru - metro")]


def test_section_rename_and_whitespace_only_summary_change() -> None:
    obs = observed_in_sync()
    cs = obs.courses["metro"]
    cs.sections[1] = Section(101, 1, "Old name", "", cs.sections[1].modules)
    cs.course = Course(**{**vars(cs.course), "summary": "<p>Pelatihan</p>\n"})
    plan = plan_offering(OFFERING, obs)
    assert [(a.kind, a.changes[0].old, a.changes[0].new) for a in plan.pending] == [
        ("section", "Old name", "Orientasi")]


def test_missing_master_is_a_problem_and_content_is_not_imported_twice() -> None:
    obs = observed_in_sync()
    obs.masters = {MASTER: None}
    plan = plan_offering(OFFERING, obs)
    assert plan.problems == ["metro: master course with idnumber MASTER-KODING not found: content cannot be imported"]
    obs = observed_in_sync()
    assert plan_offering(OFFERING, obs).of("content")[0].op == UNCHANGED


def test_course_moved_out_of_its_category_is_moved_back() -> None:
    obs = observed_in_sync()
    cs = obs.courses["metro"]
    cs.course = Course(**{**vars(cs.course), "categoryid": 1})
    changes = plan_offering(OFFERING, obs).pending[0].changes
    assert [(c.field, c.old, c.new) for c in changes] == [("categoryid", 1, 11)]


def test_hand_made_category_is_adopted_by_name() -> None:
    obs = observed_in_sync()
    obs.categories = [Category(50, "BGTK Lampung", "", 0, "/50"), Category(51, "2026", "", 50, "/50/51")]
    plan = plan_offering(OFFERING, obs)
    assert [a.op for a in plan.of("category")] == [UNCHANGED, UNCHANGED]
    assert plan.of("course")[0].changes[0].new == 51


def test_facilitator_not_in_class_is_added() -> None:
    obs = observed_in_sync()
    teacher = obs.courses["metro"].enrolled[0]
    obs.courses["metro"].enrolled = [EnrolledUser(**{**vars(teacher), "groups": ()})]
    assert [(a.kind, a.op) for a in plan_offering(OFFERING, obs).pending] == [("member", CREATE)]


def test_a_facilitator_of_two_courses_is_created_once() -> None:
    offering = OfferingSpec("koding-a1", "Koding", "koding-untuk-guru", "A1", (spec("metro"), spec("mesuji")))
    plan = plan_offering(offering, ObservedState(masters={MASTER: MASTER_COURSE}))
    assert len(plan.of("user", CREATE)) == 1
    assert len(plan.of("enrolment", CREATE)) == 2


def test_the_class_part_keeps_classes_and_facilitators_and_courses_only_as_ids() -> None:
    from dataclasses import replace as _replace

    from moodle_sync.provision.plan import class_part

    observed = observed_in_sync()
    cs = observed.courses["metro"]
    observed.courses["metro"] = CourseState(_replace(cs.course, fullname="Old name"), cs.sections, [],
                                            cs.groupings, cs.enrolled)
    two = _replace(OFFERING, courses=(OFFERING.courses[0], spec("pesawaran")))
    full = plan_offering(two, observed)
    part = class_part(full)
    assert [(a.kind, a.op) for a in full.of("course")] == [("course", UPDATE), ("course", CREATE)]
    assert [(a.kind, a.op, a.key) for a in part.pending] == [("group", CREATE, "metro / Kelas A"),
                                                           ("member", CREATE, "metro / f@guru.belajar.id in Kelas A")]
    assert [(a.op, a.data) for a in part.of("course")] == [(UNCHANGED, {"id": 20})]   # no update, only the id
    assert not [a for a in part.actions if a.course_key == "pesawaran"]               # not created here


def test_facilitators_get_the_sites_role_id_where_one_is_given() -> None:
    from dataclasses import replace

    standard = plan_offering(OFFERING, ObservedState(masters={MASTER: MASTER_COURSE}))
    assert [a.data["roleid"] for a in standard.of("enrolment", CREATE)] == [3]     # editingteacher's usual id
    teacher = OfferingSpec("koding-a1", "Koding", "koding-untuk-guru", "A1",
                           (replace(spec(), facilitator_role="teacher"),))
    assert [a.data["roleid"] for a in plan_offering(teacher, ObservedState(masters={MASTER: MASTER_COURSE}))
            .of("enrolment", CREATE)] == [4]
    site = OfferingSpec("koding-a1", "Koding", "koding-untuk-guru", "A1", (replace(spec(), facilitator_role_id=9),))
    assert [a.data["roleid"] for a in plan_offering(site, ObservedState(masters={MASTER: MASTER_COURSE}))
            .of("enrolment", CREATE)] == [9]
    # a facilitator already enrolled with the site's role id is left as is; with the standard id, enrolled again
    obs = observed_in_sync()
    assert plan_offering(site, obs).of("enrolment", CREATE)
    obs.courses["metro"].enrolled = [EnrolledUser(**{**vars(obs.courses["metro"].enrolled[0]), "role_ids": (9,)})]
    assert plan_offering(site, obs).of("enrolment", CREATE) == []
