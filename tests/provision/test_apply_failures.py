"""apply against the sandbox when Moodle refuses one thing or an answer is lost: the refusal fails alone
with Moodle's reason, a lost answer is recorded as unknown and settled by reading, and an import that is
still running after its answer was lost is never sent a second time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.exceptions import WriteOutcomeUnknownError
from moodle_sync.offerings import load_offering
from moodle_sync.provision.apply import ApplyResult, apply_plan
from moodle_sync.provision.observe import observe
from moodle_sync.provision.plan import Plan, plan_offering
from moodle_sync.provision.spec import OfferingSpec, SectionSpec
from moodle_sync.sandbox import SandboxServer
from moodle_sync.store import Store
from moodle_sync.templates import load_template, render_offering
from moodle_sync.ws import connect
from moodle_sync.ws.moodle import Moodle

EXAMPLE = Path(__file__).parents[2] / "examples" / "offering-koding.yaml"


@pytest.fixture(scope="module")
def three() -> OfferingSpec:
    """The example offering cut to its first three courses."""
    o = load_offering(EXAMPLE)
    full = render_offering(o, load_template(o.template))
    return replace(full, courses=full.courses[:3])


@pytest.fixture
def moodle(sandbox: SandboxServer) -> Iterator[Moodle]:
    m = connect(sandbox.url, sandbox.token, max_input_vars=5000, retries=2)
    m.client.retry = type(m.client.retry)(attempts=2, backoff=0.0)
    yield m
    m.client.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 's.sqlite'}") as s:
        yield s


class LostAnswer:
    """The next call of ``function`` gets no answer. With ``lands`` Moodle did the work first; without,
    Moodle is still working on it when the client gives up, and it lands when the test calls
    :meth:`finish` (an import is a backup and restore in one request that runs on after a timeout).
    ``crash`` makes the client die instead of hearing the timeout (the process is killed mid-call)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, moodle: Moodle, function: str, *, lands: bool,
                 crash: bool = False) -> None:
        self.real, self.function, self.lands, self.crash = moodle.client.call, function, lands, crash
        self.held: tuple[str, Any] | None = None
        self.used = False
        monkeypatch.setattr(moodle.client, "call", self.call)

    def call(self, function: str, params: Any = None) -> Any:
        if function != self.function or self.used:
            return self.real(function, params)
        self.used = True
        if self.lands:
            self.real(function, params)
        else:
            self.held = (function, params)
        if self.crash:
            raise KeyboardInterrupt("killed while waiting for the answer")
        raise WriteOutcomeUnknownError(function, "no answer within the timeout")

    def finish(self) -> None:
        assert self.held is not None
        self.real(*self.held)


def plan(moodle: Moodle, offering: OfferingSpec) -> Plan:
    p = plan_offering(offering, observe(moodle, offering))
    assert not p.problems, p.problems
    return p


def run(moodle: Moodle, offering: OfferingSpec, store: Store | None = None, **kw: Any) -> ApplyResult:
    return apply_plan(moodle, offering, plan(moodle, offering), store=store, **kw)


def quizzes(moodle: Moodle, courseid: int) -> int:
    return sum(1 for s in moodle.sections(courseid) for m in s.modules if m.modname == "quiz")


def course_id(moodle: Moodle, offering: OfferingSpec, i: int) -> int:
    return moodle.courses_by_field("idnumber", offering.courses[i].idnumber)[0].id


# 1. an import whose answer was lost while Moodle kept working --------------------------------------------
@pytest.mark.parametrize("crash", [False, True], ids=["lost answer", "crash while waiting"])
def test_an_import_still_running_is_never_sent_again_and_is_settled_once_it_landed(
        sandbox: SandboxServer, moodle: Moodle, three: OfferingSpec, store: Store,
        monkeypatch: pytest.MonkeyPatch, crash: bool) -> None:
    lost = LostAnswer(monkeypatch, moodle, "core_course_import_course", lands=False, crash=crash)
    if crash:
        with pytest.raises(KeyboardInterrupt):
            run(moodle, three, store)
    else:
        first = run(moodle, three, store)
        assert [u.split(":")[0] for u in first.unknown] == [f"create content {three.courses[0].key}"]
        assert "may still be running" in first.unknown[0]
    # The import was recorded in flight before it was sent.
    pending = store.unsettled_writes(three.offering_id, "content")
    assert list(pending) == [three.courses[0].key]
    target = course_id(moodle, three, 0)
    assert pending[three.courses[0].key].moodle_id == target

    second = run(moodle, three, store)   # Moodle is still restoring: the rerun must not import again
    assert any(u.startswith(f"create content {three.courses[0].key}:") for u in second.unknown)
    assert "--reimport" in second.unknown[0]
    # Only the other two courses' imports reached Moodle (after a crash, in the rerun).
    assert sandbox.control.call_counts().get("core_course_import_course", 0) == 2

    lost.finish()                        # ... and now Moodle is done with the first import
    third = run(moodle, three, store)
    assert third.ok, (third.failed, third.unknown)
    master = moodle.courses_by_field("idnumber", "MASTER-KODING")[0]
    for i in range(3):
        assert quizzes(moodle, course_id(moodle, three, i)) == quizzes(moodle, master.id)   # once, not twice
    assert store.unsettled_writes(three.offering_id, "content") == {}
    settled = [w for w in store.writes(three.offering_id) if w.kind == "content" and w.key == three.courses[0].key]
    assert settled[-1].outcome == "ok" and "settled by reading" in (settled[-1].detail or "")


def test_an_import_whose_answer_was_lost_after_it_landed_is_settled_in_the_same_run(
        moodle: Moodle, three: OfferingSpec, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    LostAnswer(monkeypatch, moodle, "core_course_import_course", lands=True)
    result = run(moodle, three, store)
    assert result.ok, (result.failed, result.unknown)
    entries = [(w.outcome, w.detail) for w in store.writes(three.offering_id)
               if w.kind == "content" and w.key == three.courses[0].key]
    assert [o for o, _ in entries] == ["unknown", "ok"]
    assert "activities are in the course" in (entries[-1][1] or "")


def test_reimport_sends_an_unsettled_import_again_when_the_operator_says_so(
        sandbox: SandboxServer, moodle: Moodle, three: OfferingSpec, store: Store,
        monkeypatch: pytest.MonkeyPatch) -> None:
    LostAnswer(monkeypatch, moodle, "core_course_import_course", lands=False)   # it never lands
    run(moodle, three, store)
    key = three.courses[0].key
    again = run(moodle, three, store, reimport=[key])
    assert again.ok, (again.failed, again.unknown)
    assert sandbox.control.call_counts()["core_course_import_course"] == 3
    master = moodle.courses_by_field("idnumber", "MASTER-KODING")[0]
    assert quizzes(moodle, course_id(moodle, three, 0)) == quizzes(moodle, master.id)


# 2. one refusal fails alone ----------------------------------------------------------------------------
def test_a_course_update_moodle_refuses_fails_alone_with_its_reason(
        sandbox: SandboxServer, moodle: Moodle, three: OfferingSpec) -> None:
    assert run(moodle, three).ok
    ids = [course_id(moodle, three, i) for i in range(3)]
    moodle.update_courses([{"id": cid, "fullname": "Diubah manual"} for cid in ids])
    sandbox.control.fail_record("core_course_update_courses", {"id": ids[1]}, "invalidparameter",
                                "fullname: too long")
    result = run(moodle, three)
    assert result.done == [f"update course {three.courses[i].key}" for i in (0, 2)]
    assert len(result.failed) == 1 and result.failed[0].startswith(f"update course {three.courses[1].key}: ")
    assert result.failed[0].endswith("Invalid parameter value detected [invalidparameter]")
    left = plan(moodle, three).pending
    assert [(a.kind, a.key) for a in left] == [("course", three.courses[1].key)]


def test_a_course_that_cannot_get_its_new_sections_fails_alone(
        sandbox: SandboxServer, moodle: Moodle, three: OfferingSpec) -> None:
    assert run(moodle, three).ok
    extra = replace(three, courses=tuple(
        replace(c, sections=c.sections + (SectionSpec(c.numsections + 1, "Refleksi"),)) for c in three.courses))
    sandbox.control.fail_record("core_course_update_courses", {"id": course_id(moodle, three, 0)},
                                "invalidparameter", "numsections")
    result = run(moodle, extra)          # used to raise out of apply
    assert len(result.failed) == 1
    assert result.failed[0].startswith(f"update section {three.courses[0].key} section 10: section does not exist "
                                       "(adding sections failed: ")
    for i in (1, 2):
        assert moodle.sections(course_id(moodle, three, i))[10].name == "Refleksi"


def test_groupings_and_assignments_moodle_refuses_fail_alone(
        sandbox: SandboxServer, moodle: Moodle, three: OfferingSpec) -> None:
    no_grouping = replace(three, courses=tuple(replace(c, grouping=None) for c in three.courses))
    assert run(moodle, no_grouping).ok
    ids = [course_id(moodle, three, i) for i in range(3)]
    p = plan(moodle, three)
    # Between plan and apply someone makes a grouping with our idnumber in the first course (Moodle answers
    # idnumbertaken and rolls the whole call back), and the class of the second course cannot be assigned.
    moodle.create_groupings([{"courseid": ids[0], "name": "Dibuat manual",
                              "idnumber": three.courses[0].grouping.idnumber, "description": ""}])  # type: ignore[union-attr]
    group_1 = moodle.groups(ids[1])[0]
    sandbox.control.fail_record("core_group_assign_grouping", {"groupid": group_1.id}, "invalidrecord",
                                "Can't find data record in database table groups.")
    result = apply_plan(moodle, three, p)   # used to raise out of apply
    keys = [c.key for c in three.courses]
    assert len(result.failed) == 2, result.failed
    assert result.failed[0].startswith(f"create grouping {keys[0]} / ") and "[idnumbertaken]" in result.failed[0]
    assert result.failed[1].startswith(f"assign grouping {keys[1]} / ") and "[invalidrecord]" in result.failed[1]
    assert set(result.done) == {f"create grouping {keys[i]} / {three.courses[i].grouping.name}"  # type: ignore[union-attr]
                                for i in (1, 2)}
    state = sandbox.state
    grouping_2 = next(g for g in moodle.groupings(ids[2]) if g.idnumber == three.courses[2].grouping.idnumber)  # type: ignore[union-attr]
    assert [gg.groupid for gg in state.grouping_groups.find("grouping", grouping_2.id)] == \
        [g.id for g in moodle.groups(ids[2])]


# 3. a lost update answer -------------------------------------------------------------------------------
@pytest.mark.parametrize("lands", [True, False], ids=["landed", "not landed"])
def test_a_lost_update_answer_is_unknown_then_settled_by_reading_never_resent(
        sandbox: SandboxServer, moodle: Moodle, three: OfferingSpec, store: Store,
        monkeypatch: pytest.MonkeyPatch, lands: bool) -> None:
    assert run(moodle, three, store).ok
    cid = course_id(moodle, three, 0)
    moodle.update_courses([{"id": cid, "fullname": "Diubah manual"}])
    before = sandbox.control.call_counts().get("core_course_update_courses", 0)
    LostAnswer(monkeypatch, moodle, "core_course_update_courses", lands=lands)
    result = run(moodle, three, store)
    key = three.courses[0].key
    trail = [(w.outcome, w.detail or "") for w in store.writes(three.offering_id)
             if w.kind == "course" and w.key == key and w.action == "update"]
    assert [o for o, _ in trail] == ["unknown", "ok" if lands else "failed"]
    assert "reading the course back" in trail[-1][1]
    if lands:
        assert result.ok and result.done == [f"update course {key}"]
    else:
        assert result.failed == [(f"update course {key}: the update got no answer and reading the course back "
                                  "shows fullname unchanged: run apply again")]
        assert moodle.courses_by_ids([cid])[0].fullname == "Diubah manual"
    # Sent once (or, when the answer was lost before it reached Moodle, not at all): never sent again.
    assert sandbox.control.call_counts().get("core_course_update_courses", 0) == before + int(lands)
