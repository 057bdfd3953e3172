"""Follow-up packs: per class and its facilitator, the participants to contact and why. Pure.

A participant (withdrawn ones left out) is listed with the first status that applies:

- ``not_started``: has not accessed the course nor completed anything;
- ``stalled``: started, not complete, no course access for ``stalled_days`` days (as the report's
  follow-up list, :func:`~moodle_sync.reports.aggregate.follow_up`, which this reuses);
- ``no_pretest``: started, but has no pre-test grade (when the course has a pre-test: the template's
  evidence, or for an adopted course a pre-test item Moodle lists), while neither the
  post-test is taken nor the course complete (a pre-test taken after them measures nothing);
- ``no_posttest``: no post-test grade although the course has ended, or every other tracked activity
  is done (when the course has a post-test);
- ``below_pass``: a post-test grade under the pass mark (:class:`~moodle_sync.offerings.PassRule`).

Each comes with a WhatsApp link (``https://wa.me/62...`` from the normalised phone) carrying a prefilled
Indonesian message. :func:`facilitator_message` is the text a facilitator gets as a Moodle message.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..evidence.model import CompletionSnapshot
from ..offerings import PassRule
from ..participants.normalise import InvalidValue, normalise_phone
from ..provision.spec import CourseSpec, OfferingSpec
from ..store.records import ParticipantRecord, normalise_email
from .aggregate import day_of, enrich, follow_up, is_withdrawn, regency_name

STATUSES = ("not_started", "stalled", "no_pretest", "no_posttest", "below_pass")
MESSAGE_MAX_BYTES = 4096   # core_message\api::MESSAGE_MAX_LENGTH: longer texts fail (errormessagetoolong)

STATUS_TEXT = {
    "not_started": "belum mulai",
    "stalled": "tidak aktif",
    "no_pretest": "belum pre-test",
    "no_posttest": "belum post-test",
    "below_pass": "post-test di bawah nilai lulus",
}
WHATSAPP_TEXT = {
    "not_started": "Anda belum mulai belajar di {course}. Silakan masuk ke LMS dan mulai dari modul pertama.",
    "stalled": "Anda belum membuka {course} selama beberapa waktu. Yuk lanjutkan belajar agar tuntas tepat waktu.",
    "no_pretest": "Anda belum mengerjakan pre-test di {course}. Mohon kerjakan pre-test terlebih dahulu.",
    "no_posttest": "Anda belum mengerjakan post-test di {course}. Mohon kerjakan post-test agar dapat dinyatakan "
                   "lulus.",
    "below_pass": "Nilai post-test Anda di {course} belum mencapai nilai lulus {mark}. Silakan pelajari kembali "
                  "materinya dan kerjakan ulang post-test.",
}


@dataclass(frozen=True)
class FollowupPerson:
    """A participant to contact, with why (``status``) and how (``whatsapp``: a wa.me link, or None)."""

    email: str
    fullname: str
    school: str | None
    regency: str | None
    phone: str | None
    whatsapp: str | None
    status: str
    detail: str


@dataclass(frozen=True)
class Facilitator:
    email: str
    name: str


@dataclass(frozen=True)
class ClassPack:
    """One class (``class_name`` None: participants without a class) of one course, and who leads it."""

    course_key: str
    course_name: str
    class_name: str | None
    facilitators: tuple[Facilitator, ...]
    people: tuple[FollowupPerson, ...]

    @property
    def label(self) -> str:
        """``Kelas A — Kabupaten Pesawaran`` style name of the class."""
        return f"{self.class_name or 'tanpa kelas'} — {self.course_name}"


@dataclass(frozen=True)
class FollowupPack:
    offering_id: str
    title: str
    generated_at: int
    stalled_days: int
    classes: tuple[ClassPack, ...] = field(default_factory=tuple)

    def by_facilitator(self) -> dict[Facilitator | None, list[ClassPack]]:
        """The classes each facilitator leads (``None``: classes nobody leads), in class order."""
        out: dict[Facilitator | None, list[ClassPack]] = {}
        for pack in self.classes:
            for f in pack.facilitators or (None,):
                out.setdefault(f, []).append(pack)
        return out


def whatsapp_link(phone: str | None, text: str) -> str | None:
    """``https://wa.me/62...?text=...`` for an Indonesian mobile number (any form :func:`normalise_phone`
    takes), or None when there is no usable one: none, unreadable, or a landline (``021-...``: WhatsApp
    numbers are mobile ones, ``+62 8...``)."""
    try:
        number = normalise_phone(phone)
    except InvalidValue:
        return None
    if not number or not number.lstrip("+").startswith("628"):
        return None
    return f"https://wa.me/{number.lstrip('+')}?text={quote(text, safe='')}"


def _pct(grade: float | None, maximum: float | None) -> float | None:
    return grade / maximum * 100.0 if grade is not None and maximum else None


def status_of(s: CompletionSnapshot, course: CourseSpec | None, rule: PassRule, waiting: str | None,
              now: int, end: int = 0) -> str | None:
    """The follow-up status of one (enriched, not withdrawn) snapshot; ``waiting`` is its status on the
    report's follow-up list (not_started / stalled) if any; ``end`` the course's end (0: none). None:
    nothing to follow up."""
    if waiting:
        return waiting
    # A course the offering did not provision (adopted) has the tests Moodle listed for it: their items' maxima.
    has_pre = s.pretest_max is not None if course is None else course.evidence.pretest_idnumber is not None
    has_post = s.posttest_max is not None if course is None else course.evidence.posttest_idnumber is not None
    if has_pre and s.started and s.pretest_grade is None and s.posttest_grade is None and not s.completed:
        return "no_pretest"     # once the post-test is taken (or the course done) a pre-test measures nothing
    ended = 0 < end <= now
    rest_done = s.activities_total > 0 and s.activities_done >= s.activities_total - 1
    if has_post and s.posttest_grade is None and (ended or rest_done or s.completed):
        return "no_posttest"
    if rule.below(s.posttest_grade, s.posttest_max):
        return "below_pass"
    return None


def _detail(s: CompletionSnapshot, status: str, now: int) -> str:
    if status in ("not_started", "stalled"):
        since = f"{(now - s.last_access) // 86_400} hari lalu" if s.last_access else "belum pernah"
        return f"akses terakhir: {since}; aktivitas {s.activities_done}/{s.activities_total}"
    if status == "below_pass":
        return f"post-test {_pct(s.posttest_grade, s.posttest_max):.0f}"
    return f"aktivitas {s.activities_done}/{s.activities_total}"


def _facilitators(course: CourseSpec | None, class_name: str | None) -> tuple[Facilitator, ...]:
    if course is None:
        return ()
    ids = {g.name: g.idnumber for g in course.groups}
    wanted = ids.get(class_name or "")
    return tuple(Facilitator(normalise_email(f.email), f"{f.firstname} {f.lastname}".removesuffix(" -"))
                 for f in course.facilitators if not f.groups or (wanted is not None and wanted in f.groups))


def build_followup(spec: OfferingSpec, snapshots: Iterable[CompletionSnapshot],
                   participants: Iterable[ParticipantRecord], *, rule: PassRule, now: int,
                   stalled_days: int = 14, course_names: Mapping[str, str] | None = None,
                   course_ends: Mapping[str, int] | None = None) -> FollowupPack:
    """The follow-up pack of an offering: every class with someone to contact, in course and class order.
    ``course_names`` and ``course_ends`` (by course key, as the store keeps them) name and end the courses
    the offering's files do not describe (adopted ones)."""
    names, ends = course_names or {}, course_ends or {}
    people = list(participants)
    records = {normalise_email(p.email): p for p in people}
    rows = [s for s in enrich(snapshots, people) if not is_withdrawn(s)]
    waiting = {(e.course_key, normalise_email(e.email)): e.reason
               for e in follow_up(rows, people, now=now, stalled_days=stalled_days)}
    courses = {c.key: c for c in spec.courses}
    found: dict[tuple[str, str | None], list[FollowupPerson]] = {}
    for s in rows:
        course = courses.get(s.course_key)
        status = status_of(s, course, rule, waiting.get((s.course_key, normalise_email(s.email))), now,
                           course.end_date if course else ends.get(s.course_key, 0))
        if status is None:
            continue
        p = records.get(normalise_email(s.email))
        name = (p.fullname if p and p.fullname else s.fullname)
        text = greeting(name, spec.title) + " " + WHATSAPP_TEXT[status].format(
            course=course.fullname if course else names.get(s.course_key, s.course_key),
            mark=f"{rule.posttest_min:g}" if rule.posttest_min is not None else "")
        phone = p.phone if p else None
        found.setdefault((s.course_key, s.class_name), []).append(FollowupPerson(
            email=normalise_email(s.email), fullname=name, school=p.school if p else None,
            regency=regency_name(s.regency), phone=phone, whatsapp=whatsapp_link(phone, text), status=status,
            detail=_detail(s, status, now)))
    order = {c.key: i for i, c in enumerate(spec.courses)}
    classes = []
    for (key, class_name), listed in sorted(found.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0][0],
                                                                           kv[0][1] is None, kv[0][1] or "")):
        listed.sort(key=lambda f: (STATUSES.index(f.status), f.fullname.casefold(), f.email))
        course = courses.get(key)
        classes.append(ClassPack(key, course.fullname if course else names.get(key, key), class_name,
                                 _facilitators(course, class_name), tuple(listed)))
    return FollowupPack(spec.offering_id, spec.title, now, stalled_days, tuple(classes))


def greeting(name: str, title: str) -> str:
    """The opening of a WhatsApp message to a participant."""
    return f"Yth. Bapak/Ibu {name}, salam dari fasilitator {title}."


def facilitator_message(pack: FollowupPack, facilitator: Facilitator, classes: Sequence[ClassPack]) -> str:
    """The Moodle message to one facilitator: their classes' lists in Indonesian, cut (with a note) to
    Moodle's 4096 bytes."""
    lines = [f"Yth. {facilitator.name},", "",
             f"Berikut peserta {pack.title} yang perlu ditindaklanjuti per {day_of(pack.generated_at)}:"]
    for c in classes:
        lines += ["", f"{c.label} ({len(c.people)} peserta):"]
        for person in c.people:
            school = f" ({person.school})" if person.school else ""
            link = f" — WA: {person.whatsapp.split('?')[0]}" if person.whatsapp else ""
            lines.append(f"- {person.fullname}{school}: {STATUS_TEXT[person.status]}{link}")
    lines += ["", "Berkas lengkap (dengan pesan WhatsApp siap kirim) tersedia dari panitia. Terima kasih."]
    # Sent as FORMAT_MOODLE (Moodle links the URLs): '<', '>' and '&' in names must not read as HTML.
    return _cut(html.escape("\n".join(lines), quote=False))


def _cut(text: str) -> str:
    if len(text.encode("utf-8")) <= MESSAGE_MAX_BYTES:
        return text
    note = "\n… (daftar dipotong; lihat berkas lengkap dari panitia)"
    room = MESSAGE_MAX_BYTES - len(note.encode("utf-8"))
    body = text.encode("utf-8")[:room].decode("utf-8", "ignore")
    return body[: body.rfind("\n")] + note


def message_digest(text: str) -> str:
    """A short hash of a message's text (recorded with it)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def pack_document(pack: FollowupPack) -> dict[str, Any]:
    """The JSON contract: ``classes``: ``{class, facilitator, participants: [{email, status, whatsapp}]}``."""
    return {"offering": pack.offering_id, "generated_at": pack.generated_at, "stalled_days": pack.stalled_days,
            "classes": [{"class": c.label, "course": c.course_key, "class_name": c.class_name,
                         "facilitator": ", ".join(f.email for f in c.facilitators) or None,
                         "facilitators": [{"email": f.email, "name": f.name} for f in c.facilitators],
                         "participants": [{"email": p.email, "name": p.fullname, "school": p.school,
                                           "status": p.status, "detail": p.detail, "whatsapp": p.whatsapp}
                                          for p in c.people]}
                        for c in pack.classes]}
