"""``core_enrol_get_enrolled_users_with_capability`` for the site (``courseid`` 1): who holds a capability.

As ``core_enrol_external::get_enrolled_users_with_capability`` in Moodle 4.5.6 (enrol/externallib.php):
an empty ``coursecapabilities`` is an invalid parameter; for the site the context is the system, the
caller needs ``moodle/site:viewparticipants`` or ``moodle/course:enrolreview`` (the latter always with
``onlyactive``) and ``moodle/role:review``; every user is "enrolled" on the front page, so each capability lists the users
holding it at system level (ordered by id, ``limitfrom``/``limitnumber`` per capability), shown as
``user_get_user_details`` shows them to an admin. Other courses are not modelled by the sandbox.
"""

from __future__ import annotations

from typing import Any

from . import records as r
from .calls import SITE_COURSE_ID, Call, ws
from .capabilities import has_capability, require_capabilities, users_with_capability
from .errors import invalid_parameter, missing_record, moodle_error
from .functions_user import _int  # the option values' integer reading, as core_enrol_get_enrolled_users
from .params import clean_param

# user_get_default_fields(): what the userfields option may name
USER_FIELDS = ("id", "username", "fullname", "firstname", "lastname", "email", "address", "phone1", "phone2",
               "department", "institution", "interests", "firstaccess", "lastaccess", "auth", "confirmed",
               "idnumber", "lang", "theme", "timezone", "mailformat", "description", "descriptionformat", "city",
               "country", "profileimageurlsmall", "profileimageurl", "customfields", "groups", "roles",
               "preferences", "enrolledcourses", "suspended", "lastcourseaccess", "trackforums")


@ws("core_enrol_get_enrolled_users_with_capability")
def get_enrolled_users_with_capability(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    if not p["coursecapabilities"]:
        raise invalid_parameter("Parameter can not be empty")
    options = _options(p["options"])
    out = []
    for item in p["coursecapabilities"]:
        courseid = item["courseid"]
        if courseid != SITE_COURSE_ID:
            if call.state.courses.get(courseid) is None:
                raise missing_record("course")
            raise moodle_error("sandboxnotimplemented", "The moodle_sync sandbox answers "
                               "core_enrol_get_enrolled_users_with_capability only for the site (courseid 1)")
        _require_listing_rights(call, options["onlyactive"])
        for capability in item["capabilities"]:
            users = users_with_capability(call.state, capability)
            start, count = options["limitfrom"], options["limitnumber"]
            users = users[start:start + count] if count > 0 else users[start:]
            out.append({"courseid": courseid, "capability": capability,
                        "users": [_site_user_details(call, u, options["userfields"]) for u in users]})
    return out


def _require_listing_rights(call: Call, onlyactive: bool) -> None:
    """``course_require_view_participants`` at system level (viewing participants or reviewing enrolments),
    ``moodle/course:enrolreview`` for ``onlyactive``, then ``moodle/role:review``."""
    state, userid = call.state, call.userid
    view = ("moodle/site:viewparticipants", "moodle/course:enrolreview")
    if not any(has_capability(state, userid, c) for c in view):
        require_capabilities(state, userid, [view[0]])
    if onlyactive:
        require_capabilities(state, userid, [view[1]])
    require_capabilities(state, userid, ["moodle/role:review"])


def _options(given: list[dict[str, Any]]) -> dict[str, Any]:
    """The recognised options (others are ignored, as in Moodle); a bad user field is Moodle's error."""
    options: dict[str, Any] = {"onlyactive": False, "userfields": [], "limitfrom": 0, "limitnumber": 0}
    for option in given:
        name, value = option["name"], str(option["value"] if option["value"] is not None else "")
        if name == "onlyactive":
            options["onlyactive"] = value not in ("", "0")
        elif name == "userfields":
            options["userfields"] = [clean_param(f, "alphanumext") for f in value.split(",")]
        elif name in ("limitfrom", "limitnumber"):
            options[name] = max(0, _int(value))
    for field in options["userfields"]:
        if field not in USER_FIELDS:
            raise moodle_error("invaliduserfield", f"Invalid user field: {field}")
    return options


def _site_user_details(call: Call, u: r.User, fields: list[str]) -> dict[str, Any]:
    """``user_get_user_details`` for the front page course, seen by an admin, in the answer's key order."""
    state = call.state
    out: dict[str, Any] = {"id": u.id, "username": u.username, "firstname": u.firstname, "lastname": u.lastname,
                           "fullname": u.fullname, "email": u.email}
    for key in ("address", "phone1", "phone2"):
        if getattr(u, key):
            out[key] = getattr(u, key)
    out["department"] = u.department
    if u.institution:
        out["institution"] = u.institution
    out.update({"firstaccess": u.firstaccess, "lastaccess": u.lastaccess, "lastcourseaccess": 0})
    if u.description:
        out.update({"description": u.description, "descriptionformat": 1})
    for key in ("city", "country"):
        if getattr(u, key):
            out[key] = getattr(u, key)
    out.update({"profileimageurlsmall": call.user_picture("f2"), "profileimageurl": call.user_picture("f1")})
    out["roles"] = []  # roles held in the front page course's own context: none
    courses: list[r.Course] = []
    for e in state.enrolments.find("user", u.id):
        c = state.courses.get(e.courseid)
        if c is not None and e.status == 0:  # enrol_get_users_courses($userid, true)
            courses.append(c)
    courses.sort(key=lambda c: (-c.visible, c.sortorder))
    if courses:
        out["enrolledcourses"] = [{"id": c.id, "fullname": c.fullname, "shortname": c.shortname} for c in courses]
    if fields:
        out = {k: v for k, v in out.items() if k in fields or k in ("id", "fullname")}
    return out
