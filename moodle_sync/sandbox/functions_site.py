"""``core_webservice_get_site_info`` and the custom-report functions (``core_reportbuilder_*``)."""

from __future__ import annotations

from typing import Any

from . import records as r
from .calls import ADMIN_ID, SITE_NAME, Call, userdate, ws
from .completion import course_completed, progress_percent
from .content import tracked_modules
from .errors import invalid_parameter, missing_record
from .grades import course_total, format_float

RELEASE = "4.5.6 (Build: 20250811)"
VERSION = "2024100706"
PLUGIN_VERSIONS = {"enrol_manual_enrol_users": "2024100700", "enrol_manual_unenrol_users": "2024100700"}
ADVANCED_FEATURES = [("usecomments", 1), ("usetags", 1), ("enablenotes", 1), ("messaging", 1), ("enableblogs", 1),
                     ("enablecompletion", 1), ("enablebadges", 1), ("messagingallusers", 0),
                     ("enablecustomreports", 1), ("enableglobalsearch", 0), ("mnet_dispatcher_mode", 0),
                     ("enablecompetencies", 1)]
REPORT_HEADERS = ["Course full name with link", "Full name with link", "Name", "Course short name",
                  "Course ID number", "Username", "Email address", "ID number", "Completed", "Student progress",
                  "Time started", "Time completed", "Grade", "Last access to course", "Time started", "Role name"]


@ws("core_webservice_get_site_info")
def get_site_info(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    u = state.users.rows[call.userid]
    token = next((t for t in state.tokens if t.userid == call.userid and t.token == call.token), None)
    functions = token.functions if token else []
    return {
        "sitename": SITE_NAME, "username": u.username, "firstname": u.firstname, "lastname": u.lastname,
        "fullname": u.fullname, "lang": u.lang, "userid": u.id, "siteurl": call.base_url,
        "userpictureurl": call.user_picture("f1"),
        "functions": [{"name": f, "version": PLUGIN_VERSIONS.get(f, VERSION)} for f in functions],
        "downloadfiles": 1, "uploadfiles": 1, "release": RELEASE, "version": VERSION, "mobilecssurl": "",
        "advancedfeatures": [{"name": n, "value": v} for n, v in ADVANCED_FEATURES],
        "usercanmanageownfiles": True, "userquota": 0, "usermaxuploadfilesize": -1, "userhomepage": 1,
        "userprivateaccesskey": "0123456789abcdef0123456789abcdef", "siteid": 1, "sitecalendartype": "gregorian",
        "usercalendartype": "gregorian", "userissiteadmin": u.id == ADMIN_ID, "theme": "boost",
        "limitconcurrentlogins": 0, "policyagreed": 0,
    }


def _report_details(call: Call, report: r.Report) -> dict[str, Any]:
    admin = call.state.users.rows[ADMIN_ID]
    return {
        "name": report.name, "source": report.source, "type": 0, "uniquerows": False,
        "conditiondata": report.conditiondata, "settingsdata": None, "contextid": 1, "component": "", "area": "",
        "itemid": 0, "usercreated": report.usercreated, "id": report.id, "timecreated": report.timecreated,
        "timemodified": report.timecreated, "usermodified": report.usercreated, "sourcename": "Course participants",
        "tags": [],
        "modifiedby": {"id": admin.id, "email": admin.email, "idnumber": admin.idnumber, "phone1": admin.phone1,
                       "phone2": admin.phone2, "department": admin.department, "institution": admin.institution,
                       "fullname": admin.fullname, "identity": admin.email,
                       "profileurl": call.url(f"/user/profile.php?id={admin.id}"),
                       "profileimageurl": call.user_picture("f1"), "profileimageurlsmall": call.user_picture("f2")},
    }


def participant_rows(call: Call) -> list[list[str]]:
    """Every active enrolment in every course, formatted for display like the participants report."""
    state = call.state
    rows: list[tuple[tuple[Any, ...], list[str]]] = []
    tracked: dict[int, list[r.Module]] = {}
    for e in state.enrolments:
        if e.status != 0:
            continue
        c = state.courses.get(e.courseid)
        u = state.users.get(e.userid)
        if c is None or u is None or u.deleted:
            continue
        completion = state.course_completions.first("course_user", (c.id, u.id))
        done = course_completed(state, c.id, u.id)
        if c.id not in tracked:
            tracked[c.id] = tracked_modules(state, c.id)
        progress = progress_percent(state, c.id, u.id, tracked[c.id])
        access = state.course_access.first("course_user", (c.id, u.id))
        total = course_total(state, c.id, u.id).grade
        roles = ", ".join(r.ROLE_NAMES.get(x, "") for x in sorted(e.roles, key=lambda x: r.ROLE_SORTORDER[x]))
        columns = [
            f'<a href="{call.url(f"/course/view.php?id={c.id}")}">{c.fullname}</a>',
            f'<a href="{call.url(f"/user/profile.php?id={u.id}")}">{u.fullname}</a>',
            "Manual enrolments", c.shortname, c.idnumber, u.username, u.email, u.idnumber,
            "Yes" if done is not None else "",
            "" if progress is None else f"{progress:.1f}%",
            userdate(completion.timestarted, call.tz) if completion else "",
            userdate(done, call.tz) if done is not None else "",
            "" if total is None else format_float(total, 2),
            userdate(access.timeaccess, call.tz) if access and access.timeaccess else "Never",
            userdate(e.timestart or e.timecreated, call.tz),
            roles,
        ]
        rows.append(((c.id, u.fullname, u.id), columns))
    rows.sort(key=lambda x: x[0])
    return [cols for _, cols in rows]


@ws("core_reportbuilder_retrieve_report")
def retrieve_report(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    report = call.state.reports.get(p["reportid"])
    if report is None:
        raise missing_record("reportbuilder_report")
    if p["page"] < 0 or p["perpage"] < 0:
        raise invalid_parameter("page and perpage must not be negative")
    rows = call.cached("participants", participant_rows)
    start = p["page"] * p["perpage"]
    page = rows[start:start + p["perpage"]] if p["perpage"] else []
    return {"details": _report_details(call, report),
            "data": {"headers": list(REPORT_HEADERS), "rows": [{"columns": list(c)} for c in page],
                     "totalrowcount": len(rows)},
            "warnings": []}


@ws("core_reportbuilder_list_reports")
def list_reports(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    reports = sorted(call.state.reports, key=lambda x: x.id)
    start = p["page"] * p["perpage"]
    chosen = reports[start:start + p["perpage"]] if p["perpage"] else reports
    return {"reports": [_report_details(call, rep) for rep in chosen], "warnings": []}

