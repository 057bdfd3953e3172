"""Password mails: ``core_user_create_users`` with ``createpassword`` mails each new user once, after commit."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from moodle_sync.exceptions import InvalidParameterError, WriteOutcomeUnknownError
from moodle_sync.sandbox.server import SandboxServer
from moodle_sync.ws.transport import MoodleClient

SUBJECT = "BGTK Test Moodle: New user account"


def new_user(i: int, **fields: Any) -> dict[str, Any]:
    return {"username": f"guru{i}", "createpassword": 1, "firstname": "Guru", "lastname": f"G{i}",
            "email": f"guru{i}@guru.belajar.id", **fields}


def test_a_committed_batch_mails_each_new_user_once(sandbox: SandboxServer, client: MoodleClient) -> None:
    with_password = {**new_user(3), "password": "Rahasia#2026"}
    del with_password["createpassword"]
    created = client.call("core_user_create_users", {"users": [new_user(1), new_user(2), with_password]})

    mails = sandbox.control.mails()

    assert [(m["userid"], m["username"], m["to"], m["subject"]) for m in mails] == [
        (created[0]["id"], "guru1", "guru1@guru.belajar.id", SUBJECT),
        (created[1]["id"], "guru2", "guru2@guru.belajar.id", SUBJECT)]
    assert all(m["time"] > 0 for m in mails)


def test_a_refused_batch_mails_nobody(sandbox: SandboxServer, client: MoodleClient) -> None:
    with pytest.raises(InvalidParameterError):
        client.call("core_user_create_users", {"users": [new_user(1), new_user(2, email="not-an-address")]})

    assert sandbox.control.mails() == []
    assert client.call("core_user_get_users_by_field", {"field": "username", "values": ["guru1"]}) == []


def test_a_lost_answer_after_the_commit_has_still_mailed(sandbox: SandboxServer, client: MoodleClient) -> None:
    sandbox.control.inject_fault("core_user_create_users", "apply_then_drop")

    with pytest.raises(WriteOutcomeUnknownError):
        client.call("core_user_create_users", {"users": [new_user(1)]})

    assert [m["username"] for m in sandbox.control.mails()] == ["guru1"]


def test_no_mail_to_a_nologin_account_or_an_invalid_address(sandbox: SandboxServer, client: MoodleClient) -> None:
    client.call("core_user_create_users", {"users": [new_user(1, auth="nologin"),
                                                     new_user(2, email="guru2@sekolah.invalid"), new_user(3)]})

    assert [m["username"] for m in sandbox.control.mails()] == ["guru3"]


def test_mails_are_listed_over_http_and_forgotten_by_reset(sandbox: SandboxServer, client: MoodleClient) -> None:
    client.call("core_user_create_users", {"users": [new_user(1)]})

    listed = requests.get(f"{sandbox.url}/_sandbox/mails", timeout=10).json()["result"]

    assert [(m["to"], m["subject"]) for m in listed] == [("guru1@guru.belajar.id", SUBJECT)]
    assert set(listed[0]) == {"id", "userid", "username", "to", "subject", "time"}
    sandbox.control.reset()
    assert sandbox.control.mails() == []
