"""Every web-service function moodle_sync calls, declared once, as data.

``kind`` says whether a call may be retried (reads) or must never be re-sent blindly (writes).
``batch_key`` names the list parameter a call accepts many records in; ``all_or_nothing`` marks the
batch functions that run in one transaction (the first bad record rolls back the whole batch).
``feature`` groups functions for ``doctor``: which ones each part of the tool needs.

tests/ws/test_functions.py checks each declaration against the real Moodle 4.5 signatures.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True)
class WSFunction:
    name: str
    kind: Kind
    features: tuple[str, ...]
    batch_key: str | None = None
    all_or_nothing: bool = False

    @property
    def is_read(self) -> bool:
        return self.kind is Kind.READ


FEATURES = {
    "core": "Connect and identify the site",
    "provisioning": "Provision categories, courses, sections, groups, facilitators",
    "enrolment": "Create or match users, enrol them, add them to classes",
    "completion": "Pull completion, grades and access into the evidence store",
    "followup": "Send each facilitator their follow-up list as a Moodle message",
}

R, W = Kind.READ, Kind.WRITE

_DECLARED = [
    WSFunction("core_webservice_get_site_info", R, ("core",)),
    # provisioning
    WSFunction("core_course_get_categories", R, ("provisioning",)),
    WSFunction("core_course_create_categories", W, ("provisioning",), "categories", True),
    WSFunction("core_course_get_courses_by_field", R, ("provisioning", "enrolment", "completion")),
    WSFunction("core_course_create_courses", W, ("provisioning",), "courses", True),
    WSFunction("core_course_update_courses", W, ("provisioning",), "courses"),
    WSFunction("core_course_get_contents", R, ("provisioning", "completion")),
    WSFunction("core_update_inplace_editable", W, ("provisioning",)),
    WSFunction("core_course_import_course", W, ("provisioning",)),
    WSFunction("core_group_get_course_groups", R, ("provisioning", "enrolment", "completion")),
    WSFunction("core_group_create_groups", W, ("provisioning", "enrolment"), "groups", True),
    WSFunction("core_group_get_course_groupings", R, ("provisioning",)),
    WSFunction("core_group_create_groupings", W, ("provisioning",), "groupings", True),
    WSFunction("core_group_assign_grouping", W, ("provisioning",), "assignments", True),
    # enrolment (facilitators are enrolled by provisioning too)
    WSFunction("core_user_get_users_by_field", R, ("provisioning", "enrolment")),
    WSFunction("core_user_get_users", R, ("enrolment",)),   # e-mails compared ignoring case, as create does
    WSFunction("core_user_create_users", W, ("provisioning", "enrolment"), "users", True),
    WSFunction("core_enrol_get_enrolled_users", R, ("provisioning", "enrolment", "completion")),
    WSFunction("enrol_manual_enrol_users", W, ("provisioning", "enrolment"), "enrolments", True),
    WSFunction("enrol_manual_unenrol_users", W, ("enrolment",), "enrolments", True),
    WSFunction("core_group_add_group_members", W, ("provisioning", "enrolment"), "members", True),
    WSFunction("core_enrol_get_users_courses", R, ("enrolment",)),
    # completion pull
    WSFunction("core_completion_get_course_completion_status", R, ("completion",)),
    WSFunction("core_completion_get_activities_completion_status", R, ("completion",)),
    WSFunction("gradereport_user_get_grade_items", R, ("completion",)),
    # follow-up packs: one message per facilitator (answers per message: msgid, or -1 and errormessage)
    WSFunction("core_message_send_instant_messages", W, ("followup",), "messages"),
    WSFunction("core_message_get_messages", R, ("followup",)),   # settles a message whose answer was lost
    WSFunction("core_reportbuilder_retrieve_report", R, ()),  # optional bulk path
    # doctor: which capabilities the token user holds (see moodle_sync.requirements)
    WSFunction("core_enrol_get_enrolled_users_with_capability", R, ("diagnosis",)),
    # test-data helpers used by the contract tests and the quickstart against a real site
    WSFunction("core_course_delete_courses", W, ()),
    WSFunction("core_course_delete_categories", W, ()),
    WSFunction("core_user_delete_users", W, ()),
    WSFunction("core_completion_override_activity_completion_status", W, ()),
    WSFunction("core_grades_update_grades", W, ()),
]

FUNCTIONS: dict[str, WSFunction] = {f.name: f for f in _DECLARED}


def declared(name: str) -> WSFunction:
    """The declaration of ``name``; ``KeyError`` means the code calls an undeclared function (a bug)."""
    return FUNCTIONS[name]


def required_for(feature: str) -> list[str]:
    """Names of the functions a feature needs, in declaration order."""
    return [f.name for f in _DECLARED if feature in f.features]
