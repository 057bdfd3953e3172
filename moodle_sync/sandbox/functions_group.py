"""Groups and groupings: ``core_group_*`` as Moodle 4.5 runs them (each call one transaction)."""

from __future__ import annotations

from typing import Any

from . import records as r
from .calls import Call, course_in_context, is_enrolled, ws
from .errors import invalid_parameter, invalid_response, missing_record, moodle_error


def group_dict(g: r.Group, *, enrolmentkey_null: bool = False) -> dict[str, Any]:
    return {"id": g.id, "courseid": g.courseid, "name": g.name, "description": g.description,
            "descriptionformat": g.descriptionformat,
            "enrolmentkey": (g.enrolmentkey or None) if enrolmentkey_null else g.enrolmentkey,
            "idnumber": g.idnumber, "visibility": g.visibility, "participation": g.participation}


@ws("core_group_get_course_groups")
def get_course_groups(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    crs = course_in_context(call.state, p["courseid"])
    groups = sorted(call.state.groups.find("course", crs.id), key=lambda g: (g.name, g.id))
    return [group_dict(g, enrolmentkey_null=True) for g in groups]


@ws("core_group_create_groups")
def create_groups(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    out = []
    for item in call.records(p["groups"]):
        if not item["name"].strip():
            raise invalid_parameter("Invalid group name")
        if state.groups.first("course_name", (item["courseid"], item["name"])) is not None:
            raise invalid_parameter("Group with the same name already exists in the course")
        course_in_context(state, item["courseid"])
        idnumber = item.get("idnumber") or ""
        if idnumber and state.groups.first("course_idnumber", (item["courseid"], idnumber)) is not None:
            raise moodle_error("idnumbertaken", "This ID number is already taken")
        g = state.insert("groups", r.Group(
            id=0, courseid=item["courseid"], name=item["name"], description=item["description"],
            descriptionformat=item["descriptionformat"], enrolmentkey=item.get("enrolmentkey") or "",
            idnumber=idnumber, visibility=item["visibility"], participation=bool(item["participation"]),
            timecreated=call.now))
        out.append(group_dict(g))
    return out


def _member_refs(call: Call, item: dict[str, Any]) -> tuple[r.Group, r.User]:
    group = call.state.groups.get(item["groupid"])
    if group is None:
        raise missing_record("groups")
    user = call.state.users.get(item["userid"])
    if user is None or user.deleted:
        raise missing_record("user")
    return group, user


@ws("core_group_add_group_members")
def add_group_members(call: Call, p: dict[str, Any]) -> None:
    state = call.state
    for item in call.records(p["members"]):
        group, user = _member_refs(call, item)
        if not is_enrolled(state, group.courseid, user.id):
            raise invalid_parameter("Only enrolled users may be members of groups")
        if state.group_members.first("group_user", (group.id, user.id)) is None:
            state.insert("group_members", r.GroupMember(id=0, groupid=group.id, userid=user.id, timeadded=call.now))


def grouping_dict(g: r.Grouping) -> dict[str, Any]:
    return {"id": g.id, "courseid": g.courseid, "name": g.name, "description": g.description,
            "descriptionformat": g.descriptionformat, "idnumber": g.idnumber}


@ws("core_group_get_course_groupings")
def get_course_groupings(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    crs = course_in_context(call.state, p["courseid"])
    groupings = sorted(call.state.groupings.find("course", crs.id), key=lambda g: (g.name, g.id))
    return [grouping_dict(g) for g in groupings]


@ws("core_group_create_groupings")
def create_groupings(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    """Creates the groupings; when one came without ``idnumber`` the answer then fails its own return
    check (``invalidresponse``) although the groupings exist, exactly as on Moodle 4.5."""
    state = call.state
    out = []
    missing_idnumber = False
    for item in call.records(p["groupings"]):
        if not item["name"].strip():
            raise invalid_parameter("Invalid grouping name")
        if any(g.name == item["name"] for g in state.groupings.find("course", item["courseid"])):
            raise invalid_parameter("Grouping with the same name already exists in the course")
        course_in_context(state, item["courseid"])
        idnumber = item.get("idnumber")
        if idnumber and state.groupings.first("course_idnumber", (item["courseid"], idnumber)) is not None:
            raise moodle_error("idnumbertaken", "This ID number is already taken")
        missing_idnumber = missing_idnumber or idnumber is None
        g = state.insert("groupings", r.Grouping(id=0, courseid=item["courseid"], name=item["name"],
                                                 description=item["description"],
                                                 descriptionformat=item["descriptionformat"],
                                                 idnumber=idnumber or ""))
        out.append(grouping_dict(g))
    if missing_idnumber:
        call.after_commit = invalid_response(
            "Error in response - Missing following required key in a single structure: idnumber")
    return out


@ws("core_group_assign_grouping")
def assign_grouping(call: Call, p: dict[str, Any]) -> None:
    state = call.state
    for item in call.records(p["assignments"]):
        grouping = state.groupings.get(item["groupingid"])
        if grouping is None:
            raise missing_record("groupings")
        group = state.groups.get(item["groupid"])
        if group is None:
            raise missing_record("groups")
        if state.grouping_groups.first("pair", (grouping.id, group.id)) is None:
            state.insert("grouping_groups", r.GroupingGroup(id=0, groupingid=grouping.id, groupid=group.id))
