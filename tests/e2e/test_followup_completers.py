"""Follow-up packs and certificates end to end, on the sandbox and on the real Moodle 4.5 lab: apply a
2-regency offering -> select + enrol -> simulated progress -> pull -> ``completers`` lists exactly those the
site's database says passed (course completed, post-test >= 70% of its maximum; the completion date the
last criterion's, never after the database's course completion), numbers stable on a rerun ->
``followup --send moodle`` lists below-pass people whose post-test the database has under the mark, each
facilitator gets one message that the site holds (the sandbox's
messages; on the lab ``mdl_messages`` to that user), and a rerun the same day sends nothing — a message
whose answer was lost is settled from the site's own list (Moodle's id), not sent again.

The lab runs when ``MOODLE_LAB_DB_URL`` (and the lab's ``MOODLE_URL``/``MOODLE_TOKEN``) are set.
"""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import run, run_json, site_store, small_offering
from tests.e2e.conftest import EXAMPLES, LAB_DB_URL, Target
from tests.e2e.truth import COURSE_SQL

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
PASS_MARK = 70.0


def _lab_people(offering_id: str) -> dict[str, dict[str, Any]]:
    """Per e-mail: suspended, time completed and post-test % as the lab's PostgreSQL has them."""
    import psycopg

    assert LAB_DB_URL
    sql = (f"SELECT u.email, q.suspended, q.timecompleted, q.post_pct FROM ({COURSE_SQL}) q "
           "JOIN mdl_user u ON u.id = q.userid")
    with psycopg.connect(LAB_DB_URL) as conn:
        rows = conn.execute(sql, {"prefix": f"{offering_id}-%"}).fetchall()
    return {email.lower(): {"suspended": s, "timecompleted": t, "post_pct": None if p is None else float(p)}
            for email, s, t, p in rows}


def _sandbox_people(server: Any, offering_id: str) -> dict[str, dict[str, Any]]:
    state = server.moodle.state
    out = {}
    with server.moodle.lock:
        for course in state.courses:
            if not course.idnumber.startswith(f"{offering_id}-"):
                continue
            item = next(i for i in state.grade_items.find("course", course.id) if i.idnumber == "posttest")
            for e in state.enrolments.find("course", course.id):
                if 5 not in e.roles:
                    continue
                grade = state.grades.first("item_user", (item.id, e.userid))
                done = state.course_completions.first("course_user", (course.id, e.userid))
                out[state.users.get(e.userid).email.lower()] = {
                    "suspended": e.status == 1, "timecompleted": done.timecompleted if done else None,
                    "post_pct": (None if not grade or grade.finalgrade is None
                                 else grade.finalgrade / item.grademax * 100)}
    return out


def _lab_messages(msgids: list[int]) -> dict[int, str]:
    """Message id -> recipient e-mail, from mdl_messages and the conversation's other member."""
    import psycopg

    assert LAB_DB_URL
    with psycopg.connect(LAB_DB_URL) as conn:
        rows = conn.execute(
            "SELECT m.id, u.email FROM mdl_messages m JOIN mdl_message_conversation_members mcm "
            "ON mcm.conversationid = m.conversationid AND mcm.userid <> m.useridfrom "
            "JOIN mdl_user u ON u.id = mcm.userid WHERE m.id = ANY(%s)", (msgids,)).fetchall()
    return {int(i): e.lower() for i, e in rows}


def _sandbox_messages(server: Any) -> dict[int, str]:
    users = server.moodle.state.users
    return {m["id"]: users.get(m["useridto"]).email.lower() for m in server.control.messages()}


def test_completers_and_followup_equal_the_sites_database(target: Target, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    offering_id = f"e2f-{uuid.uuid4().hex[:8]}"
    target.use(monkeypatch, tmp_path / "store.sqlite")
    monkeypatch.chdir(tmp_path)
    offering = str(small_offering(tmp_path / "o", id=offering_id, category=f"E2E {offering_id} / Koding"))
    assert run(capsys, "apply", offering, "--yes")[0] == 0
    assert run(capsys, "select", offering, "--applicants", str(EXAMPLES / "registrations.csv"),
               "--output", str(tmp_path / "seleksi"), "--no-moodle-history")[0] == 0
    code, enrolled = run_json(capsys, "enrol", offering, "--yes")
    assert code == 0 and not enrolled["failed"], enrolled
    target.simulate(offering_id)
    assert run_json(capsys, "pull", offering_id)[0] == 0
    truth = (_sandbox_people(target.sandbox, offering_id) if target.sandbox is not None
             else _lab_people(offering_id))

    code, listed = run_json(capsys, "completers", offering)
    assert code == 0, listed
    passed = {e: p for e, p in truth.items() if p["timecompleted"] and p["post_pct"] is not None
              and p["post_pct"] >= PASS_MARK - 1e-9}
    assert passed, "nobody passed: the scenario needs completers"
    got = {c["email"]: c for c in listed["completers"]}
    assert set(got) == set(passed)
    # The pull knows completion from its criteria (the web service gives no course completion time): the
    # last criterion's time, never after the course completion Moodle's cron recorded.
    assert all(0 < got[e]["completed_at"] <= p["timecompleted"] for e, p in passed.items())
    assert {c["jp"] for c in got.values()} == {40}
    numbers = [c["certificate_number"] for c in listed["completers"]]
    assert len(set(numbers)) == len(numbers) and all(n.endswith("/BGTK-LPG/2026") for n in numbers)
    assert stat.S_IMODE(os.stat(listed["written"]).st_mode) == 0o600
    assert run_json(capsys, "completers", offering)[1]["completers"] == listed["completers"]

    code, dry = run_json(capsys, "followup", offering, "--send", "moodle", "--dry-run")
    assert code == 0 and dry["written"] == [] and dry["sent"], dry
    code, pack = run_json(capsys, "followup", offering, "--send", "moodle", "--yes")
    assert code == 0, pack
    people = [p for c in pack["classes"] for p in c["participants"]]
    below = {p["email"] for p in people if p["status"] == "below_pass"}
    assert all(truth[e]["post_pct"] < PASS_MARK for e in below)
    assert not below & set(passed)
    assert all(p["whatsapp"] is None or p["whatsapp"].startswith("https://wa.me/62") for p in people)
    assert {s["email"] for s in pack["sent"]} == {s["email"] for s in dry["sent"]}
    assert all(stat.S_IMODE(os.stat(f).st_mode) == 0o600 for f in pack["written"])
    delivered = (_sandbox_messages(target.sandbox) if target.sandbox is not None
                 else _lab_messages([s["msgid"] for s in pack["sent"]]))
    assert {s["msgid"]: s["email"] for s in pack["sent"]}.items() <= delivered.items()

    # A message whose answer was lost (recorded unknown) is settled by reading the site, not sent again.
    lost = pack["sent"][0]
    with site_store(tmp_path / "store.sqlite") as store:
        record = next(m for m in store.messages(offering_id) if m.recipient == lost["email"])
        store.settle_message(record.id, "unknown", detail="answer lost (test)")
    code, again = run_json(capsys, "followup", offering, "--send", "moodle", "--yes")
    assert code == 0 and again["sent"] == [] and len(again["skipped"]) == len(pack["sent"])
    with site_store(tmp_path / "store.sqlite") as store:
        settled = next(m for m in store.messages(offering_id) if m.recipient == lost["email"])
    assert (settled.outcome, settled.msgid) == ("ok", lost["msgid"])
