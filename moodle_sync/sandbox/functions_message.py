"""``core_message_send_instant_messages``: private messages, as message/externallib.php answers them.

Per message, in Moodle's order: the recipient must exist (not deleted), the text must fit
``MESSAGE_MAX_LENGTH`` bytes, and the sender must be allowed to contact the recipient
(``core_message\\api::can_send_message``: ``moodle/site:readallmessages`` or ``moodle/site:messageanyuser``,
or a course both are enrolled in — the default "course members" privacy preference). A refused message
answers ``msgid`` -1 with an ``errormessage``; a sent one its id, time, conversation, sender and text.
Messaging is on (``$CFG->messaging``, as the site info's advanced features say).

``core_message_get_messages`` lists them back as message/externallib.php get_messages does: only to the
sender, the recipient or a user with ``moodle/site:readallmessages``; ``smallmessage`` is the text as
sent. The sandbox keeps no read times: every message is unread (``read`` 1 lists none, 0 and 2 all).
"""

from __future__ import annotations

import html
from typing import Any

from . import records as r
from .calls import Call, ws
from .capabilities import has_capability
from .errors import invalid_parameter, missing_record, moodle_error

MESSAGE_MAX_LENGTH = 4096


def _shares_course(call: Call, a: int, b: int) -> bool:
    mine = {e.courseid for e in call.state.enrolments.find("user", a) if e.status == 0}
    return any(e.courseid in mine and e.status == 0 for e in call.state.enrolments.find("user", b))


def _refusal(call: Call, touserid: int, text: str) -> str | None:
    """Why Moodle would not send this message, in its words; None: it sends it."""
    user = call.state.users.get(touserid)
    if user is None or user.deleted:
        return f"You cannot send a message to a user ID ({touserid}) that doesn't exist."
    if len(text.encode("utf-8")) > MESSAGE_MAX_LENGTH:
        return "The message is longer than the maximum allowed."
    reachable = (touserid == call.userid
                 or any(has_capability(call.state, call.userid, c)
                        for c in ("moodle/site:readallmessages", "moodle/site:messageanyuser"))
                 or _shares_course(call, call.userid, touserid))
    if not reachable:
        return "You can't message this user due to their message preferences. Try adding them as a contact."
    return None


def _conversation(call: Call, a: int, b: int) -> int:
    key = f"conversation:{min(a, b)}:{max(a, b)}"
    found = call.state.counters.get(key)
    if found is None:
        found = call.state.counter("conversations")
        call.state.counters[key] = found
    return found


def _shown(text: str, textformat: int) -> str:
    """The text as message_format_message_text gives it back, roughly: a paragraph, line breaks as <br>,
    plain text (FORMAT_PLAIN, 2) escaped. (Moodle also cleans HTML and links URLs in FORMAT_MOODLE.)"""
    if textformat == 1:
        return text
    shown = html.escape(text, quote=False) if textformat == 2 else text
    return "<p>" + shown.replace("\n", "<br>\n") + "</p>"


@ws("core_message_send_instant_messages")
def send_instant_messages(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for message in call.records(p["messages"]):
        result: dict[str, Any] = {}
        if "clientmsgid" in message:
            result["clientmsgid"] = message["clientmsgid"]
        refusal = _refusal(call, message["touserid"], message["text"])
        if refusal is not None:
            out.append({**result, "msgid": -1, "errormessage": refusal, "candeletemessagesforallusers": False})
            continue
        row = call.state.insert("messages", r.Message(
            id=0, useridfrom=call.userid, useridto=message["touserid"], text=message["text"],
            textformat=int(message.get("textformat", 1)), time=call.now))
        out.append({**result, "msgid": row.id, "timecreated": call.now,
                    "candeletemessagesforallusers": has_capability(call.state, call.userid,
                                                                   "moodle/site:deleteanymessage"),
                    "conversationid": _conversation(call, call.userid, row.useridto), "useridfrom": call.userid,
                    "text": _shown(row.text, row.textformat)})
    return out


def _listed(call: Call, m: r.Message) -> dict[str, Any]:
    """One message as get_messages answers it (a private message, never a notification)."""
    users = call.state.users
    sender, recipient = users.get(m.useridfrom), users.get(m.useridto)
    return {"id": m.id, "useridfrom": m.useridfrom, "useridto": m.useridto,
            "subject": f"New message from {sender.fullname if sender else ''}", "text": _shown(m.text, m.textformat),
            "fullmessage": m.text, "fullmessageformat": m.textformat,
            "fullmessagehtml": m.text if m.textformat == 1 else "", "smallmessage": m.text, "notification": 0,
            "contexturl": "", "contexturlname": "", "timecreated": m.time, "timeread": None,
            "usertofullname": recipient.fullname if recipient else "",
            "userfromfullname": sender.fullname if sender else "", "customdata": "{\"courseid\":1}"}


@ws("core_message_get_messages")
def get_messages(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    to, sender, read = p["useridto"], p["useridfrom"], p["read"]
    if p["type"] not in ("notifications", "conversations", "both"):
        raise invalid_parameter(f"Invalid value for type parameter (value: {p['type']}),allowed values are: "
                                "notifications,conversations,both")
    for userid in (u for u in (to, sender) if u):
        if userid > 0 and call.state.users.get(userid) is None:
            raise missing_record("user")
    if to != call.userid and sender != call.userid and not has_capability(
            call.state, call.userid, "moodle/site:readallmessages"):
        raise moodle_error("accessdenied", "Access denied")
    found = [] if p["type"] == "notifications" or read == 1 else [
        m for m in call.state.messages if (not to or m.useridto == to) and (not sender or m.useridfrom == sender)]
    found.sort(key=lambda m: (m.time, m.id), reverse=bool(p["newestfirst"]))
    start = p["limitfrom"]
    found = found[start:start + p["limitnum"]] if p["limitnum"] else found[start:]
    return {"messages": [_listed(call, m) for m in found], "warnings": []}
