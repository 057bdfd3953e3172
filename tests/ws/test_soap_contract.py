"""Against a real Moodle (MOODLE_URL/MOODLE_TOKEN set): SOAP reads give what REST reads give. Reads only."""

from __future__ import annotations

from typing import Any

import pytest

from moodle_sync.exceptions import InvalidTokenError, MoodleSyncError
from moodle_sync.ws.rest import RestTransport
from moodle_sync.ws.soap import SoapTransport
from tests.conftest import REAL_MOODLE_TOKEN, REAL_MOODLE_URL

pytestmark = [
    pytest.mark.contract,
    pytest.mark.skipif(not (REAL_MOODLE_URL and REAL_MOODLE_TOKEN), reason="set MOODLE_URL and MOODLE_TOKEN "
                       "to compare SOAP with REST on a real Moodle"),
]

READS: list[tuple[str, dict[str, Any]]] = [
    ("core_webservice_get_site_info", {}),
    ("core_course_get_categories", {}),
    ("core_course_get_categories", {"criteria": [{"key": "id", "value": "1"}], "addsubcategories": False}),
    ("core_course_get_courses_by_field", {"field": "id", "value": "1"}),
    ("core_course_get_contents", {"courseid": 1}),
    ("core_enrol_get_enrolled_users", {"courseid": 1, "options": [{"name": "limitnumber", "value": "5"}]}),
    ("core_group_get_course_groups", {"courseid": 1}),
]


def outcome(transport: Any, function: str, params: dict[str, Any]) -> Any:
    try:
        return transport.send(function, params, timeout=60)
    except MoodleSyncError as exc:
        return type(exc).__name__, getattr(exc, "errorcode", None)


@pytest.mark.parametrize("function, params", READS)
def test_soap_reads_equal_rest_reads(function: str, params: dict[str, Any]) -> None:
    assert REAL_MOODLE_URL and REAL_MOODLE_TOKEN
    soap = SoapTransport(REAL_MOODLE_URL, REAL_MOODLE_TOKEN)
    rest = RestTransport(REAL_MOODLE_URL, REAL_MOODLE_TOKEN)
    # a live site may change between two reads (others use it, timestamps move): compare a few times
    for _ in range(3):
        over_soap, over_rest = outcome(soap, function, params), outcome(rest, function, params)
        if over_soap == over_rest:
            break
    assert over_soap == over_rest


def test_a_bad_token_is_the_same_error() -> None:
    assert REAL_MOODLE_URL
    with pytest.raises(InvalidTokenError):
        SoapTransport(REAL_MOODLE_URL, "0" * 32).send("core_webservice_get_site_info", {}, timeout=60)
