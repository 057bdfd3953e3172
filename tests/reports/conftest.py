"""A small hand-made offering whose figures are worked out by hand in the tests.

Course "ls" (Lampung Selatan, starts T0) and course "metro" (starts T0 + 2 days); NOW is T0 + 30 days.

    who  course class    level  started completed days  grade    pre    post
    a    ls     Kelas A  SD     yes     yes       10    80/100   4/10   9/10
    b    ls     Kelas A  (SMP)  yes     yes       4*    18/20    50/100 70/100   (* from the course start)
    c    ls     Kelas B  SD     yes     no        -     -        3/10   -        (last access 20 days ago)
    d    ls     Kelas B  -      no      no        -     -        -      -
    e    ls     (facilitator: never counted)
    f    metro  Kelas A  SMA    yes     yes       7*    60/100   20/100 80/100
    g    metro  Kelas A  (SMA)  yes     no        -     -        -      -        (last access 2 days ago)

(SMP) and (SMA): only the participant record knows; b's regency too (as the slug "lampung-selatan").
"""

from __future__ import annotations

import pytest

from moodle_sync.evidence.model import CompletionSnapshot
from moodle_sync.store import ParticipantRecord

T0 = 1_767_225_600          # 2026-01-01 00:00 UTC = 07:00 WIB
DAY = 86_400
NOW = T0 + 30 * DAY
COURSE_STARTS = {"ls": T0, "metro": T0 + 2 * DAY}
LS, METRO = "Kabupaten Lampung Selatan", "Kota Metro"


def snap(user_id: int, name: str, course_key: str = "ls", **kw: object) -> CompletionSnapshot:
    base: dict[str, object] = {
        "offering_id": "o", "course_id": 1 if course_key == "ls" else 2, "course_key": course_key, "user_id": user_id,
        "email": f"{name}@x.id", "fullname": name.title(), "regency": LS if course_key == "ls" else METRO,
        "activities_total": 5, "pulled_at": NOW - 3600}
    return CompletionSnapshot(**{**base, **kw})  # type: ignore[arg-type]


@pytest.fixture
def snapshots() -> list[CompletionSnapshot]:
    return [
        snap(1, "a", class_name="Kelas A", school_level="SD", time_enrolled=T0, completed=True,
             time_completed=T0 + 10 * DAY, last_access=T0 + 10 * DAY, activities_done=5, course_grade=80.0,
             course_grade_max=100.0, pretest_grade=4.0, pretest_max=10.0, posttest_grade=9.0, posttest_max=10.0),
        snap(2, "b", class_name="Kelas A", regency=None, completed=True, time_completed=T0 + 4 * DAY,
             last_access=T0 + 4 * DAY, activities_done=5, course_grade=18.0, course_grade_max=20.0,
             pretest_grade=50.0, pretest_max=100.0, posttest_grade=70.0, posttest_max=100.0),
        snap(3, "c", class_name="Kelas B", school_level="SD", last_access=NOW - 20 * DAY, activities_done=2,
             pretest_grade=3.0, pretest_max=10.0),
        snap(4, "d", class_name="Kelas B"),
        snap(5, "e", class_name="Kelas A", role="editingteacher", last_access=NOW),
        snap(6, "f", "metro", class_name="Kelas A", school_level="SMA", completed=True,
             time_completed=T0 + 9 * DAY, last_access=T0 + 9 * DAY, activities_total=4, activities_done=4,
             course_grade=60.0, course_grade_max=100.0, pretest_grade=20.0, pretest_max=100.0,
             posttest_grade=80.0, posttest_max=100.0),
        snap(7, "g", "metro", class_name="Kelas A", last_access=NOW - 2 * DAY, activities_total=4,
             activities_done=1),
    ]


@pytest.fixture
def participants() -> list[ParticipantRecord]:
    return [
        ParticipantRecord(email="B@X.ID", fullname="B", regency="lampung-selatan", school_level="SMP",
                          status="enrolled", moodle_user_id=2),
        ParticipantRecord(email="c@x.id", fullname="C", phone="+62811", status="enrolled", moodle_user_id=3),
        ParticipantRecord(email="g.old@x.id", fullname="G", school_level="SMA", status="enrolled",
                          moodle_user_id=7),
    ]
