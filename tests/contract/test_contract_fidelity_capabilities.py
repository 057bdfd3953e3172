"""A token whose user's role lacks a capability, and who holds a capability at system level.

The real site needs ``MOODLE_NOCAP_TOKEN``: a token of the tool's service whose user's system role has the
tool's capabilities except ``moodle/course:create`` (the lab's ``moodle_sync_nocap``). On the sandbox both
tokens are made by its controls: a tool user whose role allows everything, and one lacking course creation.
"""

from __future__ import annotations

import pytest

from moodle_sync.exceptions import AccessDeniedError, WebServiceError
from moodle_sync.sandbox.moodle import implemented_functions
from moodle_sync.ws.moodle import Moodle

from .conftest import REAL_MOODLE_NOCAP_TOKEN, Site

pytestmark = pytest.mark.contract

HOLDERS = "core_enrol_get_enrolled_users_with_capability"
NOPERMISSIONS = "Sorry, but you do not currently have permissions to do that (Create courses)."


def _tool_and_nocap(site: Site) -> tuple[Moodle, Moodle]:
    """Clients for the tool's user and for a user lacking ``moodle/course:create`` (both non-admin)."""
    if site.target == "sandbox":
        control = site.sandbox.control
        tool = control.make_token(implemented_functions(), lacking=[])
        nocap = control.make_token(implemented_functions(), lacking=["moodle/course:create"])
        return site.connect(tool), site.connect(nocap)
    if not REAL_MOODLE_NOCAP_TOKEN:
        pytest.skip("set MOODLE_NOCAP_TOKEN (a token of the tool's service whose user lacks moodle/course:create)")
    return site.moodle, site.connect(REAL_MOODLE_NOCAP_TOKEN)


def test_creating_a_course_without_the_capability_is_moodles_nopermissions(site: Site) -> None:
    _, nocap = _tool_and_nocap(site)
    record = site.course_record(site.create_category(), "nocap")

    with pytest.raises(AccessDeniedError) as caught:
        nocap.create_courses([record])

    error = caught.value
    assert (error.errorcode, error.moodle_message) == ("nopermissions", NOPERMISSIONS)
    assert error.exception == "core\\exception\\required_capability_exception"
    assert site.moodle.courses_by_field("shortname", record["shortname"]) == []


def test_holders_of_a_capability_at_the_site_are_the_users_whose_role_has_it(site: Site) -> None:
    tool, nocap = _tool_and_nocap(site)
    tool_user, nocap_user = tool.site_info(), nocap.site_info()
    if HOLDERS not in tool_user.functions:
        pytest.skip(f"the tool's service does not hold {HOLDERS}")

    try:
        answer = tool.call(HOLDERS, {"coursecapabilities": [
            {"courseid": 1, "capabilities": ["moodle/course:create", "enrol/manual:enrol"]}]})
    except WebServiceError as exc:
        if exc.errorcode != "nopermissions":
            raise
        pytest.skip(f"the tool's role may not list holders ({exc.moodle_message}): it needs "
                    "moodle/site:viewparticipants and moodle/role:review")

    holders = {c["capability"]: [u["id"] for u in c["users"]] for c in answer}
    assert [c["courseid"] for c in answer] == [1, 1]
    assert tool_user.userid in holders["moodle/course:create"]
    assert nocap_user.userid not in holders["moodle/course:create"]
    assert {tool_user.userid, nocap_user.userid} <= set(holders["enrol/manual:enrol"])
    assert 2 not in holders["moodle/course:create"]  # the site admin holds no role: has_capability, not listed
    assert all(ids == sorted(ids) for ids in holders.values())
