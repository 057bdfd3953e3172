"""Capabilities: who may do what, at system level, and Moodle's ``required_capability_exception``.

The sandbox models only what a web-service integration needs. The site admin (id 2) passes every
check (``is_siteadmin``) without holding a role, as on a real site. Any other user holds capabilities
through :class:`~moodle_sync.sandbox.records.RoleAssignment` rows at system level; such a role allows
every capability except its ``lacking`` ones. A function needs the ``capabilities`` its real 4.5
signature declares (``functions-4.5.json``); a user lacking one gets Moodle's error naming the first.
Listing who holds a capability (``get_with_capability_join``) counts roles only, so the admin without a
role is not listed, exactly as on a real site.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from . import records as r
from .errors import required_capability
from .records import ADMIN_ID, GUEST_ID
from .state import State

WS_ROLE = "moodle_sync_ws"
_CAPABILITY = re.compile(r"[a-z]+/[a-z0-9_]+:[a-z0-9_]+")  # plugintype/pluginname:capabilityname

# get_capability_string(): the names from lang/en/role.php (moodle/*) and the plugins' lang files (4.5.6):
# every capability functions-4.5.json declares, plus those the sandbox checks itself.
CAPABILITY_NAMES: dict[str, str] = {
    "enrol/manual:enrol": "Enrol users",
    "enrol/manual:unenrol": "Unenrol users from the course",
    "gradereport/user:view": "View user report",
    "moodle/backup:backupcourse": "Backup courses",
    "moodle/backup:backuptargetimport": "Backup for import",
    "moodle/category:manage": "Manage categories",
    "moodle/category:viewhiddencategories": "See hidden categories",
    "moodle/cohort:assign": "Add and remove cohort members",
    "moodle/cohort:manage": "Create, delete and move cohorts",
    "moodle/cohort:view": "View site-wide cohorts",
    "moodle/course:activityvisibility": "Hide/show activities",
    "moodle/course:changecategory": "Change course category",
    "moodle/course:changefullname": "Change course full name",
    "moodle/course:changeidnumber": "Change course ID number",
    "moodle/course:changeshortname": "Change course short name",
    "moodle/course:changesummary": "Change course summary",
    "moodle/course:create": "Create courses",
    "moodle/course:delete": "Delete courses",
    "moodle/course:enrolreview": "Review course enrolments",
    "moodle/course:manageactivities": "Manage activities",
    "moodle/course:managegroups": "Manage groups",
    "moodle/course:overridecompletion": "Override activity completion status",
    "moodle/course:sectionvisibility": "Control section visibility",
    "moodle/course:update": "Update course settings",
    "moodle/course:useremail": "Enable/disable email address",
    "moodle/course:view": "View courses without participation",
    "moodle/course:viewhiddencourses": "View hidden courses",
    "moodle/course:viewparticipants": "View participants",
    "moodle/course:visibility": "Hide/show courses",
    "moodle/grade:manage": "Manage grade items",
    "moodle/restore:restorecourse": "Restore courses",
    "moodle/restore:restoretargetimport": "Restore from files targeted as import",
    "moodle/role:assign": "Assign roles to users",
    "moodle/role:review": "Review permissions for others",
    "moodle/site:accessallgroups": "Access all groups",
    "moodle/site:config": "Change site configuration",
    "moodle/site:messageanyuser": "Bypass user privacy preferences for messaging any user",
    "moodle/site:sendmessage": "Send messages to any user",
    "moodle/site:viewparticipants": "View participants",
    "moodle/user:create": "Create users",
    "moodle/user:delete": "Delete users",
    "moodle/user:update": "Update user profiles",
    "moodle/user:viewdetails": "View user profiles",
    "moodle/user:viewhiddendetails": "View hidden details of users",
    "report/completion:view": "View course completion report",
}


def declared_capabilities(signature: Mapping[str, Any]) -> list[str]:
    """The capabilities a function's real signature declares (``"a, b"`` in functions-4.5.json), in order."""
    return [c.strip() for c in str(signature.get("capabilities") or "").split(",") if c.strip()]


def has_capability(state: State, userid: int, capability: str) -> bool:
    """Whether the user may use ``capability`` at system level (the admin always may)."""
    if userid == ADMIN_ID:
        return True
    return any(capability not in a.lacking for a in state.role_assignments.find("user", userid))


def require_capabilities(state: State, userid: int, capabilities: list[str]) -> None:
    """Raise Moodle's ``required_capability_exception`` for the first of ``capabilities`` the user lacks."""
    for capability in capabilities:
        if not has_capability(state, userid, capability):
            raise required_capability(CAPABILITY_NAMES.get(capability, f"{capability} ???"))


def users_with_capability(state: State, capability: str) -> list[r.User]:
    """Users holding ``capability`` through a system role, by id (no guest, no deleted user, no role-less admin)."""
    ids = {a.userid for a in state.role_assignments if capability not in a.lacking}
    users = (state.users.get(i) for i in sorted(ids) if i != GUEST_ID)
    return [u for u in users if u is not None and not u.deleted]


def add_ws_user(state: State, now: int, lacking: list[str]) -> r.User:
    """A new web-service user whose system role allows every capability but ``lacking``.

    Raises ``ValueError`` for a name that is not a capability's (``moodle/course:create``).
    """
    malformed = [c for c in lacking if not _CAPABILITY.fullmatch(c)]
    if malformed:
        raise ValueError(f"{malformed[0]!r} is not a capability name such as moodle/course:create")
    n = 1 + sum(1 for u in state.users if u.username.startswith("wsuser"))
    user = state.insert("users", r.User(id=0, username=f"wsuser{n}", firstname="Web service",
                                        lastname=f"User {n}", email=f"wsuser{n}@example.org", timecreated=now))
    state.insert("role_assignments", r.RoleAssignment(id=0, userid=user.id, role=WS_ROLE,
                                                      lacking=sorted(set(lacking))))
    return user
