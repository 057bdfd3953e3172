"""Users and manual enrolments: ``core_user_*``, ``core_enrol_*`` and ``enrol_manual_*``."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from . import records as r
from .calls import ADMIN_ID, SITE_NAME, Call, course, course_context, enrolment, ws
from .completion import course_completed, is_tracked_user, progress_percent
from .errors import invalid_parameter, missing_record, moodle_error
from .params import clean_param
from .state import State

INTERNAL_AUTHS = ("manual", "email", "none")
ASSIGNABLE_ROLES = (1, 3, 4, 5)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
NEW_PASSWORD_SUBJECT = "New user account"  # lang/en/moodle.php newusernewpasswordsubj
POLICY_RULES: list[tuple[str, Any]] = [
    ("<div>Passwords must be at least 8 characters long.</div>", lambda p: len(p) >= 8),
    ("<div>Passwords must have at least 1 digit(s).</div>", lambda p: any(c.isdigit() for c in p)),
    ("<div>Passwords must have at least 1 lower case letter(s).</div>", lambda p: any(c.islower() for c in p)),
    ("<div>Passwords must have at least 1 upper case letter(s).</div>", lambda p: any(c.isupper() for c in p)),
    ("<div>The password must have at least 1 special character(s) such as *, -, or #.</div>",
     lambda p: any(not c.isalnum() for c in p)),
]


def password_policy_errors(password: str) -> str:
    """The HTML Moodle's ``check_password_policy`` returns: one ``<div>`` per broken rule ("" if none)."""
    return "".join(text for text, ok in POLICY_RULES if not ok(password))


def user_details(call: Call, u: r.User) -> dict[str, Any]:
    """A user as ``core_user_get_users_by_field`` shows it."""
    out: dict[str, Any] = {"id": u.id, "username": u.username, "firstname": u.firstname, "lastname": u.lastname,
                           "fullname": u.fullname, "email": u.email, "department": u.department}
    for key in ("institution", "address", "phone1", "phone2", "city", "country"):
        if getattr(u, key):
            out[key] = getattr(u, key)
    if u.idnumber:  # Moodle leaves an empty idnumber out
        out["idnumber"] = u.idnumber
    out.update({"firstaccess": u.firstaccess, "lastaccess": u.lastaccess, "auth": u.auth,
                "suspended": bool(u.suspended), "confirmed": bool(u.confirmed), "lang": u.lang, "theme": u.theme,
                "timezone": u.timezone, "mailformat": u.mailformat, "trackforums": 0})
    if u.description:
        out.update({"description": u.description, "descriptionformat": 1})
    out.update({"profileimageurlsmall": call.user_picture("f2"), "profileimageurl": call.user_picture("f1")})
    if u.customfields:
        out["customfields"] = [{"type": f.get("type", "text"), "value": str(f.get("value", "")),
                                "displayvalue": str(f.get("value", "")), "name": f.get("type", ""),
                                "shortname": f.get("type", "")} for f in u.customfields]
    return out


@ws("core_user_create_users")
def create_users(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    out = []
    for item in call.records(p["users"]):
        for name in ("username", "firstname", "lastname"):
            if str(item[name]).strip() == "":
                raise invalid_parameter(f"The field {name} cannot be blank")
        if state.users.first("username", item["username"]) is not None:
            raise invalid_parameter(f"Username already exists: {item['username']}")
        auth = item["auth"]
        if auth in ("", "mnet", "webservice"):
            raise invalid_parameter(f"Invalid authentication type: {auth}")
        if item["lang"] not in ("en", "id"):
            raise invalid_parameter(f"Invalid language code: {item['lang']}")
        password = item.get("password") or ""
        create_password = bool(item.get("createpassword"))
        if auth in INTERNAL_AUTHS and not password and not create_password:
            raise invalid_parameter("Invalid password: you must provide a password, or set createpassword.")
        email = item["email"]
        if not _EMAIL.fullmatch(email):
            raise invalid_parameter(f"Email address is invalid: {email}")
        if any(not u.deleted for u in state.users.find("email", email.lower())):
            raise invalid_parameter(f"Email address already exists: {email}")
        stored = ""
        if auth in INTERNAL_AUTHS and not create_password:
            policy = password_policy_errors(password)
            if policy:
                raise moodle_error(policy, f"error/{policy}")
            stored = hashlib.sha256(password.encode()).hexdigest()
        fields = {k: item[k] for k in ("maildisplay", "city", "country", "timezone", "description", "institution",
                                       "department", "phone1", "phone2", "address", "theme", "mailformat",
                                       "calendartype") if item.get(k) is not None}
        row = state.insert("users", r.User(
            id=0, username=item["username"], firstname=item["firstname"], lastname=item["lastname"], email=email,
            idnumber=item["idnumber"], auth=auth, password=stored, lang=item["lang"], timecreated=call.now,
            timemodified=call.now, customfields=list(item.get("customfields") or []), **fields))
        if create_password:
            _queue_password_mail(call, row)
        out.append({"id": row.id, "username": row.username})
    return out


def _queue_password_mail(call: Call, u: r.User) -> None:
    """``setnew_password_and_mail``, which Moodle runs for each new user after the batch committed.

    ``email_to_user`` quietly sends nothing to a ``nologin`` account or an address ending in ``.invalid``.
    """
    if u.auth == "nologin" or u.email.endswith(".invalid"):
        return
    call.outbox.append(r.Mail(id=0, userid=u.id, username=u.username, to=u.email,
                              subject=f"{SITE_NAME}: {NEW_PASSWORD_SUBJECT}", time=call.now))


_FIELD_TYPES = {"id": "int", "idnumber": "raw", "username": "username", "email": "raw_trimmed"}


@ws("core_user_get_users_by_field")
def get_users_by_field(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    field = p["field"]
    if field not in _FIELD_TYPES:
        raise invalid_parameter(f"Field not allowed: {field}")
    found: dict[int, r.User] = {}
    for raw in p["values"]:
        value = clean_param(str(raw), _FIELD_TYPES[field])
        if field == "id":
            candidates = [state.users.get(value)] if isinstance(value, int) else []
        elif field == "email":
            candidates = [u for u in state.users.find("email", str(value).lower()) if u.email == value]
        else:
            candidates = state.users.find(field, value)
        for u in candidates:
            if u is not None and not u.deleted:
                found[u.id] = u
    return [user_details(call, found[i]) for i in sorted(found)]


@ws("core_user_delete_users")
def delete_users(call: Call, p: dict[str, Any]) -> None:
    state = call.state
    for userid in p["userids"]:
        u = state.users.get(userid)
        if u is None or u.deleted:
            raise missing_record("user")
        if u.id == ADMIN_ID:
            raise moodle_error("useradminodelete", "Administrator accounts cannot be deleted")
        delete_user(state, u, call.now)


def delete_user(state: State, u: r.User, now: int) -> None:
    """Moodle's ``delete_user``: keep the row, flag it deleted, free username/email/idnumber, unenrol."""
    delname = clean_param(f"{u.email}.{now}", "username")
    while state.users.first("username", delname) is not None:
        delname = _increment(delname)
    for e in state.enrolments.find("user", u.id):
        unenrol(state, e)
    for grade in list(state.grades):
        if grade.userid == u.id:
            state.delete("grades", grade)
    state.update("users", u, deleted=1, username=delname, email=hashlib.md5(u.username.encode()).hexdigest(),
                 idnumber="", timemodified=now)


def _increment(name: str) -> str:
    """PHP's ``$string++``: "a.1" becomes "a.2", "a.9" becomes "a.10"."""
    match = re.search(r"(\d+)$", name)
    if match is None:
        return name + "1"
    return name[:match.start()] + str(int(match.group(1)) + 1)


def unenrol(state: State, e: r.Enrolment) -> None:
    """Remove an enrolment with the user's memberships of the course's groups."""
    for m in state.group_members.find("user", e.userid):
        group = state.groups.get(m.groupid)
        if group is not None and group.courseid == e.courseid:
            state.delete("group_members", m)
    state.delete("enrolments", e)


@ws("enrol_manual_enrol_users")
def enrol_users(call: Call, p: dict[str, Any]) -> None:
    state = call.state
    for item in call.records(p["enrolments"]):
        crs = course_context(state, item["courseid"])
        if item["roleid"] not in ASSIGNABLE_ROLES:
            raise moodle_error("wsusercannotassign", f"You don't have the permission to assign this role "
                               f"({item['roleid']}) to this user ({item['userid']}) in this course ({crs.id}).")
        u = state.users.get(item["userid"])
        if u is None or u.deleted:
            raise invalid_parameter(f"User id not exist: {item['userid']}")
        status = 1 if item.get("suspend") else 0
        existing = enrolment(state, crs.id, u.id)
        if existing is None:
            state.insert("enrolments", r.Enrolment(id=0, courseid=crs.id, userid=u.id, roles=[item["roleid"]],
                                                   status=status, timestart=item.get("timestart") or 0,
                                                   timeend=item.get("timeend") or 0, timecreated=call.now))
        else:
            roles = existing.roles if item["roleid"] in existing.roles else [*existing.roles, item["roleid"]]
            state.update("enrolments", existing, roles=roles, status=status,
                         timestart=item.get("timestart", existing.timestart) or 0,
                         timeend=item.get("timeend", existing.timeend) or 0)


@ws("enrol_manual_unenrol_users")
def unenrol_users(call: Call, p: dict[str, Any]) -> None:
    state = call.state
    for item in call.records(p["enrolments"]):
        crs = course_context(state, item["courseid"])
        u = state.users.get(item["userid"])
        if u is None:
            raise invalid_parameter(f"User id not exist: {item['userid']}")
        roleid = item.get("roleid")
        if roleid is not None and roleid not in ASSIGNABLE_ROLES:
            raise moodle_error("wsusercannotassign", f"You don't have the permission to assign this role "
                               f"({roleid}) to this user ({u.id}) in this course ({crs.id}).")
        existing = enrolment(state, crs.id, u.id)
        if existing is not None:
            unenrol(state, existing)


def _enrolled_user(call: Call, u: r.User, e: r.Enrolment, fields: set[str] | None) -> dict[str, Any]:
    state = call.state
    access = state.course_access.first("course_user", (e.courseid, u.id))
    out: dict[str, Any] = {"id": u.id, "username": u.username, "firstname": u.firstname, "lastname": u.lastname,
                           "fullname": u.fullname, "email": u.email, "department": u.department,
                           **({"idnumber": u.idnumber} if u.idnumber else {}),
                           "firstaccess": u.firstaccess, "lastaccess": u.lastaccess,
                           "lastcourseaccess": access.timeaccess if access else 0,
                           "profileimageurlsmall": call.user_picture("f2"),
                           "profileimageurl": call.user_picture("f1")}
    groups = []
    for m in state.group_members.find("user", u.id):
        g = state.groups.get(m.groupid)
        if g is not None and g.courseid == e.courseid:
            groups.append({"id": g.id, "name": g.name, "description": g.description,
                           "descriptionformat": g.descriptionformat})
    if groups:
        out["groups"] = groups
    out["roles"] = [{"roleid": rid, "name": "", "shortname": r.ROLE_SHORTNAMES.get(rid, "student"),
                     "sortorder": 0} for rid in e.roles]
    courses = []
    for other in state.enrolments.find("user", u.id):
        c = state.courses.get(other.courseid)
        if c is not None:
            courses.append({"id": c.id, "fullname": c.fullname, "shortname": c.shortname})
    out["enrolledcourses"] = courses
    if fields is not None:
        out = {k: v for k, v in out.items() if k in fields or k in ("id", "fullname")}
    return out


@ws("core_enrol_get_enrolled_users")
def get_enrolled_users(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    crs = course(state, p["courseid"])
    opts = {o["name"]: str(o["value"]) for o in p["options"]}
    onlyactive = opts.get("onlyactive", "0") not in ("", "0")
    onlysuspended = opts.get("onlysuspended", "0") not in ("", "0")
    groupid = _int(opts.get("groupid", "0"))
    limitfrom, limitnumber = max(0, _int(opts.get("limitfrom", "0"))), max(0, _int(opts.get("limitnumber", "0")))
    fields = ({f.strip() for f in opts["userfields"].split(",") if f.strip()} if "userfields" in opts else None)
    members = {m.userid for m in state.group_members.find("group", groupid)} if groupid else None
    rows = []
    for e in state.enrolments.find("course", crs.id):
        if (onlyactive and e.status != 0) or (onlysuspended and e.status == 0):
            continue
        if members is not None and e.userid not in members:
            continue
        u = state.users.get(e.userid)
        if u is None or u.deleted:
            continue
        rows.append((u, e))
    sortby = opts.get("sortby", "id")
    key = {"firstname": lambda x: (x[0].firstname, x[0].id), "lastname": lambda x: (x[0].lastname, x[0].id),
           "siteorder": lambda x: x[0].id}.get(sortby, lambda x: x[0].id)
    rows.sort(key=key, reverse=opts.get("sortdirection", "ASC").upper() == "DESC")
    if limitnumber:
        rows = rows[limitfrom:limitfrom + limitnumber]
    elif limitfrom:
        rows = rows[limitfrom:]
    return [_enrolled_user(call, u, e, fields) for u, e in rows]


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return 0


@ws("core_enrol_get_users_courses")
def get_users_courses(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    u = state.users.get(p["userid"])
    if u is None or u.deleted:
        raise missing_record("user")
    out = []
    for e in sorted(state.enrolments.find("user", u.id), key=lambda x: x.courseid):
        if e.status != 0:
            continue
        c = course(state, e.courseid)
        access = state.course_access.first("course_user", (c.id, u.id))
        item: dict[str, Any] = {"id": c.id, "shortname": c.shortname, "fullname": c.fullname,
                                "displayname": c.fullname}
        if p["returnusercount"]:
            item["enrolledusercount"] = state.enrolments.count("course", c.id)
        item.update({
            "idnumber": c.idnumber, "visible": c.visible, "summary": c.summary, "summaryformat": c.summaryformat,
            "format": c.format, "courseimage": call.url(f"/pluginfile.php/{c.id + 9}/course/generated/course.svg"),
            "showgrades": bool(c.showgrades), "lang": c.lang, "enablecompletion": bool(c.enablecompletion),
            "completionhascriteria": bool(c.criteria),
            "completionusertracked": is_tracked_user(state, c.id, u.id), "category": c.category,
            "progress": progress_percent(state, c.id, u.id), "completed": course_completed(state, c.id, u.id)
            is not None, "startdate": c.startdate, "enddate": c.enddate, "marker": 0,
            "lastaccess": access.timeaccess if access else None, "isfavourite": False, "hidden": False,
            "overviewfiles": [], "showactivitydates": True, "showcompletionconditions": True,
            "timemodified": c.timemodified,
        })
        out.append(item)
    return out


_SEARCH_TYPES = {"id": "int", "idnumber": "raw", "username": "username", "email": "raw_trimmed", "auth": "plugin",
                 "lastname": "notags", "firstname": "notags"}


def _like(pattern: str) -> re.Pattern[str]:
    r"""Moodle's ``sql_like(..., casesensitive=false)``: ``%`` any run, ``_`` any one character, ``\`` escapes."""
    out, chars = [], iter(pattern)
    for ch in chars:
        if ch == "\\":
            out.append(re.escape(next(chars, "\\")))
        else:
            out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


@ws("core_user_get_users")
def get_users(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    """User search: criteria ANDed; e-mail and names compared as a case-insensitive LIKE, the rest exactly;
    an unknown key is a warning; deleted users are never found."""
    users = [u for u in call.state.users if not u.deleted]
    warnings, used = [], set()
    for criterion in p["criteria"]:
        key = criterion["key"]
        if key in used:
            raise moodle_error("keyalreadyset", f"The key {key} can only be sent once")
        used.add(key)
        if key not in _SEARCH_TYPES:
            warnings.append({"item": key, "warningcode": "invalidfieldparameter",
                             "message": f"The search key '{key}' is not supported, look at the web service "
                                        "documentation"})
            continue
        value = clean_param(str(criterion["value"]), _SEARCH_TYPES[key])
        if key in ("email", "lastname", "firstname"):
            match = _like(str(value))
            users = [u for u in users if match.fullmatch(getattr(u, key) or "")]
        else:
            users = [u for u in users if str(getattr(u, key)) == str(value)]
    return {"users": [user_details(call, u) for u in sorted(users, key=lambda u: u.id)], "warnings": warnings}
