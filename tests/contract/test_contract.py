"""Read-only contract scenarios, over REST and SOAP, on the sandbox and (when configured) a real Moodle."""

from __future__ import annotations

import pytest

from moodle_sync.exceptions import AccessDeniedError, InvalidParameterError, InvalidTokenError
from moodle_sync.ws.functions import FUNCTIONS

from .conftest import LIMITED_FUNCTIONS, Site

pytestmark = [pytest.mark.contract, pytest.mark.parametrize("protocol", ["rest", "soap"])]

MISSING_COURSE_ID = 987654321


def test_site_info_names_a_45_release_and_every_function_we_declare(site: Site) -> None:
    info = site.moodle.site_info()

    assert info.release.startswith("4.5")
    assert info.major_minor == (4, 5)
    assert info.functions
    assert set(FUNCTIONS) - info.functions == set()
    assert info.userid > 0 and info.username


def test_an_invalid_token_is_refused(site: Site) -> None:
    moodle = site.connect("0" * 32)

    with pytest.raises(InvalidTokenError) as caught:
        moodle.site_info()

    assert caught.value.errorcode == "invalidtoken"


def test_a_function_outside_the_service_is_access_denied_and_named(site: Site) -> None:
    if site.limited_token is None:
        pytest.skip("set MOODLE_LIMITED_TOKEN (a service holding only core_webservice_get_site_info)")
    limited = site.connect(site.limited_token)
    assert limited.site_info().functions == frozenset(LIMITED_FUNCTIONS)

    with pytest.raises(AccessDeniedError) as caught:
        limited.categories()

    assert caught.value.errorcode == "accessexception"
    assert caught.value.function == "core_course_get_categories"
    assert "core_course_get_categories" in str(caught.value)


def test_an_unknown_course_field_is_an_invalid_parameter(site: Site) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        site.moodle.courses_by_field("colour", "blue")

    assert caught.value.errorcode == "invalidparameter"
    assert caught.value.function == "core_course_get_courses_by_field"


@pytest.mark.parametrize("field, value", [("id", MISSING_COURSE_ID), ("shortname", "no-such-course-anywhere"),
                                          ("idnumber", "no-such-idnumber-anywhere")])
def test_a_course_that_does_not_exist_is_an_empty_list(site: Site, field: str, value: str | int) -> None:
    assert site.moodle.courses_by_field(field, value) == []
