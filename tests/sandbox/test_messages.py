"""``core_message_send_instant_messages``: the real answer shape per message, Moodle's refusals, and the
messages the site delivered listed under /_sandbox/messages."""

from __future__ import annotations

import pytest
import requests

from moodle_sync.exceptions import WriteOutcomeUnknownError
from moodle_sync.sandbox.server import SandboxServer
from moodle_sync.ws.moodle import Moodle
from moodle_sync.ws.signatures import check_params, load_signatures
from moodle_sync.ws.transport import MoodleClient

from .conftest import post
from .test_mails import new_user


def _user(client: MoodleClient, i: int) -> int:
    return int(client.call("core_user_create_users", {"users": [new_user(i)]})[0]["id"])


def _keys(desc: dict) -> set[str]:  # type: ignore[type-arg]
    return set(desc["content"]["keys"])


def test_a_sent_message_answers_moodles_keys_and_is_listed(sandbox: SandboxServer, client: MoodleClient) -> None:
    to = _user(client, 1)
    params = {"messages": [{"touserid": to, "text": "Halo\n<b>Bu</b>", "textformat": 0, "clientmsgid": "m1"}]}
    check_params("core_message_send_instant_messages", params)

    answer = client.call("core_message_send_instant_messages", params)

    returns = load_signatures()["core_message_send_instant_messages"]["returns_desc"]
    assert set(answer[0]) <= _keys(returns)
    assert answer[0]["msgid"] > 0 and answer[0]["clientmsgid"] == "m1" and answer[0]["useridfrom"] == 2
    assert answer[0]["text"] == "<p>Halo<br>\n<b>Bu</b></p>"
    listed = requests.get(sandbox.url + "/_sandbox/messages", timeout=5).json()["result"]
    assert [(m["id"], m["useridto"], m["text"]) for m in listed] == [(answer[0]["msgid"], to, "Halo\n<b>Bu</b>")]


def test_refused_messages_answer_minus_one_with_moodles_error(sandbox: SandboxServer, client: MoodleClient) -> None:
    to = _user(client, 1)
    answer = client.call("core_message_send_instant_messages", {"messages": [
        {"touserid": 99999, "text": "x"}, {"touserid": to, "text": "x" * 4097}, {"touserid": to, "text": "ok"}]})

    assert [a["msgid"] for a in answer[:2]] == [-1, -1]
    assert answer[0]["errormessage"] == "You cannot send a message to a user ID (99999) that doesn't exist."
    assert answer[0]["candeletemessagesforallusers"] is False   # as the lab answers a refused message
    assert answer[1]["errormessage"] == "The message is longer than the maximum allowed."
    assert answer[2]["msgid"] > 0
    assert len(sandbox.control.messages()) == 1


def test_without_messageanyuser_only_course_peers_can_be_messaged(sandbox: SandboxServer,
                                                                   client: MoodleClient) -> None:
    to = _user(client, 1)
    token = sandbox.control.make_token(["core_message_send_instant_messages"],
                                       lacking=["moodle/site:messageanyuser", "moodle/site:readallmessages"])
    refused = post(sandbox, "core_message_send_instant_messages", {"messages": [{"touserid": to, "text": "x"}]},
                   token=token)
    assert refused[0]["msgid"] == -1 and "message preferences" in refused[0]["errormessage"]
    lacking_send = sandbox.control.make_token(["core_message_send_instant_messages"],
                                              lacking=["moodle/site:sendmessage"])
    denied = post(sandbox, "core_message_send_instant_messages", {"messages": [{"touserid": to, "text": "x"}]},
                  token=lacking_send)
    assert denied["errorcode"] == "nopermissions"


def test_moodle_send_message_reads_the_answer(sandbox: SandboxServer, client: MoodleClient) -> None:
    to = _user(client, 1)
    moodle = Moodle(client)
    sent = moodle.send_message(to, "Halo", "f1")
    assert sent.sent and sent.msgid == sandbox.control.messages()[0]["id"]
    refused = moodle.send_message(99999, "Halo")
    assert not refused.sent and "doesn't exist" in (refused.error or "")
    sandbox.control.inject_fault("core_message_send_instant_messages", "apply_then_drop")
    with pytest.raises(WriteOutcomeUnknownError):
        moodle.send_message(to, "lost")
    assert [m["text"] for m in sandbox.control.messages()] == ["Halo", "lost"]
