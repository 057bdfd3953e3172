"""What a Moodle site must grant moodle_sync, per feature, as data read off Moodle 4.5.6's code.

For every web-service function in :mod:`moodle_sync.ws.functions` this module lists the capabilities
Moodle checks when we call it the way we do (``require_capability``; ``has_capability`` gates that make the
call fail or answer less; ``validate_context`` -> ``require_login``; ``course_require_view_participants``;
the enrol plugin's ``get_assignable_roles``), each with the context level it is checked in and the place
in Moodle's source (``file:function``) a reader can check. A dedicated role assigned to the tool user at
**system** level holding these capabilities (they are inherited by every category, course, activity and
user context) and allowed to assign the roles in :data:`ASSIGN_ROLES` is all moodle_sync needs.

``moodle-sync doctor --requirements`` prints this (the service's functions, the role's capabilities and
allowed role assignments); ``doctor`` checks the token user's capabilities against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .ws.functions import FEATURES, required_for

# Features beyond ws.functions.FEATURES: "diagnosis" lets doctor check the role (included by default);
# the extras are only for those who use them.
DIAGNOSIS = "diagnosis"
EXTRAS = {
    "report-builder": "Pull completion through a custom report (core_reportbuilder_retrieve_report)",
    "test-data": "Delete test courses, categories and users, override completion, set grades "
                 "(contract tests and the quickstart against a real site)",
}
ALL_FEATURES: dict[str, str] = {
    **FEATURES,
    DIAGNOSIS: "Let doctor check the token user's capabilities",
    **EXTRAS,
}
DEFAULT_FEATURES = (*FEATURES, DIAGNOSIS)
# Functions of the extras (declared in ws.functions with no feature: moodle_sync never needs them by itself).
EXTRA_FUNCTIONS = {
    "report-builder": ("core_reportbuilder_retrieve_report",),
    "test-data": ("core_course_delete_courses", "core_course_delete_categories", "core_user_delete_users",
                  "core_completion_override_activity_completion_status", "core_grades_update_grades"),
}

# The roles moodle_sync enrols with (enrol_manual_enrol_users' roleid): the tool's role must be allowed to
# assign them (Site administration > Users > Permissions > Define roles > Allow role assignments).
ASSIGN_ROLES = {"provisioning": ("editingteacher",), "enrolment": ("student",)}
ROLE_ORDER = ("student", "editingteacher")
ASSIGN_SOURCE = "enrol/manual/externallib.php:enrol_users -> lib/accesslib.php:get_assignable_roles"

# get_capability_string(): Moodle 4.5.6's English names (lang/en/role.php and the plugins' lang files).
CAPABILITY_NAMES: dict[str, str] = {
    "webservice/rest:use": "Use REST protocol",
    "webservice/soap:use": "Use SOAP protocol",
    "moodle/category:viewcourselist": "View course category and courses within it",
    "moodle/category:viewhiddencategories": "See hidden categories",
    "moodle/category:manage": "Manage categories",
    "moodle/course:create": "Create courses",
    "moodle/course:visibility": "Hide/show courses",
    "moodle/course:setforcedlanguage": "Force course or activity language",
    "moodle/course:view": "View courses without participation",
    "moodle/course:viewhiddencourses": "View hidden courses",
    "moodle/course:update": "Update course settings",
    "moodle/course:changecategory": "Change course category",
    "moodle/course:changefullname": "Change course full name",
    "moodle/course:changeshortname": "Change course short name",
    "moodle/course:changeidnumber": "Change course ID number",
    "moodle/course:changesummary": "Change course summary",
    "moodle/course:viewhiddensections": "View hidden sections",
    "moodle/course:viewhiddenactivities": "View hidden activities",
    "moodle/course:ignoreavailabilityrestrictions": "Ignore availability restrictions",
    "moodle/backup:backuptargetimport": "Backup for import",
    "moodle/restore:restoretargetimport": "Restore from files targeted as import",
    "moodle/question:add": "Add new questions",
    "moodle/question:managecategory": "Edit question categories",
    "moodle/course:managegroups": "Manage groups",
    "moodle/user:viewdetails": "View user profiles",
    "moodle/site:viewuseridentity": "See full user identity in lists",
    "moodle/user:viewalldetails": "View user full information",
    "moodle/user:viewhiddendetails": "View hidden details of users",
    "moodle/user:create": "Create users",
    "moodle/course:viewparticipants": "View participants",
    "moodle/site:accessallgroups": "Access all groups",
    "moodle/course:viewhiddenuserfields": "View hidden user fields",
    "enrol/manual:enrol": "Enrol users",
    "moodle/role:assign": "Assign roles to users",
    "enrol/manual:unenrol": "Unenrol users from the course",
    "moodle/course:enrolreview": "Review course enrolments",
    "report/completion:view": "View course completion report",
    "report/progress:view": "View activity completion reports",
    "gradereport/user:view": "View user report",
    "moodle/grade:viewall": "View grades of other users",
    "moodle/grade:viewhidden": "View hidden grades for owner",
    "moodle/course:viewsuspendedusers": "View suspended users",
    "moodle/site:viewparticipants": "View participants",
    "moodle/role:review": "Review permissions for others",
    "moodle/reportbuilder:view": "View custom reports",
    "moodle/site:sendmessage": "Send messages to any user",
    "moodle/site:messageanyuser": "Bypass user privacy preferences for messaging any user",
    "moodle/course:delete": "Delete courses",
    "moodle/user:delete": "Delete users",
    "moodle/course:overridecompletion": "Override activity completion status",
    "moodle/grade:edit": "Edit grades",
    "mod/assign:view": "View assignment",
    "mod/bigbluebuttonbn:view": "View BigBlueButton room",
    "mod/chat:view": "View chat activity",
    "mod/choice:view": "View choice activity",
    "mod/data:view": "View database activity",
    "mod/feedback:view": "View a feedback",
    "mod/folder:view": "View folder content",
    "mod/glossary:view": "View glossary",
    "mod/h5pactivity:view": "View H5P",
    "mod/imscp:view": "View IMS content",
    "mod/label:view": "View Text and media area",
    "mod/lesson:view": "View lesson activity",
    "mod/lti:view": "Launch external tool activities",
    "mod/page:view": "View page content",
    "mod/quiz:view": "View quiz information",
    "mod/resource:view": "View resource",
    "mod/url:view": "View URL",
    "mod/workshop:view": "View workshop",
}


@dataclass(frozen=True)
class Gate:
    """One capability check Moodle makes during a call: where (context level) and in which code."""

    capability: str
    context: str          # system, category, course, module or user: the level Moodle checks it at
    source: str           # file:function in Moodle 4.5.6
    why: str              # what happens without it
    features: tuple[str, ...] = ()   # only when these features call the function (empty: always)


# validate_context() -> require_login($course): a user not enrolled needs course:view (is_viewing), and a
# hidden course needs viewhiddencourses. Every function that works inside a course checks these.
_LOGIN = "lib/external/classes/external_api.php:validate_context -> lib/moodlelib.php:require_login"


def _in_course(function_source: str, effect: str = "fails") -> tuple[Gate, ...]:
    """course:view and viewhiddencourses; ``effect`` is what the function does when validate_context fails."""
    return (Gate("moodle/course:view", "course", f"{function_source} -> {_LOGIN}",
                 f"{effect}: the token user is not enrolled in the course"),
            Gate("moodle/course:viewhiddencourses", "course", f"{function_source} -> {_LOGIN}",
                 f"{effect} for hidden courses"))


# Activities a user may not view are hidden from course contents and from completion: cm_info checks
# 'mod/<modname>:view' for the modules that define it (the standard 4.5 ones listed here).
VIEW_MODULES = ("assign", "bigbluebuttonbn", "chat", "choice", "data", "feedback", "folder", "glossary",
                "h5pactivity", "imscp", "label", "lesson", "lti", "page", "quiz", "resource", "url", "workshop")


def _activities_visible(function_source: str) -> tuple[Gate, ...]:
    cm = "lib/modinfolib.php:cm_info::update_user_visible"
    gates = [Gate("moodle/course:viewhiddensections", "course",
                  f"{function_source} -> lib/modinfolib.php:section_info::get_uservisible",
                  "answers less: hidden sections come without their activities"),
             Gate("moodle/course:viewhiddenactivities", "module", f"{function_source} -> {cm}",
                  "answers less: hidden activities are left out"),
             Gate("moodle/course:ignoreavailabilityrestrictions", "module", f"{function_source} -> {cm}",
                  "answers less: restricted activities are left out")]
    gates += [Gate(f"mod/{m}:view", "module",
                   f"{function_source} -> lib/modinfolib.php:cm_info::is_user_access_restricted_by_capability",
                   f"answers less: {m} activities are left out") for m in VIEW_MODULES]
    return tuple(gates)


def _user_details(function_source: str, level: str) -> tuple[Gate, ...]:
    details = f"{function_source} -> user/lib.php:user_get_user_details"
    return (Gate("moodle/user:viewdetails", level, details, "answers less: users are left out"),
            Gate("moodle/site:viewuseridentity", level, f"{details} -> user/classes/fields.php:get_identity_fields",
                 "answers less: no e-mail (users cannot be matched by e-mail)"),
            Gate("moodle/user:viewalldetails", level, details, "answers less: no username, idnumber, auth"))


_CE = "course/externallib.php"
_GE = "group/externallib.php"
_EE = "enrol/externallib.php"
_CP = "completion/classes/external.php"
_GR = "grade/report/user/classes/external/user.php"

FUNCTION_GATES: dict[str, tuple[Gate, ...]] = {
    "core_webservice_get_site_info": (),
    "core_course_get_categories": (
        Gate("moodle/category:viewcourselist", "category",
             f"{_CE}:get_categories -> course/classes/category.php:can_view_category", "answers less: no categories"),
        Gate("moodle/category:viewhiddencategories", "category",
             f"{_CE}:get_categories -> course/classes/category.php:can_view_category",
             "answers less: hidden categories are left out"),
        Gate("moodle/category:manage", "category", f"{_CE}:get_categories",
             "answers less: no idnumber (categories cannot be matched)"),
    ),
    "core_course_create_categories": (
        Gate("moodle/category:manage", "category", f"{_CE}:create_categories", "fails"),
    ),
    "core_course_get_courses_by_field": (
        *_in_course(f"{_CE}:get_courses_by_field", "answers less (public information only, or nothing)"),
        Gate("moodle/course:update", "course", f"{_CE}:get_courses_by_field",
             "answers less: no idnumber (provisioning would plan an update)", ("provisioning",)),
    ),
    "core_course_create_courses": (
        Gate("moodle/course:create", "category", f"{_CE}:create_courses", "fails"),
        Gate("moodle/course:visibility", "category", f"{_CE}:create_courses",
             "silently ignores 'visible' (the course takes its category's visibility)"),
        Gate("moodle/course:setforcedlanguage", "category", f"{_CE}:create_courses", "silently ignores 'lang'"),
    ),
    "core_course_update_courses": (
        *_in_course(f"{_CE}:update_courses"),
        *(Gate(c, "course", f"{_CE}:update_courses", "fails for that course (a warning)") for c in (
            "moodle/course:update", "moodle/course:changecategory", "moodle/course:changefullname",
            "moodle/course:changeshortname", "moodle/course:changeidnumber", "moodle/course:changesummary",
            "moodle/course:visibility", "moodle/course:setforcedlanguage")),
    ),
    "core_course_get_contents": (
        *_in_course(f"{_CE}:get_course_contents"),
        *_activities_visible(f"{_CE}:get_course_contents"),
    ),
    "core_update_inplace_editable": (
        *_in_course("course/format/classes/base.php:inplace_editable_update_section_name"),
        Gate("moodle/course:update", "course", "course/format/classes/base.php:inplace_editable_update_section_name",
             "fails"),
    ),
    "core_course_import_course": (
        *_in_course(f"{_CE}:import_course"),
        Gate("moodle/backup:backuptargetimport", "course",
             f"{_CE}:import_course; backup/util/checks/backup_check.class.php:check_security", "fails"),
        Gate("moodle/restore:restoretargetimport", "course",
             f"{_CE}:import_course; backup/util/checks/restore_check.class.php:check_security", "fails"),
        Gate("moodle/question:add", "course",
             "backup/util/dbops/restore_dbops.class.php:prechek_precheck_qbanks_by_level",
             "fails when the master course has quiz questions (backupprecheckerrors)"),
        Gate("moodle/question:managecategory", "course",
             "backup/util/dbops/restore_dbops.class.php:prechek_precheck_qbanks_by_level",
             "fails when the master course has quiz questions (backupprecheckerrors)"),
    ),
    **{name: (*_in_course(f"{_GE}:{method}"),
              Gate("moodle/course:managegroups", "course", f"{_GE}:{method}", "fails"))
       for name, method in (("core_group_get_course_groups", "get_course_groups"),
                            ("core_group_create_groups", "create_groups"),
                            ("core_group_get_course_groupings", "get_course_groupings"),
                            ("core_group_create_groupings", "create_groupings"),
                            ("core_group_assign_grouping", "assign_grouping"),
                            ("core_group_add_group_members", "add_group_members"))},
    "core_user_get_users_by_field": (
        *_user_details("user/externallib.php:get_users_by_field -> user/lib.php:user_get_user_details_courses",
                       "user"),
        Gate("moodle/user:viewhiddendetails", "user", "user/externallib.php:get_users_by_field -> "
             "user/lib.php:user_get_user_details", "answers less: fields the site hides (suspended...)"),
    ),
    "core_user_get_users": (
        *_user_details("user/externallib.php:get_users -> user/lib.php:user_get_user_details_courses", "user"),
        Gate("moodle/user:viewhiddendetails", "user", "user/externallib.php:get_users -> "
             "user/lib.php:user_get_user_details", "answers less: fields the site hides (suspended...)"),
    ),
    "core_user_create_users": (
        Gate("moodle/user:create", "system", "user/externallib.php:create_users", "fails"),
    ),
    "core_enrol_get_enrolled_users": (
        *_in_course(f"{_EE}:get_enrolled_users"),
        Gate("moodle/course:viewparticipants", "course",
             f"{_EE}:get_enrolled_users -> course/lib.php:course_require_view_participants", "fails"),
        Gate("moodle/site:accessallgroups", "course", f"{_EE}:get_enrolled_users",
             "answers less: in separate-groups courses only the token user's own groups"),
        *_user_details(f"{_EE}:get_enrolled_users", "course"),
        Gate("moodle/course:viewhiddenuserfields", "course", f"{_EE}:get_enrolled_users -> "
             "user/lib.php:user_get_user_details", "answers less: fields the site hides (last access...)"),
        Gate("moodle/course:enrolreview", "course", f"{_EE}:get_enrolled_users",
             "fails with onlysuspended (the pull's suspended enrolments)", ("completion",)),
    ),
    "enrol_manual_enrol_users": (
        *_in_course("enrol/manual/externallib.php:enrol_users"),
        Gate("enrol/manual:enrol", "course", "enrol/manual/externallib.php:enrol_users", "fails"),
        Gate("moodle/role:assign", "course", ASSIGN_SOURCE, "fails (wsusercannotassign)"),
    ),
    "enrol_manual_unenrol_users": (
        *_in_course("enrol/manual/externallib.php:unenrol_users"),
        Gate("enrol/manual:unenrol", "course", "enrol/manual/externallib.php:unenrol_users", "fails"),
    ),
    "core_enrol_get_users_courses": (
        *_in_course(f"{_EE}:get_users_courses", "answers less: courses are left out"),
        Gate("moodle/course:viewparticipants", "course",
             f"{_EE}:get_users_courses -> course/lib.php:course_can_view_participants",
             "answers less: courses are left out"),
        Gate("moodle/user:viewdetails", "course", f"{_EE}:get_users_courses -> user/lib.php:user_can_view_profile",
             "answers less: courses are left out"),
    ),
    "core_completion_get_course_completion_status": (
        *_in_course(f"{_CP}:get_course_completion_status"),
        Gate("report/completion:view", "course",
             f"{_CP}:get_course_completion_status -> lib/completionlib.php:completion_can_view_data",
             "fails (cannotviewreport)"),
        Gate("moodle/site:accessallgroups", "course",
             f"{_CP}:get_course_completion_status -> lib/grouplib.php:groups_user_groups_visible",
             "fails in separate-groups courses (accessdenied)"),
    ),
    "core_completion_get_activities_completion_status": (
        *_in_course(f"{_CP}:get_activities_completion_status"),
        Gate("report/progress:view", "course", f"{_CP}:get_activities_completion_status", "fails"),
        Gate("moodle/site:accessallgroups", "course",
             f"{_CP}:get_activities_completion_status -> lib/grouplib.php:groups_user_groups_visible",
             "fails in separate-groups courses (accessdenied)"),
        *_activities_visible(f"{_CP}:get_activities_completion_status"),
    ),
    "gradereport_user_get_grade_items": (
        *_in_course(f"{_GR}:check_report_access"),
        Gate("gradereport/user:view", "course", f"{_GR}:check_report_access", "fails"),
        Gate("moodle/grade:viewall", "course", f"{_GR}:check_report_access", "fails (userid 0: every user)"),
        Gate("moodle/site:accessallgroups", "course",
             f"{_GR}:check_report_access -> lib/grouplib.php:groups_group_visible",
             "fails in separate-groups courses (notingroup)"),
        Gate("moodle/course:viewsuspendedusers", "course", f"{_GR}:get_report_data",
             "answers less: users with suspended enrolments are left out"),
        Gate("moodle/grade:viewhidden", "course", "grade/report/user/classes/report/user.php:__construct",
             "answers less: hidden grades are left out"),
    ),
    "core_enrol_get_enrolled_users_with_capability": (
        Gate("moodle/site:viewparticipants", "system", f"{_EE}:get_enrolled_users_with_capability -> "
             "course/lib.php:course_require_view_participants", "fails: doctor cannot check capabilities"),
        Gate("moodle/role:review", "course", f"{_EE}:get_enrolled_users_with_capability",
             "fails: doctor cannot check capabilities"),
    ),
    # Also needs messaging enabled on the site ($CFG->messaging; else the call fails with "disabled").
    "core_message_send_instant_messages": (
        Gate("moodle/site:sendmessage", "system", "message/externallib.php:send_instant_messages", "fails"),
        Gate("moodle/site:messageanyuser", "system", "message/externallib.php:send_instant_messages -> "
             "message/classes/api.php:can_send_message -> message/classes/api.php:can_contact_user",
             "fails for a facilitator who shares no course with the token user and does not accept "
             "messages from anyone (usercantbemessaged)"),
    ),
    # The token user reads the messages it sent itself: no capability (readallmessages only for others').
    "core_message_get_messages": (),
    "core_reportbuilder_retrieve_report": (
        Gate("moodle/reportbuilder:view", "system", "reportbuilder/classes/external/reports/retrieve.php:execute "
             "-> reportbuilder/classes/permission.php:can_view_report",
             "fails unless the report's audience includes the token user (or it has reportbuilder:viewall)"),
    ),
    "core_course_delete_courses": (
        *_in_course(f"{_CE}:delete_courses"),
        Gate("moodle/course:delete", "course", f"{_CE}:delete_courses -> course/lib.php:can_delete_course", "fails"),
    ),
    "core_course_delete_categories": (
        Gate("moodle/category:manage", "category", f"{_CE}:delete_categories", "fails"),
        Gate("moodle/course:delete", "course",
             f"{_CE}:delete_categories -> course/classes/category.php:can_delete_full", "fails for non-empty ones"),
    ),
    "core_user_delete_users": (
        Gate("moodle/user:delete", "system", "user/externallib.php:delete_users", "fails"),
    ),
    "core_completion_override_activity_completion_status": (
        *_in_course(f"{_CP}:override_activity_completion_status"),
        Gate("moodle/course:overridecompletion", "course",
             f"{_CP}:override_activity_completion_status -> lib/completionlib.php:completion_info::update_state",
             "fails"),
    ),
    "core_grades_update_grades": (
        *_in_course("lib/classes/grades_external.php:update_grades"),
        Gate("moodle/grade:edit", "course", "lib/classes/grades_external.php:update_grades", "fails"),
    ),
}

# webservice_server::authenticate_user() checks "webservice/<protocol>:use" in the token's context
# (the system) before every call.
PROTOCOL_GATES = {p: Gate(f"webservice/{p}:use", "system", "webservice/lib.php:webservice_server::authenticate_user",
                          f"every {p.upper()} call fails (accessexception)", ("core",)) for p in ("rest", "soap")}


@dataclass(frozen=True)
class CapabilityNeed:
    """A capability a feature needs, with Moodle's name for it and every check that asks for it."""

    name: str
    title: str
    checks: tuple[Gate, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title,
                "checked": [{"context": g.context, "source": g.source, "why": g.why} for g in self.checks]}


@dataclass(frozen=True)
class FeatureRequirements:
    """What one feature needs: the service's functions, the role's capabilities, the roles it assigns."""

    feature: str
    label: str
    functions: tuple[str, ...]
    capabilities: tuple[CapabilityNeed, ...]
    assign_roles: tuple[str, ...]

    @property
    def capability_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.capabilities)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "functions": list(self.functions),
                "capabilities": [c.to_dict() for c in self.capabilities], "assign_roles": list(self.assign_roles)}


def feature_functions(feature: str) -> tuple[str, ...]:
    """The web-service functions a feature calls; ``KeyError`` for an unknown feature."""
    if feature not in ALL_FEATURES:
        raise KeyError(feature)
    return EXTRA_FUNCTIONS.get(feature) or tuple(required_for(feature))


def feature_requirements(feature: str, protocols: Iterable[str] = ("rest", "soap")) -> FeatureRequirements:
    """Everything ``feature`` needs, capabilities sorted by name; ``core`` holds the ``:use`` capability of
    each of ``protocols``. ``KeyError`` for an unknown feature or protocol."""
    functions = feature_functions(feature)
    gates = [g for f in functions for g in FUNCTION_GATES[f] if not g.features or feature in g.features]
    if feature == "core":
        gates += [PROTOCOL_GATES[p] for p in protocols]
    by_name: dict[str, list[Gate]] = {}
    for gate in gates:
        if gate not in by_name.setdefault(gate.capability, []):
            by_name[gate.capability].append(gate)
    needs = tuple(CapabilityNeed(name, CAPABILITY_NAMES[name], tuple(checks))
                  for name, checks in sorted(by_name.items()))
    return FeatureRequirements(feature, ALL_FEATURES[feature], functions, needs, ASSIGN_ROLES.get(feature, ()))


@dataclass(frozen=True)
class Requirements:
    """The requirements of the chosen features (``features``), and of every feature for reference."""

    included: tuple[str, ...]
    features: dict[str, FeatureRequirements]

    def _chosen(self) -> list[FeatureRequirements]:
        return [self.features[f] for f in self.included]

    @property
    def functions(self) -> list[str]:
        """The external service's functions, each once, in declaration order of the features."""
        return list(dict.fromkeys(f for r in self._chosen() for f in r.functions))

    @property
    def capabilities(self) -> list[str]:
        """The tool role's capabilities (at system level), sorted."""
        return sorted({c for r in self._chosen() for c in r.capability_names})

    @property
    def assign_roles(self) -> list[str]:
        """Roles (shortnames) the tool role must be allowed to assign."""
        wanted = {a for r in self._chosen() for a in r.assign_roles}
        return [role for role in ROLE_ORDER if role in wanted]

    def to_dict(self) -> dict[str, Any]:
        return {"functions": self.functions, "capabilities": self.capabilities, "assign_roles": self.assign_roles,
                "features": {name: {**r.to_dict(), "included": name in self.included}
                             for name, r in self.features.items()}}


def requirements(extras: Iterable[str] = (), protocols: Iterable[str] = ("rest", "soap")) -> Requirements:
    """The requirements of moodle_sync's features and diagnosis, plus ``extras`` (names in :data:`EXTRAS`).

    ``KeyError`` for an unknown extra.
    """
    chosen = list(DEFAULT_FEATURES)
    for extra in extras:
        if extra not in EXTRAS:
            raise KeyError(extra)
        if extra not in chosen:
            chosen.append(extra)
    protocols = tuple(protocols)
    return Requirements(tuple(chosen), {f: feature_requirements(f, protocols) for f in ALL_FEATURES})
