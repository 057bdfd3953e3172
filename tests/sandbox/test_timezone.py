"""The site's time zone: a new course's start (today's midnight) and the dates people read depend on it."""

from __future__ import annotations

from typing import Any

import pytest

from moodle_sync.sandbox.control import FaultBook, SandboxControl
from moodle_sync.sandbox.moodle import SandboxMoodle
from moodle_sync.sandbox.server import SandboxServer

NOW = 1795793700  # Friday 27 November 2026, 15:35 UTC (22:35 in Jakarta)
MIDNIGHT_JAKARTA = 1795712400  # 27 November 2026 00:00 +07:00
MIDNIGHT_NEW_YORK = 1795755600  # 27 November 2026 00:00 -05:00


def new_course(moodle: SandboxMoodle) -> dict[str, Any]:
    [created] = moodle.call("core_course_create_courses", {"courses": [
        {"fullname": "Koding 1", "shortname": "KOD-1", "categoryid": 1}]})
    answer = moodle.call("core_course_get_courses_by_field", {"field": "id", "value": str(created["id"])})
    return answer["courses"][0]


def test_the_site_runs_in_jakarta_time_by_default() -> None:
    moodle = SandboxMoodle(clock=lambda: NOW)

    assert (moodle.timezone, new_course(moodle)["startdate"]) == ("Asia/Jakarta", MIDNIGHT_JAKARTA)


def test_a_new_course_starts_at_midnight_in_the_site_time_zone() -> None:
    moodle = SandboxMoodle(clock=lambda: NOW, timezone="America/New_York")

    assert new_course(moodle)["startdate"] == MIDNIGHT_NEW_YORK
    seeded = moodle.call("core_course_get_courses_by_field", {"field": "shortname", "value": "MASTER-AI"})
    assert seeded["courses"][0]["startdate"] == MIDNIGHT_NEW_YORK


def test_reset_keeps_the_time_zone() -> None:
    moodle = SandboxMoodle(clock=lambda: NOW, timezone="America/New_York")
    SandboxControl(moodle, FaultBook()).reset()

    assert new_course(moodle)["startdate"] == MIDNIGHT_NEW_YORK


def test_report_dates_read_in_the_site_time_zone() -> None:
    moodle = SandboxMoodle(clock=lambda: NOW, timezone="America/New_York")
    control = SandboxControl(moodle, FaultBook())
    [user] = moodle.call("core_user_create_users", {"users": [
        {"username": "guru1", "password": "Rahasia#2026", "firstname": "G", "lastname": "S",
         "email": "guru1@guru.belajar.id"}]})
    moodle.call("enrol_manual_enrol_users", {"enrolments": [{"roleid": 5, "userid": user["id"], "courseid": 2}]})
    control.record_access(2, user["id"], time=NOW)
    report = control.create_participants_report()

    rows = moodle.call("core_reportbuilder_retrieve_report", {"reportid": report, "page": 0, "perpage": 10})

    assert rows["data"]["rows"][0]["columns"][13] == "Friday, 27 November 2026, 10:35 AM"


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        SandboxServer(timezone="Mars/Olympus")
