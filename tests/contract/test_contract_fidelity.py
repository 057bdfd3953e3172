"""Scenarios where the sandbox once disagreed with the real Moodle 4.5.6 (kept so they cannot drift again)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from moodle_sync.exceptions import WebServiceError

from .conftest import Site

pytestmark = pytest.mark.contract

SITE_TIMEZONE = ZoneInfo("Asia/Jakarta")  # the lab's $CFG->timezone and the sandbox's default


def test_a_new_course_gets_the_announcements_forum_in_section_0(site: Site) -> None:
    categoryid = site.create_category()
    with_news = site.create_course(categoryid, "news", numsections=1)
    without_news = site.create_course(categoryid, "nonews", numsections=1, newsitems=0)

    assert [[(m.modname, m.name) for m in s.modules] for s in site.moodle.sections(with_news)] == [
        [("forum", "Announcements")], []]
    assert [[(m.modname, m.name) for m in s.modules] for s in site.moodle.sections(without_news)] == [[], []]


def test_an_empty_idnumber_is_left_out_of_user_details(site: Site) -> None:
    courseid = site.create_course(site.create_category())
    records = site.user_records(2)
    records[0]["idnumber"] = "NIP-1"
    ids = [int(u["id"]) for u in site.moodle.call("core_user_create_users", {"users": records})]
    site.enrol(courseid, ids)

    enrolled = {u["id"]: u for u in site.moodle.call("core_enrol_get_enrolled_users", {"courseid": courseid})}
    by_field = {u["id"]: u for u in site.moodle.call("core_user_get_users_by_field",
                                                     {"field": "id", "values": [str(i) for i in ids]})}
    assert (enrolled[ids[0]]["idnumber"], "idnumber" in enrolled[ids[1]]) == ("NIP-1", False)
    assert (by_field[ids[0]]["idnumber"], "idnumber" in by_field[ids[1]]) == ("NIP-1", False)


def test_a_role_that_cannot_be_assigned_is_named_with_user_and_course(site: Site) -> None:
    courseid = site.create_course(site.create_category())
    [user] = site.create_users(1)

    with pytest.raises(WebServiceError) as caught:
        site.enrol(courseid, [user], roleid=99999)

    assert caught.value.errorcode == "wsusercannotassign"
    assert caught.value.moodle_message == (f"You don't have the permission to assign this role (99999) to this user "
                                           f"({user}) in this course ({courseid}).")


def test_a_course_created_without_startdate_starts_at_midnight_of_the_current_day(site: Site) -> None:
    courseid = site.create_course(site.create_category())

    raw = site.moodle.call("core_course_get_courses_by_field", {"field": "id", "value": str(courseid)})["courses"][0]
    created = datetime.fromtimestamp(raw["timecreated"], SITE_TIMEZONE)
    assert raw["startdate"] == int(created.replace(hour=0, minute=0, second=0).timestamp())  # in the site's zone
    assert raw["enddate"] - raw["startdate"] == 365 * 86400
