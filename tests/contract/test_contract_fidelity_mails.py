"""Password mails: ``core_user_create_users`` with ``createpassword`` mails each new user once, and only
once the batch committed (``core_user_external::create_users`` calls ``setnew_password_and_mail`` after
``allow_commit``). On the sandbox the mails are read from its controls; on the lab from the folder its mail
catcher writes (``MOODLE_LAB_MAILDIR``, one ``*.eml`` per mail, envelope recipients as ``X-Lab-Rcpt-To``).
"""

from __future__ import annotations

import time
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.exceptions import InvalidParameterError, WriteOutcomeUnknownError

from .conftest import REAL_MOODLE_LAB_MAILDIR, Site

pytestmark = pytest.mark.contract

SUBJECT_END = ": New user account"  # "<site full name>: " + lang/en/moodle.php newusernewpasswordsubj


class Mailbox:
    """What the target has mailed so far: recipient address -> subjects, read afresh on every look."""

    def __init__(self, site: Site) -> None:
        self.site = site
        if site.target == "real" and not REAL_MOODLE_LAB_MAILDIR:
            pytest.skip("set MOODLE_LAB_MAILDIR (the lab's mail catcher folder) to count mails on the real site")

    def subjects(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if self.site.target == "sandbox":
            for mail in self.site.sandbox.control.mails():
                out.setdefault(mail["to"].lower(), []).append(mail["subject"])
            return out
        assert REAL_MOODLE_LAB_MAILDIR
        for path in sorted(Path(REAL_MOODLE_LAB_MAILDIR).glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            for rcpt in message.get_all("X-Lab-Rcpt-To") or []:
                out.setdefault(str(rcpt).strip().lower(), []).append(str(message["Subject"] or ""))
        return out

    def counts(self, addresses: list[str]) -> Counter[str]:
        seen = self.subjects()
        return Counter({a: len(seen.get(a.lower(), [])) for a in addresses})


def _records(site: Site, count: int, *, first: int = 0) -> list[dict[str, Any]]:
    """New users who get a generated password (and so a mail), without a password of their own."""
    records = site.user_records(count, first=first)
    for record in records:
        del record["password"]
        record["createpassword"] = 1
    return records


def test_a_committed_batch_mails_each_new_user_exactly_once(site: Site) -> None:
    mailbox = Mailbox(site)
    generated = _records(site, 2)
    own_password = site.user_records(1, first=2)
    addresses = [u["email"] for u in generated + own_password]
    before = mailbox.counts(addresses)

    site.moodle.call("core_user_create_users", {"users": generated + own_password})

    after = mailbox.counts(addresses)
    assert {a: after[a] - before[a] for a in addresses} == {generated[0]["email"]: 1, generated[1]["email"]: 1,
                                                            own_password[0]["email"]: 0}
    subjects = mailbox.subjects()[generated[0]["email"].lower()]
    assert subjects[-1].endswith(SUBJECT_END)


def test_a_refused_batch_mails_nobody(site: Site) -> None:
    mailbox = Mailbox(site)
    good, bad = _records(site, 2)
    bad["email"] = "not-an-address"
    before = mailbox.counts([good["email"]])

    with pytest.raises(InvalidParameterError):
        site.moodle.call("core_user_create_users", {"users": [good, bad]})

    assert mailbox.counts([good["email"]]) == before
    assert site.moodle.users_by_field("username", [good["username"]]) == []


def test_a_lost_answer_after_the_commit_has_still_mailed(site: Site) -> None:
    """On the sandbox a fault drops the answer after the commit; on a real site the client gives up long
    before Moodle answers (PHP keeps working: it writes nothing to the client until the end)."""
    mailbox = Mailbox(site)
    [record] = _records(site, 1)
    if site.target == "real":
        client = site.connect(timeout=0.001)
    else:
        client = site.moodle
        site.sandbox.control.inject_fault("core_user_create_users", "apply_then_drop")

    with pytest.raises(WriteOutcomeUnknownError):
        client.call("core_user_create_users", {"users": [record]})

    deadline = time.monotonic() + 60
    while mailbox.counts([record["email"]])[record["email"]] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert site.moodle.users_by_field("username", [record["username"]]), "the create did not land"
    assert mailbox.counts([record["email"]])[record["email"]] == 1
