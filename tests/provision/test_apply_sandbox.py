"""plan -> apply -> plan against the sandbox Moodle: idempotent, field-level updates, interrupted applies."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.offerings import load_offering
from moodle_sync.provision.apply import apply_plan
from moodle_sync.provision.observe import observe
from moodle_sync.provision.plan import UPDATE, plan_offering
from moodle_sync.provision.spec import OfferingSpec
from moodle_sync.store import Store
from moodle_sync.templates import load_template, render_offering
from moodle_sync.ws import connect

EXAMPLE = Path(__file__).parents[2] / "examples" / "offering-koding.yaml"


@pytest.fixture(scope="module")
def offering() -> OfferingSpec:
    o = load_offering(EXAMPLE)
    return render_offering(o, load_template(o.template))


@pytest.fixture
def moodle(sandbox):  # type: ignore[no-untyped-def]
    m = connect(sandbox.url, sandbox.token, max_input_vars=5000, retries=2)
    m.client.retry = type(m.client.retry)(attempts=2, backoff=0.0)
    yield m
    m.client.close()


def test_apply_then_nothing_to_change(moodle, offering: OfferingSpec, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    plan = plan_offering(offering, observe(moodle, offering))
    assert not plan.problems
    result = apply_plan(moodle, offering, plan, store=store)
    assert result.ok, result.failed
    again = plan_offering(offering, observe(moodle, offering))
    assert again.pending == [], [a.to_dict() for a in again.pending][:5]
    courses = [c for c in moodle.courses_by_field("", "") if c.idnumber.startswith(offering.offering_id)]
    assert len(courses) == 15
    metro = next(c for c in courses if c.idnumber.endswith("metro"))
    sections = moodle.sections(metro.id)
    spec = offering.course("metro")
    assert [s.name for s in sections[: len(spec.sections)]] == [s.name for s in spec.sections]
    assert any(m.modname == "quiz" for s in sections for m in s.modules)  # content imported from the master
    assert {g.name for g in moodle.groups(metro.id)} == {g.name for g in spec.groups}
    teachers = [u for u in moodle.enrolled_users(metro.id) if "editingteacher" in u.roles]
    assert {u.email for u in teachers} == {f.email for f in spec.facilitators}
    # Every write is in the audit trail, and the courses are mapped.
    assert len(store.objects(offering.offering_id, "course")) == 15
    # ... each import also as in flight (``unknown``) before it was sent, settled by its answer.
    assert all(w.outcome == "ok" or (w.kind == "content" and "waiting for its answer" in (w.detail or ""))
               for w in store.writes(offering.offering_id))
    assert store.unsettled_writes(offering.offering_id, "content") == {}
    # Batched: one call creates all 15 courses.
    assert moodle.client.stats.calls_to("core_course_create_courses") == 1


def test_editing_a_fullname_in_moodle_plans_exactly_that(moodle, offering: OfferingSpec) -> None:  # type: ignore[no-untyped-def]
    apply_plan(moodle, offering, plan_offering(offering, observe(moodle, offering)))
    cid = moodle.courses_by_field("idnumber", offering.course("metro").idnumber)[0].id
    moodle.update_courses([{"id": cid, "fullname": "Diubah manual"}])
    plan = plan_offering(offering, observe(moodle, offering))
    assert [(a.kind, a.op, a.key) for a in plan.pending] == [("course", UPDATE, "metro")]
    assert [(c.field, c.old) for c in plan.pending[0].changes] == [("fullname", "Diubah manual")]
    apply_plan(moodle, offering, plan)
    assert plan_offering(offering, observe(moodle, offering)).pending == []


@pytest.mark.parametrize("function", ["core_course_create_categories", "core_course_create_courses",
                                      "core_course_import_course",
                                      "core_group_create_groups", "core_user_create_users"])
def test_a_write_whose_answer_is_lost_is_resolved_by_reading(sandbox, moodle, offering: OfferingSpec,  # type: ignore[no-untyped-def]
                                                             function: str) -> None:
    sandbox.control.inject_fault(function, "apply_then_drop")
    apply_plan(moodle, offering, plan_offering(offering, observe(moodle, offering)))
    apply_plan(moodle, offering, plan_offering(offering, observe(moodle, offering)))  # the rerun finishes
    assert plan_offering(offering, observe(moodle, offering)).pending == []
    courses = [c for c in moodle.courses_by_field("", "") if c.idnumber.startswith(offering.offering_id)]
    assert len(courses) == 15
    metro = next(c for c in courses if c.idnumber.endswith("metro"))
    quizzes = [m for s in moodle.sections(metro.id) for m in s.modules if m.modname == "quiz"]
    master = moodle.courses_by_field("idnumber", "MASTER-KODING")[0]
    master_quizzes = [m for s in moodle.sections(master.id) for m in s.modules if m.modname == "quiz"]
    assert len(quizzes) == len(master_quizzes)  # content imported once, not twice
    assert len(moodle.groups(metro.id)) == len(offering.course("metro").groups)


def test_a_crash_half_way_is_finished_by_a_rerun(sandbox, moodle, offering: OfferingSpec) -> None:  # type: ignore[no-untyped-def]
    sandbox.control.inject_fault("core_update_inplace_editable", "http500", times=1000)
    first = apply_plan(moodle, offering, plan_offering(offering, observe(moodle, offering)))
    assert not first.ok
    sandbox.control.clear_faults()
    second = apply_plan(moodle, offering, plan_offering(offering, observe(moodle, offering)))
    assert second.ok
    assert moodle.client.stats.calls_to("core_course_create_courses") == 1
    assert plan_offering(offering, observe(moodle, offering)).pending == []
