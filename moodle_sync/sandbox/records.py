"""The rows of the fake Moodle's database: one dataclass per table, JSON-friendly fields only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GUEST_ID = 1        # the guest user
ADMIN_ID = 2        # the site admin (is_siteadmin), who makes the site
SITE_COURSE_ID = 1  # SITEID: the front page course (not in the courses table)
ROLE_SHORTNAMES = {1: "manager", 2: "coursecreator", 3: "editingteacher", 4: "teacher", 5: "student"}
ROLE_NAMES = {1: "Manager", 2: "Course creator", 3: "Teacher", 4: "Non-editing teacher", 5: "Student"}
ROLE_SORTORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}


@dataclass
class Category:
    id: int
    name: str
    idnumber: str | None = None
    description: str = ""
    descriptionformat: int = 1
    parent: int = 0
    sortorder: int = 0
    visible: int = 1
    timemodified: int = 0
    theme: str = ""


@dataclass
class Course:
    id: int
    category: int
    fullname: str
    shortname: str
    idnumber: str = ""
    summary: str = ""
    summaryformat: int = 1
    format: str = "topics"
    showgrades: int = 1
    newsitems: int = 5
    startdate: int = 0
    enddate: int = 0
    maxbytes: int = 0
    showreports: int = 0
    visible: int = 1
    groupmode: int = 0
    groupmodeforce: int = 0
    defaultgroupingid: int = 0
    enablecompletion: int = 1
    completionnotify: int = 0
    lang: str = ""
    theme: str = ""
    timecreated: int = 0
    timemodified: int = 0
    sortorder: int = 0
    cacherev: int = 0
    formatoptions: dict[str, Any] = field(default_factory=dict)
    criteria: list[int] = field(default_factory=list)  # course-module ids whose completion completes the course


@dataclass
class Section:
    id: int
    course: int
    section: int
    name: str | None = None
    summary: str = ""
    summaryformat: int = 1
    visible: int = 1
    sequence: list[int] = field(default_factory=list)
    timemodified: int = 0


@dataclass
class Module:
    """A course module (activity) with its completion settings; ``grademax`` set when it is graded."""

    id: int
    course: int
    section: int
    modname: str
    instance: int
    name: str
    idnumber: str = ""
    intro: str = ""
    visible: int = 1
    completion: int = 0  # 0 none, 1 manual, 2 automatic
    rules: list[str] = field(default_factory=list)  # completionview, completionusegrade, completionsubmit
    grademax: float | None = None
    added: int = 0


@dataclass
class GradeItem:
    id: int
    courseid: int
    itemtype: str  # course, mod, manual
    itemmodule: str | None = None
    iteminstance: int = 0
    itemnumber: int | None = None
    idnumber: str | None = None
    itemname: str | None = None
    grademin: float = 0.0
    grademax: float = 100.0
    cmid: int | None = None
    sortorder: int = 0


@dataclass
class Grade:
    id: int
    itemid: int
    userid: int
    rawgrade: float | None = None
    finalgrade: float | None = None
    timecreated: int | None = None
    timemodified: int | None = None
    overridden: int = 0


@dataclass
class User:
    id: int
    username: str
    firstname: str
    lastname: str
    email: str
    idnumber: str = ""
    auth: str = "manual"
    password: str = ""
    deleted: int = 0
    suspended: int = 0
    confirmed: int = 1
    lang: str = "en"
    theme: str = ""
    timezone: str = "99"
    calendartype: str = "gregorian"
    mailformat: int = 1
    maildisplay: int = 2
    department: str = ""
    institution: str = ""
    city: str = ""
    country: str = ""
    phone1: str = ""
    phone2: str = ""
    address: str = ""
    description: str = ""
    firstaccess: int = 0
    lastaccess: int = 0
    timecreated: int = 0
    timemodified: int = 0
    customfields: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fullname(self) -> str:
        return f"{self.firstname} {self.lastname}"


@dataclass
class Enrolment:
    id: int
    courseid: int
    userid: int
    roles: list[int] = field(default_factory=list)
    status: int = 0  # 0 active, 1 suspended
    timestart: int = 0
    timeend: int = 0
    timecreated: int = 0


@dataclass
class CourseAccess:
    id: int
    courseid: int
    userid: int
    timeaccess: int = 0


@dataclass
class Group:
    id: int
    courseid: int
    name: str
    description: str = ""
    descriptionformat: int = 1
    enrolmentkey: str = ""
    idnumber: str = ""
    visibility: int = 0
    participation: bool = True
    timecreated: int = 0


@dataclass
class GroupMember:
    id: int
    groupid: int
    userid: int
    timeadded: int = 0


@dataclass
class Grouping:
    id: int
    courseid: int
    name: str
    description: str = ""
    descriptionformat: int = 1
    idnumber: str = ""


@dataclass
class GroupingGroup:
    id: int
    groupingid: int
    groupid: int


@dataclass
class ActivityCompletion:
    id: int
    cmid: int
    userid: int
    state: int = 0
    timecompleted: int = 0
    overrideby: int | None = None


@dataclass
class CriterionCompletion:
    """Written by cron: the user met the course-completion criterion of activity ``cmid``."""

    id: int
    courseid: int
    cmid: int
    userid: int
    timecompleted: int = 0


@dataclass
class CourseCompletion:
    """Written by cron: the user started (``timestarted``) or completed (``timecompleted``) the course."""

    id: int
    courseid: int
    userid: int
    timestarted: int = 0
    timecompleted: int | None = None


@dataclass
class Report:
    id: int
    name: str
    source: str = "core_course\\reportbuilder\\datasource\\participants"
    conditiondata: str = '{"enrolment:status_operator":1,"enrolment:status_value":0}'
    usercreated: int = 2
    timecreated: int = 0


@dataclass
class Token:
    id: int
    token: str
    userid: int
    service: str
    functions: list[str] = field(default_factory=list)


@dataclass
class Mail:
    """A mail the site sent (kept instead of sending it): to whom, about what, when."""

    id: int
    userid: int
    username: str
    to: str
    subject: str
    time: int = 0


@dataclass
class Message:
    """A private message the site delivered (core_message_send_instant_messages): from, to, text, format."""

    id: int
    useridfrom: int
    useridto: int
    text: str
    textformat: int = 0
    time: int = 0


@dataclass
class RoleAssignment:
    """A role given to a user at system level; the role allows every capability except those in ``lacking``."""

    id: int
    userid: int
    role: str
    lacking: list[str] = field(default_factory=list)
