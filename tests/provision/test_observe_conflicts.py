"""observe + plan against the sandbox: a course found by our shortname only is adopted only when it is safe
(no idnumber or ours, in our category); otherwise the plan reports a conflict naming it and never touches it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from moodle_sync.offerings import load_offering
from moodle_sync.provision.apply import apply_plan
from moodle_sync.provision.observe import observe
from moodle_sync.provision.plan import UPDATE, plan_offering
from moodle_sync.provision.spec import CourseSpec, OfferingSpec
from moodle_sync.provision.state import category_idnumber
from moodle_sync.sandbox import SandboxServer
from moodle_sync.templates import load_template, render_offering
from moodle_sync.ws import connect
from moodle_sync.ws.moodle import Moodle

EXAMPLE = Path(__file__).parents[2] / "examples" / "offering-koding.yaml"


@pytest.fixture(scope="module")
def two() -> OfferingSpec:
    o = load_offering(EXAMPLE)
    full = render_offering(o, load_template(o.template))
    return replace(full, courses=full.courses[:2])


@pytest.fixture
def moodle(sandbox: SandboxServer) -> Iterator[Moodle]:
    m = connect(sandbox.url, sandbox.token, max_input_vars=5000)
    yield m
    m.client.close()


def our_category(moodle: Moodle, offering: OfferingSpec) -> int:
    """Make the offering's category path as apply would (our idnumbers); the id of the deepest."""
    parent = 0
    path = offering.courses[0].category_path
    for depth in range(1, len(path) + 1):
        made = moodle.create_categories([{"name": path[depth - 1], "parent": parent, "description": "",
                                          "idnumber": category_idnumber(offering.category_idnumber_prefix,
                                                                        path[:depth])}])
        parent = made[0].id
    return parent


def other_category(moodle: Moodle) -> int:
    return moodle.create_categories([{"name": "Program Lain", "parent": 0, "description": "", "idnumber": ""}])[0].id


def hand_made(moodle: Moodle, spec: CourseSpec, categoryid: int, idnumber: str) -> int:
    return moodle.create_courses([{"fullname": "Kursus orang lain", "shortname": spec.shortname,
                                   "categoryid": categoryid, "idnumber": idnumber}])[0]


@pytest.mark.parametrize("idnumber,where", [("lain-2025-b1-metro", "ours"), ("lain-2025-b1-metro", "other"),
                                            ("", "other")])
def test_a_course_holding_our_shortname_that_is_not_ours_is_a_conflict_and_left_alone(
        moodle: Moodle, two: OfferingSpec, idnumber: str, where: str) -> None:
    ours = our_category(moodle, two)
    spec = two.courses[0]
    theirs = hand_made(moodle, spec, ours if where == "ours" else other_category(moodle), idnumber)

    observed = observe(moodle, two)
    assert spec.key not in observed.courses
    plan = plan_offering(two, observed)
    assert len(plan.problems) == 1
    problem = plan.problems[0]
    assert problem.startswith(f"{spec.key}: shortname {spec.shortname!r} is taken by course id {theirs} ")
    assert "not adopted, not updated" in problem
    assert not [a for a in plan.actions if a.course_key == spec.key]   # nothing planned for it
    assert [a.key for a in plan.of("course")] == [two.courses[1].key]

    apply_plan(moodle, two, plan)   # even a caller who applies anyway leaves their course alone
    course = moodle.courses_by_ids([theirs])[0]
    assert (course.fullname, course.idnumber) == ("Kursus orang lain", idnumber)
    assert not moodle.groups(theirs)


def test_a_course_holding_our_shortname_without_idnumber_in_our_category_is_adopted(
        moodle: Moodle, two: OfferingSpec) -> None:
    spec = two.courses[0]
    mine = hand_made(moodle, spec, our_category(moodle, two), "")
    plan = plan_offering(two, observe(moodle, two))
    assert plan.problems == []
    course = plan.of("course")[0]
    assert (course.key, course.op, course.data["id"]) == (spec.key, UPDATE, mine)
    assert ("idnumber", "", spec.idnumber) in {(c.field, c.old, c.new) for c in course.changes}
