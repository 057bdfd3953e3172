"""``followup --send moodle`` on the sandbox: a message whose answer was lost is recorded unknown and not
sent again (exit 1 says so); the others go once a day. ``completers`` keeps its numbers on a rerun and
continues the sequence for another offering."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from moodle_sync.sandbox import SandboxServer

from .conftest import EXAMPLES, run, run_json, site_store, small_offering

ROOT = Path(__file__).parents[2]


def _scenario(sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> tuple[str, str]:
    """An applied, selected, enrolled and pulled 2-regency offering with simulated progress: (file, id)."""
    offering_id = f"{name}-{uuid.uuid4().hex[:6]}"
    offering = str(small_offering(tmp_path / offering_id, id=offering_id, category=f"T {offering_id} / Koding"))
    assert run(capsys, "apply", offering, "--yes")[0] == 0
    assert run(capsys, "select", offering, "--applicants", str(EXAMPLES / "registrations.csv"),
               "--output", str(tmp_path / offering_id / "seleksi"), "--no-moodle-history")[0] == 0
    assert run_json(capsys, "enrol", offering, "--yes")[0] == 0
    env = {**os.environ, "MOODLE_URL": sandbox.url, "MOODLE_TOKEN": sandbox.token}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "simulate_progress.py"), offering_id], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert run_json(capsys, "pull", offering_id)[0] == 0
    return offering, offering_id


def test_a_lost_answer_is_recorded_unknown_and_never_resent(sandbox_env: SandboxServer, store_path: Path,
                                                           tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    offering, offering_id = _scenario(sandbox_env, tmp_path, capsys, "fu")
    code, _, err = run(capsys, "followup", offering, "--send", "moodle")     # no one to ask: needs --yes
    assert code == 2 and "add --yes" in err and sandbox_env.control.messages() == []
    code, _, err = run(capsys, "followup", offering, "--send", "moodle", "--json")
    assert code == 2 and "--json needs --yes" in err and sandbox_env.control.messages() == []
    sandbox_env.control.inject_fault("core_message_send_instant_messages", "apply_then_drop")

    code, first = run_json(capsys, "followup", offering, "--send", "moodle", "--yes")

    assert code == 1 and len(first["unknown"]) == 1, first
    assert len(first["sent"]) + len(first["unknown"]) == len(sandbox_env.control.messages())
    code, second = run_json(capsys, "followup", offering, "--send", "moodle", "--yes")
    assert code == 0 and second["sent"] == []
    assert {s["email"] for s in second["skipped"]} == {s["email"] for s in first["sent"] + first["unknown"]}
    assert len(sandbox_env.control.messages()) == len(first["sent"]) + 1    # the lost one landed, once
    with site_store(store_path) as store:     # settled by reading Moodle: it is there, with its id
        records = store.messages(offering_id)
    assert [m.outcome for m in records] == ["ok"] * len(records)
    lost = next(m for m in records if m.recipient == first["unknown"][0]["email"])
    landed = [m["id"] for m in sandbox_env.control.messages() if m["useridto"] == lost.moodle_user_id]
    assert [lost.msgid] == landed and "found in Moodle" in (lost.detail or "")
    code, out, _ = run(capsys, "followup", offering, "--send", "moodle", "--dry-run")
    assert code == 0 and "not sent again today" in out


def test_a_lost_message_moodle_never_stored_is_sent_on_the_rerun(sandbox_env: SandboxServer, store_path: Path,
                                                                  tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    offering, offering_id = _scenario(sandbox_env, tmp_path, capsys, "fn")
    sandbox_env.control.inject_fault("core_message_send_instant_messages", "apply_then_drop")
    code, first = run_json(capsys, "followup", offering, "--send", "moodle", "--yes")
    assert code == 1 and len(first["unknown"]) == 1, first
    moodle = sandbox_env.moodle
    with moodle.lock:                           # as if the request had died before Moodle stored it
        to = next(u.id for u in moodle.state.users if u.email.lower() == first["unknown"][0]["email"])
        moodle.state.delete("messages", next(m for m in moodle.state.messages if m.useridto == to))
    before = len(sandbox_env.control.messages())

    code, second = run_json(capsys, "followup", offering, "--send", "moodle", "--yes")
    assert code == 0 and [s["email"] for s in second["sent"]] == [first["unknown"][0]["email"]], (second["skipped"], second["failed"])
    assert len(sandbox_env.control.messages()) == before + 1
    code, third = run_json(capsys, "followup", offering, "--send", "moodle", "--yes")
    assert code == 0 and third["sent"] == [] and len(sandbox_env.control.messages()) == before + 1
    with site_store(store_path) as store:
        assert {m.outcome for m in store.messages(offering_id)} == {"ok"}


def test_the_sandbox_lists_sent_messages_as_moodle_does(sandbox_env: SandboxServer) -> None:
    from moodle_sync.ws import connect

    moodle = connect(sandbox_env.url, sandbox_env.token)
    try:
        me = moodle.site_info().userid
        to = moodle.create_users([{"username": "fasil1", "firstname": "Rina", "lastname": "K", "password": "Xy!12345678",
                                   "email": "rina@x.id"}]).done[0][1]["id"]
        answer = moodle.send_message(to, "Yth. Rina,\n\nA & B", "c1")
        raw = moodle.call("core_message_get_messages", {"useridto": to, "useridfrom": me, "type": "conversations",
                                                         "read": 2, "newestfirst": 1, "limitfrom": 0, "limitnum": 5})
        listed = moodle.messages_sent(me, to)
    finally:
        moodle.client.close()
    assert set(raw) == {"messages", "warnings"} and set(raw["messages"][0]) == set(LAB_GET_MESSAGES["messages"][0])
    assert [(m.id, m.text) for m in listed] == [(answer.msgid, "Yth. Rina,\n\nA & B")]


# core_message_get_messages as the real 4.5.6 lab answered it (the token user's message to a facilitator).
LAB_GET_MESSAGES: dict[str, Any] = {"messages": [{
    "id": 2, "useridfrom": 3, "useridto": 6, "subject": "New message from moodle_sync Lab",
    "text": "<p>Yth. Agus Setiawan, S.Kom.,<br>\n<br>\nBerikut peserta ...</p>",
    "fullmessage": "Yth. Agus Setiawan, S.Kom.,\n\nBerikut peserta ...", "fullmessageformat": 0, "fullmessagehtml": "",
    "smallmessage": "Yth. Agus Setiawan, S.Kom.,\n\nBerikut peserta ...", "notification": 0, "contexturl": "",
    "contexturlname": "", "timecreated": 1796021541, "timeread": None, "usertofullname": "Agus Setiawan, S.Kom.",
    "userfromfullname": "moodle_sync Lab",
    "customdata": "{\"notificationiconurl\":\"http:\\/\\/127.0.0.1:9080\\/theme\\/image.php\\/boost\\/core\\/1796017210"
                  "\\/u\\/f1\",\"actionbuttons\":{\"send\":\"Send\"},\"placeholders\":{\"send\":\"Write a message...\"},"
                  "\"courseid\":1}"}], "warnings": []}


def test_certificate_numbers_are_stable_and_continue_across_offerings(
        sandbox_env: SandboxServer, store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first_file, _ = _scenario(sandbox_env, tmp_path, capsys, "c1")
    second_file, _ = _scenario(sandbox_env, tmp_path, capsys, "c2")

    code, dry = run_json(capsys, "completers", first_file, "--dry-run")
    assert code == 0 and dry["written"] is None and {c["certificate_number"] for c in dry["completers"]} == {None}
    one = run_json(capsys, "completers", first_file, "--format", "csv", "--csv-delimiter", ";")[1]
    original = Path(second_file).read_text("utf-8")
    document = yaml.safe_load(original)
    document["variables"]["nomor_sertifikat"] = "{seq:04d}/BGTK-LPG/2026"   # no {year}: its own sequence
    Path(second_file).write_text(yaml.safe_dump(document), "utf-8")
    code, _, err = run(capsys, "completers", second_file)
    assert code == 1 and "variables.nomor_sertifikat" in err and "already issued" in err, err
    Path(second_file).write_text(original, "utf-8")
    two = run_json(capsys, "completers", second_file)[1]
    again = run_json(capsys, "completers", first_file)[1]

    def numbers(doc: dict[str, Any]) -> list[int]:
        return [int(c["certificate_number"].split("/")[0]) for c in doc["completers"]]

    assert numbers(one) == list(range(1, len(one["completers"]) + 1))
    assert numbers(two) == list(range(len(one["completers"]) + 1, len(one["completers"]) + len(two["completers"]) + 1))
    assert again["completers"] == one["completers"]
    text = Path(one["written"]).read_text("utf-8-sig")
    assert text.splitlines()[0].startswith("No. Sertifikat;Nama;NUPTK")


def test_schedule_prints_a_weekly_followup_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = run_json(capsys, "schedule", "--followup", "examples/offering-koding.yaml")
    lines = doc["crontab"].splitlines()
    assert code == 0 and len(lines) == 2 and lines[0].endswith("# moodle-sync: completion pull")
    assert lines[1].startswith("0 7 * * 1 ") and "followup " in lines[1] and "--send moodle --yes --quiet" in lines[1]
    assert str(Path("examples/offering-koding.yaml").resolve()) in lines[1]


def _enrolment(sandbox: SandboxServer, offering_id: str, email: str) -> tuple[int, int]:
    """(course id, user id) of ``email``'s student enrolment in the offering, from the sandbox's state."""
    state = sandbox.moodle.state
    with sandbox.moodle.lock:
        for course in state.courses:
            if course.idnumber.startswith(f"{offering_id}-"):
                for e in state.enrolments.find("course", course.id):
                    if 5 in e.roles and state.users.get(e.userid).email.lower() == email:
                        return course.id, e.userid
    raise AssertionError(f"{email} is not enrolled in {offering_id}")


def test_a_completer_whose_grade_is_lowered_keeps_the_number_but_is_named_not_listed(
        sandbox_env: SandboxServer, store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    offering, offering_id = _scenario(sandbox_env, tmp_path, capsys, "lo")
    code, first = run_json(capsys, "completers", offering, "--format", "csv", "--csv-delimiter", ";")
    assert code == 0 and len(first["completers"]) >= 2 and first["no_longer_passing"] == []
    lines = Path(first["written"]).read_text("utf-8-sig").splitlines()
    post = [line.split(";")[10] for line in lines[1:]]
    assert all("," in v and "." not in v for v in post), post     # a decimal comma beside ';' (Indonesian Excel)
    lowered = first["completers"][0]
    sandbox_env.control.set_grade(*_enrolment(sandbox_env, offering_id, lowered["email"]), "posttest", 0.0)
    assert run_json(capsys, "pull", offering_id)[0] == 0

    code, out, err = run(capsys, "completers", offering, "--json")
    again = json.loads(out)
    assert code == 0 and lowered["email"] not in {c["email"] for c in again["completers"]}
    assert again["no_longer_passing"] == [{**again["no_longer_passing"][0], "email": lowered["email"],
                                           "certificate_number": lowered["certificate_number"]}]
    assert again["completers"] == first["completers"][1:]        # the others' numbers unchanged
    assert f"{lowered['email']} holds certificate {lowered['certificate_number']} but no longer passes" in err


def test_dry_runs_on_a_missing_store_write_nothing(sandbox_env: SandboxServer, store_path: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    offering = str(small_offering(tmp_path / "o", id="dry-1", category="T dry / Koding"))
    for command in ("completers", "followup"):
        code, _, err = run(capsys, command, offering, "--dry-run")
        assert code == 1 and "no completion evidence" in err
    assert not store_path.exists() and not store_path.parent.exists()
