"""Typed operations on a Moodle site: each method makes the calls one job needs and returns dataclasses.

This module knows Moodle's web-service functions and their quirks (paging, batch limits); it knows
nothing of templates, offerings or participants. Every method raises what the client raises
(:mod:`moodle_sync.exceptions`): a :class:`WebServiceError` for Moodle's refusals, an
:class:`InvalidResponseError` for an answer not shaped like Moodle's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ..exceptions import InvalidResponseError, MoodleSyncError, WebServiceError
from .batching import BatchOutcome, map_concurrent, send_in_batches
from .transport import MoodleClient, chunked

log = logging.getLogger("moodle_sync.ws.moodle")
T = TypeVar("T")
R = TypeVar("R")


# --- results ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SiteInfo:
    sitename: str
    siteurl: str
    release: str
    version: str
    username: str
    userid: int
    fullname: str
    functions: frozenset[str]
    is_site_admin: bool = False

    @property
    def major_minor(self) -> tuple[int, int]:
        """(4, 5) for "4.5.6 (Build: 20250811)"; (0, 0) if unreadable."""
        try:
            parts = self.release.split()[0].split(".")
            return int(parts[0]), int(parts[1])
        except (IndexError, ValueError):
            return (0, 0)


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    idnumber: str
    parent: int
    path: str
    description: str = ""


@dataclass(frozen=True)
class Course:
    id: int
    fullname: str
    shortname: str
    idnumber: str
    categoryid: int
    summary: str = ""
    format: str = "topics"
    startdate: int = 0
    enddate: int = 0
    visible: bool = True
    lang: str = ""
    enablecompletion: bool = False
    groupmode: int = 0

    @classmethod
    def from_moodle(cls, d: Mapping[str, Any]) -> Course:
        return cls(id=int(d["id"]), fullname=d.get("fullname") or "", shortname=d.get("shortname") or "",
                   idnumber=d.get("idnumber") or "", categoryid=int(d.get("categoryid") or 0),
                   summary=d.get("summary") or "", format=d.get("format") or "topics",
                   startdate=int(d.get("startdate") or 0), enddate=int(d.get("enddate") or 0),
                   visible=bool(d.get("visible", 1)), lang=d.get("lang") or "",
                   enablecompletion=bool(d.get("enablecompletion", 0)), groupmode=int(d.get("groupmode") or 0))


@dataclass(frozen=True)
class Module:
    id: int                 # course module id (cmid)
    name: str
    modname: str
    instance: int
    completion: int = 0     # 0 none, 1 manual, 2 automatic


@dataclass(frozen=True)
class Section:
    id: int
    number: int
    name: str
    summary: str = ""
    modules: tuple[Module, ...] = ()


@dataclass(frozen=True)
class Group:
    id: int
    courseid: int
    name: str
    idnumber: str = ""
    description: str = ""


@dataclass(frozen=True)
class Grouping:
    id: int
    courseid: int
    name: str
    idnumber: str = ""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    email: str
    firstname: str
    lastname: str
    idnumber: str = ""
    auth: str = "manual"
    suspended: bool = False

    @classmethod
    def from_moodle(cls, d: Mapping[str, Any]) -> User:
        return cls(id=int(d["id"]), username=d.get("username") or "", email=(d.get("email") or "").lower(),
                   firstname=d.get("firstname") or "", lastname=d.get("lastname") or "",
                   idnumber=d.get("idnumber") or "", auth=d.get("auth") or "manual",
                   suspended=bool(d.get("suspended", False)))


@dataclass(frozen=True)
class EnrolledUser:
    id: int
    username: str
    email: str
    fullname: str
    idnumber: str
    roles: tuple[str, ...]          # role shortnames
    role_ids: tuple[int, ...]
    groups: tuple[int, ...]         # group ids
    first_access: int | None
    last_access: int | None         # site-wide last access
    last_course_access: int | None

    @classmethod
    def from_moodle(cls, d: Mapping[str, Any]) -> EnrolledUser:
        return cls(id=int(d["id"]), username=d.get("username") or "", email=(d.get("email") or "").lower(),
                   fullname=d.get("fullname") or "", idnumber=d.get("idnumber") or "",
                   roles=tuple(r.get("shortname") or "" for r in d.get("roles") or []),
                   role_ids=tuple(int(r["roleid"]) for r in d.get("roles") or []),
                   groups=tuple(int(g["id"]) for g in d.get("groups") or []),
                   first_access=int(d.get("firstaccess") or 0) or None,
                   last_access=int(d.get("lastaccess") or 0) or None,
                   last_course_access=int(d.get("lastcourseaccess") or 0) or None)


@dataclass(frozen=True)
class CourseCompletion:
    completed: bool
    time_completed: int | None
    criteria_total: int
    criteria_done: int
    activity_criteria_total: int = 0   # criteria of type "activity completion"
    activity_criteria_done: int = 0


@dataclass(frozen=True)
class ActivityCompletion:
    cmid: int
    modname: str
    state: int              # 0 incomplete, 1 complete, 2 complete pass, 3 complete fail
    time_completed: int | None

    @property
    def done(self) -> bool:
        return self.state in (1, 2)


@dataclass(frozen=True)
class GradeItem:
    id: int
    itemtype: str           # course, mod, manual, category
    itemmodule: str | None
    idnumber: str
    cmid: int | None
    name: str
    grade: float | None     # graderaw
    grademax: float
    graded_at: int | None   # gradedategraded
    submitted_at: int | None


@dataclass(frozen=True)
class UserGrades:
    userid: int
    items: tuple[GradeItem, ...]

    def item(self, *, idnumber: str | None = None, itemtype: str | None = None) -> GradeItem | None:
        for it in self.items:
            if idnumber is not None and it.idnumber == idnumber:
                return it
            if itemtype is not None and it.itemtype == itemtype:
                return it
        return None

    @property
    def last_change(self) -> int | None:
        times = [t for it in self.items for t in (it.graded_at, it.submitted_at) if t]
        return max(times) if times else None


@dataclass(frozen=True)
class SentMessage:
    """Moodle's answer for one message of ``core_message_send_instant_messages``: its ``msgid`` when
    sent, else ``error`` (Moodle answers msgid -1 and an errormessage per message it could not send)."""

    clientmsgid: str | None
    msgid: int | None
    error: str | None

    @property
    def sent(self) -> bool:
        return self.msgid is not None


@dataclass(frozen=True)
class StoredMessage:
    """A private message as ``core_message_get_messages`` lists it: id, time, and ``smallmessage`` (the text
    exactly as it was sent)."""

    id: int
    useridfrom: int
    useridto: int
    text: str
    timecreated: int


@dataclass
class ReportPage:
    headers: list[str]
    rows: list[list[str]]
    total: int


# What we read of enrolled users: asking for only these spares Moodle building profile pictures, custom
# fields, preferences and every user's list of courses.
ENROLLED_USER_FIELDS = "id,username,fullname,email,idnumber,firstaccess,lastaccess,lastcourseaccess,roles,groups"

# COMPLETION_CRITERIA_TYPE_ACTIVITY in Moodle's completion/criteria/completion_criteria.php
ACTIVITY_CRITERION = 4


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) or None
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


# What goes wrong in parsing when an answer is not shaped like Moodle's: a key missing (KeyError), a list
# where an object was expected or the reverse (TypeError, AttributeError), text where a number was.
_SHAPE_ERRORS = (KeyError, TypeError, AttributeError, ValueError, IndexError)


def all_read(results: Sequence[R | MoodleSyncError]) -> list[R]:
    """The results of :meth:`Moodle.map_reads`, in order, when every read succeeded; raises the first
    failed read's error otherwise."""
    out: list[R] = []
    for result in results:
        if isinstance(result, MoodleSyncError):
            raise result
        out.append(result)
    return out


def parse_answer(function: str, answer: Any, parse: Callable[[Any], T]) -> T:
    """``parse(answer)``, or :class:`InvalidResponseError` naming ``function`` and what was wrong when the
    answer is not shaped like Moodle's (a missing key, a list instead of an object, text for a number...).
    The one place where a malformed answer becomes an error the user can act on (exit 1), not a crash."""
    try:
        return parse(answer)
    except _SHAPE_ERRORS as exc:
        what = f"no {exc.args[0]!r} in it" if isinstance(exc, KeyError) and exc.args else str(exc)
        raise InvalidResponseError(
            function, "invalidresponse", f"the answer is not shaped like Moodle's ({type(answer).__name__} at "
            f"the top; {what}): is this a Moodle 4.5 web service, or a proxy answering in its place?") from None


def _course_completion(d: Any) -> CourseCompletion:
    status = d["completionstatus"]
    comps = status.get("completions") or []
    times = [int(c["timecompleted"]) for c in comps if c.get("timecompleted")]
    completed = bool(status.get("completed"))
    activities = [c for c in comps if int(c.get("type") or 0) == ACTIVITY_CRITERION]
    return CourseCompletion(completed=completed,
                            time_completed=(max(times) if times else None) if completed else None,
                            criteria_total=len(comps),
                            criteria_done=sum(1 for c in comps if c.get("complete")),
                            activity_criteria_total=len(activities),
                            activity_criteria_done=sum(1 for c in activities if c.get("complete")))


def _user_grades(d: Any) -> list[UserGrades]:
    out = []
    for ug in d.get("usergrades", []):
        items = tuple(GradeItem(
            id=int(it.get("id") or 0), itemtype=it.get("itemtype") or "", itemmodule=it.get("itemmodule"),
            idnumber=it.get("idnumber") or "", cmid=_int_or_none(it.get("cmid")),
            name=it.get("itemname") or "", grade=_float_or_none(it.get("graderaw")),
            grademax=float(it.get("grademax") or 0), graded_at=_int_or_none(it.get("gradedategraded")),
            submitted_at=_int_or_none(it.get("gradedatesubmitted"))) for it in ug.get("gradeitems", []))
        out.append(UserGrades(int(ug["userid"]), items))
    return out


# --- operations -------------------------------------------------------------------------------------

class Moodle:
    """Typed operations over a :class:`MoodleClient`. Every call is counted in ``client.stats``."""

    ENROLLED_PAGE = 1000

    def __init__(self, client: MoodleClient) -> None:
        self.client = client

    @property
    def concurrency(self) -> int:
        """How many reads :meth:`map_reads` runs side by side."""
        return self.client.concurrency

    def call(self, function: str, params: Mapping[str, Any] | None = None) -> Any:
        """One raw call (Moodle's answer as decoded JSON); the typed methods below are preferred."""
        return self.client.call(function, params)

    def _typed(self, function: str, params: Mapping[str, Any] | None, parse: Callable[[Any], T]) -> T:
        """Call ``function`` and turn its answer into typed results with ``parse``; an answer not shaped
        like Moodle's raises :class:`InvalidResponseError` (see :func:`parse_answer`)."""
        return parse_answer(function, self.call(function, params), parse)

    def map_reads(self, read: Callable[[T], R], items: Iterable[T],
                  on_done: Callable[[], None] | None = None) -> list[R | MoodleSyncError]:
        """``read`` over ``items``, side by side (at most the client's ``concurrency`` at once); results in
        input order, a failed read's :class:`MoodleSyncError` in its place (see :func:`map_concurrent`: one
        that ends the run is raised). ``read`` must not write to Moodle: writes go through
        :meth:`map_writes`."""
        return map_concurrent(read, items, workers=self.client.concurrency, on_done=on_done, client=self.client)

    def map_writes(self, write: Callable[[T], R], items: Iterable[T]) -> list[R | MoodleSyncError]:
        """Independent writes side by side, bounded by the client's ``write_concurrency`` (what the site's
        PHP workers take), not by the read ``concurrency``; results as :meth:`map_reads`. Each ``write``
        settles its own lost answer (re-sends only what is idempotent)."""
        return map_concurrent(write, items, workers=self.client.write_concurrency, client=self.client)

    # site
    def site_info(self) -> SiteInfo:
        return self._typed("core_webservice_get_site_info", None, lambda d: SiteInfo(
            sitename=d.get("sitename", ""), siteurl=d.get("siteurl", ""),
            release=d.get("release", ""), version=str(d.get("version", "")),
            username=d.get("username", ""), userid=int(d.get("userid") or 0),
            fullname=d.get("fullname", ""),
            functions=frozenset(f["name"] for f in d.get("functions") or []),
            is_site_admin=bool(d.get("userissiteadmin", False))))

    # categories
    def categories(self) -> list[Category]:
        """Every category the token user can see (one call)."""
        return self._typed("core_course_get_categories", {"addsubcategories": 0}, lambda answer: [
            Category(int(c["id"]), c["name"], c.get("idnumber") or "", int(c.get("parent") or 0),
                     c.get("path") or "", c.get("description") or "") for c in answer])

    def create_categories(self, categories: Sequence[Mapping[str, Any]]) -> list[Category]:
        """Create categories in one call (``name``, ``parent``, ``idnumber``, ``description``)."""
        return self._typed("core_course_create_categories", {"categories": list(categories)}, lambda answer: [
            Category(int(a["id"]), a["name"], c.get("idnumber", ""), int(c.get("parent", 0)), "")
            for a, c in zip(answer, categories)])

    # courses
    def courses_by_field(self, field: str, value: str | int) -> list[Course]:
        """Courses whose ``field`` (id, ids, shortname, idnumber, category) is ``value``."""
        return self._typed("core_course_get_courses_by_field", {"field": field, "value": str(value)},
                           lambda d: [Course.from_moodle(c) for c in d.get("courses", [])])

    def courses_in_category(self, categoryid: int) -> list[Course]:
        """The courses of one category (not of its subcategories)."""
        return self.courses_by_field("category", categoryid)

    def courses_by_ids(self, ids: Sequence[int]) -> list[Course]:
        """The courses with these ids (those that exist), one call."""
        if not ids:
            return []
        return self.courses_by_field("ids", ",".join(str(i) for i in ids))

    def create_courses(self, courses: Sequence[Mapping[str, Any]]) -> list[int]:
        """Create courses (one all-or-nothing call); returns their ids in order."""
        return self._typed("core_course_create_courses", {"courses": list(courses)},
                           lambda answer: [int(a["id"]) for a in answer])

    def update_courses(self, courses: Sequence[Mapping[str, Any]]) -> list[str]:
        """Update courses in one call; returns Moodle's warnings as text (empty when all went through)."""
        return self._typed("core_course_update_courses", {"courses": list(courses)}, lambda answer: [
            f"course {w.get('itemid')}: {w.get('message')}" for w in (answer or {}).get("warnings", [])])

    def sections(self, courseid: int) -> list[Section]:
        """The course's sections with their activities."""
        def parse(answer: Any) -> list[Section]:
            out = []
            for s in answer:
                modules = tuple(Module(int(m["id"]), m.get("name", ""), m.get("modname", ""),
                                       int(m.get("instance") or 0), int(m.get("completion") or 0))
                                for m in s.get("modules") or [])
                out.append(Section(int(s["id"]), int(s.get("section") or 0), s.get("name") or "",
                                   s.get("summary") or "", modules))
            return out

        return self._typed("core_course_get_contents", {"courseid": courseid}, parse)

    def rename_section(self, sectionid: int, name: str, course_format: str = "topics") -> None:
        """Rename a section (the same in-place edit Moodle's course page uses)."""
        self.call("core_update_inplace_editable", {
            "component": f"format_{course_format}", "itemtype": "sectionname",
            "itemid": str(sectionid), "value": name})

    def import_course(self, importfrom: int, importto: int) -> None:
        """Copy the content of course ``importfrom`` into ``importto`` (keeps ``importto``'s metadata)."""
        self.call("core_course_import_course", {"importfrom": importfrom, "importto": importto,
                                                "deletecontent": 0})

    def delete_courses(self, ids: Sequence[int]) -> list[str]:
        """Delete courses; returns Moodle's warnings as text (a course that could not be deleted)."""
        return self._typed("core_course_delete_courses", {"courseids": list(ids)}, lambda answer: [
            w.get("message", "") for w in (answer or {}).get("warnings", [])])

    # groups
    def groups(self, courseid: int) -> list[Group]:
        """The groups (classes) of the course."""
        return self._typed("core_group_get_course_groups", {"courseid": courseid}, lambda answer: [
            Group(int(g["id"]), int(g["courseid"]), g["name"], g.get("idnumber") or "", g.get("description") or "")
            for g in answer])

    def create_groups(self, groups: Sequence[Mapping[str, Any]]) -> list[Group]:
        """Create groups (``courseid``, ``name``, ``idnumber``, ``description``) in one all-or-nothing call."""
        return self._typed("core_group_create_groups", {"groups": list(groups)}, lambda answer: [
            Group(int(g["id"]), int(g["courseid"]), g["name"], g.get("idnumber") or "") for g in answer])

    def groupings(self, courseid: int) -> list[Grouping]:
        """The groupings of the course."""
        return self._typed("core_group_get_course_groupings", {"courseid": courseid}, lambda answer: [
            Grouping(int(g["id"]), int(g["courseid"]), g["name"], g.get("idnumber") or "") for g in answer])

    def create_groupings(self, groupings: Sequence[Mapping[str, Any]]) -> list[Grouping]:
        """Create groupings. ``idnumber`` is always sent: without it Moodle 4.5 answers invalidresponse."""
        payload = [{**g, "idnumber": g.get("idnumber") or ""} for g in groupings]
        return self._typed("core_group_create_groupings", {"groupings": payload}, lambda answer: [
            Grouping(int(g["id"]), int(g["courseid"]), g["name"], g.get("idnumber") or "") for g in answer])

    def assign_groupings(self, assignments: Sequence[tuple[int, int]]) -> None:
        """Put groups into groupings: ``(groupingid, groupid)`` pairs, one call."""
        if assignments:
            self.call("core_group_assign_grouping", {"assignments": [
                {"groupingid": gi, "groupid": g} for gi, g in assignments]})

    def add_group_members(self, members: Sequence[tuple[int, int]],
                          on_progress: Callable[[int], None] | None = None, *,
                          reconcile: Callable[[list[Any]], list[Any]] | None = None
                          ) -> BatchOutcome[dict[str, int]]:
        """Add ``(groupid, userid)`` pairs in batches; bad pairs are isolated and returned with reasons.

        ``reconcile`` decides, after a batch whose answer was lost, which ``{"groupid", "userid"}`` records
        did not land (see send_in_batches); without it they are reported failed.
        """
        records = [{"groupid": g, "userid": u} for g, u in members]
        # One batch at a time: side by side, Moodle 4.5 on PostgreSQL deadlocks adding group members.
        return send_in_batches(self.client, "core_group_add_group_members", "members", records,
                               parallel=False, on_progress=on_progress, reconcile=reconcile)

    # users
    def users_by_field(self, field: str, values: Sequence[str | int]) -> list[User]:
        """Users whose ``field`` (id, idnumber, username, email) is one of ``values``.

        Sent in chunks sized to the site's ``max_input_vars``; chunks are read concurrently.
        """
        values = [str(v) for v in dict.fromkeys(values) if str(v) != ""]
        if not values:
            return []
        size = max(1, self.client.max_input_vars - 10)
        chunks = list(chunked(values, size))
        results = self.map_reads(lambda chunk: self._typed(
            "core_user_get_users_by_field", {"field": field, "values": chunk},
            lambda answer: [User.from_moodle(u) for u in answer]), chunks)
        return [user for chunk in all_read(results) for user in chunk]

    def users_with_email(self, email: str) -> list[User]:
        """Users whose e-mail is ``email`` compared as Moodle compares e-mails when it creates a user:
        ignoring case (``core_user_get_users``, a case-insensitive LIKE; ``core_user_get_users_by_field``
        compares exactly on PostgreSQL). One call per address."""
        like = email.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        wanted = email.strip().casefold()
        return self._typed("core_user_get_users", {"criteria": [{"key": "email", "value": like}]}, lambda found: [
            User.from_moodle(u) for u in (found or {}).get("users", [])
            if str(u.get("email", "")).strip().casefold() == wanted])

    def create_users(self, users: Sequence[Mapping[str, Any]], *,
                     reconcile: Callable[[list[Any]], list[Any]] | None = None,
                     on_progress: Callable[[int], None] | None = None) -> BatchOutcome[Mapping[str, Any]]:
        """Create users in all-or-nothing batches; bad records come back with Moodle's reason.

        ``reconcile`` decides, after a timed-out batch, which records did not land (see send_in_batches).
        """
        return send_in_batches(self.client, "core_user_create_users", "users", list(users),
                               reconcile=reconcile, on_progress=on_progress)

    def enrolled_users(self, courseid: int, *, onlyactive: bool = False,
                       fields: str = ENROLLED_USER_FIELDS, onlysuspended: bool = False) -> list[EnrolledUser]:
        """Every user enrolled in the course, page by page (never silently cut at one page); ``fields``
        names the user fields Moodle fills in (the fewer, the cheaper for the site). ``onlysuspended``:
        only users none of whose enrolments is active (suspended, disabled or out of dates; Moodle needs
        moodle/course:enrolreview for it, as for ``onlyactive``)."""
        out: list[EnrolledUser] = []
        offset = 0
        while True:
            options = [{"name": "limitfrom", "value": str(offset)},
                       {"name": "limitnumber", "value": str(self.ENROLLED_PAGE)},
                       {"name": "userfields", "value": fields}]
            if onlyactive:
                options.append({"name": "onlyactive", "value": "1"})
            if onlysuspended:
                options.append({"name": "onlysuspended", "value": "1"})
            page = self._typed("core_enrol_get_enrolled_users", {"courseid": courseid, "options": options},
                               lambda answer: [EnrolledUser.from_moodle(u) for u in answer])
            out.extend(page)
            if len(page) < self.ENROLLED_PAGE:
                return out
            offset += self.ENROLLED_PAGE

    def enrol(self, enrolments: Sequence[Mapping[str, Any]], *,
              reconcile: Callable[[list[Any]], list[Any]] | None = None,
              on_progress: Callable[[int], None] | None = None) -> BatchOutcome[Mapping[str, Any]]:
        """Manual enrolments (``roleid``, ``userid``, ``courseid``, optional ``suspend``...) in batches."""
        return send_in_batches(self.client, "enrol_manual_enrol_users", "enrolments", list(enrolments),
                               reconcile=reconcile, on_progress=on_progress)

    def unenrol(self, enrolments: Sequence[Mapping[str, Any]]) -> BatchOutcome[Mapping[str, Any]]:
        """Remove manual enrolments (``userid``, ``courseid``, optional ``roleid``) in batches."""
        return send_in_batches(self.client, "enrol_manual_unenrol_users", "enrolments", list(enrolments))

    def users_courses(self, userid: int) -> list[Course]:
        """The courses the user is enrolled in."""
        return self._typed("core_enrol_get_users_courses", {"userid": userid}, lambda answer: [
            Course.from_moodle({**c, "categoryid": c.get("category", 0)}) for c in answer])

    # completion and grades
    def course_completion(self, courseid: int, userid: int) -> CourseCompletion | None:
        """The user's course completion; None when the course has no completion criteria."""
        try:
            return self._typed("core_completion_get_course_completion_status",
                               {"courseid": courseid, "userid": userid}, _course_completion)
        except WebServiceError as exc:
            if exc.errorcode == "nocriteriaset":
                return None
            raise

    def activities_completion(self, courseid: int, userid: int) -> list[ActivityCompletion]:
        """The user's completion state of each tracked activity of the course."""
        return self._typed("core_completion_get_activities_completion_status",
                           {"courseid": courseid, "userid": userid}, lambda d: [
            ActivityCompletion(int(s["cmid"]), s.get("modname", ""), int(s.get("state") or 0),
                               _int_or_none(s.get("timecompleted")))
            for s in d.get("statuses", []) if s.get("tracking", 1)])

    def grades(self, courseid: int, userid: int = 0) -> list[UserGrades]:
        """Grade items per user; ``userid=0`` gives every user of the course in one call."""
        return self._typed("gradereport_user_get_grade_items", {"courseid": courseid, "userid": userid},
                           _user_grades)

    # messages
    def send_message(self, touserid: int, text: str, clientmsgid: str | None = None) -> SentMessage:
        """Send one private message (FORMAT_MOODLE: line breaks kept, links made clickable) from the token
        user. A message Moodle refuses (recipient missing or not reachable, text too long) comes back with
        ``error``; :class:`WriteOutcomeUnknownError` when the answer was lost (it may have been sent)."""
        message: dict[str, Any] = {"touserid": touserid, "text": text, "textformat": 0}
        if clientmsgid:
            message["clientmsgid"] = clientmsgid

        def parse(answer: Any) -> SentMessage:
            first = answer[0]
            msgid = int(first["msgid"])
            return SentMessage(first.get("clientmsgid"), msgid if msgid > 0 else None,
                               None if msgid > 0 else str(first.get("errormessage") or "not sent"))

        return self._typed("core_message_send_instant_messages", {"messages": [message]}, parse)

    def messages_sent(self, fromuserid: int, touserid: int, limit: int = 50) -> list[StoredMessage]:
        """The newest ``limit`` private messages ``fromuserid`` (the token user) sent ``touserid``, read or
        not, newest first: how a message whose answer was lost is found (or not) afterwards."""
        def parse(d: Any) -> list[StoredMessage]:
            return [StoredMessage(int(m["id"]), int(m["useridfrom"]), int(m["useridto"]),
                                  str(m.get("smallmessage") or m.get("fullmessage") or ""), int(m["timecreated"]))
                    for m in d.get("messages") or []]

        return self._typed("core_message_get_messages", {
            "useridto": touserid, "useridfrom": fromuserid, "type": "conversations", "read": 2,
            "newestfirst": 1, "limitfrom": 0, "limitnum": limit}, parse)

    def report_page(self, reportid: int, page: int, perpage: int) -> ReportPage:
        """One page of a custom report (report builder), values formatted for display."""
        def parse(d: Any) -> ReportPage:
            data = d.get("data") or {}
            return ReportPage(headers=list(data.get("headers") or []),
                              rows=[list(r.get("columns") or []) for r in data.get("rows") or []],
                              total=int(data.get("totalrowcount") or 0))

        return self._typed("core_reportbuilder_retrieve_report",
                           {"reportid": reportid, "page": page, "perpage": perpage}, parse)


__all__ = [
    "ActivityCompletion",
    "Category",
    "Course",
    "CourseCompletion",
    "EnrolledUser",
    "GradeItem",
    "Group",
    "Grouping",
    "Module",
    "Moodle",
    "ReportPage",
    "Section",
    "SentMessage",
    "SiteInfo",
    "StoredMessage",
    "User",
    "UserGrades",
    "parse_answer",
]
